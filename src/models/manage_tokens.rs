//! The tokens of manage links, stored as SHA-256, one session each.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::schema::manage_tokens;

pub async fn insert(
    conn: &mut AsyncPgConnection,
    token_hash: &[u8; 32],
    session_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(manage_tokens::table)
        .values((
            manage_tokens::token_hash.eq(token_hash.to_vec()),
            manage_tokens::session_id.eq(session_id),
            manage_tokens::created_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The session a live (unrevoked) token names.
pub async fn session_of(
    conn: &mut AsyncPgConnection,
    token_hash: &[u8; 32],
) -> QueryResult<Option<Uuid>> {
    manage_tokens::table
        .find(token_hash.to_vec())
        .filter(manage_tokens::revoked_at.is_null())
        .select(manage_tokens::session_id)
        .first(conn)
        .await
        .optional()
}

/// Whether the session was ever given a manage link (it was booked online).
pub async fn has_any(conn: &mut AsyncPgConnection, session_id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        manage_tokens::table.filter(manage_tokens::session_id.eq(session_id)),
    ))
    .get_result(conn)
    .await
}

/// Revokes every live token of the session (it moved: the old links die).
pub async fn revoke_all(
    conn: &mut AsyncPgConnection,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(
        manage_tokens::table
            .filter(manage_tokens::session_id.eq(session_id))
            .filter(manage_tokens::revoked_at.is_null()),
    )
    .set(manage_tokens::revoked_at.eq(now))
    .execute(conn)
    .await?;
    Ok(())
}
