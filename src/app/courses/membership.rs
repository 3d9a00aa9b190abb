//! A session joining its course, and a course following its sessions: the next number, the
//! first booking that makes a planned course active, the last completion that completes it.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::{course_event, status_event_type};
use crate::app::calendar::Parties;
use crate::app::events;
use crate::domain::courses::CourseStatus;
use crate::error::{AppError, ProblemType};
use crate::models::courses as model;

/// The number the next session of `course_id` gets, after checking it belongs there; a planned
/// course becomes active with its first booking.
pub async fn next_number(
    conn: &mut AsyncPgConnection,
    course_id: Uuid,
    parties: Parties,
    now: DateTime<Utc>,
) -> Result<i32, AppError> {
    let course = model::find_for_update(conn, course_id)
        .await?
        .ok_or_else(|| AppError::rule("course_id", "names a course that does not exist"))?;
    if course.patient_id != parties.patient_id
        || course.treatment_area_id != parties.treatment_area_id
    {
        return Err(AppError::rule(
            "course_id",
            "is a course of another patient or treatment area",
        ));
    }
    let status = course.status;
    if matches!(status, CourseStatus::Completed | CourseStatus::Discontinued) {
        return Err(AppError::Problem(
            ProblemType::InvalidTransition,
            format!(
                "the course is {}; it takes no more sessions",
                status.as_str()
            ),
        ));
    }
    let live = model::live_sessions(conn, course_id).await?;
    if live >= i64::from(course.planned_sessions) {
        return Err(AppError::Problem(
            ProblemType::CourseNotPlannable,
            format!(
                "all {} planned sessions of the course are booked; extend the course first",
                course.planned_sessions
            ),
        ));
    }
    if status == CourseStatus::Planned {
        set_status(conn, &course, CourseStatus::Active, None, now).await?;
    }
    Ok(model::max_number(conn, course_id).await?.unwrap_or(0) + 1)
}

/// Marks the course completed once its last planned session is; a first completed session makes
/// a planned course active.
pub async fn after_session_completed(
    conn: &mut AsyncPgConnection,
    course_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let Some(course) = model::find_for_update(conn, course_id).await? else {
        return Ok(());
    };
    let completed = model::completed_sessions(conn, course_id).await?;
    if completed >= i64::from(course.planned_sessions) && course.status != CourseStatus::Completed {
        let reason = Some("every planned session is completed".into());
        set_status(conn, &course, CourseStatus::Completed, reason, now).await?;
    } else if course.status == CourseStatus::Planned {
        set_status(conn, &course, CourseStatus::Active, None, now).await?;
    }
    Ok(())
}

/// Moves `course` to `status` with its domain event.
pub async fn set_status(
    conn: &mut AsyncPgConnection,
    course: &model::Course,
    status: CourseStatus,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> Result<model::Course, AppError> {
    let row = model::set_status(conn, course.id, status, reason).await?;
    let event = course_event(status_event_type(status), &row, Some(course.status));
    events::record(conn, now, [event]).await?;
    Ok(row)
}
