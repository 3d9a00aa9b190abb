//! An endpoint's deliveries: a test ping, the list with every attempt, a retry.

use actix_web::{HttpResponse, get, post, web};
use diesel_async::AsyncConnection;
use uuid::Uuid;

use super::WebhookDelivery;
use crate::app::webhooks::endpoints as app;
use crate::error::AppError;
use crate::http::auth::AdminKey;
use crate::http::extract::Query;
use crate::http::pagination::{Page, PageQuery};
use crate::http::problems::{AuthErrors, BadRequest, InvalidTransition, NotFound, ServerErrors};
use crate::http::state::AppState;

/// Send a test event
///
/// Queues a `ping` event to the endpoint, whatever its `event_types`; the worker delivers it
/// within a second or so, signed like any event. Answers the delivery to follow it by.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    responses(
        (status = 202, description = "The ping's delivery, pending", body = WebhookDelivery),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, response = InvalidTransition),
        AuthErrors, ServerErrors,
    )
)]
#[post("/webhook-endpoints/{id}/test")]
pub async fn test_webhook_endpoint(
    AdminKey(caller): AdminKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let now = state.now();
    let mut conn = state.conn().await?;
    let delivery = conn
        .transaction::<_, AppError, _>(async |conn| app::ping(conn, &caller, *id, now).await)
        .await?;
    Ok(HttpResponse::Accepted().json(WebhookDelivery::of(delivery, Vec::new())))
}

/// List an endpoint's deliveries
///
/// Newest first, each with every attempt: its time, the status code, the latency and the first
/// KiB of the receiver's answer.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "One page of deliveries, newest first", body = Page<WebhookDelivery>),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        AuthErrors, ServerErrors,
    )
)]
#[get("/webhook-endpoints/{id}/deliveries")]
pub async fn list_webhook_deliveries(
    _caller: AdminKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    Query(page): Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let request = page.request()?;
    let mut conn = state.conn().await?;
    let rows = app::deliveries(&mut conn, *id, request).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(
        rows,
        request,
        |(delivery, _)| delivery.id,
        |(delivery, attempts)| WebhookDelivery::of(delivery, attempts),
    )))
}

/// Retry a delivery
///
/// Tries it again now: a failed one (its schedule spent, or after a 410), or a delivered one
/// to send it once more. 409 while an attempt of it is under way.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    responses(
        (status = 202, description = "The delivery, pending again", body = WebhookDelivery),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, response = InvalidTransition),
        AuthErrors, ServerErrors,
    )
)]
#[post("/webhook-endpoints/deliveries/{id}/retry")]
pub async fn retry_webhook_delivery(
    AdminKey(caller): AdminKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let now = state.now();
    let mut conn = state.conn().await?;
    let delivery = conn
        .transaction::<_, AppError, _>(async |conn| app::retry(conn, &caller, *id, now).await)
        .await?;
    Ok(HttpResponse::Accepted().json(WebhookDelivery::of(delivery, Vec::new())))
}
