//! Patients: `/v1/patients`. Personal health information: every access leaves an audit event,
//! and no personal value ever travels in a URL (search takes a JSON body).

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::app::caller::Caller;
use crate::app::patients::{self as app, PatientDetails, PatientUpdate};
use crate::domain::contact::ContactMethod;
use crate::domain::patients::PatientSource;
use crate::error::AppError;
use crate::http::auth::{AnyKey, ReaderKey, StaffKey};
use crate::http::conditional::{IfMatch, created, ok_tagged};
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageQuery};
use crate::http::problems::{
    AuthErrors, BadRequest, BodyErrors, Duplicate, NotFound, PreconditionFailed,
    PreconditionRequired, ServerErrors,
};
use crate::http::rules;
use crate::http::state::AppState;
use crate::models::PageRequest;
use crate::models::patients::{self as model, PatientSearch};

/// A patient.
#[derive(Debug, Serialize, ToSchema)]
pub struct Patient {
    pub id: Uuid,
    #[schema(example = "Jordan")]
    pub given_name: String,
    #[schema(example = "Reyes")]
    pub family_name: String,
    #[schema(example = "1968-04-12")]
    pub date_of_birth: NaiveDate,
    #[schema(example = "jordan.reyes@example.com")]
    pub email: Option<String>,
    #[schema(example = "+1 303 555 0142")]
    pub phone: Option<String>,
    pub preferred_contact: Option<ContactMethod>,
    /// Internal notes of the clinic.
    pub notes: Option<String>,
    /// Whether confirmations and reminders are emailed (the patient can turn it off with the
    /// link in every message).
    pub email_notifications: bool,
    /// Who registered the patient: `staff`, `inquiry` (converted from one) or `online` (the
    /// booking page, after the emailed code; worth checking at the first visit).
    pub source: PatientSource,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
}

impl From<model::Patient> for Patient {
    fn from(row: model::Patient) -> Self {
        Self {
            id: row.id,
            given_name: row.given_name,
            family_name: row.family_name,
            date_of_birth: row.date_of_birth,
            email: row.email,
            phone: row.phone,
            preferred_contact: row.preferred_contact,
            notes: row.notes,
            email_notifications: row.email_notifications,
            source: row.source,
            active: row.archived_at.is_none(),
            created_at: row.created_at,
            updated_at: row.updated_at,
            archived_at: row.archived_at,
        }
    }
}

/// A new patient.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "given_name": "Jordan", "family_name": "Reyes", "date_of_birth": "1968-04-12",
    "email": "jordan.reyes@example.com", "phone": "+1 303 555 0142", "preferred_contact": "email"
}))]
pub struct CreatePatient {
    #[garde(length(chars, min = 1, max = 100), custom(rules::name))]
    #[schema(min_length = 1, max_length = 100, format = "name")]
    pub given_name: String,
    #[garde(length(chars, min = 1, max = 100), custom(rules::name))]
    #[schema(min_length = 1, max_length = 100, format = "name")]
    pub family_name: String,
    #[garde(custom(rules::date_of_birth))]
    pub date_of_birth: NaiveDate,
    #[garde(inner(custom(rules::email)))]
    pub email: Option<String>,
    #[garde(inner(custom(rules::phone)))]
    pub phone: Option<String>,
    #[garde(skip)]
    pub preferred_contact: Option<ContactMethod>,
    #[garde(length(chars, max = 10000))]
    #[schema(max_length = 10000)]
    pub notes: Option<String>,
    /// Email confirmations and reminders (default `true`).
    #[garde(skip)]
    pub email_notifications: Option<bool>,
}

/// Fields of a patient to change; `null` clears an optional field.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"phone": "+1 303 555 0199", "preferred_contact": "sms"}))]
pub struct UpdatePatient {
    #[garde(inner(length(chars, min = 1, max = 100), custom(rules::name)))]
    #[schema(min_length = 1, max_length = 100, format = "name")]
    pub given_name: Option<String>,
    #[garde(inner(length(chars, min = 1, max = 100), custom(rules::name)))]
    #[schema(min_length = 1, max_length = 100, format = "name")]
    pub family_name: Option<String>,
    #[garde(inner(custom(rules::date_of_birth)))]
    pub date_of_birth: Option<NaiveDate>,
    #[serde(default, deserialize_with = "rules::nullable")]
    #[garde(inner(inner(custom(rules::email))))]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "rules::nullable")]
    #[garde(inner(inner(custom(rules::phone))))]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "rules::nullable")]
    #[garde(skip)]
    #[schema(value_type = Option<ContactMethod>)]
    pub preferred_contact: Option<Option<ContactMethod>>,
    #[serde(default, deserialize_with = "rules::nullable")]
    #[garde(custom(rules::nullable_text::<10000>))]
    #[schema(value_type = Option<String>, max_length = 10000)]
    pub notes: Option<Option<String>>,
    #[garde(skip)]
    pub email_notifications: Option<bool>,
}

/// A patient search; in a body, so no personal value lands in a URL or a log.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"q": "reyes", "date_of_birth": "1968-04-12"}))]
pub struct SearchPatients {
    /// Part of the name, email or phone (case-insensitive).
    #[garde(inner(length(chars, min = 2, max = 100)))]
    #[schema(min_length = 2, max_length = 100)]
    pub q: Option<String>,
    #[garde(skip)]
    pub date_of_birth: Option<NaiveDate>,
    /// Only active (`true`) or only archived (`false`) patients.
    #[garde(skip)]
    pub active: Option<bool>,
    /// Items per page, 1 to 100.
    #[garde(inner(range(min = 1, max = 100)))]
    #[schema(minimum = 1, maximum = 100)]
    pub limit: Option<u16>,
    /// Opaque cursor from the previous page's `next_cursor`.
    #[schema(pattern = r"^[0-9a-f]{32}$")]
    #[garde(skip)]
    pub cursor: Option<String>,
}

/// Filters of the patient list.
#[derive(Debug, Deserialize, IntoParams, garde::Validate)]
#[into_params(parameter_in = Query)]
pub struct PatientFilter {
    /// Only active (`true`) or only archived (`false`) patients.
    #[garde(skip)]
    pub active: Option<bool>,
}

/// Create a patient
///
/// A patient with the same email and date of birth exists already → 409 `duplicate` with its id.
#[utoipa::path(
    tag = "patients",
    security(("bearer" = [])),
    request_body = CreatePatient,
    responses(
        (status = 201, description = "Created", body = Patient, headers(("ETag" = String), ("Location" = String))),
        (status = 409, response = Duplicate),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[post("/patients")]
pub async fn create_patient(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    Json(body): Json<CreatePatient>,
) -> Result<HttpResponse, AppError> {
    let details = PatientDetails {
        given_name: body.given_name,
        family_name: body.family_name,
        date_of_birth: body.date_of_birth,
        email: body.email,
        phone: body.phone,
        preferred_contact: body.preferred_contact,
        notes: body.notes,
        email_notifications: body.email_notifications.unwrap_or(true),
        source: PatientSource::Staff,
    };
    let now = state.now();
    let mut conn = state.conn().await?;
    let row = conn
        .transaction::<_, AppError, _>(async |conn| {
            app::create(conn, &caller, details, "", now).await
        })
        .await?;
    let version = row.version;
    let patient = Patient::from(row);
    Ok(created(
        format!("/v1/patients/{}", patient.id),
        &patient,
        version,
    ))
}

/// List patients
#[utoipa::path(
    tag = "patients",
    security(("bearer" = [])),
    params(PageQuery, PatientFilter),
    responses(
        (status = 200, description = "One page of patients, oldest record first", body = Page<Patient>),
        (status = 400, response = BadRequest), AuthErrors, ServerErrors,
    )
)]
#[get("/patients")]
pub async fn list_patients(
    ReaderKey(caller): ReaderKey,
    state: web::Data<AppState>,
    Query(page): Query<PageQuery>,
    Query(filter): Query<PatientFilter>,
) -> Result<HttpResponse, AppError> {
    let request = page.request()?;
    let search = PatientSearch {
        active: filter.active,
        ..PatientSearch::default()
    };
    respond_with_page(&caller, &state, search, request, "patient.list").await
}

/// Search patients
///
/// By part of the name, email or phone, and/or date of birth. A `POST` so that these values
/// never appear in a URL.
#[utoipa::path(
    tag = "patients",
    security(("bearer" = [])),
    request_body = SearchPatients,
    responses(
        (status = 200, description = "One page of matching patients", body = Page<Patient>),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[post("/patients/search")]
pub async fn search_patients(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    Json(body): Json<SearchPatients>,
) -> Result<HttpResponse, AppError> {
    let request = PageQuery {
        limit: body.limit,
        cursor: body.cursor,
    }
    .request()?;
    let search = PatientSearch {
        text: body.q.map(|q| q.trim().to_owned()),
        date_of_birth: body.date_of_birth,
        active: body.active,
    };
    respond_with_page(&caller, &state, search, request, "patient.search").await
}

async fn respond_with_page(
    caller: &Caller,
    state: &AppState,
    search: PatientSearch,
    request: PageRequest,
    action: &str,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.conn().await?;
    let rows = app::search(&mut conn, caller, search, request, action).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, request, |row| row.id, Patient::from)))
}

/// Get a patient
///
/// Staff see every patient; a provider key sees only patients it has sessions with (others: 404).
#[utoipa::path(
    tag = "patients",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The patient", body = Patient, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        AuthErrors, ServerErrors,
    )
)]
#[get("/patients/{id}")]
pub async fn get_patient(
    AnyKey(caller): AnyKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.conn().await?;
    let row = app::get(&mut conn, &caller, *id).await?;
    let version = row.version;
    Ok(ok_tagged(&Patient::from(row), version))
}

/// Update a patient
///
/// Requires `If-Match` with the patient's current `ETag`.
#[utoipa::path(
    tag = "patients",
    security(("bearer" = [])),
    request_body = UpdatePatient,
    params(("If-Match" = String, Header, description = "The current ETag")),
    responses(
        (status = 200, description = "The updated patient", body = Patient, headers(("ETag" = String))),
        (status = 404, response = NotFound),
        (status = 409, response = Duplicate),
        (status = 412, response = PreconditionFailed),
        (status = 428, response = PreconditionRequired),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[patch("/patients/{id}")]
pub async fn update_patient(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    Json(body): Json<UpdatePatient>,
) -> Result<HttpResponse, AppError> {
    let expected = if_match.required()?;
    let (id, now) = (*id, state.now());
    let update = PatientUpdate {
        given_name: body.given_name,
        family_name: body.family_name,
        date_of_birth: body.date_of_birth,
        email: body.email,
        phone: body.phone,
        preferred_contact: body.preferred_contact,
        notes: body.notes,
        email_notifications: body.email_notifications,
    };
    let mut conn = state.conn().await?;
    let row = conn
        .transaction::<_, AppError, _>(async |conn| {
            app::update(conn, &caller, id, expected, update, now).await
        })
        .await?;
    let version = row.version;
    Ok(ok_tagged(&Patient::from(row), version))
}

/// Archive a patient
///
/// The record and its history are kept; the patient can no longer be booked. `If-Match` is optional.
#[utoipa::path(
    tag = "patients",
    security(("bearer" = [])),
    params(("If-Match" = Option<String>, Header, description = "The current ETag, to archive only that version")),
    responses(
        (status = 200, description = "The archived patient", body = Patient, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        AuthErrors, ServerErrors,
    )
)]
#[post("/patients/{id}/archive")]
pub async fn archive_patient(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    let (id, expected, now) = (*id, if_match.optional(), state.now());
    let mut conn = state.conn().await?;
    let row = conn
        .transaction::<_, AppError, _>(async |conn| {
            app::archive(conn, &caller, id, expected, now).await
        })
        .await?;
    let version = row.version;
    Ok(ok_tagged(&Patient::from(row), version))
}
