//! The fan-out: reads the event log from the `webhooks` cursor and writes one delivery per
//! enabled endpoint that wants the event, in one transaction with the cursor's advance, so
//! every event is fanned out exactly once, by whichever replica holds the cursor.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde_json::json;
use uuid::Uuid;

use crate::app::events::{self, Published};
use crate::error::AppError;
use crate::models::webhooks::{self as model, NewDelivery};

/// The fan-out's name on its cursor.
pub const CONSUMER: &str = "webhooks";

/// Events fanned out per transaction.
const BATCH: i64 = 500;

/// The body of an event's webhook (Standard Webhooks: `type`, `timestamp`, `data`); `data` is
/// the event exactly as `GET /v1/events` lists it: ids, times and statuses, nothing personal.
pub fn body(event: &Published) -> String {
    json!({"type": event.event_type, "timestamp": event.occurred_at, "data": event}).to_string()
}

/// Fans out what has happened since the cursor, a batch per transaction, until the log is read
/// or another replica holds the cursor. Returns how many events were read.
pub async fn fan_out_pending(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    events::consume(conn, CONSUMER, BATCH, move |conn, events| {
        Box::pin(async move {
            let endpoints = model::enabled(conn).await?;
            let mut deliveries = Vec::new();
            for event in events {
                let event = Published::from(event);
                let wanting: Vec<_> = endpoints
                    .iter()
                    // An endpoint gets what happens from its registration on.
                    .filter(|e| e.wants(&event.event_type) && e.created_at <= event.occurred_at)
                    .collect();
                if wanting.is_empty() {
                    continue;
                }
                let body = body(&event);
                deliveries.extend(wanting.into_iter().map(|endpoint| NewDelivery {
                    id: Uuid::now_v7(),
                    endpoint_id: endpoint.id,
                    event_id: event.id,
                    event_type: event.event_type.clone(),
                    body: body.clone(),
                    status: "pending",
                    next_attempt_at: now,
                    created_at: now,
                }));
            }
            model::add_deliveries(conn, deliveries).await?;
            Ok(())
        })
    })
    .await
}
