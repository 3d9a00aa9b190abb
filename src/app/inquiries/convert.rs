//! An inquiry becomes a patient (an existing one, or one made from its details), optionally
//! with a booked session, in one transaction: on any refusal nothing is written.

use chrono::{DateTime, NaiveDate, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::{audited, erased, find_for_update, inquiry_event};
use crate::app::booking::book::{Book, book};
use crate::app::calendar::{Parties, SessionView};
use crate::app::caller::{Caller, Expected};
use crate::app::events;
use crate::app::patients::{self, PatientDetails};
use crate::domain::contact::ContactMethod;
use crate::domain::events::EventType;
use crate::domain::inquiries::{may_convert, split_name, status_after_conversion};
use crate::domain::patients::PatientSource;
use crate::domain::sessions::SessionKind;
use crate::error::{AppError, ProblemType};
use crate::models::audit_events;
use crate::models::inquiries::{self as model, InquiryChanges, InquiryEvent};
use crate::models::patients as patients_model;

/// Fields of a new patient; each but `date_of_birth` defaults to what the inquiry says (the
/// name split at its last word).
#[derive(Debug, Clone)]
pub struct NewPatientFields {
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub date_of_birth: NaiveDate,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub preferred_contact: Option<ContactMethod>,
    pub notes: Option<String>,
}

/// Who the inquiry becomes.
#[derive(Debug, Clone)]
pub enum Becomes {
    Existing(Uuid),
    New(NewPatientFields),
}

/// The session to book with the conversion.
#[derive(Debug, Clone)]
pub struct SessionWanted {
    pub provider_id: Uuid,
    pub location_id: Uuid,
    pub treatment_area_id: Uuid,
    pub kind: SessionKind,
    pub starts_at: DateTime<Utc>,
}

/// A conversion to make.
#[derive(Debug, Clone)]
pub struct Convert {
    pub id: Uuid,
    pub expected: Expected,
    pub patient: Becomes,
    pub session: Option<SessionWanted>,
}

/// What the conversion made.
#[derive(Debug, Clone)]
pub struct Converted {
    pub inquiry: model::Inquiry,
    pub patient_id: Uuid,
    pub patient_created: bool,
    pub session: Option<SessionView>,
}

/// Links the patient (creating them from the inquiry), books the session, and marks the
/// inquiry `scheduled` (`contacted` without a booking): `inquiry.converted`, with the
/// patient's and the session's own events. Converting again is 409 `already-converted`.
pub async fn convert(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    command: &Convert,
    now: DateTime<Utc>,
) -> Result<Converted, AppError> {
    let id = command.id;
    let current = find_for_update(conn, id).await?;
    command.expected.check(current.version)?;
    if let Some(patient_id) = current.patient_id {
        return Err(AppError::AlreadyConverted {
            patient_id,
            session_id: current.session_id,
        });
    }
    if current.erased_at.is_some() {
        return Err(erased());
    }
    let from = current.status;
    if !may_convert(from) {
        return Err(AppError::Problem(
            ProblemType::InvalidTransition,
            format!(
                "the inquiry is {}; reopen it before converting",
                from.as_str()
            ),
        ));
    }
    let (patient_id, patient_created) = match &command.patient {
        Becomes::Existing(patient_id) => (existing_patient(conn, *patient_id).await?, false),
        Becomes::New(fields) => (
            new_patient(conn, caller, &current, fields, now).await?,
            true,
        ),
    };
    let session = match &command.session {
        Some(wanted) => {
            let booking = Book {
                parties: Parties {
                    patient_id,
                    provider_id: wanted.provider_id,
                    location_id: wanted.location_id,
                    treatment_area_id: wanted.treatment_area_id,
                },
                kind: wanted.kind,
                starts_at: wanted.starts_at,
                course_id: None,
            };
            Some(book(conn, caller, &booking, now).await?)
        }
        None => None,
    };
    let session_id = session.as_ref().map(|s| s.row.id);
    let to = status_after_conversion(from, session.is_some());
    let changes = InquiryChanges {
        status: Some(to),
        patient_id: Some(Some(patient_id)),
        session_id: Some(session_id),
        first_contacted_at: current.first_contacted_at.is_none().then_some(Some(now)),
        ..InquiryChanges::default()
    };
    let row = model::update(conn, id, changes, now).await?;
    let mut entry = InquiryEvent::new(id, caller.key_id, "converted", Some(from), to, now);
    entry.patient_id = Some(patient_id);
    entry.session_id = session_id;
    model::add_event(conn, entry).await?;
    let event = inquiry_event(EventType::InquiryConverted, &row, Some(from));
    events::record(conn, now, [event]).await?;
    audit_events::append(conn, audited(caller, "inquiry.convert", &row, 200)).await?;
    Ok(Converted {
        inquiry: row,
        patient_id,
        patient_created,
        session,
    })
}

async fn existing_patient(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Uuid, AppError> {
    let patient = patients_model::find(conn, id)
        .await?
        .ok_or_else(|| AppError::rule("patient_id", "names a patient that does not exist"))?;
    if patient.archived_at.is_some() {
        return Err(AppError::Problem(
            ProblemType::InactiveRecord,
            "the patient is archived".into(),
        ));
    }
    Ok(patient.id)
}

async fn new_patient(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    inquiry: &model::Inquiry,
    fields: &NewPatientFields,
    now: DateTime<Utc>,
) -> Result<Uuid, AppError> {
    patients::born_by("patient.date_of_birth", Some(fields.date_of_birth), now)?;
    let (given, family) = split_name(inquiry.name.as_deref().unwrap_or_default());
    let required = |value: Option<String>, field: &str| match value {
        None => Err(AppError::rule(
            format!("patient.{field}"),
            "is required: the inquiry's name does not give it",
        )),
        Some(name) if name.chars().count() > 100 => Err(AppError::rule(
            format!("patient.{field}"),
            "is required: the inquiry's name is longer than 100 characters",
        )),
        Some(name) => Ok(name),
    };
    let trimmed = |value: &Option<String>| value.as_deref().map(|v| v.trim().to_owned());
    let details = PatientDetails {
        given_name: required(trimmed(&fields.given_name).or(given), "given_name")?,
        family_name: required(trimmed(&fields.family_name).or(family), "family_name")?,
        date_of_birth: fields.date_of_birth,
        email: fields.email.clone().or_else(|| inquiry.email.clone()),
        phone: trimmed(&fields.phone).or_else(|| inquiry.phone.clone()),
        preferred_contact: fields.preferred_contact.or(inquiry.preferred_contact),
        notes: fields.notes.clone(),
        email_notifications: true,
        source: PatientSource::Inquiry,
    };
    let detail = ": convert with patient_id";
    Ok(patients::create(conn, caller, details, detail, now)
        .await?
        .id)
}
