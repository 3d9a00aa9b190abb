//! Rooms and devices: `/v1/resources`, and what treatment areas require of them.

pub mod downtime;

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::app::resources;
use crate::db::standby::Freshness;
use crate::domain::resources::{MAX_NEEDS, Requirements, ResourceKind, is_tag};
use crate::error::AppError;
use crate::http::auth::{AdminKey, AnyKey};
use crate::http::conditional::{IfMatch, created, ok_tagged};
use crate::http::extract::{Json, Query, optional_json};
use crate::http::pagination::{Page, PageQuery};
use crate::http::problems::{
    AuthErrors, BadRequest, BodyErrors, InUse, NotFound, PreconditionFailed, PreconditionRequired,
    ServerErrors,
};
use crate::http::rules;
use crate::http::state::AppState;
use crate::models::allocations::Allocated;
use crate::models::resources::{self as model, NewResource, ResourceChanges, ResourceFilter};

/// A room or a device at a location, which sessions needing one of its tags may be given.
#[derive(Debug, Serialize, ToSchema)]
pub struct Resource {
    pub id: Uuid,
    pub location_id: Uuid,
    pub kind: ResourceKind,
    #[schema(example = "Ultrasound 1")]
    pub name: String,
    /// What it can serve as: a treatment area requires tags, not resources.
    #[schema(example = json!(["ultrasound"]))]
    pub tags: Vec<String>,
    /// False once archived.
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
}

impl From<model::Resource> for Resource {
    fn from(row: model::Resource) -> Self {
        Self {
            id: row.id,
            location_id: row.location_id,
            kind: row.kind,
            name: row.name,
            tags: row.tags,
            active: row.archived_at.is_none(),
            created_at: row.created_at,
            updated_at: row.updated_at,
            archived_at: row.archived_at,
        }
    }
}

/// A resource a session was given.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionResource {
    pub id: Uuid,
    #[schema(example = "Ultrasound 1")]
    pub name: String,
    pub kind: ResourceKind,
    /// The tag of the treatment area's requirement it serves.
    #[schema(example = "ultrasound")]
    pub tag: String,
}

impl From<Allocated> for SessionResource {
    fn from(allocated: Allocated) -> Self {
        Self {
            id: allocated.id,
            name: allocated.name,
            kind: allocated.kind,
            tag: allocated.tag,
        }
    }
}

/// The tags each kind of session of a treatment area needs: one free resource per tag at the
/// session's location, for the session and its buffer. A kind left out needs none.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"injection": ["procedure-room", "ultrasound"], "assessment": ["consult-room"]}))]
pub struct ResourceNeeds {
    #[serde(default)]
    #[garde(custom(tag_list))]
    #[schema(max_items = 5, pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 40)]
    pub assessment: Vec<String>,
    #[serde(default)]
    #[garde(custom(tag_list))]
    #[schema(max_items = 5, pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 40)]
    pub injection: Vec<String>,
    #[serde(default)]
    #[garde(custom(tag_list))]
    #[schema(max_items = 5, pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 40)]
    pub follow_up: Vec<String>,
}

impl From<ResourceNeeds> for Requirements {
    fn from(needs: ResourceNeeds) -> Self {
        Self {
            assessment: distinct(needs.assessment),
            injection: distinct(needs.injection),
            follow_up: distinct(needs.follow_up),
        }
    }
}

impl From<Requirements> for ResourceNeeds {
    fn from(requirements: Requirements) -> Self {
        Self {
            assessment: requirements.assessment,
            injection: requirements.injection,
            follow_up: requirements.follow_up,
        }
    }
}

/// At most [`MAX_NEEDS`] well-formed tags.
fn tag_list(tags: &[String], _: &()) -> garde::Result {
    if tags.len() > MAX_NEEDS {
        return Err(garde::Error::new(format!("at most {MAX_NEEDS} tags")));
    }
    tag_set(tags, &())
}

/// Well-formed tags (a tag named twice counts once: see [`distinct`]).
fn tag_set(tags: &[String], _: &()) -> garde::Result {
    if let Some(bad) = tags.iter().find(|tag| !is_tag(tag)) {
        return Err(garde::Error::new(format!(
            "`{bad}` is not a tag: lower-case words of a-z and 0-9 joined by single hyphens, at \
             most 40 characters"
        )));
    }
    Ok(())
}

/// `tags` without repeats, in their order.
pub fn distinct(tags: Vec<String>) -> Vec<String> {
    let mut seen = Vec::with_capacity(tags.len());
    for tag in tags {
        if !seen.contains(&tag) {
            seen.push(tag);
        }
    }
    seen
}

/// A new room or device.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"location_id": "0192f0a4-5b6c-7d8e-9f00-112233445566", "kind": "device", "name": "Ultrasound 1", "tags": ["ultrasound"]}))]
pub struct CreateResource {
    #[garde(skip)]
    pub location_id: Uuid,
    #[garde(skip)]
    pub kind: ResourceKind,
    /// Unique among the location's active resources.
    #[garde(length(chars, min = 1, max = 100), custom(rules::name))]
    #[schema(min_length = 1, max_length = 100, format = "name")]
    pub name: String,
    /// One to ten tags (one named twice counts once).
    #[garde(length(min = 1, max = 10), custom(tag_set))]
    #[schema(
        min_items = 1,
        max_items = 10,
        pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$",
        max_length = 40
    )]
    pub tags: Vec<String>,
}

/// Fields of a resource to change; `tags` replaces the list.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Ultrasound 1 (portable)"}))]
pub struct UpdateResource {
    #[garde(skip)]
    pub kind: Option<ResourceKind>,
    #[garde(inner(length(chars, min = 1, max = 100), custom(rules::name)))]
    #[schema(min_length = 1, max_length = 100, format = "name")]
    pub name: Option<String>,
    #[garde(inner(length(min = 1, max = 10), custom(tag_set)))]
    #[schema(
        min_items = 1,
        max_items = 10,
        pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$",
        max_length = 40
    )]
    pub tags: Option<Vec<String>>,
}

/// How to archive a resource.
#[derive(Debug, Default, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
pub struct ArchiveResource {
    /// Give the future sessions that use it other free resources (all of them, or nothing is
    /// archived); without it, such sessions make the archive a 409 `in-use` listing them.
    #[serde(default)]
    #[garde(skip)]
    pub reassign: bool,
}

/// Filters of the resource list.
#[derive(Debug, Deserialize, IntoParams, garde::Validate)]
#[into_params(parameter_in = Query)]
pub struct ResourceQuery {
    #[garde(skip)]
    pub location_id: Option<Uuid>,
    #[garde(skip)]
    pub kind: Option<ResourceKind>,
    /// Only resources carrying this tag.
    #[garde(inner(length(max = 40)))]
    #[param(max_length = 40)]
    pub tag: Option<String>,
    /// Only active (`true`) or only archived (`false`) resources.
    #[garde(skip)]
    pub active: Option<bool>,
}

/// Add a room or device
#[utoipa::path(
    tag = "resources",
    security(("bearer" = [])),
    request_body = CreateResource,
    responses(
        (status = 201, description = "Created", body = Resource, headers(("ETag" = String), ("Location" = String))),
        (status = 409, description = "An active resource at the location has this name (`duplicate`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[post("/resources")]
pub async fn create_resource(
    _caller: AdminKey,
    state: web::Data<AppState>,
    Json(body): Json<CreateResource>,
) -> Result<HttpResponse, AppError> {
    let new = NewResource {
        id: Uuid::now_v7(),
        location_id: body.location_id,
        kind: body.kind,
        name: body.name.trim().to_owned(),
        tags: distinct(body.tags),
    };
    let now = state.now();
    let mut conn = state.conn().await?;
    let row = conn
        .transaction::<_, AppError, _>(async |conn| resources::create(conn, new, now).await)
        .await?;
    let version = row.version;
    let resource = Resource::from(row);
    Ok(created(
        format!("/v1/resources/{}", resource.id),
        &resource,
        version,
    ))
}

/// List rooms and devices
#[utoipa::path(
    tag = "resources",
    security(("bearer" = [])),
    params(PageQuery, ResourceQuery),
    responses(
        (status = 200, description = "One page of resources", body = Page<Resource>),
        (status = 400, response = BadRequest),
        AuthErrors, ServerErrors,
    )
)]
#[get("/resources")]
pub async fn list_resources(
    _caller: AnyKey,
    state: web::Data<AppState>,
    Query(page): Query<PageQuery>,
    Query(query): Query<ResourceQuery>,
) -> Result<HttpResponse, AppError> {
    let request = page.request()?;
    let filter = ResourceFilter {
        location_id: query.location_id,
        kind: query.kind,
        tag: query.tag,
        active: query.active,
    };
    let mut conn = state.read_conn(Freshness::Current).await?;
    let rows = model::list(&mut conn, &filter, request).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, request, |row| row.id, Resource::from)))
}

/// Get a room or device
#[utoipa::path(
    tag = "resources",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The resource", body = Resource, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        AuthErrors, ServerErrors,
    )
)]
#[get("/resources/{id}")]
pub async fn get_resource(
    _caller: AnyKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.conn().await?;
    let row = model::find(&mut conn, *id)
        .await?
        .ok_or(AppError::NotFound("resource"))?;
    let version = row.version;
    Ok(ok_tagged(&Resource::from(row), version))
}

/// Update a room or device
///
/// Requires `If-Match`. Taking away a tag that future sessions were given the resource for is
/// a 409 `in-use` listing them.
#[utoipa::path(
    tag = "resources",
    security(("bearer" = [])),
    request_body = UpdateResource,
    params(("If-Match" = String, Header, description = "The current ETag")),
    responses(
        (status = 200, description = "The updated resource", body = Resource, headers(("ETag" = String))),
        (status = 404, response = NotFound),
        (status = 409, response = InUse),
        (status = 412, response = PreconditionFailed),
        (status = 428, response = PreconditionRequired),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[patch("/resources/{id}")]
pub async fn update_resource(
    _caller: AdminKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    Json(body): Json<UpdateResource>,
) -> Result<HttpResponse, AppError> {
    let expected = if_match.required()?;
    let id = *id;
    let changes = ResourceChanges {
        kind: body.kind,
        name: body.name.map(|name| name.trim().to_owned()),
        tags: body.tags.map(distinct),
    };
    let now = state.now();
    let mut conn = state.conn().await?;
    let row = conn
        .transaction::<_, AppError, _>(async |conn| {
            resources::update(conn, id, expected, changes, now).await
        })
        .await?;
    let version = row.version;
    Ok(ok_tagged(&Resource::from(row), version))
}

/// Archive a room or device
///
/// Archived resources stay readable (sessions name them) but are given to no new session.
/// Future sessions using it make this a 409 `in-use` listing them in `session_ids`, unless
/// `reassign: true` gives each other free resources, or changes nothing if one cannot be.
/// `If-Match` is optional; the body may be omitted.
#[utoipa::path(
    tag = "resources",
    security(("bearer" = [])),
    request_body(content = Option<ArchiveResource>),
    params(("If-Match" = Option<String>, Header, description = "The current ETag, to archive only that version")),
    responses(
        (status = 200, description = "The archived resource", body = Resource, headers(("ETag" = String))),
        (status = 404, response = NotFound),
        (status = 409, response = InUse),
        (status = 412, response = PreconditionFailed),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[post("/resources/{id}/archive")]
pub async fn archive_resource(
    _caller: AdminKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let expected = if_match.optional();
    // The body is optional: none (or `null`) archives without reassigning.
    let reassign = optional_json::<ArchiveResource>(&body)?.reassign;
    let id = *id;
    let now = state.now();
    let mut conn = state.conn().await?;
    let row = conn
        .transaction::<_, AppError, _>(async |conn| {
            resources::archive(conn, id, expected, reassign, now).await
        })
        .await?;
    let version = row.version;
    Ok(ok_tagged(&Resource::from(row), version))
}
