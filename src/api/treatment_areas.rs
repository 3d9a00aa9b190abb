//! Body regions the clinic treats: `/v1/treatment-areas`.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::resources::ResourceNeeds;
use crate::app::{catalog, records};
use crate::domain::resources::Requirements;
use crate::error::AppError;
use crate::http::auth::{AdminKey, Public};
use crate::http::conditional::{IfMatch, created, ok_tagged};
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageQuery};
use crate::http::problems::{
    AuthErrors, BadRequest, BodyErrors, NotFound, PreconditionFailed, PreconditionRequired,
    PublicErrors, ServerErrors, SlugTaken,
};
use crate::http::rules;
use crate::http::state::AppState;
use crate::models::treatment_areas::{self as model, NewTreatmentArea, TreatmentAreaChanges};

/// Session length in minutes for each kind of session.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"assessment": 45, "injection": 30, "follow_up": 20}))]
pub struct Durations {
    #[garde(range(min = 5, max = 480))]
    #[schema(minimum = 5, maximum = 480)]
    pub assessment: i32,
    #[garde(range(min = 5, max = 480))]
    #[schema(minimum = 5, maximum = 480)]
    pub injection: i32,
    #[garde(range(min = 5, max = 480))]
    #[schema(minimum = 5, maximum = 480)]
    pub follow_up: i32,
}

/// How many injection sessions a course usually needs.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"min": 3, "max": 6}))]
pub struct SessionRange {
    #[garde(range(min = 1, max = 50))]
    #[schema(minimum = 1, maximum = 50)]
    pub min: i32,
    #[garde(range(min = 1, max = 50), custom(not_below(&self.min)))]
    #[schema(minimum = 1, maximum = 50)]
    pub max: i32,
}

/// Days between consecutive sessions of a course: the healing period.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"min": 21, "target": 28, "max": 42}))]
pub struct IntervalDays {
    #[garde(range(min = 1, max = 365))]
    #[schema(minimum = 1, maximum = 365)]
    pub min: i32,
    /// Preferred interval, between min and max.
    #[garde(inner(custom(between(&self.min, &self.max))))]
    #[schema(minimum = 1, maximum = 365)]
    pub target: Option<i32>,
    #[garde(range(min = 1, max = 365), custom(not_below(&self.min)))]
    #[schema(minimum = 1, maximum = 365)]
    pub max: i32,
}

/// `max` of a `{min, max}` pair: not below `min`.
fn not_below(min: &i32) -> impl FnOnce(&i32, &()) -> garde::Result + '_ {
    move |max, _| {
        if max < min {
            return Err(crate::http::rules::beyond_schema(
                "must not be less than min",
            ));
        }
        Ok(())
    }
}

/// `target` of an interval: between `min` and `max`.
fn between<'a>(min: &'a i32, max: &'a i32) -> impl FnOnce(&i32, &()) -> garde::Result + 'a {
    move |target, _| {
        if target < min || target > max {
            return Err(crate::http::rules::beyond_schema(
                "must lie between min and max",
            ));
        }
        Ok(())
    }
}

/// A body region treated, with its session durations and course defaults.
#[derive(Debug, Serialize, ToSchema)]
pub struct TreatmentArea {
    pub id: Uuid,
    #[schema(example = "knee")]
    pub slug: String,
    #[schema(example = "Knee")]
    pub name: String,
    pub description: Option<String>,
    pub durations: Durations,
    pub recommended_sessions: SessionRange,
    pub interval_days: IntervalDays,
    /// A course's first session falls at least this many local days after the patient's
    /// assessment in the area (0: the same day, once the assessment has ended).
    #[schema(example = 1, minimum = 0, maximum = 60)]
    pub assessment_gap_days: i32,
    /// Instructions for the patient before a session.
    pub pre_care: Option<String>,
    /// Instructions for the patient after a session.
    pub post_care: Option<String>,
    /// The tags of the rooms and devices each kind of session needs (`{}`: none).
    pub requirements: ResourceNeeds,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
}

impl From<model::TreatmentArea> for TreatmentArea {
    fn from(row: model::TreatmentArea) -> Self {
        let requirements = row.requirements().into();
        Self {
            id: row.id,
            slug: row.slug,
            name: row.name,
            description: row.description,
            durations: Durations {
                assessment: row.assessment_minutes,
                injection: row.injection_minutes,
                follow_up: row.follow_up_minutes,
            },
            recommended_sessions: SessionRange {
                min: row.sessions_min,
                max: row.sessions_max,
            },
            interval_days: IntervalDays {
                min: row.interval_min_days,
                target: row.interval_target_days,
                max: row.interval_max_days,
            },
            assessment_gap_days: row.assessment_gap_days,
            requirements,
            pre_care: row.pre_care,
            post_care: row.post_care,
            active: row.archived_at.is_none(),
            created_at: row.created_at,
            updated_at: row.updated_at,
            archived_at: row.archived_at,
        }
    }
}

/// A new treatment area.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "slug": "knee", "name": "Knee",
    "durations": {"assessment": 45, "injection": 30, "follow_up": 20},
    "recommended_sessions": {"min": 3, "max": 6},
    "interval_days": {"min": 21, "target": 28, "max": 42},
    "pre_care": "Stop NSAIDs 3 days before.", "post_care": "Expect soreness for 2-3 days."
}))]
pub struct CreateTreatmentArea {
    /// Lower-case words joined by hyphens, unique.
    #[garde(custom(rules::slug))]
    #[schema(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 64)]
    pub slug: String,
    #[garde(length(chars, min = 1, max = 200), custom(rules::name))]
    #[schema(min_length = 1, max_length = 200, format = "name")]
    pub name: String,
    #[garde(length(chars, max = 2000))]
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    #[garde(dive)]
    pub durations: Durations,
    #[garde(dive)]
    pub recommended_sessions: SessionRange,
    #[garde(dive)]
    pub interval_days: IntervalDays,
    #[garde(length(chars, max = 4000))]
    #[schema(max_length = 4000)]
    pub pre_care: Option<String>,
    #[garde(length(chars, max = 4000))]
    #[schema(max_length = 4000)]
    pub post_care: Option<String>,
    /// Days between the patient's assessment and a course's first session, 0 to 60; default 1.
    #[garde(inner(range(min = 0, max = 60)))]
    #[schema(minimum = 0, maximum = 60, default = 1)]
    pub assessment_gap_days: Option<i32>,
    /// The tags of the rooms and devices each kind of session needs; none by default. Each tag
    /// must be carried by an active resource (422 naming the tag otherwise).
    #[garde(dive)]
    pub requirements: Option<ResourceNeeds>,
}

/// Fields of a treatment area to change; nested objects are replaced whole; `null` clears text.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"interval_days": {"min": 14, "target": 21, "max": 35}}))]
pub struct UpdateTreatmentArea {
    #[garde(inner(custom(rules::slug)))]
    #[schema(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 64)]
    pub slug: Option<String>,
    #[garde(inner(length(chars, min = 1, max = 200), custom(rules::name)))]
    #[schema(min_length = 1, max_length = 200, format = "name")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "rules::nullable")]
    #[garde(custom(rules::nullable_text::<2000>))]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub description: Option<Option<String>>,
    #[garde(dive)]
    pub durations: Option<Durations>,
    #[garde(dive)]
    pub recommended_sessions: Option<SessionRange>,
    #[garde(dive)]
    pub interval_days: Option<IntervalDays>,
    #[serde(default, deserialize_with = "rules::nullable")]
    #[garde(custom(rules::nullable_text::<4000>))]
    #[schema(value_type = Option<String>, max_length = 4000)]
    pub pre_care: Option<Option<String>>,
    #[serde(default, deserialize_with = "rules::nullable")]
    #[garde(custom(rules::nullable_text::<4000>))]
    #[schema(value_type = Option<String>, max_length = 4000)]
    pub post_care: Option<Option<String>>,
    #[garde(inner(range(min = 0, max = 60)))]
    #[schema(minimum = 0, maximum = 60)]
    pub assessment_gap_days: Option<i32>,
    /// Replaces the requirements whole (`{}`: none). Each tag must be carried by an active
    /// resource at every location where the area is booked (422 naming the tag and location).
    #[garde(dive)]
    pub requirements: Option<ResourceNeeds>,
}

/// Filters of the treatment-area list.
#[derive(Debug, Deserialize, IntoParams, garde::Validate)]
#[into_params(parameter_in = Query)]
pub struct TreatmentAreaFilter {
    /// Only active (`true`) or only archived (`false`) areas.
    #[garde(skip)]
    pub active: Option<bool>,
}

/// Create a treatment area
#[utoipa::path(
    tag = "treatment-areas",
    security(("bearer" = [])),
    request_body = CreateTreatmentArea,
    responses(
        (status = 201, description = "Created", body = TreatmentArea,
         headers(("ETag" = String), ("Location" = String))),
        (status = 409, response = SlugTaken),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[post("/treatment-areas")]
pub async fn create_treatment_area(
    _caller: AdminKey,
    state: web::Data<AppState>,
    Json(body): Json<CreateTreatmentArea>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.conn().await?;
    let new = NewTreatmentArea {
        id: Uuid::now_v7(),
        slug: body.slug,
        name: body.name.trim().to_owned(),
        description: body.description,
        assessment_minutes: body.durations.assessment,
        injection_minutes: body.durations.injection,
        follow_up_minutes: body.durations.follow_up,
        sessions_min: body.recommended_sessions.min,
        sessions_max: body.recommended_sessions.max,
        interval_min_days: body.interval_days.min,
        interval_target_days: body.interval_days.target,
        interval_max_days: body.interval_days.max,
        pre_care: body.pre_care,
        post_care: body.post_care,
        assessment_gap_days: body.assessment_gap_days.unwrap_or(1),
        requirements: Requirements::from(body.requirements.unwrap_or_default()).to_stored(),
    };
    let now = state.now();
    let row = conn
        .transaction::<_, AppError, _>(async |conn| {
            catalog::create_treatment_area(conn, new, now).await
        })
        .await?;
    let version = row.version;
    let area = TreatmentArea::from(row);
    Ok(created(
        format!("/v1/treatment-areas/{}", area.id),
        &area,
        version,
    ))
}

/// List treatment areas
#[utoipa::path(
    tag = "treatment-areas",
    params(PageQuery, TreatmentAreaFilter),
    responses((status = 200, description = "One page of treatment areas", body = Page<TreatmentArea>), (status = 400, response = BadRequest), PublicErrors, ServerErrors)
)]
#[get("/treatment-areas")]
pub async fn list_treatment_areas(
    caller: Public,
    state: web::Data<AppState>,
    Query(page): Query<PageQuery>,
    Query(filter): Query<TreatmentAreaFilter>,
) -> Result<HttpResponse, AppError> {
    let request = page.request()?;
    let mut conn = state.read_conn(caller.freshness()).await?;
    let rows = model::list(&mut conn, filter.active, request).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(
        rows,
        request,
        |row| row.id,
        TreatmentArea::from,
    )))
}

/// Get a treatment area by id or slug
#[utoipa::path(
    tag = "treatment-areas",
    params(("id" = String, Path, description = "The area's UUID or its slug", example = "knee")),
    responses(
        (status = 200, description = "The treatment area", body = TreatmentArea, headers(("ETag" = String))),
        (status = 404, response = NotFound),
        PublicErrors, ServerErrors,
    )
)]
#[get("/treatment-areas/{id}")]
pub async fn get_treatment_area(
    _caller: Public,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.conn().await?;
    let row = match Uuid::try_parse(&id) {
        Ok(uuid) => model::find(&conn, uuid).await?,
        Err(_) => model::find_by_slug(&mut conn, &id).await?,
    }
    .ok_or(AppError::NotFound("treatment area"))?;
    let version = row.version;
    Ok(ok_tagged(&TreatmentArea::from(row), version))
}

/// Update a treatment area
///
/// Requires `If-Match` with the area's current `ETag`.
#[utoipa::path(
    tag = "treatment-areas",
    security(("bearer" = [])),
    request_body = UpdateTreatmentArea,
    params(("If-Match" = String, Header, description = "The current ETag")),
    responses(
        (status = 200, description = "The updated treatment area", body = TreatmentArea, headers(("ETag" = String))),
        (status = 404, response = NotFound),
        (status = 409, response = SlugTaken),
        (status = 412, response = PreconditionFailed),
        (status = 428, response = PreconditionRequired),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[patch("/treatment-areas/{id}")]
pub async fn update_treatment_area(
    _caller: AdminKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    Json(body): Json<UpdateTreatmentArea>,
) -> Result<HttpResponse, AppError> {
    let expected = if_match.required()?;
    let id = *id;
    let changes = TreatmentAreaChanges {
        slug: body.slug,
        name: body.name.map(|name| name.trim().to_owned()),
        description: body.description,
        assessment_minutes: body.durations.map(|d| d.assessment),
        injection_minutes: body.durations.map(|d| d.injection),
        follow_up_minutes: body.durations.map(|d| d.follow_up),
        sessions_min: body.recommended_sessions.map(|s| s.min),
        sessions_max: body.recommended_sessions.map(|s| s.max),
        interval_min_days: body.interval_days.map(|i| i.min),
        interval_target_days: body.interval_days.map(|i| i.target),
        interval_max_days: body.interval_days.map(|i| i.max),
        pre_care: body.pre_care,
        post_care: body.post_care,
        assessment_gap_days: body.assessment_gap_days,
        requirements: body
            .requirements
            .map(|needs| Requirements::from(needs).to_stored()),
    };
    let now = state.now();
    let mut conn = state.conn().await?;
    let row = conn
        .transaction::<_, AppError, _>(async |conn| {
            catalog::update_treatment_area(conn, id, expected, changes, now).await
        })
        .await?;
    let version = row.version;
    Ok(ok_tagged(&TreatmentArea::from(row), version))
}

/// Archive a treatment area
///
/// Archived areas stay readable for history but are no longer offered. `If-Match` is optional.
#[utoipa::path(
    tag = "treatment-areas",
    security(("bearer" = [])),
    params(("If-Match" = Option<String>, Header, description = "The current ETag, to archive only that version")),
    responses(
        (status = 200, description = "The archived treatment area", body = TreatmentArea, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        AuthErrors, ServerErrors,
    )
)]
#[post("/treatment-areas/{id}/archive")]
pub async fn archive_treatment_area(
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
            records::archive::<model::TreatmentArea>(conn, id, expected, now).await
        })
        .await?;
    let version = row.version;
    Ok(ok_tagged(&TreatmentArea::from(row), version))
}
