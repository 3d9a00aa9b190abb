//! The waitlist's reader of the event log: a cancelled session, or one moved away, leaves an
//! opening to offer once it settles (`waitlist_debounce_minutes`, after quiet hours); a
//! session booked or moved onto a time closes the offers of that time.

use chrono::{DateTime, Duration, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::offers::record_closed;
use crate::app::events;
use crate::domain::events::{EventType, SessionEventData};
use crate::domain::notifications::notice_due;
use crate::domain::waitlist::Actor;
use crate::error::AppError;
use crate::models::events::Event;
use crate::models::settings::{self, ClinicSettings};
use crate::models::waitlist as entries_model;
use crate::models::waitlist_offers::{self as model, Opening, opening_status};

/// The reader's name on its cursor.
pub const CONSUMER: &str = "waitlist";

/// Events read per transaction.
const BATCH: i64 = 500;

/// Reads what has happened since the cursor, a batch per transaction, until the log is read
/// or another replica holds the cursor. Returns how many events were read.
pub async fn collect(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> Result<usize, AppError> {
    events::consume(conn, CONSUMER, BATCH, move |conn, events| {
        Box::pin(async move {
            let settings = settings::get(conn).await?;
            for event in &events {
                react(conn, &settings, event, now).await?;
            }
            Ok(())
        })
    })
    .await
}

async fn react(
    conn: &mut AsyncPgConnection,
    settings: &ClinicSettings,
    event: &Event,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let Some(event_type) = EventType::parse(&event.type_).filter(|t| {
        matches!(
            t,
            EventType::SessionBooked | EventType::SessionRescheduled | EventType::SessionCancelled
        )
    }) else {
        return Ok(());
    };
    let data: SessionEventData =
        serde_json::from_value(event.data.clone()).map_err(|e| AppError::Internal(Box::new(e)))?;
    let length = data.ends_at - data.starts_at;
    let freed = match event_type {
        EventType::SessionCancelled => Some(data.starts_at),
        EventType::SessionRescheduled => data.previous_starts_at,
        _ => None,
    };
    if event_type != EventType::SessionCancelled {
        close_overlapping(conn, data.provider_id, data.starts_at, data.ends_at, now).await?;
    }
    // A time already begun, or one the session moved within, frees nothing worth offering.
    if let Some(start) = freed.filter(|start| *start > now) {
        let end = start + length;
        let zone = crate::app::calendar::zone_of(conn, data.location_id).await?;
        let settled =
            event.occurred_at + Duration::minutes(i64::from(settings.waitlist_debounce_minutes));
        let opening = Opening {
            id: Uuid::now_v7(),
            provider_id: data.provider_id,
            location_id: data.location_id,
            starts_at: start,
            ends_at: end,
            event_id: event.id,
            freed_at: event.occurred_at,
            due_at: notice_due(settled, settings.quiet_hours(), zone),
            status: opening_status::PENDING.to_owned(),
            rounds: 0,
        };
        model::add_opening(conn, opening).await?;
    }
    Ok(())
}

/// The time `[start, end)` of the provider was booked: the open offers overlapping it close.
async fn close_overlapping(
    conn: &mut AsyncPgConnection,
    provider_id: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let openings = model::live_overlapping(conn, provider_id, start, end).await?;
    if openings.is_empty() {
        return Ok(());
    }
    let closed: Vec<_> = model::close_overlapping(conn, &openings, start, end, now).await?;
    let ids: Vec<Uuid> = closed.iter().map(|o| o.entry_id).collect();
    for entry in entries_model::by_ids(conn, &ids).await? {
        let of_entry: Vec<_> = closed
            .iter()
            .filter(|o| o.entry_id == entry.id)
            .cloned()
            .collect();
        record_closed(conn, &entry, &of_entry, Actor::System, now).await?;
    }
    Ok(())
}
