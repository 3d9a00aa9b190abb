//! Create a course, and with `book` plan and book every session in the same transaction.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::app::resources::allocate::Needs;

use super::plan::{PlanRequest, Planned, propose};
use super::{CourseView, course_event, with_sessions};
use crate::app::caller::Caller;
use crate::app::{calendar, events};
use crate::domain::courses::{CourseStatus, Side};
use crate::domain::events::EventType;
use crate::domain::sessions::SessionKind;
use crate::error::{AppError, ProblemType};
use crate::models::audit_events;
use crate::models::calendars;
use crate::models::courses::{self as model, NewCourse};
use crate::models::sessions::{self as sessions_model, NewSession};

/// A course to create.
#[derive(Debug, Clone)]
pub struct CreateCourse {
    pub plan: PlanRequest,
    pub side: Side,
    pub goal: Option<String>,
    pub baseline_pain: Option<i16>,
    pub baseline_function: Option<i16>,
    /// The assessment this course came from.
    pub assessment_session_id: Option<Uuid>,
    /// Book every planned session now, all or nothing.
    pub book: bool,
}

/// Creates the course (and books it): a session that cannot be placed is a 422 naming it, one
/// taken meanwhile a 409 naming its number. Writes `course.created` and each `session.booked`.
pub async fn create(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    command: &CreateCourse,
    now: DateTime<Utc>,
) -> Result<CourseView, AppError> {
    let request = &command.plan;
    if let Some(assessment) = command.assessment_session_id {
        check_assessment(conn, assessment, request.patient_id).await?;
    }
    // Choose the provider, then take the calendars and plan again under the locks, so what is
    // booked is exactly what the calendars allow at commit.
    let chosen = propose(conn, request, now).await?;
    let mut request = request.clone();
    request.provider_id = Some(chosen.provider_id);
    if command.book {
        calendars::lock_calendars(conn, &[chosen.provider_id, request.patient_id]).await?;
    }
    let planned = propose(conn, &request, now).await?;
    if command.book && !planned.plan.unplaced.is_empty() {
        let numbers: Vec<String> = planned
            .plan
            .unplaced
            .iter()
            .map(|u| format!("{} ({})", u.number, u.reason))
            .collect();
        return Err(AppError::Problem(
            ProblemType::CourseNotPlannable,
            format!("sessions that cannot be placed: {}", numbers.join("; ")),
        ));
    }
    let row = model::insert(
        conn,
        NewCourse {
            id: Uuid::now_v7(),
            patient_id: request.patient_id,
            provider_id: planned.provider_id,
            location_id: request.location_id,
            treatment_area_id: request.treatment_area_id,
            side: command.side,
            planned_sessions: request.sessions as i32,
            interval_min_days: planned.window.min as i32,
            interval_target_days: planned.window.target.map(|t| t as i32),
            interval_max_days: planned.window.max as i32,
            goal: command.goal.clone(),
            baseline_pain: command.baseline_pain,
            baseline_function: command.baseline_function,
            assessment_session_id: command.assessment_session_id,
            status: match command.book {
                true => CourseStatus::Active,
                false => CourseStatus::Planned,
            },
        },
    )
    .await?;
    events::record(
        conn,
        now,
        [course_event(EventType::CourseCreated, &row, None)],
    )
    .await?;
    if command.book {
        book_planned(conn, caller, &row, &planned, 0, now).await?;
    }
    let audit = caller
        .audit("course.create", "courses", Some(row.id), 201)
        .patient(row.patient_id);
    audit_events::append(conn, audit).await?;
    with_sessions(conn, caller, row, now).await
}

/// The assessment a course cites is an assessment session of the course's own patient.
async fn check_assessment(
    conn: &mut AsyncPgConnection,
    session_id: Uuid,
    patient_id: Uuid,
) -> Result<(), AppError> {
    let session = sessions_model::find(conn, session_id).await?;
    match session {
        None => Err(AppError::rule(
            "assessment_session_id",
            "no session has this id",
        )),
        Some(session) if session.patient_id != patient_id => Err(AppError::rule(
            "assessment_session_id",
            "is a session of another patient",
        )),
        Some(session) if session.kind != SessionKind::Assessment => Err(AppError::rule(
            "assessment_session_id",
            "is not an assessment session",
        )),
        Some(_) => Ok(()),
    }
}

/// Books the planned sessions into `course`, numbered after `first_number`; a slot taken
/// meanwhile names the session's number.
pub async fn book_planned(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    course: &model::Course,
    planned: &Planned,
    first_number: i32,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let needs = Needs::of(
        &planned.requirements,
        planned.kind,
        course.location_id,
        planned.zone,
    );
    for placed in &planned.plan.placed {
        let number = first_number + placed.number as i32;
        let new = NewSession {
            id: Uuid::now_v7(),
            kind: planned.kind,
            patient_id: course.patient_id,
            provider_id: course.provider_id,
            location_id: course.location_id,
            treatment_area_id: course.treatment_area_id,
            course_id: Some(course.id),
            course_number: Some(number),
            starts_at: placed.starts_at,
            ends_at: placed.ends_at,
            held_until: placed.ends_at + planned.buffer,
        };
        calendar::insert_booked(
            conn,
            caller,
            new,
            &needs,
            calendar::Booked::WithCourse,
            None,
            now,
        )
        .await
        .map_err(|error| match error {
            AppError::Problem(kind, detail) => {
                AppError::Problem(kind, format!("session {number}: {detail}"))
            }
            AppError::ResourceUnavailable(tag) => AppError::Problem(
                crate::error::ProblemType::ResourceUnavailable,
                format!("session {number}: no resource tagged `{tag}` is free then"),
            ),
            other => other,
        })?;
    }
    Ok(())
}
