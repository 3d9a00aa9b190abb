//! Changing a course: its status, a cancellation, more sessions, its fields.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, patch, post, web};
use diesel_async::AsyncConnection;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Course, interval_window};
use crate::api::treatment_areas::IntervalDays;
use crate::app::courses::change::{self as app, CourseUpdate};
use crate::domain::courses::{CourseStatus, Side};
use crate::domain::sessions::CancelReason;
use crate::error::AppError;
use crate::http::auth::StaffKey;
use crate::http::conditional::{IfMatch, ok_tagged};
use crate::http::extract::Json;
use crate::http::idempotency::{self, Answer};
use crate::http::problems::*;
use crate::http::state::AppState;

/// A change of a course's status.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "on_hold", "reason": "Patient travelling for a month"}))]
pub struct ChangeCourseStatus {
    /// `active`, `on_hold`, `completed` or `discontinued`.
    #[garde(skip)]
    pub status: CourseStatus,
    #[garde(inner(length(chars, max = 2000)))]
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
}

/// Why a whole course is cancelled.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason_code": "feeling_better", "note": "Pain gone after 3 sessions"}))]
pub struct CancelCourse {
    #[garde(skip)]
    pub reason_code: CancelReason,
    #[garde(inner(length(chars, max = 2000)))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// Change a course's status
///
/// Hold, resume, complete early or discontinue, with a reason; only legal transitions (409
/// naming the current status otherwise). `If-Match` is honoured when sent.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    request_body = ChangeCourseStatus,
    params(("If-Match" = Option<String>, Header, description = "The current ETag")),
    responses(
        (status = 200, description = "The course", body = Course, headers(("ETag" = String))),
        (status = 404, response = NotFound),
        (status = 409, response = InvalidTransition),
        (status = 412, response = PreconditionFailed),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[post("/courses/{id}/status")]
pub async fn change_course_status(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    Json(body): Json<ChangeCourseStatus>,
) -> Result<HttpResponse, AppError> {
    let (id, expected, now) = (*id, if_match.optional(), state.now());
    let change = (body.status, body.reason);
    let mut conn = state.conn().await?;
    let view = conn
        .transaction::<_, AppError, _>(async |conn| {
            app::change_status(conn, &caller, id, expected, change, now).await
        })
        .await?;
    let course = Course::from_view(view);
    Ok(ok_tagged(&course, course.version))
}

/// Cancel a course
///
/// Cancels every future session of the course with one reason, and discontinues the course, in
/// one transaction.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    request_body = CancelCourse,
    responses(
        (status = 200, description = "The course, discontinued", body = Course, headers(("ETag" = String))),
        (status = 404, response = NotFound),
        (status = 409, response = InvalidTransition),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[post("/courses/{id}/cancel")]
pub async fn cancel_course(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    Json(body): Json<CancelCourse>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (*id, state.now());
    let cancellation = (body.reason_code, body.note);
    let mut conn = state.conn().await?;
    let view = conn
        .transaction::<_, AppError, _>(async |conn| {
            app::cancel(conn, &caller, id, cancellation, now).await
        })
        .await?;
    let course = Course::from_view(view);
    Ok(ok_tagged(&course, course.version))
}

/// More sessions for a course.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"sessions": 2}))]
pub struct ExtendCourse {
    /// How many sessions to add, 1 to 20.
    #[garde(range(min = 1, max = 20))]
    #[schema(minimum = 1, maximum = 20)]
    pub sessions: u32,
}

/// Extend a course
///
/// Plans the added sessions the same way, after the course's last session, and books them, all
/// or nothing (422 `course-not-plannable` naming what fits nowhere).
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    request_body = ExtendCourse,
    params(("Idempotency-Key" = Option<String>, Header, description = "The same key and body replay the first answer")),
    responses(
        (status = 200, description = "The extended course", body = Course, headers(("ETag" = String))),
        (status = 404, response = NotFound),
        (status = 409, response = InvalidTransition),
        (status = 422, response = CourseNotPlannable),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[post("/courses/{id}/extend")]
pub async fn extend_course(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    Json(body): Json<ExtendCourse>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (*id, state.now());
    idempotency::respond_once(
        &state,
        &req,
        caller.key_id,
        "POST /v1/courses/{id}/extend",
        &(id, body.sessions),
        now,
        || {
            let (sessions, caller) = (body.sessions, caller.clone());
            move |conn| -> idempotency::Work<'_> {
                Box::pin(async move {
                    let view = app::extend(conn, &caller, id, sessions, now).await?;
                    let course = Course::from_view(view);
                    Answer::of(StatusCode::OK, None, course.version, &course)
                })
            }
        },
    )
    .await
}

/// Fields of a course to change; `null` clears an optional one.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"goal": "Return to running", "interval_days": {"min": 21, "target": 28, "max": 35}}))]
pub struct UpdateCourse {
    #[garde(skip)]
    pub side: Option<Side>,
    #[serde(default, deserialize_with = "crate::http::rules::nullable")]
    #[garde(custom(crate::http::rules::nullable_text::<2000>))]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub goal: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::rules::nullable")]
    #[garde(inner(inner(range(min = 0, max = 10))))]
    #[schema(value_type = Option<i16>, minimum = 0, maximum = 10)]
    pub baseline_pain: Option<Option<i16>>,
    #[serde(default, deserialize_with = "crate::http::rules::nullable")]
    #[garde(inner(inner(range(min = 0, max = 100))))]
    #[schema(value_type = Option<i16>, minimum = 0, maximum = 100)]
    pub baseline_function: Option<Option<i16>>,
    /// Applies to sessions planned from now on.
    #[garde(dive)]
    pub interval_days: Option<IntervalDays>,
}

/// Update a course
///
/// Requires `If-Match` with the course's current `ETag`.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    request_body = UpdateCourse,
    params(("If-Match" = String, Header, description = "The current ETag")),
    responses(
        (status = 200, description = "The updated course", body = Course, headers(("ETag" = String))),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        (status = 428, response = PreconditionRequired),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[patch("/courses/{id}")]
pub async fn update_course(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    Json(body): Json<UpdateCourse>,
) -> Result<HttpResponse, AppError> {
    let expected = if_match.required()?;
    let (id, now) = (*id, state.now());
    let update = CourseUpdate {
        side: body.side,
        goal: body.goal,
        baseline_pain: body.baseline_pain,
        baseline_function: body.baseline_function,
        interval: body.interval_days.map(interval_window),
    };
    let mut conn = state.conn().await?;
    let view = conn
        .transaction::<_, AppError, _>(async |conn| {
            app::update(conn, &caller, id, expected, update, now).await
        })
        .await?;
    let course = Course::from_view(view);
    Ok(ok_tagged(&course, course.version))
}
