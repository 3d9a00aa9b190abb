//! Holds: slots kept for a visitor while they book. Each live hold has a row in
//! `calendar_claims` (kept by a trigger), where one exclusion constraint keeps holds and
//! sessions apart.

use super::prepared::prepared;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bytea, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::domain::sessions::SessionKind;
use crate::schema::holds;

/// A row of `holds`.
#[derive(Debug, Clone, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = holds)]
pub struct Hold {
    pub id: Uuid,
    pub token_hash: Vec<u8>,
    pub provider_id: Uuid,
    pub location_id: Uuid,
    pub treatment_area_id: Uuid,
    pub kind: SessionKind,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub held_until: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub released_at: Option<DateTime<Utc>>,
}

impl Hold {
    /// Whether the hold still keeps its slot at `now`.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.released_at.is_none() && now < self.expires_at
    }
}

/// A hold to take.
#[derive(Debug, Clone)]
pub struct NewHold {
    pub id: Uuid,
    pub token_hash: [u8; 32],
    /// The client's address; only its keyed digest is stored.
    pub client: String,
    pub provider_id: Uuid,
    pub location_id: Uuid,
    pub treatment_area_id: Uuid,
    pub kind: SessionKind,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub held_until: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Inserts the hold; a slot already claimed by a session or a live hold fails at
/// `calendar_claims_overlap`.
pub async fn insert(conn: &mut AsyncPgConnection, new: NewHold) -> QueryResult<Hold> {
    prepared(
        "INSERT INTO holds (id, token_hash, client_hash, provider_id, location_id, \
             treatment_area_id, kind, starts_at, ends_at, held_until, created_at, expires_at) \
         VALUES ($1, $2, client_digest($3), $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         RETURNING id, token_hash, provider_id, location_id, treatment_area_id, kind, starts_at, \
             ends_at, held_until, created_at, expires_at, released_at",
    )
    .bind::<SqlUuid, _>(new.id)
    .bind::<Bytea, _>(new.token_hash.to_vec())
    .bind::<Text, _>(new.client)
    .bind::<SqlUuid, _>(new.provider_id)
    .bind::<SqlUuid, _>(new.location_id)
    .bind::<SqlUuid, _>(new.treatment_area_id)
    .bind::<Text, _>(new.kind.as_str())
    .bind::<Timestamptz, _>(new.starts_at)
    .bind::<Timestamptz, _>(new.ends_at)
    .bind::<Timestamptz, _>(new.held_until)
    .bind::<Timestamptz, _>(new.created_at)
    .bind::<Timestamptz, _>(new.expires_at)
    .get_result(conn)
    .await
}

/// Takes, until the transaction ends, the client's right to hold: holds from one client queue,
/// so the count of its live holds cannot be outrun.
pub async fn lock_client(conn: &mut AsyncPgConnection, client: &str) -> QueryResult<()> {
    prepared("SELECT pg_advisory_xact_lock(hashtextextended('holds/' || $1, 1))")
        .bind::<Text, _>(client)
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    count: i64,
}

/// The client's live holds at `now`.
pub async fn live_of_client(
    conn: &mut AsyncPgConnection,
    client: &str,
    now: DateTime<Utc>,
) -> QueryResult<i64> {
    let row: Count = prepared(
        "SELECT count(*) AS count FROM holds \
         WHERE client_hash = client_digest($1) AND released_at IS NULL AND expires_at > $2",
    )
    .bind::<Text, _>(client)
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
    .await?;
    Ok(row.count)
}

/// The hold, locked until the transaction ends.
pub async fn find_for_update(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Hold>> {
    holds::table
        .find(id)
        .select(Hold::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Frees the hold's slot (used, voided or expired).
pub async fn release(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(holds::table.find(id))
        .filter(holds::released_at.is_null())
        .set(holds::released_at.eq(now))
        .execute(conn)
        .await?;
    Ok(())
}

/// Keeps a live hold until `expires_at` (while its code may be used).
pub async fn extend(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(holds::table.find(id))
        .set(holds::expires_at.eq(expires_at))
        .execute(conn)
        .await?;
    Ok(())
}

/// Releases the provider's expired holds overlapping `[start, end)`: an expired hold keeps no
/// slot, but its claim would still stand in a session's way.
pub async fn clear_expired(
    mut conn: &AsyncPgConnection,
    provider_id: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    prepared(
        "UPDATE holds SET released_at = $4 \
         WHERE provider_id = $1 AND released_at IS NULL AND expires_at <= $4 \
           AND tstzrange(starts_at, held_until) && tstzrange($2, $3)",
    )
    .bind::<SqlUuid, _>(provider_id)
    .bind::<Timestamptz, _>(start)
    .bind::<Timestamptz, _>(end)
    .bind::<Timestamptz, _>(now)
    .execute(&mut conn)
    .await?;
    Ok(())
}

/// Releases the expired holds at `location_id` overlapping `span`: their resources' rows
/// would stand in a session's way as their provider claims do.
pub async fn clear_expired_at(
    conn: &mut AsyncPgConnection,
    location_id: Uuid,
    span: crate::domain::slots::Span,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    prepared(
        "UPDATE holds SET released_at = $4 \
         WHERE location_id = $1 AND released_at IS NULL AND expires_at <= $4 \
           AND tstzrange(starts_at, held_until) && tstzrange($2, $3)",
    )
    .bind::<SqlUuid, _>(location_id)
    .bind::<Timestamptz, _>(span.start)
    .bind::<Timestamptz, _>(span.end)
    .bind::<Timestamptz, _>(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// When the last live hold of the provider overlapping `[start, end)` expires, if one does.
pub async fn live_until(
    conn: &mut AsyncPgConnection,
    provider_id: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<Option<DateTime<Utc>>> {
    holds::table
        .filter(holds::provider_id.eq(provider_id))
        .filter(holds::released_at.is_null())
        .filter(holds::expires_at.gt(now))
        .filter(holds::starts_at.lt(end))
        .filter(holds::held_until.gt(start))
        .select(diesel::dsl::max(holds::expires_at))
        .first(conn)
        .await
}
