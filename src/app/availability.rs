//! Open slots for a treatment area and session kind: the calendars are read in a fixed number
//! of queries whatever the range, then the slots computed from them without the database.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::domain::sessions::SessionKind;
use crate::domain::slots::{Calendar, Slot, SlotRequest, Span, open_slots};
use crate::error::{AppError, ProblemType};
use crate::models::{calendars, locations, providers, settings, treatment_areas, working_hours};

/// The longest range one request may ask for.
pub const MAX_DAYS: i64 = 62;

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
}

/// Reads every calendar `query` involves as of `now`: the eligible providers at their
/// locations, their hours, and what they have booked or taken off around the dates.
pub async fn calendars(
    conn: &mut AsyncPgConnection,
    query: &SlotQuery,
    now: DateTime<Utc>,
) -> Result<Calendars, AppError> {
    if query.to < query.from {
        return Err(AppError::rule("to", "must not be before from"));
    }
    if (query.to - query.from).num_days() >= MAX_DAYS {
        return Err(AppError::rule(
            "to",
            format!("the range may span at most {MAX_DAYS} days"),
        ));
    }
    let area = treatment_areas::find(conn, query.treatment_area_id)
        .await?
        .ok_or_else(|| {
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
    let settings = settings::get(conn).await?;
    let pairs = providers::eligible(conn, area.id, query.provider_id, query.location_id).await?;
    let provider_ids: Vec<Uuid> = pairs.iter().map(|(provider, _)| *provider).collect();
    let location_ids: Vec<Uuid> = pairs.iter().map(|(_, location)| *location).collect();
    let zones = locations::time_zones(conn, &location_ids).await?;
    let hours = working_hours::for_providers(conn, &provider_ids).await?;
    // Wide enough for every time zone on earth around the local dates.
    let midnight =
        |date: NaiveDate| Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default());
    let window = Span {
        start: midnight(query.from) - Duration::days(1),
        end: midnight(query.to) + Duration::days(2),
    };
    let busy = calendars::busy(conn, &provider_ids, window, &[]).await?;
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
