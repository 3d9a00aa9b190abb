//! `Idempotency-Key` on booking requests: the same key with the same body replays the first
//! answer; with another body → 422. The key row commits in the booking's own transaction, and
//! concurrent requests with one key wait for each other (a transaction-scoped advisory lock), so
//! every one of them gets the same answer and only one booking exists, on any replica.

use crate::models::prepared::prepared;
use std::future::Future;
use std::pin::Pin;

use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bytea, Jsonb, Nullable, SmallInt, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{AppError, ProblemType};

/// How long a key is remembered: at least a day.
pub const KEY_LIFETIME_HOURS: i64 = 24;

/// An answer to store and replay.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub body: serde_json::Value,
    pub location: Option<String>,
    pub etag: Option<String>,
}

impl Answer {
    /// An answer of `status` with `body` at `version` (its `ETag`), and `location` if created.
    pub fn of<T: serde::Serialize>(
        status: StatusCode,
        location: Option<String>,
        version: impl Into<Option<i32>>,
        body: &T,
    ) -> Result<Self, AppError> {
        Ok(Self {
            status,
            body: serde_json::to_value(body).map_err(|e| AppError::Internal(Box::new(e)))?,
            location,
            etag: version.into().map(crate::http::conditional::etag),
        })
    }

    /// The HTTP response; `replayed` marks an answer given before.
    pub fn respond(&self, replayed: bool) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if let Some(location) = &self.location {
            response.insert_header((header::LOCATION, location.clone()));
        }
        if let Some(etag) = &self.etag {
            response.insert_header((header::ETAG, etag.clone()));
        }
        if replayed {
            response.insert_header(("Idempotent-Replayed", "true"));
        }
        response.json(&self.body)
    }
}

/// The key a client sent, validated.
pub fn key_from(req: &actix_web::HttpRequest) -> Result<Option<String>, AppError> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = value.to_str().map(str::trim).unwrap_or_default();
    if key.is_empty() || key.len() > 255 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(AppError::field(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters",
        ));
    }
    Ok(Some(key.to_owned()))
}

/// The fingerprint of a request body.
pub fn fingerprint<T: serde::Serialize>(body: &T) -> Vec<u8> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    Sha256::digest(&bytes).to_vec()
}

/// The work of a booking, run inside the transaction that also stores its key.
pub type Work<'c> = Pin<Box<dyn Future<Output = Result<Answer, AppError>> + Send + 'c>>;

/// Times a transaction that lost a race (a deadlock between exclusion checks) is run again.
const ATTEMPTS: u32 = 5;

/// Answers the request by the work `make` builds, exactly once per `Idempotency-Key` of the
/// caller's key: `request` is fingerprinted so a key reused for another request is refused.
pub async fn respond_once<W>(
    state: &crate::http::state::AppState,
    req: &actix_web::HttpRequest,
    api_key_id: Option<Uuid>,
    operation: &str,
    request: &impl serde::Serialize,
    now: DateTime<Utc>,
    make: impl Fn() -> W,
) -> Result<HttpResponse, AppError>
where
    W: for<'c> FnOnce(&'c mut AsyncPgConnection) -> Work<'c> + Send,
{
    // A visitor has no key to file an answer under; only key holders get replays.
    let key = key_from(req)?.filter(|_| api_key_id.is_some());
    let api_key_id = api_key_id.unwrap_or_default();
    let hash = fingerprint(request);
    let mut conn = state.conn().await?;
    let (answer, replayed) =
        run_once(&mut conn, api_key_id, key, operation, hash, now, make).await?;
    Ok(answer.respond(replayed))
}

/// Runs the work `make` builds in one transaction, exactly once per (API key, idempotency key),
/// again if it lost a race to a concurrent one; returns the answer and whether it is a replay.
async fn run_once<W>(
    conn: &mut AsyncPgConnection,
    api_key_id: Uuid,
    key: Option<String>,
    operation: &str,
    request_hash: Vec<u8>,
    now: DateTime<Utc>,
    make: impl Fn() -> W,
) -> Result<(Answer, bool), AppError>
where
    W: for<'c> FnOnce(&'c mut AsyncPgConnection) -> Work<'c> + Send,
{
    let mut attempt = 1;
    loop {
        let result = transaction(
            conn,
            api_key_id,
            key.clone(),
            operation,
            request_hash.clone(),
            now,
            make(),
        )
        .await;
        match result {
            Err(AppError::Contention(_)) if attempt < ATTEMPTS => {
                // A short, growing pause lets the winner commit.
                tokio::time::sleep(std::time::Duration::from_millis(5 * u64::from(attempt))).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

async fn transaction(
    conn: &mut AsyncPgConnection,
    api_key_id: Uuid,
    key: Option<String>,
    operation: &str,
    request_hash: Vec<u8>,
    now: DateTime<Utc>,
    work: impl for<'c> FnOnce(&'c mut AsyncPgConnection) -> Work<'c> + Send,
) -> Result<(Answer, bool), AppError> {
    let operation = operation.to_owned();
    conn.transaction::<_, AppError, _>(async move |conn| {
        if let Some(key) = &key {
            prepared("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind::<Text, _>(format!("{api_key_id}/{key}"))
                .execute(conn)
                .await?;
            if let Some(stored) = stored(conn, api_key_id, key).await? {
                if stored.created_at > now - Duration::hours(KEY_LIFETIME_HOURS) {
                    if stored.request_hash != request_hash || stored.operation != operation {
                        return Err(AppError::Problem(
                            ProblemType::IdempotencyKeyReused,
                            "this Idempotency-Key was used with a different request".into(),
                        ));
                    }
                    return Ok((stored.answer(), true));
                }
                forget(conn, api_key_id, key).await?;
            }
        }
        let answer = work(conn).await?;
        if let Some(key) = &key {
            remember(
                conn,
                api_key_id,
                key,
                &operation,
                &request_hash,
                &answer,
                now,
            )
            .await?;
        }
        Ok((answer, false))
    })
    .await
}

#[derive(QueryableByName)]
struct Stored {
    #[diesel(sql_type = Text)]
    operation: String,
    #[diesel(sql_type = Bytea)]
    request_hash: Vec<u8>,
    #[diesel(sql_type = SmallInt)]
    status: i16,
    #[diesel(sql_type = Jsonb)]
    response: serde_json::Value,
    #[diesel(sql_type = Nullable<Text>)]
    location: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
}

impl Stored {
    fn answer(&self) -> Answer {
        let etag = self
            .response
            .get("version")
            .and_then(|v| v.as_i64())
            .map(|v| format!("\"{v}\""));
        Answer {
            status: StatusCode::from_u16(self.status as u16).unwrap_or(StatusCode::OK),
            body: self.response.clone(),
            location: self.location.clone(),
            etag,
        }
    }
}

async fn stored(
    conn: &mut AsyncPgConnection,
    api_key_id: Uuid,
    key: &str,
) -> QueryResult<Option<Stored>> {
    prepared(
        "SELECT operation, request_hash, status, response, location, created_at \
         FROM idempotency_keys WHERE api_key_id = $1 AND key = $2",
    )
    .bind::<SqlUuid, _>(api_key_id)
    .bind::<Text, _>(key)
    .get_result(conn)
    .await
    .optional()
}

async fn forget(conn: &mut AsyncPgConnection, api_key_id: Uuid, key: &str) -> QueryResult<()> {
    prepared("DELETE FROM idempotency_keys WHERE api_key_id = $1 AND key = $2")
        .bind::<SqlUuid, _>(api_key_id)
        .bind::<Text, _>(key)
        .execute(conn)
        .await
        .map(|_| ())
}

async fn remember(
    conn: &mut AsyncPgConnection,
    api_key_id: Uuid,
    key: &str,
    operation: &str,
    request_hash: &[u8],
    answer: &Answer,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    prepared(
        "INSERT INTO idempotency_keys (api_key_id, key, operation, request_hash, status, response, location, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind::<SqlUuid, _>(api_key_id)
    .bind::<Text, _>(key)
    .bind::<Text, _>(operation)
    .bind::<Bytea, _>(request_hash)
    .bind::<SmallInt, _>(answer.status.as_u16() as i16)
    .bind::<Jsonb, _>(&answer.body)
    .bind::<Nullable<Text>, _>(answer.location.as_deref())
    .bind::<Timestamptz, _>(now)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Forgets keys older than twice their lifetime; run now and then.
pub async fn purge_expired(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> QueryResult<usize> {
    prepared("DELETE FROM idempotency_keys WHERE created_at < $1")
        .bind::<Timestamptz, _>(now - Duration::hours(2 * KEY_LIFETIME_HOURS))
        .execute(conn)
        .await
}
