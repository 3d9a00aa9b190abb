//! Courses: plan a whole course, create it and book it in one transaction, keep its interval
//! windows when a session moves (or cascade the later ones), extend it, change its status,
//! cancel it, and read where it stands.

pub mod change;
pub mod create;
pub mod membership;
pub mod plan;
pub mod read;
pub mod windows;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use diesel_async::AsyncPgConnection;

use super::calendar::{self, SessionView};
use super::caller::Caller;
use crate::domain::courses::{CourseStatus, Progress, SessionSummary, progress};
use crate::domain::events::{CourseEventData, DomainEvent, EventData, EventType};
use crate::error::{AppError, ProblemType};
use crate::models::courses as model;
use crate::models::sessions as sessions_model;

/// A course as a use case hands it back; `sessions` and `progress` only where asked for.
#[derive(Debug, Clone)]
pub struct CourseView {
    pub row: model::Course,
    pub zone: Tz,
    pub sessions: Option<Vec<SessionView>>,
    pub progress: Option<Progress>,
}

/// The course with every session and its progress, as `caller` may see them: a caller
/// without access to clinical records gets no records, pain figures, goal or baselines.
pub async fn with_sessions(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    mut row: model::Course,
    now: DateTime<Utc>,
) -> Result<CourseView, AppError> {
    let clinical = caller.sees_clinical();
    if !clinical {
        row.goal = None;
        row.baseline_pain = None;
        row.baseline_function = None;
    }
    let zone = calendar::zone_of(conn, row.location_id).await?;
    let mut summaries = Vec::new();
    let mut sessions = Vec::new();
    for mut session in model::sessions_of(conn, row.id).await? {
        let record = match clinical {
            true => sessions_model::record(conn, session.id).await?,
            false => {
                session.cancel_note = None;
                None
            }
        };
        summaries.push(SessionSummary {
            id: session.id,
            number: session.course_number,
            status: session.status,
            starts_at: session.starts_at,
            pain_before: record.as_ref().map(|r| r.pain_before),
            pain_after: record.as_ref().map(|r| r.pain_after),
            adverse_events: record
                .as_ref()
                .and_then(|r| r.adverse_events.as_array().map(Vec::len))
                .unwrap_or(0),
        });
        sessions.push(SessionView::new(session, zone, record));
    }
    let window = (
        row.interval_min_days.max(0) as u32,
        row.interval_max_days.max(0) as u32,
    );
    let progress = progress(
        row.planned_sessions.max(0) as u32,
        window,
        row.baseline_pain,
        &summaries,
        zone,
        now,
    );
    Ok(CourseView {
        row,
        zone,
        sessions: Some(calendar::with_resources(conn, sessions).await?),
        progress: Some(progress),
    })
}

/// The domain event of a change to `row` (as it is after the change) from `previous`.
pub fn course_event(
    event_type: EventType,
    row: &model::Course,
    previous: Option<CourseStatus>,
) -> DomainEvent {
    let data = CourseEventData {
        status: row.status,
        previous_status: previous,
        provider_id: row.provider_id,
        location_id: row.location_id,
        treatment_area_id: row.treatment_area_id,
        planned_sessions: row.planned_sessions,
        added_sessions: None,
        cancelled_sessions: None,
        reason_code: None,
        fields: Vec::new(),
    };
    DomainEvent::new(
        event_type,
        row.id,
        Some(row.patient_id),
        EventData::Course(data),
    )
}

/// The event type of a course's move into `status`.
pub fn status_event_type(status: CourseStatus) -> EventType {
    match status {
        CourseStatus::Completed => EventType::CourseCompleted,
        _ => EventType::CourseStatusChanged,
    }
}

/// The course's status does not allow the change.
pub fn invalid_transition(detail: String) -> AppError {
    AppError::Problem(ProblemType::InvalidTransition, detail)
}

/// The course, locked for a change, or 404.
pub async fn find_for_update(
    conn: &mut AsyncPgConnection,
    id: uuid::Uuid,
) -> Result<model::Course, AppError> {
    model::find_for_update(conn, id)
        .await?
        .ok_or(AppError::NotFound("course"))
}
