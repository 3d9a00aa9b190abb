//! A provider's weekly pattern: `/v1/providers/{id}/working-hours`.

use actix_web::{HttpResponse, get, put, web};
use chrono::NaiveDate;
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::app::catalog;
use crate::domain::time::{WallTime, Weekday};
use crate::domain::working_hours::WeeklyInterval;
use crate::error::AppError;
use crate::http::auth::{AdminKey, Public};
use crate::http::extract::Json;
use crate::http::problems::{
    AuthErrors, BadRequest, BodyErrors, NotFound, PublicErrors, ScheduleConflict, ServerErrors,
};
use crate::http::state::AppState;
use crate::models::{providers, working_hours as model};

/// One weekly interval of work, in the location's wall-clock time.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"location_id": "01a2208c-c469-72e6-a438-057e659075a8", "weekday": "monday", "start": "08:00", "end": "12:00"}))]
pub struct Interval {
    #[garde(skip)]
    pub location_id: Uuid,
    #[garde(skip)]
    pub weekday: Weekday,
    /// Local start, `HH:MM`.
    #[garde(skip)]
    pub start: WallTime,
    /// Local end, `HH:MM`, later than start.
    #[garde(skip)]
    pub end: WallTime,
    /// First day the interval applies (inclusive); open when absent.
    #[garde(skip)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_from: Option<NaiveDate>,
    /// Last day the interval applies (inclusive); open when absent.
    #[garde(skip)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_until: Option<NaiveDate>,
}

/// A provider's whole weekly pattern.
#[derive(Debug, Serialize, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
pub struct WeeklyPattern {
    #[garde(length(max = 100))]
    #[schema(max_items = 100)]
    pub intervals: Vec<Interval>,
}

impl From<model::WorkingHours> for Interval {
    fn from(row: model::WorkingHours) -> Self {
        Self {
            location_id: row.location_id,
            weekday: Weekday::from_iso_number(row.weekday).unwrap_or(Weekday::Monday),
            start: row.start_time.into(),
            end: row.end_time.into(),
            effective_from: row.effective_from,
            effective_until: row.effective_until,
        }
    }
}

/// Get a provider's working hours
#[utoipa::path(
    tag = "providers",
    responses(
        (status = 200, description = "The weekly pattern, by weekday and start", body = WeeklyPattern),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        PublicErrors, ServerErrors,
    )
)]
#[get("/providers/{id}/working-hours")]
pub async fn get_working_hours(
    _caller: Public,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.conn().await?;
    providers::find(&mut conn, *id)
        .await?
        .ok_or(AppError::NotFound("provider"))?;
    let rows = model::for_provider(&mut conn, *id).await?;
    Ok(HttpResponse::Ok().json(WeeklyPattern {
        intervals: rows.into_iter().map(Interval::from).collect(),
    }))
}

/// Replace a provider's working hours
///
/// The whole weekly pattern is replaced at once. Intervals must not overlap on a weekday (across
/// locations too), must end after they start, and only at locations the provider works at.
#[utoipa::path(
    tag = "providers",
    security(("bearer" = [])),
    request_body(content = WeeklyPattern, example = json!({"intervals": [
        {"location_id": "01a2208c-c469-72e6-a438-057e659075a8", "weekday": "monday", "start": "08:00", "end": "12:00"},
        {"location_id": "01a2208c-c469-72e6-a438-057e659075a8", "weekday": "monday", "start": "13:00", "end": "17:00"}
    ]})),
    responses(
        (status = 200, description = "The new weekly pattern", body = WeeklyPattern),
        (status = 404, response = NotFound),
        (status = 409, response = ScheduleConflict),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[put("/providers/{id}/working-hours")]
pub async fn replace_working_hours(
    _caller: AdminKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    Json(body): Json<WeeklyPattern>,
) -> Result<HttpResponse, AppError> {
    let provider_id = *id;
    let intervals: Vec<WeeklyInterval> = body
        .intervals
        .iter()
        .map(|i| WeeklyInterval {
            location_id: i.location_id,
            weekday: i.weekday,
            start: i.start,
            end: i.end,
            effective_from: i.effective_from,
            effective_until: i.effective_until,
        })
        .collect();
    let now = state.now();
    let mut conn = state.conn().await?;
    let rows = conn
        .transaction::<_, AppError, _>(async |conn| {
            catalog::replace_working_hours(conn, provider_id, intervals, now).await
        })
        .await?;
    Ok(HttpResponse::Ok().json(WeeklyPattern {
        intervals: rows.into_iter().map(Interval::from).collect(),
    }))
}
