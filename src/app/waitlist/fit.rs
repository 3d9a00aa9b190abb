//! Which waiting entries a free time fits: the entry's wishes, its session's course window,
//! the patient's other sessions, and the open slots as availability computes them (hours,
//! time off, notice, horizon, holds, rooms and devices).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::app::availability::{self, SlotQuery};
use crate::app::calendar::zone_in;
use crate::domain::sessions::{SessionKind, SessionStatus};
use crate::domain::slots::Slot;
use crate::domain::time::Weekday;
use crate::domain::waitlist::{TimeWindow, Wish, strands_next, window_after};
use crate::error::{AppError, ProblemType};
use crate::models::waitlist::{self as model, Entry};
use crate::models::{courses, locations, sessions};

/// A waiting entry with what it can take.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub entry: Entry,
    pub wish: Wish,
    /// For a course session: the next session's start and the course's longest interval,
    /// to tell whether accepting needs the later sessions moved along.
    pub next: Option<(DateTime<Utc>, i32)>,
}

impl Candidate {
    /// Whether taking a time starting at `start` needs the course's later sessions moved.
    pub fn strands_next(&self, start: DateTime<Utc>, zone: Tz) -> bool {
        self.next
            .is_some_and(|(next, max)| strands_next(start, next, max, zone))
    }
}

/// The entry's time window.
pub fn window_of(entry: &Entry) -> Option<TimeWindow> {
    match (entry.window_start, entry.window_end) {
        (Some(start), Some(end)) => Some(TimeWindow {
            start: start.into(),
            end: end.into(),
        }),
        _ => None,
    }
}

/// The entry's weekdays.
pub fn weekdays_of(entry: &Entry) -> Vec<Weekday> {
    entry
        .weekdays
        .iter()
        .filter_map(|n| Weekday::from_iso_number(*n))
        .collect()
}

/// Reads what each entry can take. An entry whose session is no longer upcoming is left out
/// (the sweep expires it).
pub async fn candidates(
    conn: &mut AsyncPgConnection,
    entries: Vec<Entry>,
) -> Result<Vec<Candidate>, AppError> {
    let mut found = Vec::with_capacity(entries.len());
    for entry in entries {
        let mut wish = Wish {
            earliest: entry.earliest,
            latest: entry.latest,
            weekdays: weekdays_of(&entry),
            window: window_of(&entry),
            before: None,
            dates: None,
        };
        let mut next = None;
        if let Some(session_id) = entry.session_id {
            let Some(session) = sessions::find(conn, session_id)
                .await?
                .filter(|s| s.status.is_upcoming())
            else {
                continue;
            };
            wish.before = Some(session.starts_at);
            if let Some(course_id) = session.course_id {
                let course = courses::find(conn, course_id)
                    .await?
                    .ok_or(AppError::NotFound("course"))?;
                let zone = crate::app::calendar::zone_of(conn, session.location_id).await?;
                let number = session.course_number.unwrap_or(0);
                let others: Vec<_> = courses::sessions_of(conn, course_id)
                    .await?
                    .into_iter()
                    .filter(|s| s.id != session.id && s.status != SessionStatus::Cancelled)
                    .collect();
                let previous = others
                    .iter()
                    .filter(|s| s.course_number.unwrap_or(0) < number)
                    .max_by_key(|s| s.course_number);
                wish.dates = previous.map(|p| {
                    window_after(
                        p.starts_at,
                        course.interval_min_days,
                        course.interval_max_days,
                        zone,
                    )
                });
                next = others
                    .iter()
                    .filter(|s| s.course_number.unwrap_or(0) > number)
                    .min_by_key(|s| s.course_number)
                    .map(|s| (s.starts_at, course.interval_max_days));
            }
        }
        found.push(Candidate { entry, wish, next });
    }
    Ok(found)
}

/// The open slots of `provider_id` on the local dates `from..=to` (at `location_id`, or any
/// of its locations) that each candidate fits, by index, earliest first; `within`, when set,
/// keeps only slots starting in it.
pub async fn fitting(
    conn: &mut AsyncPgConnection,
    provider_id: Uuid,
    location_id: Option<Uuid>,
    (from, to): (NaiveDate, NaiveDate),
    within: Option<(DateTime<Utc>, DateTime<Utc>)>,
    candidates: &[Candidate],
    now: DateTime<Utc>,
) -> Result<Vec<(usize, Vec<Slot>)>, AppError> {
    let mut groups: BTreeMap<(Uuid, &'static str), (SessionKind, Vec<usize>)> = BTreeMap::new();
    for (index, candidate) in candidates.iter().enumerate() {
        let entry = &candidate.entry;
        groups
            .entry((entry.treatment_area_id, entry.kind.as_str()))
            .or_insert_with(|| (entry.kind, Vec::new()))
            .1
            .push(index);
    }
    let mut slots_of: HashMap<(Uuid, &'static str), Vec<Slot>> = HashMap::new();
    for (&(area, kind_name), (kind, _)) in &groups {
        let query = SlotQuery {
            treatment_area_id: area,
            kind: *kind,
            from,
            to,
            provider_id: Some(provider_id),
            location_id,
        };
        let read = match availability::calendars(conn, &query, now).await {
            Ok(read) => read,
            // An area archived while patients wait for it: nothing fits it.
            Err(AppError::Problem(ProblemType::InactiveRecord, _)) => continue,
            Err(error) => return Err(error),
        };
        let slots: Vec<Slot> = read
            .slots()
            .into_iter()
            .filter(|slot| {
                within.is_none_or(|(start, end)| start <= slot.starts_at && slot.starts_at < end)
            })
            .collect();
        slots_of.insert((area, kind_name), slots);
    }
    let all: Vec<&Slot> = slots_of.values().flatten().collect();
    let (Some(first), Some(last)) = (
        all.iter().map(|s| s.starts_at).min(),
        all.iter().map(|s| s.ends_at).max(),
    ) else {
        return Ok(Vec::new());
    };
    let mut location_ids: Vec<Uuid> = all.iter().map(|s| s.location_id).collect();
    location_ids.sort_unstable();
    location_ids.dedup();
    let zones = locations::time_zones(conn, &location_ids).await?;
    let patient_ids: Vec<Uuid> = candidates.iter().map(|c| c.entry.patient_id).collect();
    let busy = model::patients_busy(conn, &patient_ids, first, last).await?;
    let mut fits = Vec::new();
    for ((area, kind_name), (_, members)) in &groups {
        let Some(slots) = slots_of.get(&(*area, *kind_name)) else {
            continue;
        };
        for &index in members {
            let candidate = &candidates[index];
            let entry = &candidate.entry;
            let taken: Vec<_> = busy
                .iter()
                .filter(|b| {
                    b.patient_id == entry.patient_id && Some(b.session_id) != entry.session_id
                })
                .collect();
            let fitting: Vec<Slot> = slots
                .iter()
                .filter(|slot| entry.location_id.is_none_or(|id| id == slot.location_id))
                .filter(|slot| {
                    let zone = zone_in(&zones, slot.location_id);
                    candidate.wish.admits(slot.starts_at, slot.ends_at, zone)
                })
                .filter(|slot| {
                    !taken
                        .iter()
                        .any(|b| b.starts_at < slot.ends_at && slot.starts_at < b.ends_at)
                })
                .cloned()
                .collect();
            if !fitting.is_empty() {
                fits.push((index, fitting));
            }
        }
    }
    Ok(fits)
}
