//! Patients: personal health information, read and changed only with an audit event.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::PageRequest;
use crate::domain::contact::ContactMethod;
use crate::domain::patients::PatientSource;
use crate::schema::{patients, sessions};

/// A row of `patients`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = patients)]
pub struct Patient {
    pub id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: NaiveDate,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub preferred_contact: Option<ContactMethod>,
    pub notes: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
    pub email_notifications: bool,
    pub source: PatientSource,
}

/// A patient to create.
#[derive(Debug, Insertable)]
#[diesel(table_name = patients)]
pub struct NewPatient {
    pub id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: NaiveDate,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub preferred_contact: Option<ContactMethod>,
    pub notes: Option<String>,
    pub email_notifications: bool,
    pub source: PatientSource,
}

/// Fields to change; `None` leaves a field as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = patients)]
pub struct PatientChanges {
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub preferred_contact: Option<Option<ContactMethod>>,
    pub notes: Option<Option<String>>,
    pub email_notifications: Option<bool>,
}

/// What a patient search matches.
#[derive(Debug, Default, Clone)]
pub struct PatientSearch {
    /// Part of the name, email or phone, case-insensitive.
    pub text: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub active: Option<bool>,
}

pub async fn insert(conn: &mut AsyncPgConnection, new: NewPatient) -> QueryResult<Patient> {
    diesel::insert_into(patients::table)
        .values(new)
        .returning(Patient::as_returning())
        .get_result(conn)
        .await
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Patient>> {
    patients::table
        .find(id)
        .select(Patient::as_select())
        .first(conn)
        .await
        .optional()
}

/// Another patient with this email and date of birth, if any (the duplicate rule), found by the
/// keyed digest the unique index holds; `except` leaves out the patient being changed.
pub async fn find_duplicate(
    conn: &mut AsyncPgConnection,
    email: &str,
    date_of_birth: NaiveDate,
    except: Option<Uuid>,
) -> QueryResult<Option<Uuid>> {
    use diesel::sql_types::{Date, Text};
    let mut query = patients::table
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>(
                "identity_digest = patient_identity_digest(",
            )
            .bind::<Text, _>(email)
            .sql(", ")
            .bind::<Date, _>(date_of_birth)
            .sql(")"),
        )
        .select(patients::id)
        .into_boxed();
    if let Some(except) = except {
        query = query.filter(patients::id.ne(except));
    }
    query.first(conn).await.optional()
}

pub async fn search(
    conn: &mut AsyncPgConnection,
    search: PatientSearch,
    page: PageRequest,
) -> QueryResult<Vec<Patient>> {
    let mut query = patients::table
        .select(Patient::as_select())
        .order(patients::id)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(patients::id.gt(after));
    }
    if let Some(text) = search.text {
        let pattern = super::contains_pattern(&text);
        query = query.filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>(
                "(given_name || ' ' || family_name) ILIKE ",
            )
            .bind::<diesel::sql_types::Text, _>(pattern.clone())
            .or(patients::email.ilike(pattern.clone()))
            .or(patients::phone.ilike(pattern)),
        );
    }
    if let Some(date_of_birth) = search.date_of_birth {
        query = query.filter(patients::date_of_birth.eq(date_of_birth));
    }
    match search.active {
        Some(true) => query = query.filter(patients::archived_at.is_null()),
        Some(false) => query = query.filter(patients::archived_at.is_not_null()),
        None => {}
    }
    query.limit(page.limit + 1).load(conn).await
}

/// Whether `provider_id` has (or had) a session with the patient: who a provider key may see.
pub async fn is_patient_of(
    conn: &mut AsyncPgConnection,
    patient_id: Uuid,
    provider_id: Uuid,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        sessions::table
            .filter(sessions::patient_id.eq(patient_id))
            .filter(sessions::provider_id.eq(provider_id)),
    ))
    .get_result(conn)
    .await
}

super::versioned::versioned!(
    Patient,
    PatientChanges,
    patients,
    "patient",
    PatientUpdated,
    PatientArchived
);

/// Sets whether the patient gets email; returns whether it changed (bumping the version).
pub async fn set_email_notifications(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    on: bool,
) -> QueryResult<bool> {
    let changed = diesel::update(
        patients::table
            .find(id)
            .filter(patients::email_notifications.ne(on)),
    )
    .set((
        patients::email_notifications.eq(on),
        patients::version.eq(patients::version + 1),
        patients::updated_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
    .await?;
    Ok(changed == 1)
}

/// Which of `ids` email reaches: active, with an address, notifications on.
pub async fn reachable_by_email(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> QueryResult<Vec<Uuid>> {
    patients::table
        .filter(patients::id.eq_any(ids))
        .filter(patients::archived_at.is_null())
        .filter(patients::email.is_not_null())
        .filter(patients::email_notifications.eq(true))
        .select(patients::id)
        .load(conn)
        .await
}
