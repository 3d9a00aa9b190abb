//! Delivery, the use-case side: claim due deliveries under a lease, then record each attempt
//! and settle it by the retry schedule; a 410, or five days of failures, disable the endpoint
//! (with an audit event). The worker sends between `claim` and `settle`, outside any
//! transaction.
//!
//! At least once: a delivery is settled only by the holder of its claim. A worker that dies
//! after the receiver got a request and before it settled leaves a claim that lapses; another
//! worker then sends it again, with the same `webhook-id`, which receivers deduplicate on.

use chrono::{DateTime, Duration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use crate::domain::webhooks::{Answer, DISABLE_AFTER, retry_after};
use crate::error::AppError;
use crate::models::audit_events::{self, NewAuditEvent};
use crate::models::webhooks::{self as model, Attempt, Delivery, EndpointChanges, Outcome};

/// How long a claim holds by default: well beyond the 10-second deadline of a send.
pub const LEASE: Duration = Duration::minutes(2);

/// A claimed delivery, where it goes, the keys that sign it, and the token that settles it.
#[derive(Debug, Clone)]
pub struct Claim {
    pub delivery: Delivery,
    pub url: String,
    pub keys: Vec<Vec<u8>>,
    pub token: Uuid,
}

/// Claims up to `limit` due deliveries of enabled endpoints for `lease`.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    limit: i64,
    lease: Duration,
    now: DateTime<Utc>,
) -> Result<Vec<Claim>, AppError> {
    let token = Uuid::new_v4();
    let deliveries = model::claim(conn, token, now, now + lease, limit).await?;
    let mut claims = Vec::with_capacity(deliveries.len());
    for delivery in deliveries {
        // Deleted since (its deliveries go with it): nothing to send.
        let Some(endpoint) = model::find(conn, delivery.endpoint_id).await? else {
            continue;
        };
        claims.push(Claim {
            url: endpoint.url.clone(),
            keys: endpoint
                .signing_keys(now)
                .into_iter()
                .map(<[u8]>::to_vec)
                .collect(),
            delivery,
            token,
        });
    }
    Ok(claims)
}

/// What an attempt came to.
#[derive(Debug, Clone)]
pub struct Attempted {
    pub at: DateTime<Utc>,
    pub status: Option<u16>,
    pub latency_ms: i32,
    pub excerpt: Option<String>,
    pub error: Option<String>,
}

/// Records the attempt and settles the delivery (and the endpoint's health) in one
/// transaction. False when the claim had lapsed and another worker took the delivery over.
pub async fn settle(
    conn: &mut AsyncPgConnection,
    claim: &Claim,
    attempted: Attempted,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    conn.transaction::<_, AppError, _>(async |conn| {
        let delivery = &claim.delivery;
        // The endpoint first, as its deletion locks it before its deliveries (no deadlock);
        // gone, its deliveries went with it and there is nothing to record.
        let Some(endpoint) = model::find_for_update(conn, delivery.endpoint_id).await? else {
            return Ok(false);
        };
        model::add_attempt(
            conn,
            Attempt {
                id: Uuid::now_v7(),
                delivery_id: delivery.id,
                attempted_at: attempted.at,
                status_code: attempted.status.map(|s| s as i16),
                latency_ms: attempted.latency_ms,
                response_excerpt: attempted.excerpt,
                error: attempted.error,
            },
        )
        .await?;
        let answer = Answer::of(attempted.status);
        let outcome = match answer {
            Answer::Delivered => Outcome::Delivered,
            Answer::Gone => Outcome::Failed,
            Answer::Failed => match retry_after(delivery.attempts as usize) {
                Some(wait) => Outcome::Retry { at: now + wait },
                None => Outcome::Failed,
            },
        };
        if !model::settle(conn, delivery.id, claim.token, outcome, now).await? {
            return Ok(false);
        }
        let disable = |reason: String| EndpointChanges {
            enabled: Some(false),
            disabled_reason: Some(Some(reason)),
            ..EndpointChanges::default()
        };
        let changes = match answer {
            Answer::Delivered if endpoint.failing_since.is_some() => Some(EndpointChanges {
                failing_since: Some(None),
                ..EndpointChanges::default()
            }),
            Answer::Delivered => None,
            Answer::Gone if endpoint.enabled => Some(disable(
                "the receiver answered 410 Gone: it wants no more events".to_owned(),
            )),
            Answer::Gone => None,
            Answer::Failed => match endpoint.failing_since {
                None => Some(EndpointChanges {
                    failing_since: Some(Some(attempted.at)),
                    ..EndpointChanges::default()
                }),
                Some(since) if endpoint.enabled && now - since >= DISABLE_AFTER => {
                    Some(disable(format!(
                        "every delivery failed for 5 days (since {})",
                        since.to_rfc3339()
                    )))
                }
                Some(_) => None,
            },
        };
        let Some(changes) = changes else {
            return Ok(true);
        };
        let disabling = changes.enabled == Some(false);
        model::update(conn, endpoint.id, changes, now).await?;
        if disabling {
            audit_events::append(conn, disabled(endpoint.id)).await?;
        }
        Ok(true)
    })
    .await
}

/// The audit event of an endpoint the service disabled itself.
fn disabled(endpoint_id: Uuid) -> NewAuditEvent {
    NewAuditEvent {
        id: Uuid::now_v7(),
        key_id: None,
        role: Some("system".to_owned()),
        action: "webhook_endpoint.disable".to_owned(),
        resource_type: "webhook-endpoints".to_owned(),
        resource_id: Some(endpoint_id),
        patient_id: None,
        request_id: None,
        outcome: "success".to_owned(),
        status: 200,
    }
}
