//! `POST /v1/sessions`: book a session.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use diesel_async::AsyncPgConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Session, checked_facts, event};
use crate::domain::sessions::{SessionKind, SessionStatus};
use crate::error::AppError;
use crate::http::auth::{Caller, StaffKey};
use crate::http::extract::Json;
use crate::http::idempotency::{self, Answer};
use crate::http::problems::*;
use crate::http::state::AppState;
use crate::models::audit_events;
use crate::models::sessions::{self as model, NewSession};

/// A session to book.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "patient_id": "01a220a8-0a75-7712-9d57-ec6ab303a5e1",
    "provider_id": "01a220a8-0ab0-711c-9d0c-b548723b66b8",
    "location_id": "01a220a8-0a75-7712-9d57-ec6ab303a5e2",
    "treatment_area_id": "01a220a8-0a9b-7d1c-8f0e-6d2a1b3c4d5e",
    "kind": "assessment",
    "starts_at": "2027-03-15T09:00:00-06:00"
}))]
pub struct BookSession {
    #[garde(skip)]
    pub patient_id: Uuid,
    #[garde(skip)]
    pub provider_id: Uuid,
    #[garde(skip)]
    pub location_id: Uuid,
    #[garde(skip)]
    pub treatment_area_id: Uuid,
    #[garde(skip)]
    pub kind: SessionKind,
    /// RFC 3339 with an offset; the length follows from the area and kind.
    #[garde(length(max = 64))]
    #[schema(format = DateTime)]
    pub starts_at: String,
    /// The course the session belongs to; it is numbered after the course's other sessions.
    #[serde(default)]
    #[garde(skip)]
    pub course_id: Option<Uuid>,
}

/// Book a session
///
/// The length comes from the treatment area and the kind; an injection also holds the provider
/// for the clinic's buffer. Every rule names itself in a 422; an overlap with another active
/// session of the provider or the patient is a 409, settled by the database's exclusion
/// constraints. With `Idempotency-Key`, a retry replays the first answer.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = [])),
    request_body = BookSession,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body replay the first answer")),
    responses(
        (status = 201, description = "Booked", body = Session, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "The provider or the patient is taken then (`slot-taken`, `patient-double-booked`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A booking rule is broken: `outside-working-hours`, `provider-on-time-off`, `provider-not-eligible`, `too-short-notice`, `beyond-horizon`, `time-without-offset`, `inactive-record`, `idempotency-key-reused`", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[post("/sessions")]
pub async fn book_session(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    req: HttpRequest,
    Json(body): Json<BookSession>,
) -> Result<HttpResponse, AppError> {
    let start = super::parse_start(&body.starts_at)?;
    let key = idempotency::key_from(&req)?;
    let now = state.now();
    let hash = idempotency::fingerprint(&body);
    let mut conn = state.conn().await?;
    let (answer, replayed) = idempotency::run_once(
        &mut conn,
        caller.key_id,
        key,
        "POST /v1/sessions",
        hash,
        now,
        || {
            let (body, caller) = (body.clone(), caller.clone());
            move |conn| -> idempotency::Work<'_> {
                Box::pin(async move {
                    let session = book_in(conn, &caller, &body, start, now).await?;
                    Ok(Answer {
                        status: StatusCode::CREATED,
                        location: Some(format!("/v1/sessions/{}", session.id)),
                        etag: Some(crate::http::conditional::etag(session.version)),
                        body: serde_json::to_value(&session)
                            .map_err(|e| AppError::Internal(Box::new(e)))?,
                    })
                })
            }
        },
    )
    .await?;
    Ok(answer.respond(replayed))
}

/// Books `body` (starting at `start`) inside the caller's transaction: every rule checked, the
/// history entry and the audit event written with it. Overlaps fail at the insert.
pub async fn book_in(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    body: &BookSession,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Session, AppError> {
    let ids = (
        body.patient_id,
        body.provider_id,
        body.location_id,
        body.treatment_area_id,
    );
    let (facts, span, held_until) = checked_facts(conn, ids, body.kind, start, now).await?;
    let course_number = match body.course_id {
        Some(course_id) => Some(crate::api::courses::next_number(conn, course_id, body).await?),
        None => None,
    };
    let row = model::insert(
        conn,
        NewSession {
            id: Uuid::now_v7(),
            kind: body.kind.as_str().to_owned(),
            patient_id: body.patient_id,
            provider_id: body.provider_id,
            location_id: body.location_id,
            treatment_area_id: body.treatment_area_id,
            course_id: body.course_id,
            course_number,
            starts_at: span.start,
            ends_at: span.end,
            held_until,
        },
    )
    .await?;
    let mut booked = event(caller, row.id, "booked", None, SessionStatus::Scheduled);
    booked.new_starts_at = Some(row.starts_at);
    model::add_event(conn, booked).await?;
    let audit = caller
        .audit("session.book", "sessions", Some(row.id), 201)
        .patient(row.patient_id);
    audit_events::append(conn, audit).await?;
    let zone: Tz = facts.time_zone.parse().unwrap_or(chrono_tz::UTC);
    Ok(Session::from_row(row, zone, None))
}
