//! Webhook endpoints (admin): `/v1/webhook-endpoints`, their deliveries and attempts.

pub mod deliveries;
pub mod endpoints;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::models::webhooks as model;

/// A receiver of signed events.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEndpoint {
    pub id: Uuid,
    #[schema(example = "https://billing.example/hooks/prolo")]
    pub url: String,
    #[schema(example = "Billing: sessions completed and cancelled")]
    pub description: Option<String>,
    /// The event types sent; `null`: every type.
    #[schema(example = json!(["session.completed", "session.cancelled"]))]
    pub event_types: Option<Vec<String>>,
    /// False once disabled, by an admin, by a 410 from the receiver, or after 5 days of
    /// failures; deliveries wait until it is enabled again.
    pub enabled: bool,
    /// Why it is disabled.
    #[schema(example = json!(null))]
    pub disabled_reason: Option<String>,
    /// Since when every attempt has failed (`null` after a success).
    pub failing_since: Option<DateTime<Utc>>,
    /// Until when the previous secret also signs (after a rotation).
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<model::Endpoint> for WebhookEndpoint {
    fn from(row: model::Endpoint) -> Self {
        Self {
            id: row.id,
            url: row.url,
            description: row.description,
            event_types: row.event_types,
            enabled: row.enabled,
            disabled_reason: row.disabled_reason,
            failing_since: row.failing_since,
            previous_secret_expires_at: row.previous_secret_until,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// An endpoint with its signing secret: answered once, by the create or the rotation.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEndpointWithSecret {
    #[serde(flatten)]
    pub endpoint: WebhookEndpoint,
    /// `whsec_` and the base64 of the HMAC key (Standard Webhooks); shown only now.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
}

/// One event to one endpoint, with every attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDelivery {
    pub id: Uuid,
    pub endpoint_id: Uuid,
    /// The event's id: the `webhook-id` header, the same on every attempt.
    pub event_id: Uuid,
    #[schema(example = "session.booked")]
    pub event_type: String,
    /// `pending` (waiting for its next attempt), `delivered` or `failed` (the schedule ran out,
    /// or the receiver answered 410).
    #[schema(example = "delivered")]
    pub status: String,
    pub attempts: Vec<WebhookAttempt>,
    /// When the next attempt is due (while `pending`).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// One attempt of a delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAttempt {
    pub attempted_at: DateTime<Utc>,
    /// The receiver's status code; `null` when no answer came.
    #[schema(example = 200)]
    pub status_code: Option<u16>,
    #[schema(example = 42)]
    pub latency_ms: i32,
    /// The first KiB of the receiver's answer.
    #[schema(example = "ok")]
    pub response: Option<String>,
    /// Why no answer came (a timeout, no connection, a forbidden address).
    pub error: Option<String>,
}

impl WebhookDelivery {
    fn of(row: model::Delivery, attempts: Vec<model::Attempt>) -> Self {
        Self {
            id: row.id,
            endpoint_id: row.endpoint_id,
            event_id: row.event_id,
            event_type: row.event_type,
            next_attempt_at: (row.status == "pending").then_some(row.next_attempt_at),
            status: row.status,
            attempts: attempts
                .into_iter()
                .map(|a| WebhookAttempt {
                    attempted_at: a.attempted_at,
                    status_code: a.status_code.map(|s| s as u16),
                    latency_ms: a.latency_ms,
                    response: a.response_excerpt,
                    error: a.error,
                })
                .collect(),
            created_at: row.created_at,
        }
    }
}
