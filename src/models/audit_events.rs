//! The append-only audit trail.

use super::prepared::prepared;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::PageRequest;
use crate::schema::audit_events;

/// A row of `audit_events`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub key_id: Option<Uuid>,
    pub role: Option<String>,
    pub action: String,
    pub resource_type: String,
    pub resource_id: Option<Uuid>,
    pub patient_id: Option<Uuid>,
    pub request_id: Option<String>,
    pub outcome: String,
    pub status: i16,
    /// How many refusals the event stands for (1 but for tallies of refusals).
    pub count: i32,
    /// The client (IP address, or its /64 for IPv6) of a tally of refusals without a key.
    pub client: Option<String>,
}

/// An event to append.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_events)]
pub struct NewAuditEvent {
    pub id: Uuid,
    pub key_id: Option<Uuid>,
    pub role: Option<String>,
    pub action: String,
    pub resource_type: String,
    pub resource_id: Option<Uuid>,
    pub patient_id: Option<Uuid>,
    pub request_id: Option<String>,
    pub outcome: String,
    pub status: i16,
}

impl NewAuditEvent {
    /// The same event, about `patient_id`'s data.
    pub fn patient(mut self, patient_id: Uuid) -> Self {
        self.patient_id = Some(patient_id);
        self
    }
}

/// Filters of the audit list.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub patient_id: Option<Uuid>,
    pub key_id: Option<Uuid>,
    pub resource_type: Option<String>,
    pub resource_id: Option<Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// Appends one event (inside the transaction of the change it records, where there is one).
pub async fn append(mut conn: &AsyncPgConnection, event: NewAuditEvent) -> QueryResult<()> {
    diesel::insert_into(audit_events::table)
        .values(event)
        .execute(&mut conn)
        .await
        .map(|_| ())
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: AuditFilter,
    page: PageRequest,
) -> QueryResult<Vec<AuditEvent>> {
    let mut query = audit_events::table
        .select(AuditEvent::as_select())
        .order(audit_events::id)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(audit_events::id.gt(after));
    }
    if let Some(patient) = filter.patient_id {
        query = query.filter(audit_events::patient_id.eq(patient));
    }
    if let Some(key) = filter.key_id {
        query = query.filter(audit_events::key_id.eq(key));
    }
    if let Some(resource_type) = filter.resource_type {
        query = query.filter(audit_events::resource_type.eq(resource_type));
    }
    if let Some(resource) = filter.resource_id {
        query = query.filter(audit_events::resource_id.eq(resource));
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_events::occurred_at.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_events::occurred_at.lt(to));
    }
    query.limit(page.limit + 1).load(conn).await
}

/// Appends one event for `count` refusals of `client` without a valid key in the minute that
/// starts at `minute`.
pub async fn append_tally(
    conn: &mut AsyncPgConnection,
    event: NewAuditEvent,
    minute: DateTime<Utc>,
    client: &str,
    count: i32,
) -> QueryResult<()> {
    diesel::insert_into(audit_events::table)
        .values((
            event,
            audit_events::occurred_at.eq(minute),
            audit_events::client.eq(client),
            audit_events::count.eq(count),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Deletes up to `batch` events older than `cutoff`, the only deletion the trail's trigger
/// allows, and records the purge itself as `event` with the count, in one transaction.
/// Returns how many were deleted.
pub async fn purge_batch(
    conn: &mut AsyncPgConnection,
    cutoff: DateTime<Utc>,
    batch: i64,
    event: NewAuditEvent,
) -> QueryResult<usize> {
    use diesel::sql_types::{BigInt, Text, Timestamptz};
    use diesel_async::AsyncConnection;
    conn.transaction(async |conn| {
        prepared("SELECT set_config('prolo.audit_purge_before', $1, true)")
            .bind::<Text, _>(cutoff.to_rfc3339())
            .execute(conn)
            .await?;
        let deleted = prepared(
            "DELETE FROM audit_events WHERE id IN \
               (SELECT id FROM audit_events WHERE occurred_at < $1 ORDER BY occurred_at LIMIT $2)",
        )
        .bind::<Timestamptz, _>(cutoff)
        .bind::<BigInt, _>(batch)
        .execute(conn)
        .await?;
        if deleted > 0 {
            diesel::insert_into(audit_events::table)
                .values((event, audit_events::count.eq(deleted as i32)))
                .execute(conn)
                .await?;
        }
        Ok(deleted)
    })
    .await
}
