//! Clinicians and what they treat where: `/v1/providers`.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::app::catalog::{self, ProviderLinks};
use crate::error::AppError;
use crate::http::auth::{AdminKey, Public};
use crate::http::conditional::{IfMatch, created, ok_tagged};
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageQuery};
use crate::http::problems::{
    AuthErrors, BadRequest, BodyErrors, InUse, NotFound, PreconditionFailed, PreconditionRequired,
    PublicErrors, ServerErrors,
};
use crate::http::rules;
use crate::http::state::AppState;
use crate::models::providers::{self as model, NewProvider, ProviderChanges, ProviderFilter};

/// A clinician who treats patients.
#[derive(Debug, Serialize, ToSchema)]
pub struct Provider {
    pub id: Uuid,
    #[schema(example = "Dr. Maya Chen")]
    pub name: String,
    #[schema(example = "MD")]
    pub credentials: Option<String>,
    pub bio: Option<String>,
    /// The treatment areas this provider treats.
    pub treatment_area_ids: Vec<Uuid>,
    /// The locations this provider works at.
    pub location_ids: Vec<Uuid>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
}

impl From<model::Provider> for Provider {
    fn from(provider: model::Provider) -> Self {
        let row = provider.row;
        Self {
            id: row.id,
            name: row.name,
            credentials: row.credentials,
            bio: row.bio,
            treatment_area_ids: provider.treatment_area_ids,
            location_ids: provider.location_ids,
            active: row.archived_at.is_none(),
            created_at: row.created_at,
            updated_at: row.updated_at,
            archived_at: row.archived_at,
        }
    }
}

/// A new provider.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Dr. Maya Chen", "credentials": "MD",
    "treatment_area_ids": ["01a2208c-c469-72e6-a438-057e659075a7"],
    "location_ids": ["01a2208c-c469-72e6-a438-057e659075a8"]
}))]
pub struct CreateProvider {
    #[garde(length(chars, min = 1, max = 200), custom(rules::name))]
    #[schema(min_length = 1, max_length = 200, format = "name")]
    pub name: String,
    #[garde(length(chars, max = 100))]
    #[schema(max_length = 100)]
    pub credentials: Option<String>,
    #[garde(length(chars, max = 4000))]
    #[schema(max_length = 4000)]
    pub bio: Option<String>,
    #[garde(length(max = 50), custom(distinct))]
    #[schema(max_items = 50)]
    pub treatment_area_ids: Vec<Uuid>,
    #[garde(length(max = 50), custom(distinct))]
    #[schema(max_items = 50)]
    pub location_ids: Vec<Uuid>,
}

/// Fields of a provider to change; a list given replaces the current one.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"credentials": "MD, PhD"}))]
pub struct UpdateProvider {
    #[garde(inner(length(chars, min = 1, max = 200), custom(rules::name)))]
    #[schema(min_length = 1, max_length = 200, format = "name")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "rules::nullable")]
    #[garde(custom(rules::nullable_text::<100>))]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub credentials: Option<Option<String>>,
    #[serde(default, deserialize_with = "rules::nullable")]
    #[garde(custom(rules::nullable_text::<4000>))]
    #[schema(value_type = Option<String>, max_length = 4000)]
    pub bio: Option<Option<String>>,
    #[garde(inner(length(max = 50), custom(distinct)))]
    #[schema(max_items = 50)]
    pub treatment_area_ids: Option<Vec<Uuid>>,
    #[garde(inner(length(max = 50), custom(distinct)))]
    #[schema(max_items = 50)]
    pub location_ids: Option<Vec<Uuid>>,
}

fn distinct(ids: &[Uuid], _: &()) -> garde::Result {
    let mut seen = std::collections::HashSet::new();
    if ids.iter().all(|id| seen.insert(id)) {
        Ok(())
    } else {
        Err(crate::http::rules::beyond_schema("lists an id twice"))
    }
}

/// Filters of the provider list.
#[derive(Debug, Deserialize, IntoParams, garde::Validate)]
#[into_params(parameter_in = Query)]
pub struct ProviderQuery {
    /// Only providers who treat this area.
    #[garde(skip)]
    pub treatment_area_id: Option<Uuid>,
    /// Only providers who work at this location.
    #[garde(skip)]
    pub location_id: Option<Uuid>,
    /// Only active (`true`) or only archived (`false`) providers.
    #[garde(skip)]
    pub active: Option<bool>,
}

/// Create a provider
#[utoipa::path(
    tag = "providers",
    security(("bearer" = [])),
    request_body = CreateProvider,
    responses(
        (status = 201, description = "Created", body = Provider, headers(("ETag" = String), ("Location" = String))),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[post("/providers")]
pub async fn create_provider(
    _caller: AdminKey,
    state: web::Data<AppState>,
    Json(body): Json<CreateProvider>,
) -> Result<HttpResponse, AppError> {
    let new = NewProvider {
        id: Uuid::now_v7(),
        name: body.name.trim().to_owned(),
        credentials: body.credentials,
        bio: body.bio,
    };
    let now = state.now();
    let mut conn = state.conn().await?;
    let provider = conn
        .transaction::<_, AppError, _>(async |conn| {
            catalog::create_provider(conn, new, &body.treatment_area_ids, &body.location_ids, now)
                .await
        })
        .await?;
    let version = provider.row.version;
    let provider = Provider::from(provider);
    Ok(created(
        format!("/v1/providers/{}", provider.id),
        &provider,
        version,
    ))
}

/// List providers
#[utoipa::path(
    tag = "providers",
    params(PageQuery, ProviderQuery),
    responses((status = 200, description = "One page of providers", body = Page<Provider>), (status = 400, response = BadRequest), PublicErrors, ServerErrors)
)]
#[get("/providers")]
pub async fn list_providers(
    caller: Public,
    state: web::Data<AppState>,
    Query(page): Query<PageQuery>,
    Query(query): Query<ProviderQuery>,
) -> Result<HttpResponse, AppError> {
    let request = page.request()?;
    let filter = ProviderFilter {
        treatment_area_id: query.treatment_area_id,
        location_id: query.location_id,
        active: query.active,
    };
    let mut conn = state.read_conn(caller.freshness()).await?;
    let rows = model::list(&mut conn, filter, request).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, request, |p| p.row.id, Provider::from)))
}

/// Get a provider
#[utoipa::path(
    tag = "providers",
    responses(
        (status = 200, description = "The provider", body = Provider, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        PublicErrors, ServerErrors,
    )
)]
#[get("/providers/{id}")]
pub async fn get_provider(
    _caller: Public,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.conn().await?;
    let provider = model::find(&mut conn, *id)
        .await?
        .ok_or(AppError::NotFound("provider"))?;
    let version = provider.row.version;
    Ok(ok_tagged(&Provider::from(provider), version))
}

/// Update a provider
///
/// Requires `If-Match`. Dropping a location the provider still has working hours at answers 409.
#[utoipa::path(
    tag = "providers",
    security(("bearer" = [])),
    request_body = UpdateProvider,
    params(("If-Match" = String, Header, description = "The current ETag")),
    responses(
        (status = 200, description = "The updated provider", body = Provider, headers(("ETag" = String))),
        (status = 404, response = NotFound),
        (status = 409, response = InUse),
        (status = 412, response = PreconditionFailed),
        (status = 428, response = PreconditionRequired),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[patch("/providers/{id}")]
pub async fn update_provider(
    _caller: AdminKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    Json(body): Json<UpdateProvider>,
) -> Result<HttpResponse, AppError> {
    let expected = if_match.required()?;
    let id = *id;
    let changes = ProviderChanges {
        name: body.name.map(|name| name.trim().to_owned()),
        credentials: body.credentials,
        bio: body.bio,
    };
    let links = ProviderLinks {
        treatment_area_ids: body.treatment_area_ids,
        location_ids: body.location_ids,
    };
    let now = state.now();
    let mut conn = state.conn().await?;
    let provider = conn
        .transaction::<_, AppError, _>(async |conn| {
            catalog::update_provider(conn, id, expected, changes, links, now).await
        })
        .await?;
    let version = provider.row.version;
    Ok(ok_tagged(&Provider::from(provider), version))
}

/// Archive a provider
///
/// Archived providers stay readable for history but are no longer bookable. `If-Match` is optional.
#[utoipa::path(
    tag = "providers",
    security(("bearer" = [])),
    params(("If-Match" = Option<String>, Header, description = "The current ETag, to archive only that version")),
    responses(
        (status = 200, description = "The archived provider", body = Provider, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        AuthErrors, ServerErrors,
    )
)]
#[post("/providers/{id}/archive")]
pub async fn archive_provider(
    _caller: AdminKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    let expected = if_match.optional();
    let id = *id;
    let now = state.now();
    let mut conn = state.conn().await?;
    let provider = conn
        .transaction::<_, AppError, _>(async |conn| {
            catalog::archive_provider(conn, id, expected, now).await
        })
        .await?;
    // The provider's keys end with it: at once here, on the notice elsewhere.
    state.keys.forget_all();
    let version = provider.row.version;
    Ok(ok_tagged(&Provider::from(provider), version))
}
