//! API keys and the caller's own identity: `/v1/api-keys`, `/v1/me`.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::app::access::{self, IssueKey};
use crate::domain::access::Role;
use crate::error::AppError;
use crate::http::auth::{AdminKey, AnyKey};
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageQuery};
use crate::http::problems::{AuthErrors, BadRequest, BodyErrors, NotFound, ServerErrors};
use crate::http::rules;
use crate::http::state::AppState;
use crate::models::api_keys as model;

/// An API key as listed: never the secret itself.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKey {
    pub id: Uuid,
    /// The key's first characters, to recognise it.
    #[schema(example = "prolo_3f9a2c1e")]
    pub prefix: String,
    #[schema(example = "Front desk")]
    pub label: String,
    pub role: Role,
    /// For `provider` keys: the provider the key acts for.
    pub provider_id: Option<Uuid>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// False once revoked or expired.
    pub active: bool,
}

impl From<model::ApiKey> for ApiKey {
    fn from(row: model::ApiKey) -> Self {
        let active = row.revoked_at.is_none() && row.expires_at.is_none_or(|at| at > Utc::now());
        Self {
            id: row.id,
            prefix: row.prefix,
            label: row.label,
            role: row.role,
            provider_id: row.provider_id,
            expires_at: row.expires_at,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            revoked_at: row.revoked_at,
            active,
        }
    }
}

/// A new key, with its secret: shown only in this response.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiKey {
    /// The secret to send as `Authorization: Bearer <key>`; it cannot be shown again.
    #[schema(example = "prolo_3f9a2c1e5b7d4a6c8e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d")]
    pub key: String,
    #[serde(flatten)]
    pub api_key: ApiKey,
}

/// A key to create.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "staff", "label": "Front desk", "expires_at": "2027-06-30T00:00:00Z"}))]
pub struct CreateApiKey {
    #[garde(skip)]
    pub role: Role,
    #[garde(length(chars, min = 1, max = 200), custom(rules::name))]
    #[schema(min_length = 1, max_length = 200, format = "name")]
    pub label: String,
    /// Required for (and only for) `provider` keys.
    #[garde(custom(provider_matches_role(&self.role)))]
    pub provider_id: Option<Uuid>,
    /// When the key stops working; never when absent.
    #[serde(default, deserialize_with = "rules::optional_instant")]
    #[schema(value_type = Option<String>, format = DateTime)]
    #[garde(skip)]
    pub expires_at: Option<DateTime<Utc>>,
}

fn provider_matches_role(role: &Role) -> impl FnOnce(&Option<Uuid>, &()) -> garde::Result + '_ {
    move |provider_id, _| match (role, provider_id) {
        (Role::Provider, None) => Err(crate::http::rules::beyond_schema(
            "is required for a provider key",
        )),
        (Role::Admin | Role::Staff, Some(_)) => Err(crate::http::rules::beyond_schema(
            "is only for provider keys",
        )),
        _ => Ok(()),
    }
}

/// The caller's identity.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub key_id: Uuid,
    pub role: Role,
    pub provider_id: Option<Uuid>,
    pub label: String,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Create an API key
///
/// Admin only. The secret is in this response and nowhere else: it is stored as a SHA-256 hash.
#[utoipa::path(
    tag = "access",
    security(("bearer" = [])),
    request_body = CreateApiKey,
    responses(
        (status = 201, description = "Created; `key` is shown only now", body = CreatedApiKey, headers(("Location" = String))),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[post("/api-keys")]
pub async fn create_api_key(
    AdminKey(caller): AdminKey,
    state: web::Data<AppState>,
    Json(body): Json<CreateApiKey>,
) -> Result<HttpResponse, AppError> {
    let command = IssueKey {
        role: body.role,
        label: body.label,
        provider_id: body.provider_id,
        expires_at: body.expires_at,
    };
    let now = state.now();
    let mut conn = state.conn().await?;
    let (secret, row) = conn
        .transaction::<_, AppError, _>(async |conn| {
            access::issue(conn, &caller, command, now).await
        })
        .await?;
    let created = CreatedApiKey {
        key: secret,
        api_key: ApiKey::from(row),
    };
    Ok(HttpResponse::Created()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/v1/api-keys/{}", created.api_key.id),
        ))
        .json(created))
}

/// List API keys
#[utoipa::path(
    tag = "access",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "One page of keys, oldest first", body = Page<ApiKey>),
        (status = 400, response = BadRequest), AuthErrors, ServerErrors,
    )
)]
#[get("/api-keys")]
pub async fn list_api_keys(
    _caller: AdminKey,
    state: web::Data<AppState>,
    Query(page): Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let request = page.request()?;
    let mut conn = state.conn().await?;
    let rows = access::list(&mut conn, request).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, request, |row| row.id, ApiKey::from)))
}

/// Revoke an API key
///
/// Takes effect at once on the replica that answers, and within a second on every other. Revoking twice is harmless. The key a
/// request is made with cannot revoke itself (422): that would lock its holder out.
#[utoipa::path(
    tag = "access",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 422, response = crate::http::problems::UnprocessableValues),
        AuthErrors, ServerErrors,
    )
)]
#[delete("/api-keys/{id}")]
pub async fn revoke_api_key(
    AdminKey(caller): AdminKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = *id;
    let mut conn = state.conn().await?;
    conn.transaction::<_, AppError, _>(async |conn| access::revoke(conn, &caller, id).await)
        .await?;
    // This replica forgets at once; the others on the notice the revocation sent.
    state.keys.forget_all();
    Ok(HttpResponse::NoContent().finish())
}

/// Who am I
#[utoipa::path(
    tag = "access",
    security(("bearer" = [])),
    responses((status = 200, description = "The calling key", body = Me), AuthErrors, ServerErrors)
)]
#[get("/me")]
pub async fn me(
    AnyKey(caller): AnyKey,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.conn().await?;
    let key = access::me(&mut conn, &caller).await?;
    Ok(HttpResponse::Ok().json(Me {
        key_id: key.id,
        role: key.role,
        provider_id: key.provider_id,
        label: key.label,
        expires_at: key.expires_at,
    }))
}
