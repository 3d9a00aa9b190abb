//! `GET /v1/providers/{id}/schedule`: a provider's day for the front desk, sessions and free gaps.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::sessions::Session;
use crate::app::calendar::SessionView;
use crate::domain::slots::{Span, free_gaps, working_span};
use crate::domain::time::Weekday;
use crate::domain::working_hours::WeeklyInterval;
use crate::error::AppError;
use crate::http::auth::AnyKey;
use crate::http::extract::Query;
use crate::http::problems::{AuthErrors, BadRequest, NotFound, ServerErrors};
use crate::http::state::AppState;
use crate::models::sessions::{self, SessionFilter};
use crate::models::{audit_events, locations, providers, working_hours};

/// Which day.
#[derive(Debug, Deserialize, IntoParams, garde::Validate)]
#[into_params(parameter_in = Query)]
pub struct ScheduleQuery {
    /// The local date, `YYYY-MM-DD`, in each location's time zone.
    #[serde(deserialize_with = "crate::http::rules::date")]
    #[param(value_type = String, format = Date, example = "2027-03-15")]
    #[garde(skip)]
    pub date: NaiveDate,
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
    /// Working time not taken by active sessions (with buffers) or time off.
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
    if !caller.sees_provider(provider_id) {
        return Err(AppError::Concealed("provider"));
    }
    let mut conn = state.conn().await?;
    let provider = providers::find(&mut conn, provider_id)
        .await?
        .ok_or(AppError::NotFound("provider"))?;
    let zones = locations::time_zones(&mut conn, &provider.location_ids).await?;
    let midnight = Utc.from_utc_datetime(&query.date.and_hms_opt(0, 0, 0).unwrap_or_default());
    let window = Span {
        start: midnight - Duration::days(1),
        end: midnight + Duration::days(2),
    };
    let filter = SessionFilter {
        provider_id: Some(provider_id),
        from: Some(window.start),
        to: Some(window.end),
        ..SessionFilter::default()
    };
    let rows = sessions::list(&mut conn, filter, None, 1000).await?;
    let busy: Vec<Span> = sessions::busy(&mut conn, &[provider_id], window, &[])
        .await?
        .into_iter()
        .map(|(_, span)| span)
        .collect();
    let hours = working_hours::for_provider(&mut conn, provider_id).await?;
    let mut free = Vec::new();
    for row in &hours {
        let Some(zone) = zones.get(&row.location_id).copied() else {
            continue;
        };
        let interval = WeeklyInterval {
            location_id: row.location_id,
            weekday: Weekday::from_iso_number(row.weekday).unwrap_or(Weekday::Monday),
            start: row.start_time.into(),
            end: row.end_time.into(),
            effective_from: row.effective_from,
            effective_until: row.effective_until,
        };
        if !interval.applies_on(query.date) {
            continue;
        }
        let open = working_span(query.date, interval.start.time(), interval.end.time(), zone);
        free.extend(free_gaps(open, &busy).into_iter().map(|gap| FreeGap {
            location_id: row.location_id,
            starts_at: gap.start.with_timezone(&zone).fixed_offset(),
            ends_at: gap.end.with_timezone(&zone).fixed_offset(),
        }));
    }
    free.sort_by_key(|gap| gap.starts_at);
    let day_sessions: Vec<Session> = rows
        .into_iter()
        .filter_map(|row| {
            let zone = zones
                .get(&row.location_id)
                .copied()
                .unwrap_or(chrono_tz::UTC);
            let local_date = row.starts_at.with_timezone(&zone).date_naive();
            (local_date == query.date).then(|| {
                Session::from_view(SessionView {
                    row,
                    zone,
                    record: None,
                })
            })
        })
        .collect();
    let audit = caller.audit("provider.schedule", "providers", Some(provider_id), 200);
    audit_events::append(&mut conn, audit).await?;
    Ok(HttpResponse::Ok().json(DaySchedule {
        provider_id,
        date: query.date,
        sessions: day_sessions,
        free,
    }))
}
