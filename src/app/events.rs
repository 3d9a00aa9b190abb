//! The event log's two ends: every use case records its domain events here, in its own
//! transaction; readers (the API, and the workers to come) read them back in commit order.

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::Serialize;
use uuid::Uuid;

use super::caller::Caller;
use crate::domain::events::{DomainEvent, EventType};
use crate::error::AppError;
use crate::models::audit_events;
use crate::models::events::{self as model, NewEvent};

/// Appends `events`, all occurring at `now`, in the caller's transaction.
pub async fn record(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    events: impl IntoIterator<Item = DomainEvent>,
) -> Result<(), AppError> {
    model::append(conn, rows(now, events)?).await?;
    Ok(())
}

/// The rows of `events` as they are appended at `now`, for a caller that sends them along with
/// other statements.
pub fn rows(
    now: DateTime<Utc>,
    events: impl IntoIterator<Item = DomainEvent>,
) -> Result<Vec<NewEvent>, AppError> {
    events
        .into_iter()
        .map(|event| {
            Ok(NewEvent {
                id: Uuid::now_v7(),
                type_: event.event_type.as_str().to_owned(),
                occurred_at: now,
                subject_type: event.event_type.subject().to_owned(),
                subject_id: event.subject_id,
                patient_id: event.patient_id,
                data: serde_json::to_value(&event.data)
                    .map_err(|e| AppError::Internal(Box::new(e)))?,
            })
        })
        .collect()
}

/// What a consumer's handler returns: its work on a batch, inside the batch's transaction.
pub type Handled<'c> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), AppError>> + Send + 'c>>;

/// How a consumer of the log (notifications, webhooks, the waitlist) reads it: from its
/// cursor, `batch` events per transaction, each batch handed to `handle` in the transaction
/// that advances the cursor, so an event is handled once; until the log is read, or another
/// replica holds the cursor (and handles these events). Returns how many events were read.
pub async fn consume<F>(
    conn: &mut AsyncPgConnection,
    consumer: &str,
    batch: i64,
    mut handle: F,
) -> Result<usize, AppError>
where
    F: for<'c> FnMut(&'c mut AsyncPgConnection, Vec<model::Event>) -> Handled<'c> + Send,
{
    model::sequence(conn).await?;
    let mut read = 0;
    loop {
        let count = conn
            .transaction::<_, AppError, _>(async |conn| {
                let Some(position) = model::lock_cursor(conn, consumer).await? else {
                    return Ok(0);
                };
                let events = model::placed_after(conn, position, None, batch).await?;
                let Some(last) = events.last().map(|e| e.position) else {
                    return Ok(0);
                };
                let count = events.len();
                handle(conn, events).await?;
                model::advance_cursor(conn, consumer, last).await?;
                Ok(count)
            })
            .await?;
        read += count;
        if (count as i64) < batch {
            return Ok(read);
        }
    }
}

/// One change as integrators get it, from `GET /v1/events` and in webhooks alike.
#[derive(Debug, Clone, Serialize)]
pub struct Published {
    pub id: Uuid,
    /// Where the event stands in commit order; pass as `after` to read what follows it.
    pub position: i64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
    pub subject: Subject,
    /// The patient the change concerns, if any.
    pub patient_id: Option<Uuid>,
    pub data: serde_json::Value,
}

/// What an event is about.
#[derive(Debug, Clone, Serialize)]
pub struct Subject {
    #[serde(rename = "type")]
    pub subject_type: String,
    pub id: Uuid,
}

impl From<model::Event> for Published {
    fn from(row: model::Event) -> Self {
        Self {
            id: row.id,
            position: row.position,
            event_type: row.type_,
            occurred_at: row.occurred_at,
            subject: Subject {
                subject_type: row.subject_type,
                id: row.subject_id,
            },
            patient_id: row.patient_id,
            data: row.data,
        }
    }
}

/// Events to read: after a position, of some types, so many.
#[derive(Debug, Clone)]
pub struct EventQuery {
    /// The last position the reader has seen (0: from the start of what is kept).
    pub after: i64,
    /// Only these types (all when empty).
    pub types: Vec<EventType>,
    pub limit: i64,
}

/// A page of the log, and the position to read after next.
#[derive(Debug, Clone)]
pub struct EventPage {
    pub events: Vec<model::Event>,
    /// The last position this read covered: of its last event, or, when it reached the end of
    /// the log, the last position placed (so a filtered reader skips what it does not want).
    pub next_after: i64,
}

/// Places what has committed since the last read, then reads a page in commit order: a reader
/// sees every event whose transaction committed before it asked.
pub async fn read(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    query: EventQuery,
) -> Result<EventPage, AppError> {
    model::sequence(conn).await?;
    let types = (!query.types.is_empty()).then(|| {
        query
            .types
            .iter()
            .map(|t| t.as_str().to_owned())
            .collect::<Vec<_>>()
    });
    let (events, head) = model::page(conn, query.after, types, query.limit).await?;
    if query.after > head {
        // Well-formed, but past the end of the log: no cursor this API has issued.
        return Err(AppError::rule("after", "is beyond the end of the log"));
    }
    let next_after = match events.last() {
        Some(last) if events.len() as i64 >= query.limit => last.position,
        _ => head,
    };
    let audit = caller.audit("event.list", "events", None, 200);
    audit_events::append(conn, audit).await?;
    Ok(EventPage { events, next_after })
}

/// Deletes events older than `retention_days` before `now`, in batches; returns how many.
pub async fn purge_expired(
    conn: &mut AsyncPgConnection,
    retention_days: u32,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    const BATCH: i64 = 5000;
    let cutoff = now - chrono::Duration::days(i64::from(retention_days));
    let mut purged = 0;
    loop {
        let deleted = model::purge_batch(conn, cutoff, BATCH).await?;
        purged += deleted;
        if (deleted as i64) < BATCH {
            return Ok(purged);
        }
    }
}
