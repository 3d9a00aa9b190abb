//! API keys, stored as hashes.

use super::prepared::prepared;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::PageRequest;
use crate::domain::access::Role;
use crate::schema::api_keys;

/// A row of `api_keys`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_keys)]
pub struct ApiKey {
    pub id: Uuid,
    pub prefix: String,
    pub label: String,
    pub role: Role,
    pub provider_id: Option<Uuid>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A key to store.
#[derive(Debug, Insertable)]
#[diesel(table_name = api_keys)]
pub struct NewApiKey {
    pub id: Uuid,
    pub prefix: String,
    pub key_hash: Vec<u8>,
    pub label: String,
    pub role: Role,
    pub provider_id: Option<Uuid>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl NewApiKey {
    /// A fresh random key: its secret (to show once) and the row that stores its hash.
    pub fn generate(
        role: crate::domain::access::Role,
        label: &str,
        provider_id: Option<Uuid>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<(String, Self), getrandom::Error> {
        let key = crate::domain::access::generate_key()?;
        let row = Self {
            id: Uuid::now_v7(),
            prefix: key.prefix,
            key_hash: key.hash.to_vec(),
            label: label.trim().to_owned(),
            role,
            provider_id,
            expires_at,
        };
        Ok((key.secret, row))
    }
}

pub async fn insert(conn: &mut AsyncPgConnection, new: NewApiKey) -> QueryResult<ApiKey> {
    diesel::insert_into(api_keys::table)
        .values(new)
        .returning(ApiKey::as_returning())
        .get_result(conn)
        .await
}

/// Stores the key unless one with the same hash exists; whether it was stored.
pub async fn insert_if_absent(conn: &mut AsyncPgConnection, new: NewApiKey) -> QueryResult<bool> {
    diesel::insert_into(api_keys::table)
        .values(new)
        .on_conflict(api_keys::key_hash)
        .do_nothing()
        .execute(conn)
        .await
        .map(|inserted| inserted > 0)
}

/// A key as authentication sees it: the row, and when its provider was archived, if it was.
#[derive(Debug, Clone, Queryable)]
pub struct KeyWithProvider {
    pub key: ApiKey,
    pub provider_archived_at: Option<DateTime<Utc>>,
}

/// The key with this hash, whatever its state, with its provider's archival (one indexed
/// lookup).
pub async fn find_by_hash(
    conn: &mut AsyncPgConnection,
    hash: &[u8],
) -> QueryResult<Option<KeyWithProvider>> {
    use crate::schema::providers;
    api_keys::table
        .left_join(providers::table)
        .filter(api_keys::key_hash.eq(hash))
        .select((ApiKey::as_select(), providers::archived_at.nullable()))
        .first(conn)
        .await
        .optional()
}

/// Whether the provider a key would act for exists and is active (`None`: no such provider).
pub async fn provider_is_active(
    conn: &mut AsyncPgConnection,
    provider_id: Uuid,
) -> QueryResult<Option<bool>> {
    use crate::schema::providers;
    providers::table
        .find(provider_id)
        .select(providers::archived_at.is_null())
        .first(conn)
        .await
        .optional()
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<ApiKey>> {
    api_keys::table
        .find(id)
        .select(ApiKey::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn list(conn: &mut AsyncPgConnection, page: PageRequest) -> QueryResult<Vec<ApiKey>> {
    let mut query = api_keys::table
        .select(ApiKey::as_select())
        .order(api_keys::id)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(api_keys::id.gt(after));
    }
    query.limit(page.limit + 1).load(conn).await
}

/// Revokes the key (idempotent); `None` when there is no such key.
pub async fn revoke(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<ApiKey>> {
    diesel::update(api_keys::table.find(id))
        .set(api_keys::revoked_at.eq(diesel::dsl::sql::<
            diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
        >("coalesce(revoked_at, now())")))
        .returning(ApiKey::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Records use, at most once a minute per key so reads stay reads.
pub async fn touch(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<()> {
    prepared(
        "UPDATE api_keys SET last_used_at = now() WHERE id = $1 \
         AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
    )
    .bind::<diesel::sql_types::Uuid, _>(id)
    .execute(conn)
    .await
    .map(|_| ())
}

/// What the listening connection calls itself in `pg_stat_activity`.
pub const LISTENER_NAME: &str = "prolo-scheduler key listener";

/// Subscribes this connection to the notices of changes that can end a key's use (the
/// triggers of migration 000019), under [`LISTENER_NAME`].
pub async fn listen_for_changes(conn: &mut AsyncPgConnection) -> QueryResult<()> {
    use diesel_async::SimpleAsyncConnection;
    conn.batch_execute(&format!(
        "SET application_name = '{LISTENER_NAME}'; LISTEN api_key_changes"
    ))
    .await
}

/// Whether any usable admin key exists.
pub async fn has_active_admin(conn: &mut AsyncPgConnection) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        api_keys::table
            .filter(api_keys::role.eq(Role::Admin))
            .filter(api_keys::revoked_at.is_null())
            .filter(
                api_keys::expires_at
                    .is_null()
                    .or(api_keys::expires_at.gt(diesel::dsl::now)),
            ),
    ))
    .get_result(conn)
    .await
}
