//! Providers' calendar feeds: the tokens of their URLs (stored as SHA-256, one live per
//! provider), and the sessions a feed shows.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::domain::sessions::{SessionKind, SessionStatus};
use crate::schema::{calendar_feeds, locations, patients, sessions, treatment_areas};

/// Revokes the provider's live feed, if any; true when there was one.
pub async fn revoke(
    conn: &mut AsyncPgConnection,
    provider_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let revoked = diesel::update(
        calendar_feeds::table
            .filter(calendar_feeds::provider_id.eq(provider_id))
            .filter(calendar_feeds::revoked_at.is_null()),
    )
    .set(calendar_feeds::revoked_at.eq(now))
    .execute(conn)
    .await?;
    Ok(revoked > 0)
}

/// Stores the hash of a provider's new feed token (after [`revoke`]: one live each, which a
/// unique index holds).
pub async fn insert(
    conn: &mut AsyncPgConnection,
    token_hash: &[u8; 32],
    provider_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(calendar_feeds::table)
        .values((
            calendar_feeds::token_hash.eq(token_hash.to_vec()),
            calendar_feeds::provider_id.eq(provider_id),
            calendar_feeds::created_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The provider of a live feed token.
pub async fn provider_of(
    conn: &mut AsyncPgConnection,
    token_hash: &[u8; 32],
) -> QueryResult<Option<Uuid>> {
    calendar_feeds::table
        .find(token_hash.to_vec())
        .filter(calendar_feeds::revoked_at.is_null())
        .select(calendar_feeds::provider_id)
        .first(conn)
        .await
        .optional()
}

/// A session as a feed shows it.
#[derive(Debug, Clone, Queryable)]
pub struct FeedRow {
    pub id: Uuid,
    pub kind: SessionKind,
    pub status: SessionStatus,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
    pub given_name: String,
    pub family_name: String,
    pub area: String,
    pub location: String,
    pub address: Option<String>,
}

/// The provider's sessions starting in `[from, to)`, by start.
pub async fn sessions_of(
    conn: &mut AsyncPgConnection,
    provider_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> QueryResult<Vec<FeedRow>> {
    sessions::table
        .inner_join(patients::table)
        .inner_join(treatment_areas::table)
        .inner_join(locations::table)
        .filter(sessions::provider_id.eq(provider_id))
        .filter(sessions::starts_at.ge(from))
        .filter(sessions::starts_at.lt(to))
        .order((sessions::starts_at, sessions::id))
        .select((
            sessions::id,
            sessions::kind,
            sessions::status,
            sessions::starts_at,
            sessions::ends_at,
            sessions::version,
            sessions::updated_at,
            patients::given_name,
            patients::family_name,
            treatment_areas::name,
            locations::name,
            locations::address,
        ))
        .load(conn)
        .await
}
