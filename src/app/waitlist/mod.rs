//! The waitlist: patients who want an earlier time. Entries are joined, changed and cancelled
//! here; `openings` turns freed times in the event log into openings, `offers` offers each to
//! the first in line, `accept` books the time for whoever answers first, `matches` shows the
//! front desk who fits which open slot.

pub mod accept;
pub mod fit;
pub mod matches;
pub mod offers;
pub mod openings;

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::caller::{Caller, Expected};
use super::events;
use crate::domain::events::{DomainEvent, EventData, EventType, WaitlistEventData};
use crate::domain::sessions::SessionKind;
use crate::domain::time::Weekday;
use crate::domain::waitlist::{Actor, EntrySource, EntryStatus, HistoryAction, TimeWindow};
use crate::error::{AppError, ProblemType};
use crate::models::waitlist::{self as model, Entry, EntryChanges, HistoryEntry, NewEntry};
use crate::models::waitlist_offers::{self as offers_model, Offer};
use crate::models::{audit_events, patients, providers, sessions, treatment_areas};

/// A patient to put on the list.
#[derive(Debug, Clone)]
pub struct Join {
    pub patient_id: Uuid,
    pub treatment_area_id: Uuid,
    pub kind: SessionKind,
    pub provider_id: Option<Uuid>,
    pub location_id: Option<Uuid>,
    pub earliest: Option<DateTime<Utc>>,
    pub latest: Option<DateTime<Utc>>,
    pub weekdays: Vec<Weekday>,
    pub time_window: Option<TimeWindow>,
    pub urgent: bool,
    pub session_id: Option<Uuid>,
}

/// What a change of an entry sets; `None` leaves a field, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct Change {
    pub provider_id: Option<Option<Uuid>>,
    pub location_id: Option<Option<Uuid>>,
    pub earliest: Option<Option<DateTime<Utc>>>,
    pub latest: Option<Option<DateTime<Utc>>>,
    pub weekdays: Option<Vec<Weekday>>,
    pub time_window: Option<Option<TimeWindow>>,
    pub urgent: Option<bool>,
}

/// An entry with its offers (newest first) and its history (oldest first).
#[derive(Debug, Clone)]
pub struct EntryView {
    pub entry: Entry,
    pub offers: Vec<Offer>,
    pub history: Vec<HistoryEntry>,
}

fn iso(weekdays: &[Weekday]) -> Vec<i16> {
    let mut numbers: Vec<i16> = weekdays.iter().map(|day| day.iso_number()).collect();
    numbers.sort_unstable();
    numbers.dedup();
    numbers
}

/// Puts a patient on the list, from the front desk (`source` staff) or their manage link.
pub async fn join(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    command: Join,
    source: EntrySource,
    now: DateTime<Utc>,
) -> Result<Entry, AppError> {
    let patient = patients::find(conn, command.patient_id)
        .await?
        .ok_or_else(|| AppError::rule("patient_id", "names a patient that does not exist"))?;
    if patient.archived_at.is_some() {
        return Err(inactive("patient"));
    }
    let area = treatment_areas::find(conn, command.treatment_area_id)
        .await?
        .ok_or_else(|| {
            AppError::rule(
                "treatment_area_id",
                "names a treatment area that does not exist",
            )
        })?;
    if area.archived_at.is_some() {
        return Err(inactive("treatment area"));
    }
    let (mut provider_id, mut location_id) = (command.provider_id, command.location_id);
    if let Some(session_id) = command.session_id {
        let session = sessions::find(conn, session_id)
            .await?
            .filter(|s| s.patient_id == command.patient_id)
            .ok_or_else(|| AppError::rule("session_id", "names no session of this patient"))?;
        if !session.status.is_upcoming() || session.starts_at <= now {
            return Err(AppError::rule(
                "session_id",
                "names a session that is not upcoming",
            ));
        }
        if session.treatment_area_id != command.treatment_area_id || session.kind != command.kind {
            return Err(AppError::rule(
                "session_id",
                "names a session of another treatment area or kind",
            ));
        }
        // A session moves with its provider and location: an offer comes from them.
        if provider_id.is_some_and(|id| id != session.provider_id) {
            return Err(AppError::rule(
                "provider_id",
                "is not the provider of the session",
            ));
        }
        if location_id.is_some_and(|id| id != session.location_id) {
            return Err(AppError::rule(
                "location_id",
                "is not the location of the session",
            ));
        }
        provider_id = Some(session.provider_id);
        location_id = Some(session.location_id);
    }
    let new = NewEntry {
        id: Uuid::now_v7(),
        patient_id: command.patient_id,
        treatment_area_id: command.treatment_area_id,
        kind: command.kind,
        provider_id,
        location_id,
        earliest: command.earliest,
        latest: command.latest,
        weekdays: iso(&command.weekdays),
        window_start: command.time_window.map(|w| w.start.time()),
        window_end: command.time_window.map(|w| w.end.time()),
        urgent: command.urgent,
        session_id: command.session_id,
        source,
        created_at: now,
        updated_at: now,
    };
    let wishes = Wishes {
        provider_id: new.provider_id,
        location_id: new.location_id,
        treatment_area_id: new.treatment_area_id,
        earliest: new.earliest,
        latest: new.latest,
    };
    check_rules(conn, &wishes, now).await?;
    let entry = model::insert(conn, new).await?;
    let actor = actor_of(caller);
    record(
        conn,
        caller,
        &entry,
        None,
        EventType::WaitlistEntryCreated,
        actor,
        now,
    )
    .await?;
    Ok(entry)
}

/// Changes a waiting entry's wishes (`If-Match`).
pub async fn update(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    expected: Expected,
    change: Change,
    now: DateTime<Utc>,
) -> Result<Entry, AppError> {
    let current = model::find_for_update(conn, id)
        .await?
        .ok_or(AppError::NotFound("waitlist entry"))?;
    expected.check(current.version)?;
    waiting(&current)?;
    if current.session_id.is_some()
        && (change.provider_id.is_some() || change.location_id.is_some())
    {
        let field = if change.provider_id.is_some() {
            "provider_id"
        } else {
            "location_id"
        };
        return Err(AppError::rule(
            field,
            "is the session's: an entry for a session keeps them",
        ));
    }
    let mut fields = Vec::new();
    let mut note = |name: &'static str, set: bool| {
        if set {
            fields.push(name.to_owned());
        }
    };
    note("provider_id", change.provider_id.is_some());
    note("location_id", change.location_id.is_some());
    note("earliest", change.earliest.is_some());
    note("latest", change.latest.is_some());
    note("weekdays", change.weekdays.is_some());
    note("time_window", change.time_window.is_some());
    note("urgent", change.urgent.is_some());
    let changes = EntryChanges {
        provider_id: change.provider_id,
        location_id: change.location_id,
        earliest: change.earliest,
        latest: change.latest,
        weekdays: change.weekdays.as_deref().map(iso),
        window_start: change.time_window.map(|w| w.map(|w| w.start.time())),
        window_end: change.time_window.map(|w| w.map(|w| w.end.time())),
        urgent: change.urgent,
    };
    let entry = model::update(conn, id, changes, now).await?;
    check_rules(conn, &Wishes::of(&entry), now).await?;
    let mut event = event_of(EventType::WaitlistEntryUpdated, &entry, None);
    if let EventData::Waitlist(data) = &mut event.data {
        data.fields = fields;
    }
    let history = history(&entry, None, HistoryAction::Updated, actor_of(caller), now);
    model::add_history(conn, vec![history]).await?;
    events::record(conn, now, [event]).await?;
    audit(conn, caller, "waitlist.update", &entry, 200).await?;
    Ok(entry)
}

/// Takes a waiting entry off the list; its open offers close.
pub async fn cancel(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    expected: Expected,
    now: DateTime<Utc>,
) -> Result<Entry, AppError> {
    let current = model::find_for_update(conn, id)
        .await?
        .ok_or(AppError::NotFound("waitlist entry"))?;
    expected.check(current.version)?;
    waiting(&current)?;
    let entry = model::end(conn, id, EntryStatus::Cancelled, None, now).await?;
    let closed = offers_model::close_of_entry(conn, id, now).await?;
    offers::record_closed(conn, &entry, &closed, Actor::System, now).await?;
    record(
        conn,
        caller,
        &entry,
        None,
        EventType::WaitlistEntryCancelled,
        actor_of(caller),
        now,
    )
    .await?;
    Ok(entry)
}

/// An entry with its offers and history.
pub async fn view(conn: &mut AsyncPgConnection, id: Uuid) -> Result<EntryView, AppError> {
    let entry = model::find(conn, id)
        .await?
        .ok_or(AppError::NotFound("waitlist entry"))?;
    Ok(EntryView {
        offers: offers_model::of_entry(conn, id).await?,
        history: model::history_of(conn, id).await?,
        entry,
    })
}

fn waiting(entry: &Entry) -> Result<(), AppError> {
    match entry.status {
        EntryStatus::Waiting => Ok(()),
        status => Err(AppError::Problem(
            ProblemType::InvalidTransition,
            format!(
                "the waitlist entry is {}; it can no longer change",
                status.as_str()
            ),
        )),
    }
}

fn inactive(what: &str) -> AppError {
    AppError::Problem(
        ProblemType::InactiveRecord,
        format!("the {what} is archived"),
    )
}

/// The rules an entry's wishes keep, as created or changed.
/// What the rules of an entry's wishes look at.
struct Wishes {
    provider_id: Option<Uuid>,
    location_id: Option<Uuid>,
    treatment_area_id: Uuid,
    earliest: Option<DateTime<Utc>>,
    latest: Option<DateTime<Utc>>,
}

impl Wishes {
    fn of(entry: &Entry) -> Self {
        Self {
            provider_id: entry.provider_id,
            location_id: entry.location_id,
            treatment_area_id: entry.treatment_area_id,
            earliest: entry.earliest,
            latest: entry.latest,
        }
    }
}

async fn check_rules(
    conn: &mut AsyncPgConnection,
    entry: &Wishes,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let (location_id, area_id) = (entry.location_id, entry.treatment_area_id);
    if let Some(provider_id) = &entry.provider_id {
        let provider = providers::find(conn, *provider_id)
            .await?
            .ok_or_else(|| AppError::rule("provider_id", "names a provider that does not exist"))?;
        if provider.row.archived_at.is_some() {
            return Err(inactive("provider"));
        }
        if !provider.treatment_area_ids.contains(&area_id) {
            return Err(AppError::rule(
                "provider_id",
                "does not treat this treatment area",
            ));
        }
        if location_id.is_some_and(|id| !provider.location_ids.contains(&id)) {
            return Err(AppError::rule(
                "location_id",
                "is not a location of the provider",
            ));
        }
    }
    if let Some(location_id) = location_id {
        crate::models::locations::find(conn, location_id)
            .await?
            .filter(|l| l.archived_at.is_none())
            .ok_or_else(|| AppError::rule("location_id", "names no active location"))?;
    }
    if entry.latest.is_some_and(|latest| latest <= now) {
        return Err(AppError::rule("latest", "must be in the future"));
    }
    if let (Some(earliest), Some(latest)) = (entry.earliest, entry.latest)
        && earliest >= latest
    {
        return Err(AppError::rule("latest", "must be after earliest"));
    }
    Ok(())
}

/// Who did it, for the history.
pub fn actor_of(caller: &Caller) -> Actor {
    match caller.role {
        Some(_) => Actor::Staff,
        None => Actor::Patient,
    }
}

/// A history row.
pub fn history(
    entry: &Entry,
    offer: Option<&Offer>,
    action: HistoryAction,
    actor: Actor,
    now: DateTime<Utc>,
) -> HistoryEntry {
    HistoryEntry {
        id: Uuid::now_v7(),
        entry_id: entry.id,
        offer_id: offer.map(|o| o.id),
        action,
        actor,
        occurred_at: now,
    }
}

/// The event of `event_type` about the entry (and the offer, for `waitlist_offer.*`).
pub fn event_of(event_type: EventType, entry: &Entry, offer: Option<&Offer>) -> DomainEvent {
    let data = WaitlistEventData {
        entry_id: entry.id,
        status: entry.status,
        treatment_area_id: entry.treatment_area_id,
        kind: entry.kind,
        urgent: entry.urgent,
        session_id: offer
            .and_then(|o| o.session_id)
            .or(entry.booked_session_id)
            .or(entry.session_id),
        offer_id: offer.map(|o| o.id),
        offer_status: offer.map(|o| o.status),
        provider_id: offer.map(|o| o.provider_id),
        location_id: offer.map(|o| o.location_id),
        starts_at: offer.map(|o| o.starts_at),
        ends_at: offer.map(|o| o.ends_at),
        expires_at: offer
            .filter(|_| event_type == EventType::WaitlistOfferCreated)
            .map(|o| o.expires_at),
        fields: Vec::new(),
    };
    let subject = offer.map_or(entry.id, |o| o.id);
    DomainEvent::new(
        event_type,
        subject,
        Some(entry.patient_id),
        EventData::Waitlist(data),
    )
}

/// The history row, the event and the audit event of an entry's own change.
async fn record(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    entry: &Entry,
    offer: Option<&Offer>,
    event_type: EventType,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let (action, status) = match event_type {
        EventType::WaitlistEntryCreated => (HistoryAction::Joined, 201),
        EventType::WaitlistEntryCancelled => (HistoryAction::Cancelled, 200),
        _ => (HistoryAction::Updated, 200),
    };
    model::add_history(conn, vec![history(entry, offer, action, actor, now)]).await?;
    events::record(conn, now, [event_of(event_type, entry, offer)]).await?;
    let name = match event_type {
        EventType::WaitlistEntryCreated => "waitlist.join",
        EventType::WaitlistEntryCancelled => "waitlist.cancel",
        _ => "waitlist.update",
    };
    audit(conn, caller, name, entry, status).await
}

async fn audit(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    action: &str,
    entry: &Entry,
    status: u16,
) -> Result<(), AppError> {
    let audit = caller
        .audit(action, "waitlist_entries", Some(entry.id), status)
        .patient(entry.patient_id);
    audit_events::append(conn, audit).await?;
    Ok(())
}
