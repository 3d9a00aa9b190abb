//! The calendar's shared steps, used by booking and by courses alike: reading and checking the
//! facts a booking depends on, writing a booked or cancelled session with its history entry and
//! its domain event.

mod entries;

use entries::booked_event;
pub use entries::{event_type_of, history, session_event};

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::caller::Caller;
use super::events;
use super::resources::allocate::{self, Needs};
use crate::domain::events::EventType;
use crate::domain::sessions::{
    BookingCheck, BookingRefusal, CancelReason, SessionKind, SessionStatus, check_booking,
};
use crate::domain::slots::Span;
use crate::error::{AppError, ProblemType};
use crate::models::allocations::{self, Allocated, Owner};
use crate::models::audit_events::{self, NewAuditEvent};
use crate::models::calendars::{self, BookingFacts, MissingRecord};
use crate::models::locations;
use crate::models::sessions::{self as model, NewSession};

/// A session as a use case hands it back: the row, its location's zone, its clinical record
/// when the caller may see one, and the rooms and devices it was given.
#[derive(Debug, Clone)]
pub struct SessionView {
    pub row: model::Session,
    pub zone: Tz,
    pub record: Option<model::ClinicalRecord>,
    pub resources: Vec<Allocated>,
}

impl SessionView {
    /// The view of `row`, its resources still to be read ([`with_resources`]).
    pub fn new(row: model::Session, zone: Tz, record: Option<model::ClinicalRecord>) -> Self {
        Self {
            row,
            zone,
            record,
            resources: Vec::new(),
        }
    }
}

/// Reads the resources of `views`' sessions, in one query.
pub async fn with_resources(
    conn: &mut AsyncPgConnection,
    mut views: Vec<SessionView>,
) -> Result<Vec<SessionView>, AppError> {
    let ids: Vec<Uuid> = views.iter().map(|view| view.row.id).collect();
    for allocated in allocations::of_sessions(conn, &ids).await? {
        if let Some(view) = views.iter_mut().find(|v| v.row.id == allocated.session_id) {
            view.resources.push(allocated);
        }
    }
    Ok(views)
}

/// [`with_resources`] for one view.
pub async fn with_resources_of(
    conn: &mut AsyncPgConnection,
    view: SessionView,
) -> Result<SessionView, AppError> {
    let mut views = with_resources(conn, vec![view]).await?;
    views.pop().ok_or(AppError::NotFound("session"))
}

/// Which sessions a booking involves.
#[derive(Debug, Clone, Copy)]
pub struct Parties {
    pub patient_id: Uuid,
    pub provider_id: Uuid,
    pub location_id: Uuid,
    pub treatment_area_id: Uuid,
}

impl Parties {
    /// The parties of an existing session.
    pub fn of(row: &model::Session) -> Self {
        Self {
            patient_id: row.patient_id,
            provider_id: row.provider_id,
            location_id: row.location_id,
            treatment_area_id: row.treatment_area_id,
        }
    }
}

/// Who and where a slot is: the provider, at a location, for a treatment area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub provider_id: Uuid,
    pub location_id: Uuid,
    pub treatment_area_id: Uuid,
}

impl Parties {
    /// The slot the parties meet in.
    pub fn slot(&self) -> Slot {
        Slot {
            provider_id: self.provider_id,
            location_id: self.location_id,
            treatment_area_id: self.treatment_area_id,
        }
    }
}

/// What a checked booking may occupy: the facts read, the session's span, and how long the
/// provider stays held (the buffer after an injection).
#[derive(Debug, Clone)]
pub struct Checked {
    pub facts: BookingFacts,
    pub span: Span,
    pub held_until: DateTime<Utc>,
}

impl Checked {
    /// The location's zone.
    pub fn zone(&self) -> Tz {
        self.facts.time_zone.parse().unwrap_or(chrono_tz::UTC)
    }

    /// The resources a session of `kind` at `location_id` needs.
    pub fn needs(&self, kind: SessionKind, location_id: Uuid) -> Needs {
        Needs::of(&self.facts.requirements, kind, location_id, self.zone())
    }

    /// The span a session takes its resources for: its own, with the buffer.
    pub fn held(&self) -> Span {
        Span {
            start: self.span.start,
            end: self.held_until,
        }
    }
}

/// The span a session of `kind` starting at `start` occupies, and how long the provider is held.
pub fn session_span(
    facts: &BookingFacts,
    kind: SessionKind,
    start: DateTime<Utc>,
) -> (Span, DateTime<Utc>) {
    let minutes = match kind {
        SessionKind::Assessment => facts.assessment_minutes,
        SessionKind::Injection => facts.injection_minutes,
        SessionKind::FollowUp => facts.follow_up_minutes,
    };
    let end = start + Duration::minutes(i64::from(minutes));
    let buffer = match kind {
        SessionKind::Injection => {
            Duration::minutes(i64::from(facts.buffer_after_injection_minutes))
        }
        _ => Duration::zero(),
    };
    (Span { start, end }, end + buffer)
}

/// Reads the facts and checks every booking rule; the database then settles overlaps. The
/// reads take no calendar lock: a booking takes its calendars with its insert
/// ([`insert_booked`]), so the lock is held for the writes and the commit only. Course plans, which place several sessions on one reading of the
/// calendars, and moves, which may take a course's later sessions along, lock them first
/// (`courses::create`, `booking::reschedule`).
pub async fn check(
    conn: &mut AsyncPgConnection,
    parties: Parties,
    kind: SessionKind,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Checked, AppError> {
    check_rules(
        conn,
        &[],
        Some(parties.patient_id),
        parties.slot(),
        kind,
        start,
        now,
    )
    .await
}

/// Checks every booking rule but the patient's for a slot held for a visitor: the provider's
/// calendar is taken first, as for a booking.
pub async fn check_slot(
    conn: &mut AsyncPgConnection,
    slot: Slot,
    kind: SessionKind,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Checked, AppError> {
    check_rules(conn, &[slot.provider_id], None, slot, kind, start, now).await
}

/// Takes `calendars` and reads what the rules need in one flight (the lock first, then the
/// facts, the hours and the time off, sent together), then checks the rules.
async fn check_rules(
    conn: &AsyncPgConnection,
    calendars: &[Uuid],
    patient_id: Option<Uuid>,
    slot: Slot,
    kind: SessionKind,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Checked, AppError> {
    let Slot {
        provider_id,
        location_id,
        treatment_area_id,
    } = slot;
    // Time off is read for the longest a session can hold its provider, before the facts
    // say how long this one does; only what overlaps the session counts.
    let reach = Span {
        start,
        end: start + crate::domain::sessions::MAX_HOLD,
    };
    let (_, facts, time_off) = futures_util::future::try_join3(
        calendars::lock_calendars(conn, calendars),
        calendars::booking_facts(
            conn,
            patient_id,
            provider_id,
            location_id,
            treatment_area_id,
        ),
        calendars::time_off_around(conn, provider_id, reach),
    )
    .await?;
    let facts = facts.map_err(missing)?;
    let inactive = |what: &str| {
        AppError::Problem(
            ProblemType::InactiveRecord,
            format!("the {what} is archived"),
        )
    };
    if !facts.patient_active {
        return Err(inactive("patient"));
    }
    if !facts.location_active {
        return Err(inactive("location"));
    }
    if !facts.area_active {
        return Err(inactive("treatment area"));
    }
    if !facts.provider_active {
        return Err(AppError::Problem(
            ProblemType::ProviderNotEligible,
            "the provider is archived".into(),
        ));
    }
    let (span, held_until) = session_span(&facts, kind, start);
    let checked = Checked {
        facts,
        span,
        held_until,
    };
    let facts = &checked.facts;
    let rules = BookingCheck {
        session: span,
        now,
        minimum_notice: Duration::minutes(i64::from(facts.minimum_notice_minutes)),
        horizon: Duration::days(i64::from(facts.booking_horizon_days)),
        treats_area: facts.treats_area,
        works_at_location: facts.works_at_location,
        hours: &facts.hours,
        time_zone: checked.zone(),
        time_off: &time_off,
    };
    check_booking(&rules).map_err(refusal)?;
    Ok(checked)
}

fn missing(record: MissingRecord) -> AppError {
    match record {
        MissingRecord::Patient => {
            AppError::rule("patient_id", "names a patient that does not exist")
        }
        MissingRecord::Provider => {
            AppError::rule("provider_id", "names a provider that does not exist")
        }
        MissingRecord::Location => {
            AppError::rule("location_id", "names a location that does not exist")
        }
        MissingRecord::TreatmentArea => AppError::rule(
            "treatment_area_id",
            "names a treatment area that does not exist",
        ),
    }
}

fn refusal(refusal: BookingRefusal) -> AppError {
    let (kind, detail) = match refusal {
        BookingRefusal::ProviderDoesNotTreatArea => (
            ProblemType::ProviderNotEligible,
            "the provider does not treat this area",
        ),
        BookingRefusal::ProviderNotAtLocation => (
            ProblemType::ProviderNotEligible,
            "the provider does not work at this location",
        ),
        BookingRefusal::TooShortNotice => (
            ProblemType::TooShortNotice,
            "the start is sooner than the minimum notice",
        ),
        BookingRefusal::BeyondHorizon => (
            ProblemType::BeyondHorizon,
            "the start is beyond the booking horizon",
        ),
        BookingRefusal::OutsideWorkingHours => (
            ProblemType::OutsideWorkingHours,
            "the provider does not work at this location for the whole session",
        ),
        BookingRefusal::ProviderOnTimeOff => (
            ProblemType::ProviderOnTimeOff,
            "the provider has time off then",
        ),
    };
    AppError::Problem(kind, detail.to_owned())
}

/// How a session comes to be booked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Booked {
    /// On its own.
    Alone,
    /// With its course, created or extended in the same change.
    WithCourse,
}

/// Inserts a booked session with its history entry, its `session.booked` event and the
/// caller's `audit` event, all sent at once (in that order: the session's row first), then
/// the resources it `needs`. Overlaps fail here, at the database's exclusion constraints.
/// The provider's and patient's calendars are taken first, in the same flight: without them,
/// racing inserts of one time deadlock inside the constraints (PostgreSQL ends each after a
/// second; seen for 2 of 50 racing bookings under CI's load, and for most of 50 racing for
/// one ultrasound through two providers).
pub async fn insert_booked(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    new: NewSession,
    needs: &Needs,
    booked: Booked,
    audit: Option<NewAuditEvent>,
    now: DateTime<Utc>,
) -> Result<(model::Session, Vec<Allocated>), AppError> {
    let mut entry = history(caller, new.id, "booked", None, SessionStatus::Scheduled);
    entry.new_starts_at = Some(new.starts_at);
    let event = events::rows(now, [booked_event(&new, booked)])?;
    let shared = &*conn;
    let calendars = [new.provider_id, new.patient_id];
    let audited = async move {
        match audit {
            Some(audit) => audit_events::append(shared, audit).await,
            None => Ok(()),
        }
    };
    let ((), (row, (), (), ())) = futures_util::future::try_join(
        calendars::lock_calendars(shared, &calendars),
        futures_util::future::try_join4(
            model::insert(shared, new, now),
            model::add_event(shared, entry),
            crate::models::events::append(shared, event),
            audited,
        ),
    )
    .await?;
    let held = Span {
        start: row.starts_at,
        end: row.held_until,
    };
    let resources = allocate::allocate(conn, Owner::Session(row.id), needs, held, now).await?;
    Ok((row, resources))
}

/// Why a session is cancelled, and whether it is late.
#[derive(Debug, Clone)]
pub struct Cancellation {
    pub reason: CancelReason,
    pub note: Option<String>,
    pub late: bool,
    /// The history entry's reason, when it is not the code and the note.
    pub history_reason: Option<String>,
}

/// Cancels `current` (in `status`) with its history entry and its `session.cancelled` event.
pub async fn cancel(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    current: &model::Session,
    cancellation: Cancellation,
    now: DateTime<Utc>,
) -> Result<model::Session, AppError> {
    let Cancellation {
        reason,
        note,
        late,
        history_reason,
    } = cancellation;
    let mut entry = history(
        caller,
        current.id,
        "cancelled",
        Some(current.status),
        SessionStatus::Cancelled,
    );
    entry.reason = Some(history_reason.unwrap_or_else(|| match &note {
        Some(note) => format!("{}: {note}", reason.as_str()),
        None => reason.as_str().to_owned(),
    }));
    let row = model::set_status(
        conn,
        current.id,
        SessionStatus::Cancelled,
        Some((reason, note, late)),
        now,
    )
    .await?;
    model::add_event(conn, entry).await?;
    let event = session_event(EventType::SessionCancelled, &row, Some(current.status));
    events::record(conn, now, [event]).await?;
    Ok(row)
}

/// The session as `caller` may see it: a provider key only its own (others are "not found").
pub fn visible_to(
    caller: &Caller,
    row: Option<model::Session>,
) -> Result<model::Session, AppError> {
    match row {
        Some(row) if caller.sees_provider(row.provider_id) => Ok(row),
        Some(_) => Err(AppError::Concealed("session")),
        None => Err(AppError::NotFound("session")),
    }
}

/// The time zone of a location (UTC for one that does not exist).
pub async fn zone_of(conn: &mut AsyncPgConnection, location_id: Uuid) -> Result<Tz, AppError> {
    let zones = locations::time_zones(conn, &[location_id]).await?;
    Ok(zones.get(&location_id).copied().unwrap_or(chrono_tz::UTC))
}

/// The zone of a location among `zones` (UTC for one not found).
pub fn zone_in(zones: &HashMap<Uuid, Tz>, location_id: Uuid) -> Tz {
    zones.get(&location_id).copied().unwrap_or(chrono_tz::UTC)
}
