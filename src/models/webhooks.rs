//! Webhook endpoints, their deliveries (one per endpoint and event) and each delivery's
//! attempts. Deliveries are claimed under a lease with `SKIP LOCKED`, so any number of
//! replicas deliver each attempt once.

use super::prepared::prepared;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::PageRequest;
use crate::schema::{webhook_attempts, webhook_deliveries, webhook_endpoints};

/// A row of `webhook_endpoints`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints)]
pub struct Endpoint {
    pub id: Uuid,
    pub url: String,
    pub description: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub secret: Vec<u8>,
    pub previous_secret: Option<Vec<u8>>,
    pub previous_secret_until: Option<DateTime<Utc>>,
    pub failing_since: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Endpoint {
    /// Whether events of `event_type` go to this endpoint.
    pub fn wants(&self, event_type: &str) -> bool {
        self.enabled
            && self
                .event_types
                .as_ref()
                .is_none_or(|types| types.iter().any(|t| t == event_type))
    }

    /// The keys that sign at `now`: the current secret, and the previous one while a rotation
    /// overlaps.
    pub fn signing_keys(&self, now: DateTime<Utc>) -> Vec<&[u8]> {
        let mut keys = vec![self.secret.as_slice()];
        if let (Some(previous), Some(until)) = (&self.previous_secret, self.previous_secret_until)
            && now < until
        {
            keys.push(previous.as_slice());
        }
        keys
    }
}

/// An endpoint to create.
#[derive(Debug, Insertable)]
#[diesel(table_name = webhook_endpoints)]
pub struct NewEndpoint {
    pub id: Uuid,
    pub url: String,
    pub description: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub enabled: bool,
    pub secret: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Fields to change; `None` leaves one as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = webhook_endpoints)]
pub struct EndpointChanges {
    pub url: Option<String>,
    pub description: Option<Option<String>>,
    pub event_types: Option<Option<Vec<String>>>,
    pub enabled: Option<bool>,
    pub disabled_reason: Option<Option<String>>,
    pub failing_since: Option<Option<DateTime<Utc>>>,
    pub secret: Option<Vec<u8>>,
    pub previous_secret: Option<Option<Vec<u8>>>,
    pub previous_secret_until: Option<Option<DateTime<Utc>>>,
}

pub async fn insert(conn: &mut AsyncPgConnection, new: NewEndpoint) -> QueryResult<Endpoint> {
    diesel::insert_into(webhook_endpoints::table)
        .values(new)
        .returning(Endpoint::as_returning())
        .get_result(conn)
        .await
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Endpoint>> {
    webhook_endpoints::table
        .find(id)
        .select(Endpoint::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn find_for_update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<Endpoint>> {
    webhook_endpoints::table
        .find(id)
        .select(Endpoint::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Endpoints by creation, a page after the cursor's id.
pub async fn list(conn: &mut AsyncPgConnection, page: PageRequest) -> QueryResult<Vec<Endpoint>> {
    let mut query = webhook_endpoints::table
        .select(Endpoint::as_select())
        .order(webhook_endpoints::id)
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(webhook_endpoints::id.gt(after));
    }
    query.load(conn).await
}

/// Every enabled endpoint (the fan-out reads them once per batch of events).
pub async fn enabled(conn: &mut AsyncPgConnection) -> QueryResult<Vec<Endpoint>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::enabled.eq(true))
        .select(Endpoint::as_select())
        .load(conn)
        .await
}

/// Applies `changes` and bumps the version.
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    changes: EndpointChanges,
    now: DateTime<Utc>,
) -> QueryResult<Endpoint> {
    diesel::update(webhook_endpoints::table.find(id))
        .set((
            changes,
            webhook_endpoints::version.eq(webhook_endpoints::version + 1),
            webhook_endpoints::updated_at.eq(now),
        ))
        .returning(Endpoint::as_returning())
        .get_result(conn)
        .await
}

pub async fn delete(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<usize> {
    diesel::delete(webhook_endpoints::table.find(id))
        .execute(conn)
        .await
}

/// A row of `webhook_deliveries`.
#[derive(Debug, Clone, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = webhook_deliveries)]
pub struct Delivery {
    pub id: Uuid,
    pub endpoint_id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    pub body: String,
    pub status: String,
    pub attempts: i16,
    pub next_attempt_at: DateTime<Utc>,
    pub claim_token: Option<Uuid>,
    pub claimed_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub settled_at: Option<DateTime<Utc>>,
}

/// A delivery to make.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = webhook_deliveries)]
pub struct NewDelivery {
    pub id: Uuid,
    pub endpoint_id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    pub body: String,
    pub status: &'static str,
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// Stores deliveries; one already made for the same endpoint and event is left as it is.
pub async fn add_deliveries(
    conn: &mut AsyncPgConnection,
    deliveries: Vec<NewDelivery>,
) -> QueryResult<usize> {
    let mut added = 0;
    // Within PostgreSQL's 65,535 parameters a statement.
    for chunk in deliveries.chunks(1000) {
        added += diesel::insert_into(webhook_deliveries::table)
            .values(chunk)
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
    }
    Ok(added)
}

pub async fn find_delivery(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<Delivery>> {
    webhook_deliveries::table
        .find(id)
        .select(Delivery::as_select())
        .first(conn)
        .await
        .optional()
}

/// Claims up to `limit` due deliveries of enabled endpoints for `token` until `until`, oldest
/// first, counting the attempt.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    token: Uuid,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<Delivery>> {
    // One statement: the rows are locked (or skipped) and leased together.
    prepared(
        "UPDATE webhook_deliveries SET claim_token = $1, claimed_until = $3, \
                attempts = attempts + 1 \
         WHERE id IN (SELECT d.id FROM webhook_deliveries d \
                      JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.enabled \
                      WHERE d.status = 'pending' AND d.next_attempt_at <= $2 \
                        AND (d.claimed_until IS NULL OR d.claimed_until <= $2) \
                      ORDER BY d.next_attempt_at LIMIT $4 FOR UPDATE OF d SKIP LOCKED) \
         RETURNING *",
    )
    .bind::<diesel::sql_types::Uuid, _>(token)
    .bind::<diesel::sql_types::Timestamptz, _>(now)
    .bind::<diesel::sql_types::Timestamptz, _>(until)
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .load(conn)
    .await
}

/// How an attempt ends its delivery.
#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    Delivered,
    Retry { at: DateTime<Utc> },
    Failed,
}

/// Settles the attempt `token` claimed; false when the claim lapsed and another worker took
/// the delivery (its own attempt then settles it).
pub async fn settle(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    token: Uuid,
    outcome: Outcome,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let (status, next, settled) = match outcome {
        Outcome::Delivered => ("delivered", None, Some(now)),
        Outcome::Retry { at } => ("pending", Some(at), None),
        Outcome::Failed => ("failed", None, Some(now)),
    };
    let target = webhook_deliveries::table
        .find(id)
        .filter(webhook_deliveries::claim_token.eq(token));
    let changed = match next {
        Some(at) => {
            diesel::update(target)
                .set((
                    webhook_deliveries::status.eq(status),
                    webhook_deliveries::next_attempt_at.eq(at),
                    webhook_deliveries::claim_token.eq(None::<Uuid>),
                    webhook_deliveries::claimed_until.eq(None::<DateTime<Utc>>),
                ))
                .execute(conn)
                .await?
        }
        None => {
            diesel::update(target)
                .set((
                    webhook_deliveries::status.eq(status),
                    webhook_deliveries::settled_at.eq(settled),
                    webhook_deliveries::claim_token.eq(None::<Uuid>),
                    webhook_deliveries::claimed_until.eq(None::<DateTime<Utc>>),
                ))
                .execute(conn)
                .await?
        }
    };
    Ok(changed == 1)
}

/// Puts a delivery back to be tried at `now` (an admin's retry); false when it is claimed
/// right now (an attempt is under way).
pub async fn requeue(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let changed = diesel::update(
        webhook_deliveries::table.find(id).filter(
            webhook_deliveries::claimed_until
                .is_null()
                .or(webhook_deliveries::claimed_until.le(now)),
        ),
    )
    .set((
        webhook_deliveries::status.eq("pending"),
        webhook_deliveries::next_attempt_at.eq(now),
        webhook_deliveries::settled_at.eq(None::<DateTime<Utc>>),
        webhook_deliveries::claim_token.eq(None::<Uuid>),
        webhook_deliveries::claimed_until.eq(None::<DateTime<Utc>>),
    ))
    .execute(conn)
    .await?;
    Ok(changed == 1)
}

/// A row of `webhook_attempts`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_attempts)]
pub struct Attempt {
    pub id: Uuid,
    pub delivery_id: Uuid,
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<i16>,
    pub latency_ms: i32,
    pub response_excerpt: Option<String>,
    pub error: Option<String>,
}

pub async fn add_attempt(conn: &mut AsyncPgConnection, attempt: Attempt) -> QueryResult<()> {
    diesel::insert_into(webhook_attempts::table)
        .values(attempt)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deliveries of an endpoint, newest first, a page after the cursor's id.
pub async fn deliveries_of(
    conn: &mut AsyncPgConnection,
    endpoint_id: Uuid,
    page: PageRequest,
) -> QueryResult<Vec<Delivery>> {
    let mut query = webhook_deliveries::table
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
        .select(Delivery::as_select())
        .order(webhook_deliveries::id.desc())
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(before) = page.after {
        query = query.filter(webhook_deliveries::id.lt(before));
    }
    query.load(conn).await
}

/// The attempts of these deliveries, oldest first.
pub async fn attempts_of(
    conn: &mut AsyncPgConnection,
    delivery_ids: &[Uuid],
) -> QueryResult<Vec<Attempt>> {
    webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq_any(delivery_ids))
        .select(Attempt::as_select())
        .order((
            webhook_attempts::delivery_id,
            webhook_attempts::attempted_at,
        ))
        .load(conn)
        .await
}

/// Deletes deliveries settled before `before` (with their attempts): they go with the events
/// the log no longer keeps.
pub async fn purge_settled(
    conn: &mut AsyncPgConnection,
    before: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::delete(
        webhook_deliveries::table
            .filter(webhook_deliveries::status.ne("pending"))
            .filter(webhook_deliveries::settled_at.lt(before)),
    )
    .execute(conn)
    .await
}
