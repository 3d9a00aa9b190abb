//! The front desk's triage: list, search, read, change, the timeline, and the figures.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::Inquiry;
use crate::app::inquiries::triage::{self, Triage};
use crate::domain::inquiries::{InquiryKind, InquiryStatus};
use crate::error::AppError;
use crate::http::auth::StaffKey;
use crate::http::conditional::{IfMatch, ok_tagged};
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageQuery};
use crate::http::problems::*;
use crate::http::rules;
use crate::http::state::AppState;
use crate::models::inquiries::{self as model, InquirySearch};

/// Filters of the triage list: the query of `GET /v1/inquiries` and the body of
/// `POST /v1/inquiries/search` (which alone takes `q`, a personal value).
#[derive(Debug, Deserialize, IntoParams, ToSchema, garde::Validate)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"q": "reyes", "status": "new", "kind": "appointment_request"}))]
pub struct InquiryQuery {
    /// Part of the name, email, phone or message (case-insensitive); search only.
    #[param(ignore)]
    #[garde(inner(length(chars, min = 2, max = 100), custom(rules::single_line)))]
    #[schema(min_length = 2, max_length = 100, format = "single-line")]
    pub q: Option<String>,
    #[garde(skip)]
    pub status: Option<InquiryStatus>,
    #[garde(skip)]
    pub kind: Option<InquiryKind>,
    #[garde(skip)]
    pub treatment_area_id: Option<Uuid>,
    /// The API key of the staff member handling it.
    #[garde(skip)]
    pub assignee_key_id: Option<Uuid>,
    /// Arrived at or after this instant (RFC 3339).
    #[serde(default, deserialize_with = "rules::optional_instant")]
    #[param(value_type = Option<String>, format = DateTime)]
    #[schema(value_type = Option<String>, format = DateTime)]
    #[garde(skip)]
    pub created_from: Option<DateTime<Utc>>,
    /// Arrived before this instant (RFC 3339).
    #[serde(default, deserialize_with = "rules::optional_instant")]
    #[param(value_type = Option<String>, format = DateTime)]
    #[schema(value_type = Option<String>, format = DateTime)]
    #[garde(skip)]
    pub created_to: Option<DateTime<Utc>>,
    /// Items per page, 1 to 100.
    #[param(minimum = 1, maximum = 100, default = 20)]
    #[schema(minimum = 1, maximum = 100, default = 20)]
    #[garde(inner(range(min = 1, max = 100)))]
    pub limit: Option<u16>,
    /// Opaque cursor from the previous page's `next_cursor`.
    #[schema(pattern = r"^[0-9a-f]{32}$")]
    #[param(pattern = r"^[0-9a-f]{32}$")]
    #[garde(skip)]
    pub cursor: Option<String>,
}

impl InquiryQuery {
    async fn respond(
        self,
        caller: &crate::app::caller::Caller,
        state: &AppState,
        action: &str,
    ) -> Result<HttpResponse, AppError> {
        let request = PageQuery {
            limit: self.limit,
            cursor: self.cursor,
        }
        .request()?;
        let search = InquirySearch {
            text: self.q.map(|q| q.trim().to_owned()),
            status: self.status,
            kind: self.kind,
            treatment_area_id: self.treatment_area_id,
            assignee_key_id: self.assignee_key_id,
            created_from: self.created_from,
            created_to: self.created_to,
        };
        let mut conn = state.conn().await?;
        let rows = triage::search(&mut conn, caller, search, request, action).await?;
        Ok(HttpResponse::Ok().json(Page::from_rows(rows, request, |row| row.id, Inquiry::from)))
    }
}

/// List inquiries
///
/// Oldest first. To search by name, email, phone or message, use `POST /v1/inquiries/search`,
/// which keeps those values out of URLs.
#[utoipa::path(
    tag = "inquiries",
    security(("bearer" = [])),
    params(InquiryQuery),
    responses(
        (status = 200, description = "One page of inquiries, oldest first", body = Page<Inquiry>),
        (status = 400, response = BadRequest), AuthErrors, ServerErrors,
    )
)]
#[get("/inquiries")]
pub async fn list_inquiries(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    Query(query): Query<InquiryQuery>,
) -> Result<HttpResponse, AppError> {
    if query.q.is_some() {
        return Err(AppError::field(
            "q",
            "is personal: send it in the body of POST /v1/inquiries/search",
        ));
    }
    query.respond(&caller, &state, "inquiry.list").await
}

/// Search inquiries
///
/// The list's filters plus `q`, in a body so that personal values never appear in a URL.
#[utoipa::path(
    tag = "inquiries",
    security(("bearer" = [])),
    request_body = InquiryQuery,
    responses(
        (status = 200, description = "One page of matching inquiries, oldest first", body = Page<Inquiry>),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[post("/inquiries/search")]
pub async fn search_inquiries(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    Json(query): Json<InquiryQuery>,
) -> Result<HttpResponse, AppError> {
    query.respond(&caller, &state, "inquiry.search").await
}

/// Get an inquiry
#[utoipa::path(
    tag = "inquiries",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The inquiry", body = Inquiry, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        AuthErrors, ServerErrors,
    )
)]
#[get("/inquiries/{id}")]
pub async fn get_inquiry(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.conn().await?;
    let row = triage::get(&mut conn, &caller, *id).await?;
    let version = row.version;
    Ok(ok_tagged(&Inquiry::from(row), version))
}

/// Triage changes; `null` clears the assignee or the notes.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "contacted", "assignee_key_id": "01938f2e-7b3c-7d10-9a1e-4c2b8d6f0a12", "notes": "Called back, wants a Tuesday morning."}))]
pub struct UpdateInquiry {
    /// `new → contacted → scheduled | closed | spam`; `new` may skip ahead; `closed` may be
    /// reopened as `contacted`, and `spam` returned to `new`.
    #[garde(skip)]
    pub status: Option<InquiryStatus>,
    /// An active admin or staff key.
    #[serde(default, deserialize_with = "rules::nullable")]
    #[schema(value_type = Option<Uuid>)]
    #[garde(skip)]
    pub assignee_key_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "rules::nullable")]
    #[schema(value_type = Option<String>, max_length = 10000, format = "multi-line")]
    #[garde(
        custom(rules::nullable_text::<10000>),
        inner(inner(custom(rules::multi_line)))
    )]
    pub notes: Option<Option<String>>,
}

/// Update an inquiry
///
/// Requires `If-Match` with the inquiry's current `ETag`. Every change lands in the timeline.
#[utoipa::path(
    tag = "inquiries",
    security(("bearer" = [])),
    request_body = UpdateInquiry,
    params(("If-Match" = String, Header, description = "The current ETag")),
    responses(
        (status = 200, description = "The updated inquiry", body = Inquiry, headers(("ETag" = String))),
        (status = 404, response = NotFound),
        (status = 409, description = "The status cannot change this way (`invalid-transition`), or the inquiry was erased (`inquiry-erased`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 412, response = PreconditionFailed),
        (status = 428, response = PreconditionRequired),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[patch("/inquiries/{id}")]
pub async fn update_inquiry(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    Json(body): Json<UpdateInquiry>,
) -> Result<HttpResponse, AppError> {
    let expected = if_match.required()?;
    let (id, now) = (*id, state.now());
    let change = Triage {
        status: body.status,
        assignee_key_id: body.assignee_key_id,
        notes: body.notes,
    };
    let mut conn = state.conn().await?;
    let row = conn
        .transaction::<_, AppError, _>(async |conn| {
            triage::update(conn, &caller, id, expected, change, now).await
        })
        .await?;
    let version = row.version;
    Ok(ok_tagged(&Inquiry::from(row), version))
}

/// One change in an inquiry's life.
#[derive(Debug, Serialize, ToSchema)]
pub struct InquiryEventView {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    /// Who: the staff key, or none for the public form and the retention purge.
    pub key_id: Option<Uuid>,
    /// `received`, `updated`, `converted` or `erased`.
    #[schema(example = "updated")]
    pub action: String,
    pub from_status: Option<InquiryStatus>,
    pub to_status: InquiryStatus,
    /// Names of the fields changed (never their values).
    #[schema(example = json!(["status", "notes"]))]
    pub changed: Vec<String>,
    /// The new assignee, when `changed` names it.
    pub assignee_key_id: Option<Uuid>,
    /// What a conversion linked.
    pub patient_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
}

impl From<model::InquiryEvent> for InquiryEventView {
    fn from(row: model::InquiryEvent) -> Self {
        Self {
            id: row.id,
            occurred_at: row.occurred_at,
            key_id: row.key_id,
            action: row.action,
            from_status: row.from_status,
            to_status: row.to_status,
            changed: row.changed,
            assignee_key_id: row.assignee_key_id,
            patient_id: row.patient_id,
            session_id: row.session_id,
        }
    }
}

/// The timeline of an inquiry.
#[derive(Debug, Serialize, ToSchema)]
pub struct InquiryTimeline {
    /// Oldest first.
    pub items: Vec<InquiryEventView>,
}

/// An inquiry's timeline
///
/// Every change: arrival, status changes, assignments, notes, conversion, erasure.
#[utoipa::path(
    tag = "inquiries",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The timeline, oldest first", body = InquiryTimeline),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        AuthErrors, ServerErrors,
    )
)]
#[get("/inquiries/{id}/timeline")]
pub async fn inquiry_timeline(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.conn().await?;
    let items = triage::timeline(&mut conn, &caller, *id).await?;
    Ok(HttpResponse::Ok().json(InquiryTimeline {
        items: items.into_iter().map(InquiryEventView::from).collect(),
    }))
}

/// The period of the figures.
#[derive(Debug, Deserialize, IntoParams, garde::Validate)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// Inquiries that arrived at or after this instant (RFC 3339); none: from the first.
    #[serde(default, deserialize_with = "rules::optional_instant")]
    #[param(value_type = Option<String>, format = DateTime)]
    #[garde(skip)]
    pub from: Option<DateTime<Utc>>,
    /// Inquiries that arrived before this instant (RFC 3339); none: up to now.
    #[serde(default, deserialize_with = "rules::optional_instant")]
    #[param(value_type = Option<String>, format = DateTime)]
    #[garde(skip)]
    pub to: Option<DateTime<Utc>>,
}

/// The front desk's figures for a period. Erased inquiries still count.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "from": "2027-01-01T00:00:00Z", "to": "2027-02-01T00:00:00Z", "total": 12,
    "by_status": {"new": 2, "contacted": 3, "scheduled": 4, "closed": 2, "spam": 1},
    "by_kind": {"question": 5, "appointment_request": 7},
    "contacted": 9, "median_minutes_to_first_contact": 95
}))]
pub struct InquiryStats {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Inquiries that arrived in the period.
    pub total: i64,
    /// Every status, with zeros.
    pub by_status: BTreeMap<String, i64>,
    /// Every kind, with zeros.
    pub by_kind: BTreeMap<String, i64>,
    /// How many of them the clinic has been in touch with.
    pub contacted: i64,
    /// Median minutes from arrival to the first contact, rounded to the nearest whole minute
    /// (half a minute rounds up); `null` when none was contacted.
    pub median_minutes_to_first_contact: Option<i64>,
}

/// Inquiry figures
///
/// Counts by status and kind of the inquiries that arrived in `[from, to)`, and the median
/// time from arrival to first contact.
#[utoipa::path(
    tag = "inquiries",
    security(("bearer" = [])),
    params(StatsQuery),
    responses(
        (status = 200, description = "The figures", body = InquiryStats),
        (status = 400, response = BadRequest), AuthErrors, ServerErrors,
    )
)]
#[get("/inquiries/stats")]
pub async fn inquiry_stats(
    StaffKey(_caller): StaffKey,
    state: web::Data<AppState>,
    Query(query): Query<StatsQuery>,
) -> Result<HttpResponse, AppError> {
    if let (Some(from), Some(to)) = (query.from, query.to)
        && to <= from
    {
        return Err(AppError::rule("to", "must be after from"));
    }
    let mut conn = state.conn().await?;
    let (counts, contacted, median) = triage::stats(&mut conn, query.from, query.to).await?;
    let mut by_status: BTreeMap<String, i64> = InquiryStatus::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), 0))
        .collect();
    let mut by_kind: BTreeMap<String, i64> = InquiryKind::ALL
        .iter()
        .map(|k| (k.as_str().to_owned(), 0))
        .collect();
    for count in &counts {
        *by_status
            .entry(count.status.as_str().to_owned())
            .or_default() += count.count;
        *by_kind.entry(count.kind.as_str().to_owned()).or_default() += count.count;
    }
    Ok(HttpResponse::Ok().json(InquiryStats {
        from: query.from,
        to: query.to,
        total: counts.iter().map(|c| c.count).sum(),
        by_status,
        by_kind,
        contacted,
        median_minutes_to_first_contact: median,
    }))
}
