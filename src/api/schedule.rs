//! `GET /v1/providers/{id}/schedule`: a provider's day for the front desk, sessions and free gaps.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::sessions::Session;
use crate::app::booking::schedule;
use crate::domain::sessions::SessionKind;
use crate::error::AppError;
use crate::http::auth::AnyKey;
use crate::http::extract::Query;
use crate::http::problems::{AuthErrors, BadRequest, NotFound, ServerErrors};
use crate::http::state::AppState;

/// Which day.
#[derive(Debug, Deserialize, IntoParams, garde::Validate)]
#[into_params(parameter_in = Query)]
pub struct ScheduleQuery {
    /// The local date, `YYYY-MM-DD`, in each location's time zone.
    #[serde(deserialize_with = "crate::http::rules::date")]
    #[param(value_type = String, format = Date, example = "2027-03-15")]
    #[garde(skip)]
    pub date: NaiveDate,
    /// Cut the free gaps also where a session of this area (and `kind`) would find every room
    /// or device of a tag it needs taken.
    #[garde(skip)]
    pub treatment_area_id: Option<Uuid>,
    /// With `treatment_area_id`: the kind of session the gaps must fit; injections by default.
    #[garde(skip)]
    pub kind: Option<SessionKind>,
}

/// Free time within working hours.
#[derive(Debug, Serialize, ToSchema)]
pub struct FreeGap {
    pub location_id: Uuid,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: DateTime<FixedOffset>,
}

/// A provider's day.
#[derive(Debug, Serialize, ToSchema)]
pub struct DaySchedule {
    pub provider_id: Uuid,
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    /// Every session of the day, cancelled ones included, by start.
    pub sessions: Vec<Session>,
    /// Working time not taken by active sessions (with buffers), live holds or time off, nor
    /// (with `treatment_area_id`) by the session's rooms and devices all being taken.
    pub free: Vec<FreeGap>,
}

/// Get a provider's day
///
/// Staff see any provider; a provider key sees its own day only.
#[utoipa::path(
    tag = "providers",
    security(("bearer" = [])),
    params(ScheduleQuery),
    responses(
        (status = 200, description = "Sessions and free gaps", body = DaySchedule),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        AuthErrors, ServerErrors,
    )
)]
#[get("/providers/{id}/schedule")]
pub async fn provider_schedule(
    AnyKey(caller): AnyKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    Query(query): Query<ScheduleQuery>,
) -> Result<HttpResponse, AppError> {
    let provider_id = *id;
    let free_for = match (query.treatment_area_id, query.kind) {
        (Some(treatment_area_id), kind) => Some(schedule::FreeFor {
            treatment_area_id,
            kind: kind.unwrap_or(SessionKind::Injection),
        }),
        (None, Some(_)) => return Err(AppError::rule("kind", "needs treatment_area_id")),
        (None, None) => None,
    };
    let mut conn = state.conn().await?;
    let now = state.now();
    let day =
        schedule::provider_day(&mut conn, &caller, provider_id, query.date, free_for, now).await?;
    let free = day
        .free
        .into_iter()
        .map(|gap| FreeGap {
            location_id: gap.location_id,
            starts_at: gap.span.start.with_timezone(&gap.zone).fixed_offset(),
            ends_at: gap.span.end.with_timezone(&gap.zone).fixed_offset(),
        })
        .collect();
    let day_sessions = day.sessions.into_iter().map(Session::from_view).collect();
    Ok(HttpResponse::Ok().json(DaySchedule {
        provider_id,
        date: query.date,
        sessions: day_sessions,
        free,
    }))
}
