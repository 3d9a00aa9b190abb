//! Webhooks: the admin's endpoints, the fan-out of the event log into deliveries, and the
//! delivery attempts the worker makes.

pub mod deliver;
pub mod endpoints;
pub mod fanout;

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;

use crate::error::AppError;

/// Deletes the deliveries settled longer ago than the event log keeps its events.
pub async fn purge_old(
    conn: &mut AsyncPgConnection,
    retention_days: u32,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let before = now - chrono::Duration::days(i64::from(retention_days));
    Ok(crate::models::webhooks::purge_settled(conn, before).await?)
}
