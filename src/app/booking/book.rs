//! Book one session.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::app::calendar::{self, Parties, SessionView};
use crate::app::caller::Caller;
use crate::app::courses;
use crate::domain::sessions::SessionKind;
use crate::error::AppError;
use crate::models::sessions::NewSession;

/// A session to book.
#[derive(Debug, Clone)]
pub struct Book {
    pub parties: Parties,
    pub kind: SessionKind,
    pub starts_at: DateTime<Utc>,
    /// The course the session joins; it is numbered after the course's other sessions.
    pub course_id: Option<Uuid>,
}

/// Books `command` inside the caller's transaction: every rule checked, the history entry, the
/// audit event and the `session.booked` event written with it. Overlaps fail at the insert.
pub async fn book(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    command: &Book,
    now: DateTime<Utc>,
) -> Result<SessionView, AppError> {
    let parties = command.parties;
    let checked = calendar::check(conn, parties, command.kind, command.starts_at, now).await?;
    let course_number = match command.course_id {
        Some(course_id) => {
            Some(courses::membership::next_number(conn, course_id, parties, now).await?)
        }
        None => None,
    };
    let new = NewSession {
        id: Uuid::now_v7(),
        kind: command.kind,
        patient_id: parties.patient_id,
        provider_id: parties.provider_id,
        location_id: parties.location_id,
        treatment_area_id: parties.treatment_area_id,
        course_id: command.course_id,
        course_number,
        starts_at: checked.span.start,
        ends_at: checked.span.end,
        held_until: checked.held_until,
    };
    let needs = checked.needs(command.kind, parties.location_id);
    let audit = caller
        .audit("session.book", "sessions", Some(new.id), 201)
        .patient(new.patient_id);
    let alone = calendar::Booked::Alone;
    let (row, resources) =
        calendar::insert_booked(conn, caller, new, &needs, alone, Some(audit), now).await?;
    Ok(SessionView {
        row,
        zone: checked.zone(),
        record: None,
        resources,
    })
}
