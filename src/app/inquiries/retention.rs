//! Erasing the personal data of closed and spam inquiries once their retention is over.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;

use crate::domain::inquiries::retention_cutoff;
use crate::error::AppError;
use crate::models::inquiries as model;

/// Erases the personal data of inquiries closed more than `retention_days` before `now`, each
/// with its timeline entry and audit event; returns how many.
pub async fn erase_expired(
    conn: &mut AsyncPgConnection,
    retention_days: u32,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let cutoff = retention_cutoff(now, retention_days);
    Ok(model::erase_expired(conn, cutoff, now).await?)
}
