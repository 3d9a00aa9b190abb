//! When a room or device cannot be used: `/v1/resources/{id}/downtime`.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::time_off::SpanQuery;
use crate::app::{calendar, resources};
use crate::db::standby::Freshness;
use crate::error::AppError;
use crate::http::auth::{AdminKey, AnyKey};
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageQuery};
use crate::http::problems::{AuthErrors, BadRequest, BodyErrors, InUse, NotFound, ServerErrors};
use crate::http::rules;
use crate::http::state::AppState;
use crate::models::resources::{self as model, NewDowntime};

/// A period in which a resource is given to no session (maintenance, repair), in the zone of
/// the resource's location.
#[derive(Debug, Serialize, ToSchema)]
pub struct Downtime {
    pub id: Uuid,
    pub resource_id: Uuid,
    #[schema(value_type = String, format = DateTime, example = "2027-03-16T08:00:00-06:00")]
    pub starts_at: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime, example = "2027-03-16T12:00:00-06:00")]
    pub ends_at: DateTime<FixedOffset>,
    #[schema(example = "Probe repair")]
    pub reason: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<FixedOffset>,
}

impl Downtime {
    fn new(row: model::Downtime, zone: Tz) -> Self {
        let local = |at: DateTime<Utc>| at.with_timezone(&zone).fixed_offset();
        Self {
            id: row.id,
            resource_id: row.resource_id,
            starts_at: local(row.starts_at),
            ends_at: local(row.ends_at),
            reason: row.reason,
            created_at: local(row.created_at),
        }
    }
}

/// New downtime.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"starts_at": "2027-03-16T08:00:00-06:00", "ends_at": "2027-03-16T12:00:00-06:00", "reason": "Probe repair"}))]
pub struct CreateDowntime {
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

async fn resource_zone(conn: &mut AsyncPgConnection, resource_id: Uuid) -> Result<Tz, AppError> {
    let resource = model::find(conn, resource_id)
        .await?
        .ok_or(AppError::NotFound("resource"))?;
    calendar::zone_of(conn, resource.location_id).await
}

/// Add downtime to a room or device
///
/// Sessions that use the resource then make this a 409 `in-use` listing them in
/// `session_ids`: move them first, or archive the resource with `reassign`.
#[utoipa::path(
    tag = "resources",
    security(("bearer" = [])),
    request_body = CreateDowntime,
    responses(
        (status = 201, description = "Created", body = Downtime, headers(("Location" = String))),
        (status = 404, response = NotFound),
        (status = 409, response = InUse),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[post("/resources/{id}/downtime")]
pub async fn create_downtime(
    _caller: AdminKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    Json(body): Json<CreateDowntime>,
) -> Result<HttpResponse, AppError> {
    let new = NewDowntime {
        id: Uuid::now_v7(),
        resource_id: *id,
        starts_at: body.starts_at,
        ends_at: body.ends_at,
        reason: body.reason,
    };
    let now = state.now();
    let mut conn = state.conn().await?;
    let row = conn
        .transaction::<_, AppError, _>(async |conn| resources::add_downtime(conn, new, now).await)
        .await?;
    let zone = resource_zone(&mut conn, row.resource_id).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/v1/resources/{}/downtime/{}", row.resource_id, row.id),
        ))
        .json(Downtime::new(row, zone)))
}

/// List a room's or device's downtime
#[utoipa::path(
    tag = "resources",
    security(("bearer" = [])),
    params(PageQuery, SpanQuery),
    responses(
        (status = 200, description = "One page of downtime, oldest entry first", body = Page<Downtime>),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        AuthErrors, ServerErrors,
    )
)]
#[get("/resources/{id}/downtime")]
pub async fn list_downtime(
    _caller: AnyKey,
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
    let mut conn = state.read_conn(Freshness::Current).await?;
    let zone = resource_zone(&mut conn, *id).await?;
    let rows = model::downtime(&mut conn, *id, range.from, range.to, request).await?;
    let page = Page::from_rows(rows, request, |row| row.id, |row| Downtime::new(row, zone));
    Ok(HttpResponse::Ok().json(page))
}

/// Remove downtime of a room or device
#[utoipa::path(
    tag = "resources",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The resource"), ("downtime_id" = Uuid, Path, description = "The downtime")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        AuthErrors, ServerErrors,
    )
)]
#[delete("/resources/{id}/downtime/{downtime_id}")]
pub async fn delete_downtime(
    _caller: AdminKey,
    state: web::Data<AppState>,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, AppError> {
    let (resource_id, downtime_id) = *path;
    let now = state.now();
    let mut conn = state.conn().await?;
    conn.transaction::<_, AppError, _>(async |conn| {
        resources::delete_downtime(conn, resource_id, downtime_id, now).await
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
