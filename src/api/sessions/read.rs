//! Reading sessions: one, a list, and one's history.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::Session;
use crate::app::booking::read;
use crate::domain::sessions::SessionStatus;
use crate::error::AppError;
use crate::http::auth::AnyKey;
use crate::http::conditional::ok_tagged;
use crate::http::extract::Query;
use crate::http::pagination::Page;
use crate::http::problems::*;
use crate::http::rules;
use crate::http::state::AppState;
use crate::models::sessions::SessionFilter;

/// Get a session
///
/// With its clinical record once completed. A provider key sees only its own sessions.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The session", body = Session, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        AuthErrors, ServerErrors,
    )
)]
#[get("/sessions/{id}")]
pub async fn get_session(
    AnyKey(caller): AnyKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.conn().await?;
    let session = Session::from_view(read::get(&mut conn, &caller, *id).await?);
    Ok(ok_tagged(&session, session.version))
}

/// Filters of the session list.
#[derive(Debug, Deserialize, IntoParams, garde::Validate)]
#[into_params(parameter_in = Query)]
pub struct SessionQuery {
    #[garde(skip)]
    pub patient_id: Option<Uuid>,
    /// A provider key always sees only its own sessions.
    #[garde(skip)]
    pub provider_id: Option<Uuid>,
    #[garde(skip)]
    pub course_id: Option<Uuid>,
    #[garde(skip)]
    pub location_id: Option<Uuid>,
    #[garde(skip)]
    pub status: Option<SessionStatus>,
    /// Sessions ending after this instant (RFC 3339).
    #[serde(default, deserialize_with = "rules::optional_instant")]
    #[param(value_type = Option<String>, format = DateTime)]
    #[garde(skip)]
    pub from: Option<DateTime<Utc>>,
    /// Sessions starting before this instant (RFC 3339).
    #[serde(default, deserialize_with = "rules::optional_instant")]
    #[param(value_type = Option<String>, format = DateTime)]
    #[garde(skip)]
    pub to: Option<DateTime<Utc>>,
}

/// List sessions
///
/// Ordered by start, each with its clinical record once completed, as `GET /v1/sessions/{id}`
/// shows it. A provider key sees only its own sessions.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = [])),
    params(SessionPage, SessionQuery),
    responses(
        (status = 200, description = "One page of sessions, by start", body = Page<Session>),
        (status = 400, response = BadRequest), AuthErrors, ServerErrors,
    )
)]
#[get("/sessions")]
pub async fn list_sessions(
    AnyKey(caller): AnyKey,
    state: web::Data<AppState>,
    Query(page): Query<SessionPage>,
    Query(query): Query<SessionQuery>,
) -> Result<HttpResponse, AppError> {
    let limit = i64::from(page.limit.unwrap_or(20));
    let after = page.cursor.as_deref().map(decode_cursor).transpose()?;
    let filter = SessionFilter {
        patient_id: query.patient_id,
        provider_id: query.provider_id,
        course_id: query.course_id,
        location_id: query.location_id,
        status: query.status,
        from: query.from,
        to: query.to,
    };
    let mut conn = state.conn().await?;
    let (views, has_more) = read::list(&mut conn, &caller, filter, after, limit).await?;
    let next_cursor = match has_more {
        true => views
            .last()
            .map(|v| encode_cursor(v.row.starts_at, v.row.id)),
        false => None,
    };
    Ok(HttpResponse::Ok().json(Page {
        items: views.into_iter().map(Session::from_view).collect(),
        next_cursor,
    }))
}

/// Page parameters of the session list, whose cursor is a start time and an id.
#[derive(Debug, Deserialize, IntoParams, garde::Validate)]
#[into_params(parameter_in = Query)]
pub struct SessionPage {
    /// Items per page, 1 to 100.
    #[param(minimum = 1, maximum = 100, default = 20)]
    #[garde(inner(range(min = 1, max = 100)))]
    pub limit: Option<u16>,
    /// Opaque cursor from the previous page's `next_cursor`.
    #[param(pattern = r"^[0-9]{1,16}\.[0-9a-f]{32}$")]
    #[garde(skip)]
    pub cursor: Option<String>,
}

fn encode_cursor(start: DateTime<Utc>, id: Uuid) -> String {
    format!("{}.{}", start.timestamp_micros(), id.simple())
}

fn decode_cursor(cursor: &str) -> Result<(DateTime<Utc>, Uuid), AppError> {
    let invalid = || AppError::field("cursor", "is not a cursor issued by this API");
    let (micros, id) = cursor.split_once('.').ok_or_else(invalid)?;
    let start = micros
        .parse()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        // A start this API could never have issued: PostgreSQL cannot even compare with it.
        .filter(|start| rules::representable(*start))
        .ok_or_else(invalid)?;
    Ok((start, Uuid::try_parse(id).map_err(|_| invalid())?))
}

/// One change in a session's life; instants in the session location's zone.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntry {
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: DateTime<FixedOffset>,
    /// `booked`, `rescheduled`, `confirmed`, `checked_in`, `completed`, `cancelled` or `no_show`.
    #[schema(example = "rescheduled")]
    pub action: String,
    /// The key that made the change.
    pub key_id: Option<Uuid>,
    pub from_status: Option<SessionStatus>,
    pub to_status: SessionStatus,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub old_starts_at: Option<DateTime<FixedOffset>>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub new_starts_at: Option<DateTime<FixedOffset>>,
    pub reason: Option<String>,
}

/// A session's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct History {
    pub items: Vec<HistoryEntry>,
}

/// Get a session's history
///
/// Every change, oldest first: booking, each move with old and new times and its reason, each
/// status change, and who made it.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The history", body = History),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        AuthErrors, ServerErrors,
    )
)]
#[get("/sessions/{id}/history")]
pub async fn session_history(
    AnyKey(caller): AnyKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.conn().await?;
    let (entries, zone) = read::history(&mut conn, &caller, *id).await?;
    let local = |at: DateTime<Utc>| at.with_timezone(&zone).fixed_offset();
    let items = entries
        .into_iter()
        .map(|entry| HistoryEntry {
            occurred_at: local(entry.occurred_at),
            action: entry.action,
            key_id: entry.key_id,
            from_status: entry.from_status,
            to_status: entry.to_status,
            old_starts_at: entry.old_starts_at.map(local),
            new_starts_at: entry.new_starts_at.map(local),
            reason: entry.reason,
        })
        .collect();
    Ok(HttpResponse::Ok().json(History { items }))
}
