//! A course's interval windows when one of its sessions moves: checked against the neighbours,
//! recorded as a warning when forced, or kept by re-planning the later sessions (a cascade).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::find_for_update;
use super::plan::{Continuation, continuing, plan_after};
use crate::domain::sessions::SessionStatus;
use crate::domain::slots::Span;
use crate::error::{AppError, ProblemType};
use crate::models::courses as model;
use crate::models::sessions as sessions_model;

/// How a move is held to the course's interval windows.
#[derive(Debug, Clone, Copy)]
pub struct WindowRules {
    /// Record a broken window as a warning instead of refusing the move.
    pub force: bool,
    /// Check the window to the next session too (not when it is re-planned by a cascade).
    pub check_next: bool,
}

/// A session to move: to `span`, holding its provider until `held_until`, from `previous_start`.
#[derive(Debug, Clone, Copy)]
pub struct Move {
    pub session_id: Uuid,
    pub span: Span,
    pub held_until: DateTime<Utc>,
    pub previous_start: DateTime<Utc>,
}

/// Checks that moving `session` of the course to `new_start` keeps the interval windows to its
/// neighbours; with `force`, a broken window is recorded on the course instead of refused.
pub async fn check(
    conn: &mut AsyncPgConnection,
    course_id: Uuid,
    session: &sessions_model::Session,
    new_start: DateTime<Utc>,
    zone: Tz,
    rules: WindowRules,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let WindowRules { force, check_next } = rules;
    let course = find_for_update(conn, course_id).await?;
    let (min, max) = (
        i64::from(course.interval_min_days),
        i64::from(course.interval_max_days),
    );
    let number = session.course_number.unwrap_or(0);
    let others: Vec<sessions_model::Session> = model::sessions_of(conn, course_id)
        .await?
        .into_iter()
        .filter(|s| s.id != session.id && s.status != SessionStatus::Cancelled)
        .collect();
    let days = |from: DateTime<Utc>, to: DateTime<Utc>| {
        (to.with_timezone(&zone).date_naive() - from.with_timezone(&zone).date_naive()).num_days()
    };
    let previous = others
        .iter()
        .filter(|s| s.course_number.unwrap_or(0) < number)
        .max_by_key(|s| s.course_number);
    let next = others
        .iter()
        .filter(|s| s.course_number.unwrap_or(0) > number)
        .min_by_key(|s| s.course_number);
    let mut broken = Vec::new();
    if let Some(previous) = previous {
        let gap = days(previous.starts_at, new_start);
        if !(min..=max).contains(&gap) {
            broken.push(format!(
                "session {number} would be {gap} days after session {}",
                previous.course_number.unwrap_or(0)
            ));
        }
    }
    if let Some(next) = next.filter(|_| check_next) {
        let gap = days(new_start, next.starts_at);
        if !(min..=max).contains(&gap) {
            broken.push(format!(
                "session {} would be {gap} days after session {number}",
                next.course_number.unwrap_or(0)
            ));
        }
    }
    if broken.is_empty() {
        return Ok(());
    }
    let message = format!(
        "{}; the window is {min} to {max} days",
        broken.join(" and ")
    );
    if !force {
        return Err(AppError::Problem(ProblemType::CourseWindowBroken, message));
    }
    model::add_warning(
        conn,
        course_id,
        serde_json::json!({"at": now, "message": message}),
    )
    .await?;
    Ok(())
}

/// Re-plans the later scheduled sessions of the course after `session` moves to `new_span`
/// (held until `held_until`), so every interval window holds again; nothing is written.
pub async fn cascade(
    conn: &mut AsyncPgConnection,
    course_id: Uuid,
    session: &sessions_model::Session,
    new_span: Span,
    held_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<Move>, AppError> {
    let course = find_for_update(conn, course_id).await?;
    let number = session.course_number.unwrap_or(0);
    let later: Vec<sessions_model::Session> = model::sessions_of(conn, course_id)
        .await?
        .into_iter()
        .filter(|s| s.course_number.unwrap_or(0) > number && s.status.may_reschedule())
        .collect();
    if later.is_empty() {
        return Ok(Vec::new());
    }
    let kind = later.first().map(|s| s.kind);
    let request = continuing(&course, later.len() as u32, kind);
    let mut except: Vec<Uuid> = later.iter().map(|s| s.id).collect();
    except.push(session.id);
    let continuation = Continuation {
        after: Some(new_span.start),
        except,
        taken: vec![(
            Span {
                start: new_span.start,
                end: held_until,
            },
            new_span,
        )],
    };
    let planned = plan_after(conn, &request, continuation, now).await?;
    if let Some(first) = planned.plan.unplaced.first() {
        let number = later
            .get(first.number as usize - 1)
            .and_then(|s| s.course_number)
            .unwrap_or(0);
        return Err(AppError::Problem(
            ProblemType::CourseNotPlannable,
            format!("session {number} cannot follow the move: {}", first.reason),
        ));
    }
    Ok(later
        .iter()
        .zip(&planned.plan.placed)
        .map(|(session, placed)| Move {
            session_id: session.id,
            span: Span {
                start: placed.starts_at,
                end: placed.ends_at,
            },
            held_until: placed.ends_at + planned.buffer,
            previous_start: session.starts_at,
        })
        .collect())
}
