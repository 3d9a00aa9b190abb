//! Reading sessions: one, a list, and one's history.

use std::collections::HashMap;

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{Session, visible_to};
use crate::domain::sessions::SessionStatus;
use crate::error::AppError;
use crate::http::auth::AnyKey;
use crate::http::conditional::ok_tagged;
use crate::http::extract::Query;
use crate::http::pagination::Page;
use crate::http::problems::*;
use crate::http::rules;
use crate::http::state::AppState;
use crate::models::sessions::{self as model, SessionFilter};
use crate::models::{audit_events, locations};

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
    let row = visible_to(&caller, model::find(&mut conn, *id).await?)?;
    let record = model::record(&mut conn, row.id).await?;
    let zones = locations::time_zones(&mut conn, &[row.location_id]).await?;
    let audit = caller
        .audit("session.read", "sessions", Some(row.id), 200)
        .patient(row.patient_id);
    audit_events::append(&mut conn, audit).await?;
    let zone = zones
        .get(&row.location_id)
        .copied()
        .unwrap_or(chrono_tz::UTC);
    let session = Session::from_row(row, zone, record);
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
    let cursor = page.cursor.as_deref().map(decode_cursor).transpose()?;
    let provider_id = match (caller.provider_id, query.provider_id) {
        (Some(own), Some(asked)) if own != asked => return Err(AppError::Concealed("provider")),
        (Some(own), _) => Some(own),
        (None, asked) => asked,
    };
    let filter = SessionFilter {
        patient_id: query.patient_id,
        provider_id,
        course_id: query.course_id,
        location_id: query.location_id,
        status: query.status.map(|s| s.as_str().to_owned()),
        from: query.from,
        to: query.to,
    };
    let mut conn = state.conn().await?;
    let mut rows = model::list(&mut conn, filter, cursor, limit).await?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if has_more {
        rows.last().map(|row| encode_cursor(row.starts_at, row.id))
    } else {
        None
    };
    let location_ids: Vec<Uuid> = rows.iter().map(|row| row.location_id).collect();
    let zones = locations::time_zones(&mut conn, &location_ids).await?;
    let completed: Vec<Uuid> = rows
        .iter()
        .filter(|row| row.status == SessionStatus::Completed.as_str())
        .map(|row| row.id)
        .collect();
    let records = model::records(&mut conn, &completed).await?;
    let mut audit = caller.audit("session.list", "sessions", None, 200);
    audit.patient_id = query.patient_id;
    audit_events::append(&mut conn, audit).await?;
    Ok(HttpResponse::Ok().json(Page {
        items: with_zones_and_records(rows, &zones, records),
        next_cursor,
    }))
}

fn with_zones_and_records(
    rows: Vec<model::Session>,
    zones: &HashMap<Uuid, chrono_tz::Tz>,
    records: Vec<model::ClinicalRecord>,
) -> Vec<Session> {
    let mut records: HashMap<Uuid, model::ClinicalRecord> = records
        .into_iter()
        .map(|record| (record.session_id, record))
        .collect();
    rows.into_iter()
        .map(|row| {
            let zone = zones
                .get(&row.location_id)
                .copied()
                .unwrap_or(chrono_tz::UTC);
            let record = records.remove(&row.id);
            Session::from_row(row, zone, record)
        })
        .collect()
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
    let row = visible_to(&caller, model::find(&mut conn, *id).await?)?;
    let events = model::events(&mut conn, row.id).await?;
    let zones = locations::time_zones(&mut conn, &[row.location_id]).await?;
    let zone = zones
        .get(&row.location_id)
        .copied()
        .unwrap_or(chrono_tz::UTC);
    let local = |at: DateTime<Utc>| at.with_timezone(&zone).fixed_offset();
    let audit = caller
        .audit("session.history", "sessions", Some(row.id), 200)
        .patient(row.patient_id);
    audit_events::append(&mut conn, audit).await?;
    let parse = |status: &str| SessionStatus::parse(status).unwrap_or(SessionStatus::Scheduled);
    let items = events
        .into_iter()
        .map(|event| HistoryEntry {
            occurred_at: local(event.occurred_at),
            action: event.action,
            key_id: event.key_id,
            from_status: event.from_status.as_deref().map(parse),
            to_status: parse(&event.to_status),
            old_starts_at: event.old_starts_at.map(local),
            new_starts_at: event.new_starts_at.map(local),
            reason: event.reason,
        })
        .collect();
    Ok(HttpResponse::Ok().json(History { items }))
}
