//! A provider's absences: `/v1/providers/{id}/time-off`.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::app::catalog;
use crate::db::standby::Freshness;
use crate::error::AppError;
use crate::http::auth::{AdminKey, AnyKey};
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageQuery};
use crate::http::problems::{AuthErrors, BadRequest, BodyErrors, NotFound, ServerErrors};
use crate::http::rules;
use crate::http::state::AppState;
use crate::models::{locations, providers, time_off as model};

/// A period in which a provider cannot be booked. Instants are written in the zone of the
/// provider's locations when they share one, else in UTC (`Z`).
#[derive(Debug, Serialize, ToSchema)]
pub struct TimeOff {
    pub id: Uuid,
    pub provider_id: Uuid,
    #[schema(value_type = String, format = DateTime, example = "2026-12-24T00:00:00-07:00")]
    pub starts_at: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime, example = "2026-12-27T00:00:00-07:00")]
    pub ends_at: DateTime<FixedOffset>,
    #[schema(example = "Holidays")]
    pub reason: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<FixedOffset>,
}

impl TimeOff {
    fn new(row: model::TimeOff, zone: Tz) -> Self {
        let local = |at: DateTime<Utc>| at.with_timezone(&zone).fixed_offset();
        Self {
            id: row.id,
            provider_id: row.provider_id,
            starts_at: local(row.starts_at),
            ends_at: local(row.ends_at),
            reason: row.reason,
            created_at: local(row.created_at),
        }
    }
}

/// The zone a provider's own times are written in: that of its locations when they share one,
/// else UTC (time off belongs to the provider, not to one location).
async fn provider_zone(conn: &mut AsyncPgConnection, provider_id: Uuid) -> Result<Tz, AppError> {
    let locations = providers::location_ids(conn, provider_id).await?;
    let zones: Vec<Tz> = locations::time_zones(conn, &locations)
        .await?
        .into_values()
        .collect();
    Ok(match zones.split_first() {
        Some((first, rest)) if rest.iter().all(|zone| zone == first) => *first,
        _ => chrono_tz::UTC,
    })
}

/// A new time off.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"starts_at": "2026-12-24T00:00:00-07:00", "ends_at": "2026-12-27T00:00:00-07:00", "reason": "Holidays"}))]
pub struct CreateTimeOff {
    /// RFC 3339 with an offset.
    #[serde(deserialize_with = "rules::instant")]
    #[schema(value_type = String, format = DateTime)]
    #[garde(skip)]
    pub starts_at: DateTime<Utc>,
    /// RFC 3339 with an offset; after `starts_at`.
    #[serde(deserialize_with = "rules::instant")]
    #[schema(value_type = String, format = DateTime)]
    #[garde(custom(rules::ends_after(&self.starts_at)))]
    pub ends_at: DateTime<Utc>,
    #[garde(length(chars, max = 500))]
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// Time range of a list of spans (time off, downtime).
#[derive(Debug, Deserialize, IntoParams, garde::Validate)]
#[into_params(parameter_in = Query)]
pub struct SpanQuery {
    /// Only entries ending after this instant (RFC 3339).
    #[serde(default, deserialize_with = "rules::optional_instant")]
    #[param(value_type = Option<String>, format = DateTime)]
    #[garde(skip)]
    pub from: Option<DateTime<Utc>>,
    /// Only entries starting before this instant (RFC 3339).
    #[serde(default, deserialize_with = "rules::optional_instant")]
    #[param(value_type = Option<String>, format = DateTime)]
    #[garde(skip)]
    pub to: Option<DateTime<Utc>>,
}

/// Add time off for a provider
#[utoipa::path(
    tag = "providers",
    security(("bearer" = [])),
    request_body = CreateTimeOff,
    responses(
        (status = 201, description = "Created", body = TimeOff, headers(("Location" = String))),
        (status = 404, response = NotFound),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[post("/providers/{id}/time-off")]
pub async fn create_time_off(
    _caller: AdminKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    Json(body): Json<CreateTimeOff>,
) -> Result<HttpResponse, AppError> {
    let new = model::NewTimeOff {
        id: Uuid::now_v7(),
        provider_id: *id,
        starts_at: body.starts_at,
        ends_at: body.ends_at,
        reason: body.reason,
    };
    let now = state.now();
    let mut conn = state.conn().await?;
    let row = conn
        .transaction::<_, AppError, _>(async |conn| catalog::create_time_off(conn, new, now).await)
        .await?;
    let zone = provider_zone(&mut conn, row.provider_id).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/v1/providers/{}/time-off/{}", row.provider_id, row.id),
        ))
        .json(TimeOff::new(row, zone)))
}

/// List a provider's time off
#[utoipa::path(
    tag = "providers",
    security(("bearer" = [])),
    params(PageQuery, SpanQuery),
    responses(
        (status = 200, description = "One page of time off, oldest entry first", body = Page<TimeOff>),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        AuthErrors, ServerErrors,
    )
)]
#[get("/providers/{id}/time-off")]
pub async fn list_time_off(
    AnyKey(caller): AnyKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    Query(page): Query<PageQuery>,
    Query(range): Query<SpanQuery>,
) -> Result<HttpResponse, AppError> {
    let request = page.request()?;
    if let (Some(from), Some(to)) = (range.from, range.to)
        && to <= from
    {
        return Err(AppError::rule("to", "must be later than from"));
    }
    // A provider key sees its own schedule only; another provider's is "not found".
    if !caller.sees_provider(*id) {
        return Err(AppError::Concealed("provider"));
    }
    let mut conn = state.read_conn(Freshness::Current).await?;
    providers::find(&mut conn, *id)
        .await?
        .ok_or(AppError::NotFound("provider"))?;
    let rows = model::list(&mut conn, *id, range.from, range.to, request).await?;
    let zone = provider_zone(&mut conn, *id).await?;
    let page = Page::from_rows(rows, request, |row| row.id, |row| TimeOff::new(row, zone));
    Ok(HttpResponse::Ok().json(page))
}

/// Remove a provider's time off
#[utoipa::path(
    tag = "providers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The provider"), ("time_off_id" = Uuid, Path, description = "The time off")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        AuthErrors, ServerErrors,
    )
)]
#[delete("/providers/{id}/time-off/{time_off_id}")]
pub async fn delete_time_off(
    _caller: AdminKey,
    state: web::Data<AppState>,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, AppError> {
    let (provider_id, time_off_id) = *path;
    let now = state.now();
    let mut conn = state.conn().await?;
    conn.transaction::<_, AppError, _>(async |conn| {
        catalog::delete_time_off(conn, provider_id, time_off_id, now).await
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
