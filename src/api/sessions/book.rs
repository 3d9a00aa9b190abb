//! `POST /v1/sessions`: book a session.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::Session;
use crate::app::booking::book::{Book, book};
use crate::app::calendar::Parties;
use crate::domain::sessions::SessionKind;
use crate::error::AppError;
use crate::http::auth::StaffKey;
use crate::http::extract::Json;
use crate::http::idempotency::{self, Answer};
use crate::http::problems::*;
use crate::http::state::AppState;

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
        (status = 409, description = "The provider, the patient or a room or device the session needs is taken then (`slot-taken`, `patient-double-booked`, `resource-unavailable` naming the `tag`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
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
    let command = Book {
        parties: Parties {
            patient_id: body.patient_id,
            provider_id: body.provider_id,
            location_id: body.location_id,
            treatment_area_id: body.treatment_area_id,
        },
        kind: body.kind,
        starts_at: super::parse_start(&body.starts_at)?,
        course_id: body.course_id,
    };
    let now = state.now();
    idempotency::respond_once(
        &state,
        &req,
        caller.key_id,
        "POST /v1/sessions",
        &body,
        now,
        || {
            let (command, caller) = (command.clone(), caller.clone());
            move |conn| -> idempotency::Work<'_> {
                Box::pin(async move {
                    let session = Session::from_view(book(conn, &caller, &command, now).await?);
                    let location = format!("/v1/sessions/{}", session.id);
                    Answer::of(
                        StatusCode::CREATED,
                        Some(location),
                        session.version,
                        &session,
                    )
                })
            }
        },
    )
    .await
}
