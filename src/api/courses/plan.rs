//! `POST /v1/courses/plan` and `POST /v1/courses`: propose a course, create (and book) it.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};

use super::{Course, CoursePlan, CreateCourse, PlanCourse, course_plan};
use crate::app::courses::create as app;
use crate::app::courses::plan::propose;
use crate::db::standby::Freshness;
use crate::error::AppError;
use crate::http::auth::StaffKey;
use crate::http::extract::Json;
use crate::http::idempotency::{self, Answer};
use crate::http::problems::*;
use crate::http::state::AppState;

/// Plan a course
///
/// Proposes every session and writes nothing: session 1 at `first_starts_at` or the earliest
/// fitting slot; each next one inside the interval window from the previous, nearest the target,
/// on the course's weekday and local time of day, and only where booking would succeed. Sessions
/// that fit nowhere are listed in `unplaced` with the reason.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    request_body = PlanCourse,
    responses(
        (status = 200, description = "The proposal", body = CoursePlan),
        (status = 422, description = "`time-without-offset`, `inactive-record` or `provider-not-eligible`", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[post("/courses/plan")]
pub async fn plan_course(
    StaffKey(_caller): StaffKey,
    state: web::Data<AppState>,
    Json(body): Json<PlanCourse>,
) -> Result<HttpResponse, AppError> {
    let request = body.request()?;
    let mut conn = state.read_conn(Freshness::Current).await?;
    let planned = propose(&mut conn, &request, state.now()).await?;
    Ok(HttpResponse::Ok().json(course_plan(&planned, body.location_id)))
}

/// Create a course
///
/// With `book: true`, plans and books every session in one transaction: all or nothing (a
/// session that cannot be placed → 422 `course-not-plannable` naming it; one taken meanwhile →
/// 409 naming its number). Without it, the course is created and sessions are added later with
/// `course_id`. `Idempotency-Key` makes retries safe.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    request_body = CreateCourse,
    params(("Idempotency-Key" = Option<String>, Header, description = "The same key and body replay the first answer")),
    responses(
        (status = 201, description = "Created (and booked)", body = Course, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "The provider's time is taken (`slot-taken`), or a room or device it needs (`resource-unavailable` naming the `tag`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, response = CourseNotPlannable),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[post("/courses")]
pub async fn create_course(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    req: HttpRequest,
    Json(body): Json<CreateCourse>,
) -> Result<HttpResponse, AppError> {
    let command = app::CreateCourse {
        plan: body.plan.request()?,
        side: body.side,
        goal: body.goal.clone(),
        baseline_pain: body.baseline_pain,
        baseline_function: body.baseline_function,
        assessment_session_id: body.assessment_session_id,
        book: body.book,
    };
    let now = state.now();
    idempotency::respond_once(
        &state,
        &req,
        caller.key_id,
        "POST /v1/courses",
        &body,
        now,
        || {
            let (command, caller) = (command.clone(), caller.clone());
            move |conn| -> idempotency::Work<'_> {
                Box::pin(async move {
                    let course =
                        Course::from_view(app::create(conn, &caller, &command, now).await?);
                    let location = format!("/v1/courses/{}", course.id);
                    Answer::of(StatusCode::CREATED, Some(location), course.version, &course)
                })
            }
        },
    )
    .await
}
