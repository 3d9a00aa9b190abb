//! Patients: register, change, archive and read them. Every read and change of a patient's
//! record is audited; integrations see contact details only, never the clinic's notes.

use chrono::{DateTime, NaiveDate, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::caller::{Caller, Expected};
use super::{events, records};
use crate::domain::contact::{ContactMethod, normalize_email};
use crate::domain::events::{DomainEvent, EventType};
use crate::domain::patients::PatientSource;
use crate::error::AppError;
use crate::models::audit_events::{self, NewAuditEvent};
use crate::models::patients::{self as model, NewPatient, PatientChanges, PatientSearch};
use crate::models::{PageRequest, versioned::Versioned};

/// A patient to register.
#[derive(Debug, Clone)]
pub struct PatientDetails {
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: NaiveDate,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub preferred_contact: Option<ContactMethod>,
    pub notes: Option<String>,
    /// Whether the patient gets email (default: yes).
    pub email_notifications: bool,
    pub source: PatientSource,
}

/// Fields of a patient to change; `None` leaves one as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct PatientUpdate {
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub preferred_contact: Option<Option<ContactMethod>>,
    pub notes: Option<Option<String>>,
    pub email_notifications: Option<bool>,
}

/// 422 when a date of birth lies after today.
pub fn born_by(
    field: &str,
    date_of_birth: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    match date_of_birth {
        Some(date) if date > now.date_naive() => {
            Err(AppError::rule(field, "must not be in the future"))
        }
        _ => Ok(()),
    }
}

fn audited(caller: &Caller, action: &str, id: Uuid, status: u16) -> NewAuditEvent {
    caller
        .audit(action, "patients", Some(id), status)
        .patient(id)
}

/// Registers a patient; one with the same email and date of birth exists already → 409
/// `duplicate` naming it (`duplicate_detail` says what to do instead).
pub async fn create(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    details: PatientDetails,
    duplicate_detail: &str,
    now: DateTime<Utc>,
) -> Result<model::Patient, AppError> {
    born_by("date_of_birth", Some(details.date_of_birth), now)?;
    let new = NewPatient {
        id: Uuid::now_v7(),
        given_name: details.given_name.trim().to_owned(),
        family_name: details.family_name.trim().to_owned(),
        date_of_birth: details.date_of_birth,
        email: details.email.as_deref().map(normalize_email),
        phone: details.phone.map(|phone| phone.trim().to_owned()),
        preferred_contact: details.preferred_contact,
        notes: details.notes,
        email_notifications: details.email_notifications,
        source: details.source,
    };
    // Named here for the common case; the unique index settles a race.
    if let Some(email) = &new.email
        && let Some(id) = model::find_duplicate(conn, email, new.date_of_birth, None).await?
    {
        let detail = format!("patient {id} has the same email and date of birth{duplicate_detail}");
        return Err(AppError::Duplicate(detail, id));
    }
    let row = model::insert(conn, new).await?;
    audit_events::append(conn, audited(caller, "patient.create", row.id, 201)).await?;
    let event = DomainEvent::record(EventType::PatientCreated, row.id, &[]);
    events::record(conn, now, [event]).await?;
    Ok(row)
}

/// Changes a patient at `expected`; a change onto another patient's email and date of birth
/// is a 409 naming them.
pub async fn update(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    expected: Expected,
    update: PatientUpdate,
    now: DateTime<Utc>,
) -> Result<model::Patient, AppError> {
    born_by("date_of_birth", update.date_of_birth, now)?;
    let fields = records::set_fields(&[
        ("given_name", update.given_name.is_some()),
        ("family_name", update.family_name.is_some()),
        ("date_of_birth", update.date_of_birth.is_some()),
        ("email", update.email.is_some()),
        ("phone", update.phone.is_some()),
        ("preferred_contact", update.preferred_contact.is_some()),
        ("notes", update.notes.is_some()),
        ("email_notifications", update.email_notifications.is_some()),
    ]);
    let changes = PatientChanges {
        given_name: update.given_name.map(|name| name.trim().to_owned()),
        family_name: update.family_name.map(|name| name.trim().to_owned()),
        date_of_birth: update.date_of_birth,
        email: update
            .email
            .map(|email| email.as_deref().map(normalize_email)),
        phone: update.phone.map(|phone| phone.map(|p| p.trim().to_owned())),
        preferred_contact: update.preferred_contact,
        notes: update.notes,
        email_notifications: update.email_notifications,
    };
    let current = records::locked::<model::Patient>(conn, id, expected).await?;
    // Named here for the common case; the unique index settles a race.
    let email = changes.email.clone().unwrap_or(current.email.clone());
    let date_of_birth = changes.date_of_birth.unwrap_or(current.date_of_birth);
    if let Some(email) = &email
        && let Some(other) = model::find_duplicate(conn, email, date_of_birth, Some(id)).await?
    {
        let detail = format!("patient {other} has the same email and date of birth");
        return Err(AppError::Duplicate(detail, other));
    }
    let row = records::apply(conn, id, changes, &fields, now).await?;
    audit_events::append(conn, audited(caller, "patient.update", id, 200)).await?;
    Ok(row)
}

/// Archives a patient at `expected`: kept with their history, no longer bookable.
pub async fn archive(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    expected: Expected,
    now: DateTime<Utc>,
) -> Result<model::Patient, AppError> {
    let row = records::archive::<model::Patient>(conn, id, expected, now).await?;
    audit_events::append(conn, audited(caller, "patient.archive", id, 200)).await?;
    Ok(row)
}

/// One patient: staff see every patient, a provider only those it has sessions with.
pub async fn get(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<model::Patient, AppError> {
    let row = model::find(conn, id)
        .await?
        .ok_or(AppError::NotFound(model::Patient::NAME))?;
    if let Some(provider_id) = caller.provider_id
        && !model::is_patient_of(conn, id, provider_id).await?
    {
        return Err(AppError::Concealed("patient"));
    }
    audit_events::append(conn, audited(caller, "patient.read", id, 200)).await?;
    Ok(redacted(caller, row))
}

/// A page of the patients `search` matches, audited as `action`.
pub async fn search(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    search: PatientSearch,
    page: PageRequest,
    action: &str,
) -> Result<Vec<model::Patient>, AppError> {
    let rows = model::search(conn, search, page).await?;
    audit_events::append(conn, caller.audit(action, "patients", None, 200)).await?;
    Ok(rows.into_iter().map(|row| redacted(caller, row)).collect())
}

/// The record without the clinic's notes for a caller who may not read them.
fn redacted(caller: &Caller, mut row: model::Patient) -> model::Patient {
    if !caller.sees_clinical() {
        row.notes = None;
    }
    row
}
