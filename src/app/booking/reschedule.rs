//! Move a session to a new time, and with `cascade` the later sessions of its course.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::app::calendar::{self, Parties, SessionView, session_event, visible_to};
use crate::app::caller::{Caller, Expected};
use crate::app::courses::windows::{self, Move, WindowRules};
use crate::app::events;
use crate::app::resources::allocate;
use crate::domain::events::{EventData, EventType};
use crate::domain::sessions::SessionStatus;
use crate::domain::slots::Span;
use crate::error::{AppError, ProblemType};
use crate::models::sessions as model;
use crate::models::{audit_events, calendars, manage_tokens};

/// A new time for a session.
#[derive(Debug, Clone)]
pub struct Reschedule {
    pub id: Uuid,
    pub expected: Expected,
    pub starts_at: DateTime<Utc>,
    pub reason: Option<String>,
    /// Move even if a neighbouring session of the course falls outside its interval window
    /// (recorded as a warning on the course).
    pub force: bool,
    /// Re-plan the course's later scheduled sessions so every interval window holds.
    pub cascade: bool,
}

/// Moves the session: the new time passes every booking rule (its own old time does not count
/// against it) and its course's windows; each moved session gets its history entry and its
/// `session.rescheduled` event.
pub async fn reschedule(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    command: &Reschedule,
    now: DateTime<Utc>,
) -> Result<SessionView, AppError> {
    let id = command.id;
    let current = visible_to(caller, model::find_for_update(conn, id).await?)?;
    command.expected.check(current.version)?;
    let status = current.status;
    if !status.may_reschedule() {
        return Err(invalid_transition(status, "rescheduled"));
    }
    // A move may take the course's later sessions along: as a plan does, it takes the
    // calendars first, so that racing moves queue instead of deadlocking.
    calendars::lock_calendars(conn, &[current.provider_id, current.patient_id]).await?;
    let checked = calendar::check(
        conn,
        Parties::of(&current),
        current.kind,
        command.starts_at,
        now,
    )
    .await?;
    let (span, held_until, zone) = (checked.span, checked.held_until, checked.zone());
    let mut cascaded = Vec::new();
    if let Some(course_id) = current.course_id {
        let rules = WindowRules {
            force: command.force,
            check_next: !command.cascade,
        };
        windows::check(conn, course_id, &current, span.start, zone, rules, now).await?;
        if command.cascade {
            cascaded = windows::cascade(conn, course_id, &current, span, held_until, now).await?;
        }
    }
    // Move in the direction of travel so no session steps on one not yet moved.
    let mut moves = cascaded;
    moves.push(Move {
        session_id: id,
        span,
        held_until,
        previous_start: current.starts_at,
    });
    moves.sort_by_key(|m| m.span.start);
    if span.start > current.starts_at {
        moves.reverse();
    }
    let mut moved = None;
    let mut resources = Vec::new();
    let mut domain_events = Vec::new();
    for step in moves {
        let moving = model::Move {
            id: step.session_id,
            provider_id: current.provider_id,
            starts_at: step.span.start,
            ends_at: step.span.end,
            held_until: step.held_until,
        };
        let row = model::move_to(conn, moving, now).await?;
        let needs = checked.needs(row.kind, row.location_id);
        let held = Span {
            start: row.starts_at,
            end: row.held_until,
        };
        // The cascade planned around taken resources; only a race can refuse one here.
        let given = allocate::reallocate(conn, row.id, &needs, held, now).await?;
        // Manage links name a time: a moved session's old links die (its message brings one).
        manage_tokens::revoke_all(conn, row.id, now).await?;
        if step.session_id == id {
            resources = given;
            moved = Some(row);
            continue;
        }
        let mut entry = calendar::history(
            caller,
            row.id,
            "rescheduled",
            Some(SessionStatus::Scheduled),
            SessionStatus::Scheduled,
        );
        entry.new_starts_at = Some(row.starts_at);
        entry.reason = Some(format!(
            "moved with session {}",
            current.course_number.unwrap_or(0)
        ));
        model::add_event(conn, entry).await?;
        domain_events.push(rescheduled(&row, step.previous_start, Some(id)));
    }
    let moved = moved.ok_or(AppError::NotFound("session"))?;
    let mut entry = calendar::history(caller, id, "rescheduled", Some(status), status);
    entry.old_starts_at = Some(current.starts_at);
    entry.new_starts_at = Some(moved.starts_at);
    entry.reason = command.reason.clone();
    model::add_event(conn, entry).await?;
    domain_events.insert(0, rescheduled(&moved, current.starts_at, None));
    events::record(conn, now, domain_events).await?;
    let audit = caller
        .audit("session.reschedule", "sessions", Some(id), 200)
        .patient(moved.patient_id);
    audit_events::append(conn, audit).await?;
    Ok(SessionView {
        row: moved,
        zone,
        record: None,
        resources,
    })
}

fn rescheduled(
    row: &model::Session,
    previous_starts_at: DateTime<Utc>,
    moved_with: Option<Uuid>,
) -> crate::domain::events::DomainEvent {
    let mut event = session_event(EventType::SessionRescheduled, row, Some(row.status));
    if let EventData::Session(data) = &mut event.data {
        data.previous_starts_at = Some(previous_starts_at);
        data.moved_with = moved_with;
    }
    event
}

/// The session's status does not allow the change.
pub fn invalid_transition(current: SessionStatus, wanted: &str) -> AppError {
    AppError::Problem(
        ProblemType::InvalidTransition,
        format!("the session is {}; it cannot be {wanted}", current.as_str()),
    )
}
