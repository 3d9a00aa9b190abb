//! The audit trail's retention: events past it are deleted in batches, each batch audited.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::error::AppError;
use crate::models::audit_events::{NewAuditEvent, purge_batch};

/// Audit events deleted per transaction, so a large purge never holds long locks.
const AUDIT_PURGE_BATCH: i64 = 5_000;

/// Deletes the audit events older than the retention period, batch by batch; each batch
/// commits with an `audit.purge` event that records how many it deleted.
pub async fn purge_expired(
    conn: &mut AsyncPgConnection,
    retention_days: u32,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let cutoff = now - chrono::Duration::days(i64::from(retention_days));
    let mut purged = 0;
    loop {
        let event = NewAuditEvent {
            id: Uuid::now_v7(),
            key_id: None,
            role: Some("system".to_owned()),
            action: "audit.purge".to_owned(),
            resource_type: "audit-events".to_owned(),
            resource_id: None,
            patient_id: None,
            request_id: None,
            outcome: "success".to_owned(),
            status: 200,
        };
        let deleted = purge_batch(conn, cutoff, AUDIT_PURGE_BATCH, event).await?;
        purged += deleted;
        if deleted < AUDIT_PURGE_BATCH as usize {
            return Ok(purged);
        }
    }
}
