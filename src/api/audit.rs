//! The audit trail: `/v1/audit-events`.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::AppError;
use crate::http::auth::AdminKey;
use crate::http::extract::Query;
use crate::http::pagination::{Page, PageQuery};
use crate::http::problems::{AuthErrors, BadRequest, ServerErrors};
use crate::http::rules;
use crate::http::state::AppState;
use crate::models::audit_events::{self as model, AuditFilter};

/// One recorded access or refusal.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    /// The key that made the request; absent when none (or an unknown one) was sent.
    pub key_id: Option<Uuid>,
    #[schema(example = "staff")]
    pub role: Option<String>,
    #[schema(example = "api_key.create")]
    pub action: String,
    #[schema(example = "api-keys")]
    pub resource_type: String,
    pub resource_id: Option<Uuid>,
    pub patient_id: Option<Uuid>,
    pub request_id: Option<String>,
    /// `success`, `denied` or `failed`.
    #[schema(example = "success")]
    pub outcome: String,
    /// The HTTP status answered.
    #[schema(example = 201)]
    pub status: i16,
    /// How many requests the event stands for: 1, but for `auth.refused` (refusals without a
    /// valid key, one event per client and minute) and `audit.purge` (events purged).
    #[schema(example = 1, minimum = 1)]
    pub count: i32,
    /// For `auth.refused`: the client's IP address (an IPv6 client's /64), or `other` for
    /// clients beyond the per-minute bound.
    #[schema(example = "203.0.113.9")]
    pub client: Option<String>,
}

impl From<model::AuditEvent> for AuditEvent {
    fn from(row: model::AuditEvent) -> Self {
        Self {
            id: row.id,
            occurred_at: row.occurred_at,
            key_id: row.key_id,
            role: row.role,
            action: row.action,
            resource_type: row.resource_type,
            resource_id: row.resource_id,
            patient_id: row.patient_id,
            request_id: row.request_id,
            outcome: row.outcome,
            status: row.status,
            count: row.count,
            client: row.client,
        }
    }
}

/// Filters of the audit trail.
#[derive(Debug, Deserialize, IntoParams, garde::Validate)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    #[garde(skip)]
    pub patient_id: Option<Uuid>,
    #[garde(skip)]
    pub key_id: Option<Uuid>,
    /// E.g. `patients`, `api-keys`.
    #[garde(inner(length(chars, max = 64)))]
    #[param(max_length = 64)]
    pub resource_type: Option<String>,
    #[garde(skip)]
    pub resource_id: Option<Uuid>,
    /// Events at or after this instant (RFC 3339).
    #[serde(default, deserialize_with = "rules::optional_instant")]
    #[param(value_type = Option<String>, format = DateTime)]
    #[garde(skip)]
    pub from: Option<DateTime<Utc>>,
    /// Events before this instant (RFC 3339).
    #[serde(default, deserialize_with = "rules::optional_instant")]
    #[param(value_type = Option<String>, format = DateTime)]
    #[garde(skip)]
    pub to: Option<DateTime<Utc>>,
}

/// List audit events
///
/// Admin only; oldest first. The trail is append-only: the database refuses to change or delete it.
#[utoipa::path(
    tag = "access",
    security(("bearer" = [])),
    params(PageQuery, AuditQuery),
    responses(
        (status = 200, description = "One page of events", body = Page<AuditEvent>),
        (status = 400, response = BadRequest), AuthErrors, ServerErrors,
    )
)]
#[get("/audit-events")]
pub async fn list_audit_events(
    _caller: AdminKey,
    state: web::Data<AppState>,
    Query(page): Query<PageQuery>,
    Query(query): Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    let request = page.request()?;
    let filter = AuditFilter {
        patient_id: query.patient_id,
        key_id: query.key_id,
        resource_type: query.resource_type,
        resource_id: query.resource_id,
        from: query.from,
        to: query.to,
    };
    let mut conn = state.conn().await?;
    let rows = model::list(&mut conn, filter, request).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(
        rows,
        request,
        |row| row.id,
        AuditEvent::from,
    )))
}
