//! `/v1/webhook-endpoints`: register, list, read, change, delete, rotate the secret.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use diesel_async::AsyncConnection;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{WebhookEndpoint, WebhookEndpointWithSecret};
use crate::app::webhooks::endpoints::{self as app, EndpointSpec, EndpointUpdate, WithSecret};
use crate::error::AppError;
use crate::http::auth::AdminKey;
use crate::http::conditional::{IfMatch, created, ok_tagged, with_etag};
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageQuery};
use crate::http::problems::{
    AuthErrors, BadRequest, BodyErrors, NotFound, PreconditionFailed, PreconditionRequired,
    ServerErrors,
};
use crate::http::rules;
use crate::http::state::AppState;

/// A receiver to register.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://billing.example/hooks/prolo",
    "event_types": ["session.completed", "session.cancelled"],
    "description": "Billing: sessions completed and cancelled"}))]
pub struct CreateWebhookEndpoint {
    /// `https://` (`http://` only with `PROLO_WEBHOOK_ALLOW_INSECURE=true`), reaching a public
    /// address (unless `PROLO_WEBHOOK_ALLOW_PRIVATE=true`).
    #[garde(length(chars, min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000, format = "uri")]
    pub url: String,
    /// The event types to send (as `GET /v1/events` names them); omitted: every type.
    #[garde(inner(length(min = 1, max = 100)))]
    #[schema(min_items = 1, max_items = 100)]
    pub event_types: Option<Vec<String>>,
    #[garde(inner(length(chars, min = 1, max = 500), custom(rules::single_line)))]
    #[schema(min_length = 1, max_length = 500, format = "single-line")]
    pub description: Option<String>,
}

/// Fields of an endpoint to change; `event_types: null` sends every type again.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enabled": true}))]
pub struct UpdateWebhookEndpoint {
    #[garde(inner(length(chars, min = 1, max = 2000)))]
    #[schema(min_length = 1, max_length = 2000, format = "uri")]
    pub url: Option<String>,
    #[serde(default, deserialize_with = "rules::nullable")]
    #[garde(inner(inner(length(min = 1, max = 100))))]
    #[schema(value_type = Option<Vec<String>>, min_items = 1, max_items = 100)]
    pub event_types: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "rules::nullable")]
    #[garde(custom(rules::nullable_text::<500>), custom(single_line))]
    #[schema(value_type = Option<String>, max_length = 500, format = "single-line")]
    pub description: Option<Option<String>>,
    /// `true` turns a disabled endpoint back on: its waiting deliveries resume.
    #[garde(skip)]
    pub enabled: Option<bool>,
}

fn single_line(value: &Option<Option<String>>, _: &()) -> garde::Result {
    match value {
        Some(Some(text)) => rules::single_line(text, &()),
        _ => Ok(()),
    }
}

fn with_secret(made: WithSecret) -> WebhookEndpointWithSecret {
    WebhookEndpointWithSecret {
        endpoint: made.endpoint.into(),
        secret: made.secret,
    }
}

/// Register a webhook endpoint
///
/// Admin only. Events of the log are sent to `url`, signed by the Standard Webhooks v1 rules
/// with the `secret` of this answer, which is not shown again.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    request_body = CreateWebhookEndpoint,
    responses(
        (status = 201, description = "Registered; `secret` is shown only now", body = WebhookEndpointWithSecret,
         headers(("ETag" = String, description = "Version of the resource"), ("Location" = String, description = "URL of the new resource"))),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[post("/webhook-endpoints")]
pub async fn create_webhook_endpoint(
    AdminKey(caller): AdminKey,
    state: web::Data<AppState>,
    Json(body): Json<CreateWebhookEndpoint>,
) -> Result<HttpResponse, AppError> {
    let spec = EndpointSpec {
        url: body.url.trim().to_owned(),
        event_types: body.event_types,
        description: body.description,
    };
    let (now, policy) = (state.now(), state.webhook_urls);
    let mut conn = state.conn().await?;
    let made = conn
        .transaction::<_, AppError, _>(async |conn| {
            app::create(conn, &caller, spec, policy, now).await
        })
        .await?;
    let version = made.endpoint.version;
    let body = with_secret(made);
    Ok(created(
        format!("/v1/webhook-endpoints/{}", body.endpoint.id),
        &body,
        version,
    ))
}

/// List webhook endpoints
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "One page of endpoints", body = Page<WebhookEndpoint>),
        (status = 400, response = BadRequest),
        AuthErrors, ServerErrors,
    )
)]
#[get("/webhook-endpoints")]
pub async fn list_webhook_endpoints(
    _caller: AdminKey,
    state: web::Data<AppState>,
    Query(page): Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let request = page.request()?;
    let mut conn = state.conn().await?;
    let rows = app::list(&mut conn, request).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(
        rows,
        request,
        |row| row.id,
        WebhookEndpoint::from,
    )))
}

/// Get a webhook endpoint
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The endpoint", body = WebhookEndpoint, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        AuthErrors, ServerErrors,
    )
)]
#[get("/webhook-endpoints/{id}")]
pub async fn get_webhook_endpoint(
    _caller: AdminKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.conn().await?;
    let row = app::get(&mut conn, *id).await?;
    let version = row.version;
    Ok(ok_tagged(&WebhookEndpoint::from(row), version))
}

/// Update a webhook endpoint
///
/// Requires `If-Match` with the endpoint's current `ETag`. `enabled: true` turns a disabled
/// endpoint back on (clearing `disabled_reason`); its waiting deliveries resume.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    request_body = UpdateWebhookEndpoint,
    params(("If-Match" = String, Header, description = "The current ETag")),
    responses(
        (status = 200, description = "The updated endpoint", body = WebhookEndpoint, headers(("ETag" = String))),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        (status = 428, response = PreconditionRequired),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[patch("/webhook-endpoints/{id}")]
pub async fn update_webhook_endpoint(
    AdminKey(caller): AdminKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    Json(body): Json<UpdateWebhookEndpoint>,
) -> Result<HttpResponse, AppError> {
    let expected = if_match.required()?;
    let update = EndpointUpdate {
        url: body.url.map(|url| url.trim().to_owned()),
        event_types: body.event_types,
        description: body.description,
        enabled: body.enabled,
    };
    let (now, policy) = (state.now(), state.webhook_urls);
    let mut conn = state.conn().await?;
    let row = conn
        .transaction::<_, AppError, _>(async |conn| {
            app::update(conn, &caller, *id, expected, update, policy, now).await
        })
        .await?;
    let version = row.version;
    Ok(ok_tagged(&WebhookEndpoint::from(row), version))
}

/// Delete a webhook endpoint
///
/// Its deliveries and their attempts go with it.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        AuthErrors, ServerErrors,
    )
)]
#[delete("/webhook-endpoints/{id}")]
pub async fn delete_webhook_endpoint(
    AdminKey(caller): AdminKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.conn().await?;
    conn.transaction::<_, AppError, _>(async |conn| app::delete(conn, &caller, *id).await)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate an endpoint's secret
///
/// Answers the new secret (shown only now). For 24 hours the old one signs too: every request
/// carries both signatures in `webhook-signature`, so the receiver can switch at its pace.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The endpoint and its new secret", body = WebhookEndpointWithSecret, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        AuthErrors, ServerErrors,
    )
)]
#[post("/webhook-endpoints/{id}/rotate-secret")]
pub async fn rotate_webhook_secret(
    AdminKey(caller): AdminKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let now = state.now();
    let mut conn = state.conn().await?;
    let made = conn
        .transaction::<_, AppError, _>(async |conn| {
            app::rotate_secret(conn, &caller, *id, now).await
        })
        .await?;
    let version = made.endpoint.version;
    Ok(with_etag(HttpResponse::Ok(), version).json(with_secret(made)))
}
