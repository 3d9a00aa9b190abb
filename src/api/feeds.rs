//! Providers' calendar feeds: `/v1/providers/{id}/calendar-feed` to issue or revoke the URL,
//! and `/calendar/{token}.ics`, the feed calendar apps subscribe to.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use diesel_async::AsyncConnection;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::app::feeds;
use crate::db::standby::Freshness;
use crate::error::AppError;
use crate::http::auth::{ClinicianKey, TokenHolder};
use crate::http::problems::{AuthErrors, BadRequest, NotFound, PublicErrors, ServerErrors};
use crate::http::state::AppState;

/// A provider's calendar feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarFeed {
    /// The feed's capability URL: whoever has it reads the provider's calendar, so share it
    /// only with calendar apps. Shown only now; a new one replaces it.
    #[schema(example = "https://scheduling.clinic.example/calendar/3f9c…e1.ics")]
    pub url: String,
}

/// Issue a provider's calendar feed
///
/// For the front desk, an admin, or the provider's own key. Answers a new URL of the provider's
/// sessions as an iCalendar feed (30 days back, 180 ahead), to subscribe to in Google Calendar,
/// Apple Calendar or Outlook; the URL issued before it stops working.
#[utoipa::path(
    tag = "providers",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The feed's new URL, shown only now", body = CalendarFeed),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 422, response = crate::http::problems::UnprocessableValues),
        AuthErrors, ServerErrors,
    )
)]
#[post("/providers/{id}/calendar-feed")]
pub async fn create_calendar_feed(
    ClinicianKey(caller): ClinicianKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let now = state.now();
    let mut conn = state.conn().await?;
    let token = conn
        .transaction::<_, AppError, _>(async |conn| feeds::issue(conn, &caller, *id, now).await)
        .await?;
    let url = feeds::url(&state.outbox.public_url, &token);
    Ok(HttpResponse::Created().json(CalendarFeed { url }))
}

/// Revoke a provider's calendar feed
///
/// Its URL stops working at once (a 404, like any unknown URL).
#[utoipa::path(
    tag = "providers",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        AuthErrors, ServerErrors,
    )
)]
#[delete("/providers/{id}/calendar-feed")]
pub async fn delete_calendar_feed(
    ClinicianKey(caller): ClinicianKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let now = state.now();
    let mut conn = state.conn().await?;
    conn.transaction::<_, AppError, _>(async |conn| feeds::revoke(conn, &caller, *id, now).await)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A provider's calendar feed
///
/// RFC 5545 (`METHOD:PUBLISH`), times in UTC: one event per session with a stable `UID` and a
/// `SEQUENCE` that grows with each change; cancelled sessions stay 30 days as
/// `STATUS:CANCELLED`. Summaries name the area, the kind and the patient's initials (full names
/// only when the setting `feed_full_names` allows). Refreshed hourly (`REFRESH-INTERVAL`,
/// `X-PUBLISHED-TTL`); answers 304 to an `If-None-Match` with its `ETag`. The token is limited
/// per client IP like other secrets; an unknown or revoked one is a 404.
#[utoipa::path(
    tag = "providers",
    params(("token" = String, Path, description = "The feed's token, from its URL")),
    responses(
        (status = 200, description = "The feed", content_type = "text/calendar", body = String,
         headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 304, description = "Unchanged since the `ETag` given in `If-None-Match`"),
        (status = 404, response = NotFound),
        PublicErrors, ServerErrors,
    )
)]
#[get("/calendar/{token}.ics")]
pub async fn calendar_feed(
    _caller: TokenHolder,
    state: web::Data<AppState>,
    token: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let now = state.now();
    let mut conn = state.read_conn(Freshness::Bounded).await?;
    let ics = feeds::render(&mut conn, &state.outbox, &token, now).await?;
    drop(conn);
    let digest = Sha256::digest(ics.as_bytes());
    let etag = format!("\"{}\"", hex(&digest[..16]));
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|given| {
            given
                .split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
    let mut response = match unchanged {
        true => HttpResponse::NotModified(),
        false => HttpResponse::Ok(),
    };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "private, max-age=3600"));
    Ok(match unchanged {
        true => response.finish(),
        false => response
            .content_type("text/calendar; charset=utf-8")
            .body(ics),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
