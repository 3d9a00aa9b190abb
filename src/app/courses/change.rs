//! Changing a course: its status, a cancellation with its future sessions, more sessions, its
//! fields. Each is one transaction with its audit event and domain events.

use chrono::{DateTime, Duration, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::create::book_planned;
use super::membership::set_status;
use super::plan::{Continuation, continuing, plan_after};
use super::{CourseView, course_event, find_for_update, invalid_transition, with_sessions};
use crate::app::calendar::{self, Cancellation};
use crate::app::caller::{Caller, Expected};
use crate::app::events;
use crate::domain::courses::{CourseStatus, Side};
use crate::domain::events::{EventData, EventType};
use crate::domain::planning::IntervalWindow;
use crate::domain::sessions::{CancelReason, SessionKind, SessionStatus};
use crate::error::{AppError, ProblemType};
use crate::models::calendars;
use crate::models::courses::{self as model, CourseChanges};
use crate::models::{audit_events, settings};

/// Holds, resumes, completes early or discontinues the course, if the transition is legal.
pub async fn change_status(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    expected: Expected,
    (status, reason): (CourseStatus, Option<String>),
    now: DateTime<Utc>,
) -> Result<CourseView, AppError> {
    let current = find_for_update(conn, id).await?;
    expected.check(current.version)?;
    if !current.status.may_become(status) {
        return Err(invalid_transition(format!(
            "the course is {}; it cannot become {}",
            current.status.as_str(),
            status.as_str()
        )));
    }
    let row = set_status(conn, &current, status, reason, now).await?;
    let action = format!("course.{}", status.as_str());
    audit(conn, caller, &action, &row).await?;
    with_sessions(conn, caller, row, now).await
}

/// Cancels every future session of the course with one reason and discontinues the course.
pub async fn cancel(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    (reason, note): (CancelReason, Option<String>),
    now: DateTime<Utc>,
) -> Result<CourseView, AppError> {
    let current = find_for_update(conn, id).await?;
    if !current.status.may_become(CourseStatus::Discontinued) {
        return Err(invalid_transition(format!(
            "the course is {}; it cannot be cancelled",
            current.status.as_str()
        )));
    }
    let window = Duration::hours(i64::from(
        settings::get(conn).await?.late_cancellation_hours,
    ));
    let mut cancelled = 0;
    for session in model::sessions_of(conn, id).await? {
        if session.starts_at <= now || !session.status.may_become(SessionStatus::Cancelled) {
            continue;
        }
        let cancellation = Cancellation {
            reason,
            note: note.clone(),
            late: session.starts_at - now < window,
            history_reason: Some(format!("course cancelled: {}", reason.as_str())),
        };
        calendar::cancel(conn, caller, &session, cancellation, now).await?;
        cancelled += 1;
    }
    let row = model::set_status(
        conn,
        id,
        CourseStatus::Discontinued,
        Some(reason.as_str().to_owned()),
    )
    .await?;
    let mut event = course_event(EventType::CourseCancelled, &row, Some(current.status));
    if let EventData::Course(data) = &mut event.data {
        data.cancelled_sessions = Some(cancelled);
        data.reason_code = Some(reason);
    }
    events::record(conn, now, [event]).await?;
    audit(conn, caller, "course.cancel", &row).await?;
    with_sessions(conn, caller, row, now).await
}

/// Plans `sessions` more after the course's last session, by its provider and window, and
/// books them, all or nothing.
pub async fn extend(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    sessions: u32,
    now: DateTime<Utc>,
) -> Result<CourseView, AppError> {
    let current = find_for_update(conn, id).await?;
    if current.status == CourseStatus::Discontinued {
        return Err(invalid_transition("the course is discontinued".into()));
    }
    calendars::lock_calendars(conn, &[current.provider_id, current.patient_id]).await?;
    let existing = model::sessions_of(conn, id).await?;
    let last = existing
        .iter()
        .filter(|s| s.status != SessionStatus::Cancelled)
        .map(|s| s.starts_at)
        .max();
    let kind = existing
        .last()
        .map(|s| s.kind)
        .unwrap_or(SessionKind::Injection);
    let request = continuing(&current, sessions, Some(kind));
    let continuation = Continuation {
        after: last,
        ..Continuation::default()
    };
    let planned = plan_after(conn, &request, continuation, now).await?;
    if !planned.plan.unplaced.is_empty() {
        let numbers: Vec<String> = planned
            .plan
            .unplaced
            .iter()
            .map(|u| format!("+{} ({})", u.number, u.reason))
            .collect();
        return Err(AppError::Problem(
            ProblemType::CourseNotPlannable,
            format!(
                "added sessions that cannot be placed: {}",
                numbers.join("; ")
            ),
        ));
    }
    let first_number = model::max_number(conn, id).await?.unwrap_or(0);
    book_planned(conn, caller, &current, &planned, first_number, now).await?;
    let row = model::extend(conn, id, sessions as i32).await?;
    let mut event = course_event(EventType::CourseExtended, &row, Some(current.status));
    if let EventData::Course(data) = &mut event.data {
        data.added_sessions = Some(sessions as i32);
    }
    events::record(conn, now, [event]).await?;
    audit(conn, caller, "course.extend", &row).await?;
    with_sessions(conn, caller, row, now).await
}

/// Fields of a course to change; `None` leaves one as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct CourseUpdate {
    pub side: Option<Side>,
    pub goal: Option<Option<String>>,
    pub baseline_pain: Option<Option<i16>>,
    pub baseline_function: Option<Option<i16>>,
    /// Applies to sessions planned from now on.
    pub interval: Option<IntervalWindow>,
}

/// Changes the course's fields, if it is still at `expected`.
pub async fn update(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    expected: Expected,
    update: CourseUpdate,
    now: DateTime<Utc>,
) -> Result<CourseView, AppError> {
    let current = find_for_update(conn, id).await?;
    expected.check(current.version)?;
    let fields: Vec<String> = [
        ("side", update.side.is_some()),
        ("goal", update.goal.is_some()),
        ("baseline_pain", update.baseline_pain.is_some()),
        ("baseline_function", update.baseline_function.is_some()),
        ("interval_days", update.interval.is_some()),
    ]
    .into_iter()
    .filter(|(_, set)| *set)
    .map(|(name, _)| name.to_owned())
    .collect();
    let changes = CourseChanges {
        side: update.side,
        goal: update.goal,
        baseline_pain: update.baseline_pain,
        baseline_function: update.baseline_function,
        interval_min_days: update.interval.map(|w| w.min as i32),
        interval_target_days: update.interval.map(|w| w.target.map(|t| t as i32)),
        interval_max_days: update.interval.map(|w| w.max as i32),
    };
    let row = model::update(conn, id, changes).await?;
    let mut event = course_event(EventType::CourseUpdated, &row, None);
    if let EventData::Course(data) = &mut event.data {
        data.fields = fields;
    }
    events::record(conn, now, [event]).await?;
    audit(conn, caller, "course.update", &row).await?;
    with_sessions(conn, caller, row, now).await
}

async fn audit(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    action: &str,
    row: &model::Course,
) -> Result<(), AppError> {
    let event = caller
        .audit(action, "courses", Some(row.id), 200)
        .patient(row.patient_id);
    audit_events::append(conn, event).await?;
    Ok(())
}
