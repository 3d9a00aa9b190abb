//! A provider's day: its sessions and the free gaps in its working hours.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::app::calendar::SessionView;
use crate::app::calendar::zone_in;
use crate::app::caller::Caller;
use std::collections::HashMap;

use crate::app::courses::plan;
use crate::domain::resources::Pools;
use crate::domain::sessions::SessionKind;
use crate::domain::slots::{Span, free_gaps, working_span};
use crate::error::AppError;
use crate::models::sessions::{self, SessionFilter};
use crate::models::{
    audit_events, calendars, locations, providers, treatment_areas, working_hours,
};

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

/// A kind of session the free gaps must fit: they are also cut where every room or device of
/// a tag it needs is taken.
#[derive(Debug, Clone, Copy)]
pub struct FreeFor {
    pub treatment_area_id: Uuid,
    pub kind: SessionKind,
}

/// The provider's sessions that start on `date` (in their location's zone) and the free gaps
/// of its working hours that day (time held by someone booking online at `now` is not free,
/// nor, with `free_for`, time when the session's resources are all taken); a provider key sees
/// only its own day.
pub async fn provider_day(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    provider_id: Uuid,
    date: NaiveDate,
    free_for: Option<FreeFor>,
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
    let mut pools: HashMap<Uuid, Pools> = HashMap::new();
    if let Some(free_for) = free_for {
        let area = treatment_areas::find(conn, free_for.treatment_area_id)
            .await?
            .ok_or_else(|| {
                AppError::rule(
                    "treatment_area_id",
                    "names a treatment area that does not exist",
                )
            })?;
        let requirements = area.requirements();
        for &location_id in &provider.location_ids {
            let needs = requirements.of(free_for.kind);
            let at = plan::pools_at(conn, location_id, needs, window, &[], now).await?;
            pools.insert(location_id, at);
        }
    }
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
        let mut taken = busy.clone();
        if let Some(pools) = pools.get(&row.location_id) {
            taken.extend(pools.blocked(open));
        }
        free.extend(free_gaps(open, &taken).into_iter().map(|span| Gap {
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
            (row.starts_at.with_timezone(&zone).date_naive() == date)
                .then(|| SessionView::new(row, zone, None))
        })
        .collect();
    let sessions = crate::app::calendar::with_resources(conn, sessions).await?;
    let audit = caller.audit("provider.schedule", "providers", Some(provider_id), 200);
    audit_events::append(conn, audit).await?;
    Ok(Day { sessions, free })
}
