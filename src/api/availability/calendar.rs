//! `GET /v1/availability/days` (a month calendar: open slots per local date) and
//! `GET /v1/availability/next` (the first open slots after an instant), for booking pages.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{Availability, Slot};
use crate::app::availability::{self, MAX_CALENDAR_DAYS, NextQuery, SlotQuery};
use crate::domain::sessions::SessionKind;
use crate::error::AppError;
use crate::http::auth::Public;
use crate::http::extract::Query;
use crate::http::problems::{BadRequest, PublicErrors, ServerErrors};
use crate::http::state::AppState;

/// Which days to count.
#[derive(Debug, Deserialize, IntoParams, garde::Validate)]
#[into_params(parameter_in = Query)]
pub struct DaysQuery {
    #[garde(skip)]
    pub treatment_area_id: Uuid,
    #[garde(skip)]
    pub kind: SessionKind,
    /// First local date, `YYYY-MM-DD` (inclusive).
    #[serde(deserialize_with = "crate::http::rules::date")]
    #[garde(skip)]
    #[param(value_type = String, format = Date, example = "2027-03-01")]
    pub from: NaiveDate,
    /// Last local date, `YYYY-MM-DD` (inclusive); at most 92 days after `from`.
    #[serde(deserialize_with = "crate::http::rules::date")]
    #[garde(skip)]
    #[param(value_type = String, format = Date, example = "2027-03-31")]
    pub to: NaiveDate,
    #[garde(skip)]
    pub provider_id: Option<Uuid>,
    #[garde(skip)]
    pub location_id: Option<Uuid>,
}

/// One local date of the calendar.
#[derive(Debug, Serialize, ToSchema)]
pub struct AvailableDay {
    #[schema(value_type = String, format = Date, example = "2027-03-15")]
    pub date: NaiveDate,
    /// Open slots that day, across the providers asked for.
    #[schema(example = 14)]
    pub open_slots: usize,
    /// The earliest open slot's start, in its location's zone; `null` when none is open.
    #[schema(value_type = Option<String>, format = DateTime, example = "2027-03-15T08:00:00-06:00")]
    pub first_starts_at: Option<DateTime<FixedOffset>>,
}

/// Every local date of the range, in order.
#[derive(Debug, Serialize, ToSchema)]
pub struct AvailableDays {
    pub days: Vec<AvailableDay>,
}

/// Count open slots per day
///
/// A month calendar for a booking page: every local date from `from` to `to` (at most 92
/// days), with its number of open slots (as `GET /v1/availability` finds them) and the first
/// one's start. Dates with nothing open are listed with `open_slots: 0`.
#[utoipa::path(
    tag = "sessions",
    params(DaysQuery),
    responses(
        (status = 200, description = "The days, in order", body = AvailableDays),
        (status = 400, response = BadRequest),
        (status = 422, response = crate::http::problems::InactiveRecord),
        PublicErrors, ServerErrors,
    )
)]
#[get(
    "/availability/days",
    wrap = "actix_web::middleware::Compress::default()"
)]
pub async fn availability_days(
    caller: Public,
    state: web::Data<AppState>,
    Query(query): Query<DaysQuery>,
) -> Result<HttpResponse, AppError> {
    let query = SlotQuery {
        treatment_area_id: query.treatment_area_id,
        kind: query.kind,
        from: query.from,
        to: query.to,
        provider_id: query.provider_id,
        location_id: query.location_id,
    };
    let mut conn = state.read_conn(caller.freshness()).await?;
    let calendars =
        availability::calendars_within(&mut conn, &query, state.now(), MAX_CALENDAR_DAYS).await?;
    drop(conn);
    let days = calendars
        .days()
        .into_iter()
        .map(|day| AvailableDay {
            date: day.date,
            open_slots: day.open_slots,
            first_starts_at: day.first.map(|slot| Slot::of(slot).starts_at),
        })
        .collect();
    Ok(HttpResponse::Ok().json(AvailableDays { days }))
}

/// Which slots come next.
#[derive(Debug, Deserialize, IntoParams, garde::Validate)]
#[into_params(parameter_in = Query)]
pub struct NextSlotsQuery {
    #[garde(skip)]
    pub treatment_area_id: Uuid,
    #[garde(skip)]
    pub kind: SessionKind,
    /// RFC 3339 with an offset: slots starting at or after it (and after the minimum notice).
    #[serde(deserialize_with = "crate::http::rules::instant")]
    #[garde(skip)]
    #[param(value_type = String, format = DateTime, example = "2027-03-15T12:00:00-06:00")]
    pub after: DateTime<Utc>,
    /// At most 20 (default 5).
    #[serde(default = "default_limit")]
    #[garde(range(min = 1, max = 20))]
    #[param(minimum = 1, maximum = 20, default = 5)]
    pub limit: usize,
    #[garde(skip)]
    pub provider_id: Option<Uuid>,
    #[garde(skip)]
    pub location_id: Option<Uuid>,
}

fn default_limit() -> usize {
    5
}

/// Find the next open slots
///
/// The first `limit` open slots starting at or after `after`, across every eligible provider
/// (or the one asked for), up to the booking horizon; each as in `GET /v1/availability`. The
/// providers' names are in the public `GET /v1/providers`.
#[utoipa::path(
    tag = "sessions",
    params(NextSlotsQuery),
    responses(
        (status = 200, description = "The next open slots, by start", body = Availability),
        (status = 400, response = BadRequest),
        (status = 422, response = crate::http::problems::InactiveRecord),
        PublicErrors, ServerErrors,
    )
)]
#[get(
    "/availability/next",
    wrap = "actix_web::middleware::Compress::default()"
)]
pub async fn next_availability(
    caller: Public,
    state: web::Data<AppState>,
    Query(query): Query<NextSlotsQuery>,
) -> Result<HttpResponse, AppError> {
    let query = NextQuery {
        treatment_area_id: query.treatment_area_id,
        kind: query.kind,
        after: query.after,
        limit: query.limit,
        provider_id: query.provider_id,
        location_id: query.location_id,
    };
    let mut conn = state.read_conn(caller.freshness()).await?;
    let slots = availability::next(&mut conn, &query, state.now()).await?;
    drop(conn);
    let slots = slots.into_iter().map(Slot::of).collect();
    Ok(HttpResponse::Ok()
        .content_type(mime::APPLICATION_JSON)
        .body(Availability { slots }.to_json()))
}
