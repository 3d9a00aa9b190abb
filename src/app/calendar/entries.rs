//! What a change to a session leaves behind besides its row: the history entry and the
//! domain event.

use chrono::Utc;
use uuid::Uuid;

use super::Booked;
use crate::app::caller::Caller;
use crate::domain::events::{DomainEvent, EventData, EventType, SessionEventData};
use crate::domain::sessions::SessionStatus;
use crate::models::sessions::{self as model, NewSession};

/// A history entry by `caller`.
pub fn history(
    caller: &Caller,
    session_id: Uuid,
    action: &str,
    from: Option<SessionStatus>,
    to: SessionStatus,
) -> model::SessionEvent {
    model::SessionEvent {
        id: Uuid::now_v7(),
        session_id,
        occurred_at: Utc::now(),
        key_id: caller.key_id,
        action: action.to_owned(),
        from_status: from,
        to_status: to,
        old_starts_at: None,
        new_starts_at: None,
        reason: None,
    }
}

/// The domain event of a change to `row` (as it is after the change) from `previous`.
pub fn session_event(
    event_type: EventType,
    row: &model::Session,
    previous: Option<SessionStatus>,
) -> DomainEvent {
    let data = SessionEventData {
        kind: row.kind,
        status: row.status,
        previous_status: previous,
        provider_id: row.provider_id,
        location_id: row.location_id,
        treatment_area_id: row.treatment_area_id,
        course_id: row.course_id,
        starts_at: row.starts_at,
        ends_at: row.ends_at,
        previous_starts_at: None,
        moved_with: None,
        reason_code: row.cancel_reason,
        late_cancellation: row.late_cancellation,
        course_booking: None,
    };
    DomainEvent::new(
        event_type,
        row.id,
        Some(row.patient_id),
        EventData::Session(data),
    )
}

/// The event type of a move into `status`.
pub fn event_type_of(status: SessionStatus) -> EventType {
    match status {
        SessionStatus::Scheduled => EventType::SessionBooked,
        SessionStatus::Confirmed => EventType::SessionConfirmed,
        SessionStatus::CheckedIn => EventType::SessionCheckedIn,
        SessionStatus::Completed => EventType::SessionCompleted,
        SessionStatus::Cancelled => EventType::SessionCancelled,
        SessionStatus::NoShow => EventType::SessionNoShow,
    }
}

/// The `session.booked` event of `new`, known before its row is written so that it can be
/// sent with it.
pub(super) fn booked_event(new: &NewSession, booked: Booked) -> DomainEvent {
    let data = SessionEventData {
        kind: new.kind,
        status: SessionStatus::Scheduled,
        previous_status: None,
        provider_id: new.provider_id,
        location_id: new.location_id,
        treatment_area_id: new.treatment_area_id,
        course_id: new.course_id,
        starts_at: new.starts_at,
        ends_at: new.ends_at,
        previous_starts_at: None,
        moved_with: None,
        reason_code: None,
        late_cancellation: None,
        course_booking: (booked == Booked::WithCourse).then_some(true),
    };
    DomainEvent::new(
        EventType::SessionBooked,
        new.id,
        Some(new.patient_id),
        EventData::Session(data),
    )
}
