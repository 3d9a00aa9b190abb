//! Changing a session: move it, confirm, check in, complete with the clinical record, record a
//! no-show, cancel. Each change is one transaction with its history entry and audit event.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::Session;
use crate::app::booking::lifecycle::{self, Step};
use crate::app::booking::reschedule as app;
use crate::app::caller::{Caller, Expected};
use crate::domain::clinical::ClinicalRecord;
use crate::domain::sessions::CancelReason;
use crate::error::AppError;
use crate::http::auth::{ClinicianKey, StaffKey};
use crate::http::conditional::{IfMatch, ok_tagged};
use crate::http::extract::Json;
use crate::http::idempotency::{self, Answer};
use crate::http::problems::*;
use crate::http::state::AppState;

/// A new time for a session.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"starts_at": "2027-03-16T10:00:00-06:00", "reason": "Patient asked for a later day"}))]
pub struct Reschedule {
    /// RFC 3339 with an offset.
    #[garde(length(max = 64))]
    #[schema(format = DateTime)]
    pub starts_at: String,
    #[garde(inner(length(chars, max = 2000)))]
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
    /// Move even if a neighbouring session of the course falls outside its interval window
    /// (recorded as a warning on the course).
    #[serde(default)]
    #[garde(skip)]
    pub force: bool,
    /// Re-plan the course's later scheduled sessions so every interval window holds.
    #[serde(default)]
    #[garde(skip)]
    pub cascade: bool,
}

/// Why a session is cancelled.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason_code": "illness", "note": "Has the flu; will call back"}))]
pub struct Cancel {
    #[garde(skip)]
    pub reason_code: CancelReason,
    #[garde(inner(length(chars, max = 2000)))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// Reschedule a session
///
/// Same id, a history entry with the old and new times. The new time passes every booking rule;
/// the session's own old time does not count against it. `If-Match` is honoured when sent;
/// `Idempotency-Key` makes retries safe.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = [])),
    request_body = Reschedule,
    params(
        ("If-Match" = Option<String>, Header, description = "The current ETag"),
        ("Idempotency-Key" = Option<String>, Header, description = "The same key and body replay the first answer"),
    ),
    responses(
        (status = 200, description = "Moved", body = Session, headers(("ETag" = String))),
        (status = 404, response = NotFound),
        (status = 409, description = "Taken (`slot-taken`, `patient-double-booked`, `resource-unavailable`), or the status does not allow a move", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 412, response = PreconditionFailed),
        (status = 422, description = "A booking rule is broken", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[post("/sessions/{id}/reschedule")]
pub async fn reschedule_session(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    req: HttpRequest,
    Json(body): Json<Reschedule>,
) -> Result<HttpResponse, AppError> {
    let command = app::Reschedule {
        id: *id,
        expected: if_match.optional(),
        starts_at: super::parse_start(&body.starts_at)?,
        reason: body.reason.clone(),
        force: body.force,
        cascade: body.cascade,
    };
    let (now, operation) = (state.now(), "POST /v1/sessions/{id}/reschedule");
    let request = (command.id, &body);
    idempotency::respond_once(
        &state,
        &req,
        caller.key_id,
        operation,
        &request,
        now,
        || {
            let (command, caller) = (command.clone(), caller.clone());
            move |conn| -> idempotency::Work<'_> {
                Box::pin(async move {
                    let view = app::reschedule(conn, &caller, &command, now).await?;
                    let session = Session::from_view(view);
                    Answer::of(StatusCode::OK, None, session.version, &session)
                })
            }
        },
    )
    .await
}

/// Cancel a session
///
/// The time is freed at once. Inside the clinic's late-cancellation window the session is
/// flagged `late_cancellation`.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = [])),
    request_body = Cancel,
    params(("If-Match" = Option<String>, Header, description = "The current ETag")),
    responses(
        (status = 200, description = "Cancelled", body = Session, headers(("ETag" = String))),
        (status = 404, response = NotFound),
        (status = 409, response = InvalidTransition),
        (status = 412, response = PreconditionFailed),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[post("/sessions/{id}/cancel")]
pub async fn cancel_session(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    Json(body): Json<Cancel>,
) -> Result<HttpResponse, AppError> {
    let step = Step::Cancel {
        reason: body.reason_code,
        note: body.note,
    };
    change_status(&state, &caller, *id, if_match.optional(), step).await
}

/// Confirm a session
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = [])),
    params(("If-Match" = Option<String>, Header, description = "The current ETag")),
    responses(
        (status = 200, description = "Confirmed", body = Session, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, response = InvalidTransition),
        (status = 412, response = PreconditionFailed),
        AuthErrors, ServerErrors,
    )
)]
#[post("/sessions/{id}/confirm")]
pub async fn confirm_session(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    change_status(&state, &caller, *id, if_match.optional(), Step::Confirm).await
}

/// Check a patient in
///
/// From the clinic's `check_in_lead_minutes` before the start until the end of the session's
/// local day (422 `outside-visit-window` otherwise).
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = [])),
    params(("If-Match" = Option<String>, Header, description = "The current ETag")),
    responses(
        (status = 200, description = "Checked in", body = Session, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, response = InvalidTransition),
        (status = 412, response = PreconditionFailed),
        (status = 422, response = OutsideVisitWindow),
        AuthErrors, ServerErrors,
    )
)]
#[post("/sessions/{id}/check-in")]
pub async fn check_in_session(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    change_status(&state, &caller, *id, if_match.optional(), Step::CheckIn).await
}

/// Record a no-show
///
/// Only once the session's start has passed.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = [])),
    params(("If-Match" = Option<String>, Header, description = "The current ETag")),
    responses(
        (status = 200, description = "Recorded as no-show", body = Session, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, response = InvalidTransition),
        (status = 412, response = PreconditionFailed),
        (status = 422, response = TooEarly),
        AuthErrors, ServerErrors,
    )
)]
#[post("/sessions/{id}/no-show")]
pub async fn no_show_session(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    change_status(&state, &caller, *id, if_match.optional(), Step::NoShow).await
}

/// Complete a session with its clinical record
///
/// Staff, or the session's own provider, once the start has passed (422
/// `outside-visit-window` before). The record is personal health information.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = [])),
    request_body = ClinicalRecord,
    params(("If-Match" = Option<String>, Header, description = "The current ETag")),
    responses(
        (status = 200, description = "Completed", body = Session, headers(("ETag" = String))),
        (status = 404, response = NotFound),
        (status = 409, response = InvalidTransition),
        (status = 412, response = PreconditionFailed),
        (status = 422, response = OutsideVisitWindow),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[post("/sessions/{id}/complete")]
pub async fn complete_session(
    ClinicianKey(caller): ClinicianKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    Json(record): Json<ClinicalRecord>,
) -> Result<HttpResponse, AppError> {
    change_status(
        &state,
        &caller,
        *id,
        if_match.optional(),
        Step::Complete(record),
    )
    .await
}

/// Runs one lifecycle step in its own transaction and answers the session.
async fn change_status(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    expected: Expected,
    step: Step,
) -> Result<HttpResponse, AppError> {
    let now = state.now();
    let mut conn = state.conn().await?;
    let view = conn
        .transaction::<_, AppError, _>(async |conn| {
            lifecycle::change_status(conn, caller, id, expected, step, now).await
        })
        .await?;
    let session = Session::from_view(view);
    Ok(ok_tagged(&session, session.version))
}
