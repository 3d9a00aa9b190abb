//! Open slots for a treatment area and session kind: the calendars are read in a fixed number
//! of queries whatever the range, then the slots computed from them without the database.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::domain::resources::{Busy, Pools};
use crate::domain::sessions::SessionKind;
use crate::domain::slots::{Calendar, Slot, SlotRequest, Span, open_slots};
use crate::error::{AppError, ProblemType};
use crate::models::{
    allocations, calendars, locations, providers, settings, treatment_areas, working_hours,
};

/// The longest range one request for slots may ask for.
pub const MAX_DAYS: i64 = 62;
/// The longest range one request for a calendar of days may ask for: three months.
pub const MAX_CALENDAR_DAYS: i64 = 92;
/// The most slots one request for the next ones may ask for.
pub const MAX_NEXT: usize = 20;
/// Days searched first for the next slots: usually enough, and a small read.
const NEXT_FIRST_DAYS: i64 = 3;
/// The most days searched at a time for the next slots (each search doubles, up to this).
const NEXT_CHUNK_DAYS: i64 = 28;

/// What slots to find.
#[derive(Debug, Clone)]
pub struct SlotQuery {
    pub treatment_area_id: Uuid,
    pub kind: SessionKind,
    /// Local dates, inclusive.
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub provider_id: Option<Uuid>,
    pub location_id: Option<Uuid>,
}

/// The calendars a query needs, read; [`Calendars::slots`] needs no connection.
#[derive(Debug, Clone)]
pub struct Calendars {
    request: SlotRequest,
    calendars: Vec<Calendar>,
}

impl Calendars {
    /// The open slots, by start.
    pub fn slots(&self) -> Vec<Slot> {
        open_slots(&self.request, &self.calendars)
    }

    /// Each local date of the range with its open slots counted, and its first slot.
    pub fn days(&self) -> Vec<Day> {
        let mut days: Vec<Day> = self
            .request
            .from
            .iter_days()
            .take_while(|date| *date <= self.request.to)
            .map(|date| Day {
                date,
                open_slots: 0,
                first: None,
            })
            .collect();
        for slot in self.slots() {
            let date = slot.starts_at.with_timezone(&slot.offsets.0).date_naive();
            let Some(day) = days.get_mut((date - self.request.from).num_days() as usize) else {
                continue;
            };
            day.open_slots += 1;
            if day
                .first
                .as_ref()
                .is_none_or(|first| slot.starts_at < first.starts_at)
            {
                day.first = Some(slot);
            }
        }
        days
    }
}

/// A local date of a month calendar.
#[derive(Debug, Clone)]
pub struct Day {
    pub date: NaiveDate,
    pub open_slots: usize,
    /// The earliest open slot that day.
    pub first: Option<Slot>,
}

/// The first open slots after an instant.
#[derive(Debug, Clone)]
pub struct NextQuery {
    pub treatment_area_id: Uuid,
    pub kind: SessionKind,
    pub after: DateTime<Utc>,
    pub limit: usize,
    pub provider_id: Option<Uuid>,
    pub location_id: Option<Uuid>,
}

/// The first `limit` open slots starting at or after `after`, across the eligible providers,
/// searched three days first, then twice as many each time (four weeks at most) up to the
/// booking horizon: a busy calendar costs a few reads, an open one a small read.
pub async fn next(
    conn: &mut AsyncPgConnection,
    query: &NextQuery,
    now: DateTime<Utc>,
) -> Result<Vec<Slot>, AppError> {
    if !(1..=MAX_NEXT).contains(&query.limit) {
        return Err(AppError::rule(
            "limit",
            format!("must be from 1 to {MAX_NEXT}"),
        ));
    }
    let settings = settings::get(conn).await?;
    let latest = now + Duration::days(i64::from(settings.booking_horizon_days));
    // A day early: a local date starts before its UTC date in zones west of Greenwich.
    let mut from = (query.after.max(now) - Duration::days(1)).date_naive();
    let mut found = Vec::new();
    let mut days = NEXT_FIRST_DAYS;
    while found.len() < query.limit && midnight(from) <= latest {
        let to = from + Duration::days(days - 1);
        let chunk = SlotQuery {
            treatment_area_id: query.treatment_area_id,
            kind: query.kind,
            from,
            to,
            provider_id: query.provider_id,
            location_id: query.location_id,
        };
        let read = calendars_within(conn, &chunk, now, NEXT_CHUNK_DAYS).await?;
        found.extend(
            read.slots()
                .into_iter()
                .filter(|slot| slot.starts_at >= query.after),
        );
        from = to + Duration::days(1);
        days = (days * 2).min(NEXT_CHUNK_DAYS);
    }
    found.sort_by_key(|slot| (slot.starts_at, slot.provider_id));
    found.dedup_by_key(|slot| (slot.starts_at, slot.provider_id, slot.location_id));
    found.truncate(query.limit);
    Ok(found)
}

fn midnight(date: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// Reads every calendar `query` involves as of `now`: the eligible providers at their
/// locations, their hours, and what they have booked or taken off around the dates.
pub async fn calendars(
    conn: &mut AsyncPgConnection,
    query: &SlotQuery,
    now: DateTime<Utc>,
) -> Result<Calendars, AppError> {
    calendars_within(conn, query, now, MAX_DAYS).await
}

/// As [`calendars`], for a range of at most `max_days`.
pub async fn calendars_within(
    conn: &mut AsyncPgConnection,
    query: &SlotQuery,
    now: DateTime<Utc>,
    max_days: i64,
) -> Result<Calendars, AppError> {
    if query.to < query.from {
        return Err(AppError::rule("to", "must not be before from"));
    }
    if (query.to - query.from).num_days() >= max_days {
        return Err(AppError::rule(
            "to",
            format!("the range may span at most {max_days} days"),
        ));
    }
    // Two flights, each pipelined on the one connection: what the query names (the area, the
    // settings, the eligible providers at their locations), then their calendars.
    let (area, settings, pairs) = futures_util::future::try_join3(
        treatment_areas::find(conn, query.treatment_area_id),
        settings::get(conn),
        providers::eligible(
            conn,
            query.treatment_area_id,
            query.provider_id,
            query.location_id,
        ),
    )
    .await?;
    let area = area.ok_or_else(|| {
        AppError::rule(
            "treatment_area_id",
            "names a treatment area that does not exist",
        )
    })?;
    if area.archived_at.is_some() {
        return Err(AppError::Problem(
            ProblemType::InactiveRecord,
            "the treatment area is archived".into(),
        ));
    }
    let provider_ids: Vec<Uuid> = pairs.iter().map(|(provider, _)| *provider).collect();
    let location_ids: Vec<Uuid> = pairs.iter().map(|(_, location)| *location).collect();
    // Wide enough for every time zone on earth around the local dates.
    let window = Span {
        start: midnight(query.from) - Duration::days(1),
        end: midnight(query.to) + Duration::days(2),
    };
    let (zones, hours, busy, pools) = futures_util::future::try_join4(
        locations::time_zones(conn, &location_ids),
        working_hours::for_providers(conn, &provider_ids),
        calendars::busy(conn, &provider_ids, window, &[], now),
        pools_by_location(conn, &area, query.kind, &location_ids, window, now),
    )
    .await?;
    let mut busy_by_provider: HashMap<Uuid, Vec<Span>> = HashMap::new();
    for (provider, span) in busy {
        busy_by_provider.entry(provider).or_default().push(span);
    }
    let calendars = pairs
        .iter()
        .map(|&(provider_id, location_id)| Calendar {
            provider_id,
            location_id,
            time_zone: zones.get(&location_id).copied().unwrap_or(chrono_tz::UTC),
            hours: hours
                .iter()
                .filter(|row| row.provider_id == provider_id && row.location_id == location_id)
                .filter_map(|row| row.interval())
                .collect(),
            busy: busy_by_provider
                .get(&provider_id)
                .cloned()
                .unwrap_or_default(),
            pools: pools.get(&location_id).cloned().unwrap_or_default(),
        })
        .collect();
    let minutes = match query.kind {
        SessionKind::Assessment => area.assessment_minutes,
        SessionKind::Injection => area.injection_minutes,
        SessionKind::FollowUp => area.follow_up_minutes,
    };
    let buffer = match query.kind {
        SessionKind::Injection => settings.buffer_after_injection_minutes,
        _ => 0,
    };
    let request = SlotRequest {
        from: query.from,
        to: query.to,
        duration: Duration::minutes(i64::from(minutes)),
        buffer_after: Duration::minutes(i64::from(buffer)),
        step: Duration::minutes(i64::from(settings.slot_step_minutes)),
        earliest: now + Duration::minutes(i64::from(settings.minimum_notice_minutes)),
        latest: now + Duration::days(i64::from(settings.booking_horizon_days)),
    };
    Ok(Calendars { request, calendars })
}

/// The pools of the resources a session of `kind` in `area` needs at each of `locations`,
/// busy as of `now` within `window`: one query however many resources there are.
async fn pools_by_location(
    conn: &AsyncPgConnection,
    area: &treatment_areas::TreatmentArea,
    kind: SessionKind,
    locations: &[Uuid],
    window: Span,
    now: DateTime<Utc>,
) -> diesel::QueryResult<HashMap<Uuid, Arc<Pools>>> {
    let requirements = area.requirements();
    let needs = requirements.of(kind);
    let mut pools = HashMap::new();
    if needs.is_empty() {
        return Ok(pools);
    }
    let mut at: HashMap<Uuid, Vec<Busy>> = locations.iter().map(|id| (*id, Vec::new())).collect();
    for (location_id, busy) in allocations::busy(conn, locations, needs, window, &[], now).await? {
        at.entry(location_id).or_default().push(busy);
    }
    for (location_id, busy) in at {
        pools.insert(location_id, Arc::new(Pools::new(needs, &busy)));
    }
    Ok(pools)
}
