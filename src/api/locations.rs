//! Clinic sites: `/v1/locations`.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::app::{catalog, records};
use crate::error::AppError;
use crate::http::auth::{AdminKey, Public};
use crate::http::conditional::{IfMatch, created, ok_tagged};
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageQuery};
use crate::http::problems::{
    AuthErrors, BadRequest, BodyErrors, NotFound, PreconditionFailed, PreconditionRequired,
    PublicErrors, ServerErrors,
};
use crate::http::rules;
use crate::http::state::AppState;
use crate::models::locations::{self as model, LocationChanges, NewLocation};

/// A clinic site.
#[derive(Debug, Serialize, ToSchema)]
pub struct Location {
    pub id: Uuid,
    #[schema(example = "Prolo Clinic Denver")]
    pub name: String,
    #[schema(example = "1200 Pearl St, Denver, CO 80203")]
    pub address: Option<String>,
    /// IANA time zone in which the site's working hours are read.
    #[schema(example = "America/Denver")]
    pub time_zone: String,
    /// False once archived.
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
}

impl From<model::Location> for Location {
    fn from(row: model::Location) -> Self {
        Self {
            id: row.id,
            name: row.name,
            address: row.address,
            time_zone: row.time_zone,
            active: row.archived_at.is_none(),
            created_at: row.created_at,
            updated_at: row.updated_at,
            archived_at: row.archived_at,
        }
    }
}

/// A new clinic site.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Prolo Clinic Denver", "time_zone": "America/Denver", "address": "1200 Pearl St, Denver, CO 80203"}))]
pub struct CreateLocation {
    #[garde(length(chars, min = 1, max = 200), custom(rules::name))]
    #[schema(min_length = 1, max_length = 200, format = "name")]
    pub name: String,
    /// IANA time-zone name.
    #[garde(custom(rules::iana_time_zone))]
    pub time_zone: String,
    #[garde(length(chars, max = 500))]
    #[schema(max_length = 500)]
    pub address: Option<String>,
}

/// Fields of a site to change; `address: null` clears it.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Prolo Clinic Denver – Pearl St"}))]
pub struct UpdateLocation {
    #[garde(inner(length(chars, min = 1, max = 200), custom(rules::name)))]
    #[schema(min_length = 1, max_length = 200, format = "name")]
    pub name: Option<String>,
    #[garde(inner(custom(rules::iana_time_zone)))]
    pub time_zone: Option<String>,
    #[serde(default, deserialize_with = "rules::nullable")]
    #[garde(custom(rules::nullable_text::<500>))]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub address: Option<Option<String>>,
}

/// Filters of the location list.
#[derive(Debug, Deserialize, IntoParams, garde::Validate)]
#[into_params(parameter_in = Query)]
pub struct LocationFilter {
    /// Only active (`true`) or only archived (`false`) sites.
    #[garde(skip)]
    pub active: Option<bool>,
}

/// Create a location
#[utoipa::path(
    tag = "locations",
    security(("bearer" = [])),
    request_body = CreateLocation,
    responses(
        (status = 201, description = "Created", body = Location,
         headers(("ETag" = String, description = "Version of the resource"), ("Location" = String, description = "URL of the new resource"))),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[post("/locations")]
pub async fn create_location(
    _caller: AdminKey,
    state: web::Data<AppState>,
    Json(body): Json<CreateLocation>,
) -> Result<HttpResponse, AppError> {
    let new = NewLocation {
        id: Uuid::now_v7(),
        name: body.name.trim().to_owned(),
        address: body.address,
        time_zone: body.time_zone,
    };
    let now = state.now();
    let mut conn = state.conn().await?;
    let row = conn
        .transaction::<_, AppError, _>(async |conn| catalog::create_location(conn, new, now).await)
        .await?;
    let version = row.version;
    let location = Location::from(row);
    Ok(created(
        format!("/v1/locations/{}", location.id),
        &location,
        version,
    ))
}

/// List locations
#[utoipa::path(
    tag = "locations",
    params(PageQuery, LocationFilter),
    responses((status = 200, description = "One page of locations", body = Page<Location>), (status = 400, response = BadRequest), PublicErrors, ServerErrors)
)]
#[get("/locations")]
pub async fn list_locations(
    caller: Public,
    state: web::Data<AppState>,
    Query(page): Query<PageQuery>,
    Query(filter): Query<LocationFilter>,
) -> Result<HttpResponse, AppError> {
    let request = page.request()?;
    let mut conn = state.read_conn(caller.freshness()).await?;
    let rows = model::list(&mut conn, filter.active, request).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, request, |row| row.id, Location::from)))
}

/// Get a location
#[utoipa::path(
    tag = "locations",
    responses(
        (status = 200, description = "The location", body = Location, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        PublicErrors, ServerErrors,
    )
)]
#[get("/locations/{id}")]
pub async fn get_location(
    _caller: Public,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.conn().await?;
    let row = model::find(&mut conn, *id)
        .await?
        .ok_or(AppError::NotFound("location"))?;
    let version = row.version;
    Ok(ok_tagged(&Location::from(row), version))
}

/// Update a location
///
/// Requires `If-Match` with the location's current `ETag`.
#[utoipa::path(
    tag = "locations",
    security(("bearer" = [])),
    request_body = UpdateLocation,
    params(("If-Match" = String, Header, description = "The current ETag")),
    responses(
        (status = 200, description = "The updated location", body = Location, headers(("ETag" = String))),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        (status = 428, response = PreconditionRequired),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[patch("/locations/{id}")]
pub async fn update_location(
    _caller: AdminKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    Json(body): Json<UpdateLocation>,
) -> Result<HttpResponse, AppError> {
    let expected = if_match.required()?;
    let id = *id;
    let changes = LocationChanges {
        name: body.name.map(|name| name.trim().to_owned()),
        address: body.address,
        time_zone: body.time_zone,
    };
    let now = state.now();
    let mut conn = state.conn().await?;
    let row = conn
        .transaction::<_, AppError, _>(async |conn| {
            catalog::update_location(conn, id, expected, changes, now).await
        })
        .await?;
    let version = row.version;
    Ok(ok_tagged(&Location::from(row), version))
}

/// Archive a location
///
/// Archived sites stay readable for history but are no longer offered. `If-Match` is optional.
#[utoipa::path(
    tag = "locations",
    security(("bearer" = [])),
    params(("If-Match" = Option<String>, Header, description = "The current ETag, to archive only that version")),
    responses(
        (status = 200, description = "The archived location", body = Location, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        AuthErrors, ServerErrors,
    )
)]
#[post("/locations/{id}/archive")]
pub async fn archive_location(
    _caller: AdminKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    let expected = if_match.optional();
    let id = *id;
    let now = state.now();
    let mut conn = state.conn().await?;
    let row = conn
        .transaction::<_, AppError, _>(async |conn| {
            records::archive::<model::Location>(conn, id, expected, now).await
        })
        .await?;
    let version = row.version;
    Ok(ok_tagged(&Location::from(row), version))
}
