//! An admin's webhook endpoints: register (the secret shown once), change, delete, rotate the
//! secret, send a ping, retry a delivery, read the deliveries with their attempts.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde_json::json;
use uuid::Uuid;

use crate::app::caller::{Caller, Expected};
use crate::domain::events::EventType;
use crate::domain::webhooks::{ROTATION_OVERLAP, generate_secret, is_forbidden, url_problem};
use crate::error::{AppError, ProblemType};
use crate::models::PageRequest;
use crate::models::audit_events;
use crate::models::webhooks::{
    self as model, Attempt, Delivery, Endpoint, EndpointChanges, NewDelivery, NewEndpoint,
};

/// What endpoint URLs may be (`PROLO_WEBHOOK_ALLOW_INSECURE`, `PROLO_WEBHOOK_ALLOW_PRIVATE`).
#[derive(Debug, Clone, Copy, Default)]
pub struct UrlPolicy {
    pub allow_insecure: bool,
    pub allow_private: bool,
}

impl UrlPolicy {
    /// The URL's problem, named for `field`. A literal address is judged here; a name is judged
    /// on every delivery, on the addresses it resolves to then.
    fn check(self, field: &str, url: &str) -> Result<(), AppError> {
        if let Some(problem) = url_problem(url, self.allow_insecure) {
            return Err(AppError::rule(field, problem));
        }
        let literal = url::Url::parse(url).ok().and_then(|u| match u.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        });
        if !self.allow_private && literal.is_some_and(is_forbidden) {
            return Err(AppError::rule(
                field,
                "names a loopback, private, link-local or otherwise non-public address \
                 (allowed only with PROLO_WEBHOOK_ALLOW_PRIVATE=true)",
            ));
        }
        Ok(())
    }
}

/// Every name in `types` must be an event type of the log.
fn check_types(types: &Option<Vec<String>>) -> Result<(), AppError> {
    for (n, name) in types.iter().flatten().enumerate() {
        if EventType::parse(name).is_none() {
            return Err(AppError::rule(
                format!("event_types[{n}]"),
                format!(
                    "`{name}` is not an event type (the catalogue is in GET /v1/events' document)"
                ),
            ));
        }
    }
    Ok(())
}

/// A new endpoint.
#[derive(Debug, Clone)]
pub struct EndpointSpec {
    pub url: String,
    /// `None`: every event type.
    pub event_types: Option<Vec<String>>,
    pub description: Option<String>,
}

/// An endpoint with its secret, shown only by the change that made it.
#[derive(Debug, Clone)]
pub struct WithSecret {
    pub endpoint: Endpoint,
    pub secret: String,
}

fn internal(error: impl std::error::Error + Send + Sync + 'static) -> AppError {
    AppError::Internal(Box::new(error))
}

pub async fn create(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    spec: EndpointSpec,
    policy: UrlPolicy,
    now: DateTime<Utc>,
) -> Result<WithSecret, AppError> {
    policy.check("url", &spec.url)?;
    check_types(&spec.event_types)?;
    let (secret, key) = generate_secret().map_err(internal)?;
    let endpoint = model::insert(
        conn,
        NewEndpoint {
            id: Uuid::now_v7(),
            url: spec.url,
            description: spec.description,
            event_types: spec.event_types,
            enabled: true,
            secret: key,
            created_at: now,
            updated_at: now,
        },
    )
    .await?;
    let audit = caller.audit(
        "webhook_endpoint.create",
        "webhook-endpoints",
        Some(endpoint.id),
        201,
    );
    audit_events::append(conn, audit).await?;
    Ok(WithSecret { endpoint, secret })
}

pub async fn get(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Endpoint, AppError> {
    model::find(conn, id)
        .await?
        .ok_or(AppError::NotFound("webhook endpoint"))
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    page: PageRequest,
) -> Result<Vec<Endpoint>, AppError> {
    Ok(model::list(conn, page).await?)
}

/// Fields to change; `None` leaves one as it is.
#[derive(Debug, Clone, Default)]
pub struct EndpointUpdate {
    pub url: Option<String>,
    pub event_types: Option<Option<Vec<String>>>,
    pub description: Option<Option<String>>,
    /// `true` turns a disabled endpoint back on (its waiting deliveries resume).
    pub enabled: Option<bool>,
}

pub async fn update(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    expected: Expected,
    update: EndpointUpdate,
    policy: UrlPolicy,
    now: DateTime<Utc>,
) -> Result<Endpoint, AppError> {
    let current = model::find_for_update(conn, id)
        .await?
        .ok_or(AppError::NotFound("webhook endpoint"))?;
    expected.check(current.version)?;
    if let Some(url) = &update.url {
        policy.check("url", url)?;
    }
    if let Some(types) = &update.event_types {
        check_types(types)?;
    }
    let mut changes = EndpointChanges {
        url: update.url,
        description: update.description,
        event_types: update.event_types,
        enabled: update.enabled,
        ..EndpointChanges::default()
    };
    match update.enabled {
        Some(true) if !current.enabled => {
            changes.disabled_reason = Some(None);
            changes.failing_since = Some(None);
        }
        Some(false) if current.enabled => {
            changes.disabled_reason = Some(Some("disabled by an admin".to_owned()));
        }
        _ => {}
    }
    let endpoint = model::update(conn, id, changes, now).await?;
    let audit = caller.audit(
        "webhook_endpoint.update",
        "webhook-endpoints",
        Some(id),
        200,
    );
    audit_events::append(conn, audit).await?;
    Ok(endpoint)
}

pub async fn delete(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<(), AppError> {
    if model::delete(conn, id).await? == 0 {
        return Err(AppError::NotFound("webhook endpoint"));
    }
    let audit = caller.audit(
        "webhook_endpoint.delete",
        "webhook-endpoints",
        Some(id),
        204,
    );
    audit_events::append(conn, audit).await?;
    Ok(())
}

/// A new secret; the old one still signs (beside the new) for 24 hours.
pub async fn rotate_secret(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<WithSecret, AppError> {
    let current = model::find_for_update(conn, id)
        .await?
        .ok_or(AppError::NotFound("webhook endpoint"))?;
    let (secret, key) = generate_secret().map_err(internal)?;
    let changes = EndpointChanges {
        secret: Some(key),
        previous_secret: Some(Some(current.secret)),
        previous_secret_until: Some(Some(now + ROTATION_OVERLAP)),
        ..EndpointChanges::default()
    };
    let endpoint = model::update(conn, id, changes, now).await?;
    let audit = caller.audit(
        "webhook_endpoint.rotate_secret",
        "webhook-endpoints",
        Some(id),
        200,
    );
    audit_events::append(conn, audit).await?;
    Ok(WithSecret { endpoint, secret })
}

/// Queues a `ping` to the endpoint (whatever its event types), delivered like any event.
pub async fn ping(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Delivery, AppError> {
    let endpoint = get(conn, id).await?;
    if !endpoint.enabled {
        return Err(AppError::Problem(
            ProblemType::InvalidTransition,
            "the endpoint is disabled: enable it first (PATCH enabled: true)".to_owned(),
        ));
    }
    let event_id = Uuid::now_v7();
    let body = json!({
        "type": "ping",
        "timestamp": now,
        "data": {"endpoint_id": endpoint.id, "ping_id": event_id},
    });
    let delivery = NewDelivery {
        id: Uuid::now_v7(),
        endpoint_id: endpoint.id,
        event_id,
        event_type: "ping".to_owned(),
        body: body.to_string(),
        status: "pending",
        next_attempt_at: now,
        created_at: now,
    };
    let delivery_id = delivery.id;
    model::add_deliveries(conn, vec![delivery]).await?;
    let audit = caller.audit("webhook_endpoint.test", "webhook-endpoints", Some(id), 202);
    audit_events::append(conn, audit).await?;
    model::find_delivery(conn, delivery_id)
        .await?
        .ok_or(AppError::NotFound("webhook delivery"))
}

/// Tries a delivery again now (a failed one, or a delivered one to send it once more).
pub async fn retry(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    delivery_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Delivery, AppError> {
    model::find_delivery(conn, delivery_id)
        .await?
        .ok_or(AppError::NotFound("webhook delivery"))?;
    if !model::requeue(conn, delivery_id, now).await? {
        return Err(AppError::Problem(
            ProblemType::InvalidTransition,
            "an attempt of this delivery is under way; retry once it has settled".to_owned(),
        ));
    }
    let audit = caller.audit(
        "webhook_delivery.retry",
        "webhook-deliveries",
        Some(delivery_id),
        202,
    );
    audit_events::append(conn, audit).await?;
    model::find_delivery(conn, delivery_id)
        .await?
        .ok_or(AppError::NotFound("webhook delivery"))
}

/// The endpoint's deliveries, newest first, each with its attempts.
pub async fn deliveries(
    conn: &mut AsyncPgConnection,
    endpoint_id: Uuid,
    page: PageRequest,
) -> Result<Vec<(Delivery, Vec<Attempt>)>, AppError> {
    get(conn, endpoint_id).await?;
    let deliveries = model::deliveries_of(conn, endpoint_id, page).await?;
    let ids: Vec<Uuid> = deliveries.iter().map(|d| d.id).collect();
    let mut attempts = model::attempts_of(conn, &ids).await?;
    Ok(deliveries
        .into_iter()
        .map(|delivery| {
            let (mine, rest) = attempts
                .drain(..)
                .partition(|a| a.delivery_id == delivery.id);
            attempts = rest;
            (delivery, mine)
        })
        .collect())
}
