//! A provider's day: its sessions and the free gaps in its working hours.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::app::calendar::SessionView;
use crate::app::calendar::zone_in;
use crate::app::caller::Caller;
use crate::domain::slots::{Span, free_gaps, working_span};
use crate::error::AppError;
use crate::models::sessions::{self, SessionFilter};
use crate::models::{audit_events, calendars, locations, providers, working_hours};

/// A free stretch of working time at a location, in that location's zone.
#[derive(Debug, Clone)]
pub struct Gap {
    pub location_id: Uuid,
    pub span: Span,
    pub zone: Tz,
}

/// What a provider's local day holds.
#[derive(Debug, Clone)]
pub struct Day {
    pub sessions: Vec<SessionView>,
    pub free: Vec<Gap>,
}

/// The provider's sessions that start on `date` (in their location's zone) and the free gaps
/// of its working hours that day (time held by someone booking online at `now` is not free); a
/// provider key sees only its own day.
pub async fn provider_day(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    provider_id: Uuid,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Day, AppError> {
    if !caller.sees_provider(provider_id) {
        return Err(AppError::Concealed("provider"));
    }
    let provider = providers::find(conn, provider_id)
        .await?
        .ok_or(AppError::NotFound("provider"))?;
    let zones = locations::time_zones(conn, &provider.location_ids).await?;
    let midnight = Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default());
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
    let rows = sessions::list(conn, filter, None, 1000).await?;
    let busy: Vec<Span> = calendars::busy(conn, &[provider_id], window, &[], now)
        .await?
        .into_iter()
        .map(|(_, span)| span)
        .collect();
    let mut free = Vec::new();
    for row in working_hours::for_provider(conn, provider_id).await? {
        let Some(zone) = zones.get(&row.location_id).copied() else {
            continue;
        };
        let Some(interval) = row.interval() else {
            continue;
        };
        if !interval.applies_on(date) {
            continue;
        }
        let open = working_span(date, interval.start.time(), interval.end.time(), zone);
        free.extend(free_gaps(open, &busy).into_iter().map(|span| Gap {
            location_id: row.location_id,
            span,
            zone,
        }));
    }
    free.sort_by_key(|gap| gap.span.start);
    let sessions = rows
        .into_iter()
        .filter_map(|mut row| {
            let zone = zone_in(&zones, row.location_id);
            if !caller.sees_clinical() {
                row.cancel_note = None;
            }
            (row.starts_at.with_timezone(&zone).date_naive() == date).then_some(SessionView {
                row,
                zone,
                record: None,
            })
        })
        .collect();
    let audit = caller.audit("provider.schedule", "providers", Some(provider_id), 200);
    audit_events::append(conn, audit).await?;
    Ok(Day { sessions, free })
}
