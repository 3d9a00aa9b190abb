//! A session's life after booking: confirm, check in, complete with the clinical record, record
//! a no-show, cancel. Each change is one transaction with its history entry, audit event and
//! domain event.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::reschedule::invalid_transition;
use crate::app::calendar::{self, Cancellation, SessionView, session_event, visible_to};
use crate::app::caller::{Caller, Expected};
use crate::app::courses;
use crate::app::events;
use crate::domain::clinical::ClinicalRecord;
use crate::domain::sessions::{CancelReason, SessionStatus, visit_window};
use crate::error::{AppError, ProblemType};
use crate::models::sessions as model;
use crate::models::{audit_events, settings};

/// A change of a session's status, with what it carries.
#[derive(Debug, Clone)]
pub enum Step {
    Confirm,
    CheckIn,
    NoShow,
    Complete(ClinicalRecord),
    Cancel {
        reason: CancelReason,
        note: Option<String>,
    },
}

impl Step {
    /// The status the step leads to.
    pub fn status(&self) -> SessionStatus {
        match self {
            Self::Confirm => SessionStatus::Confirmed,
            Self::CheckIn => SessionStatus::CheckedIn,
            Self::NoShow => SessionStatus::NoShow,
            Self::Complete(_) => SessionStatus::Completed,
            Self::Cancel { .. } => SessionStatus::Cancelled,
        }
    }
}

/// Takes session `id` one step through its life, if its status and the moment allow.
pub async fn change_status(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    expected: Expected,
    step: Step,
    now: DateTime<Utc>,
) -> Result<SessionView, AppError> {
    let next = step.status();
    let current = visible_to(caller, model::find_for_update(conn, id).await?)?;
    expected.check(current.version)?;
    let status = current.status;
    if !status.may_become(next) {
        return Err(invalid_transition(status, next.as_str()));
    }
    let zone = calendar::zone_of(conn, current.location_id).await?;
    check_moment(conn, &current, next, zone, now).await?;
    let mut record = None;
    let row = match step {
        Step::Cancel { reason, note } => {
            let window = Duration::hours(i64::from(
                settings::get(conn).await?.late_cancellation_hours,
            ));
            let cancellation = Cancellation {
                reason,
                note,
                late: current.starts_at - now < window,
                history_reason: None,
            };
            calendar::cancel(conn, caller, &current, cancellation, now).await?
        }
        step => {
            if let Step::Complete(clinical) = step {
                let row = clinical_row(current.id, clinical, caller, now);
                model::add_record(conn, row.clone()).await?;
                record = Some(row);
            }
            let row = model::set_status(conn, current.id, next, None, now).await?;
            let entry = calendar::history(caller, current.id, next.as_str(), Some(status), next);
            model::add_event(conn, entry).await?;
            let event = session_event(calendar::event_type_of(next), &row, Some(status));
            events::record(conn, now, [event]).await?;
            if let (SessionStatus::Completed, Some(course_id)) = (next, row.course_id) {
                courses::membership::after_session_completed(conn, course_id, now).await?;
            }
            row
        }
    };
    let action = format!("session.{}", next.as_str());
    let audit = caller
        .audit(&action, "sessions", Some(row.id), 200)
        .patient(row.patient_id);
    audit_events::append(conn, audit).await?;
    calendar::with_resources_of(conn, SessionView::new(row, zone, record)).await
}

fn clinical_row(
    session_id: Uuid,
    clinical: ClinicalRecord,
    caller: &Caller,
    now: DateTime<Utc>,
) -> model::ClinicalRecord {
    model::ClinicalRecord {
        session_id,
        pain_before: clinical.pain_before,
        pain_after: clinical.pain_after,
        function_score: clinical.function_score,
        injectate: clinical.injectate,
        volume_ml: clinical.volume_ml,
        sites: clinical.sites,
        adverse_events: serde_json::to_value(&clinical.adverse_events).unwrap_or_default(),
        note: clinical.note,
        recorded_by: caller.key_id,
        recorded_at: now,
    }
}

/// Refuses a check-in, completion or no-show outside its moment of the visit.
async fn check_moment(
    conn: &mut AsyncPgConnection,
    current: &model::Session,
    next: SessionStatus,
    zone: Tz,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let lead = match next {
        SessionStatus::CheckedIn => settings::get(conn).await?.check_in_lead_minutes,
        _ => 0,
    };
    let lead = Duration::minutes(i64::from(lead));
    let Some(window) = visit_window(next, current.starts_at, zone, lead) else {
        return Ok(());
    };
    if window.contains(now) {
        return Ok(());
    }
    let local = |at: DateTime<Utc>| at.with_timezone(&zone).fixed_offset();
    Err(match next {
        SessionStatus::NoShow => AppError::Problem(
            ProblemType::TooEarly,
            "a no-show can be recorded only once the session has started".into(),
        ),
        _ => AppError::OutsideVisitWindow {
            step: match next {
                SessionStatus::CheckedIn => "a check-in",
                _ => "a completion",
            },
            from: local(window.from),
            until: window.until.map(local),
        },
    })
}
