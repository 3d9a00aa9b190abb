//! Course planning: where each session of a course can go. Session k+1 falls inside
//! `[start_k + min, start_k + max]` days, at the target interval where possible, on the same
//! weekday and at the same local time of day as the course's first session (so a 09:00 course stays
//! at 09:00 across a DST change), and only where a booking would be accepted.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

use super::resources::Pools;
use super::slots::{Span, is_free, local_instant, working_span};
use super::time::Weekday;
use super::working_hours::WeeklyInterval;

/// Days between consecutive sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntervalWindow {
    pub min: u32,
    pub target: Option<u32>,
    pub max: u32,
}

impl IntervalWindow {
    /// The preferred interval: the target, else the middle of the window.
    pub fn preferred(&self) -> u32 {
        self.target
            .unwrap_or((self.min + self.max) / 2)
            .clamp(self.min, self.max)
    }
}

/// Soft preferences of the patient.
#[derive(Debug, Clone, Default)]
pub struct Preferences {
    /// Weekdays that suit; any when empty.
    pub weekdays: Vec<Weekday>,
    /// Local times of day that suit (start inclusive, end exclusive for session starts).
    pub time_window: Option<(NaiveTime, NaiveTime)>,
}

/// Everything the planner needs, read once.
#[derive(Debug, Clone)]
pub struct PlanInput {
    pub sessions: u32,
    pub duration: Duration,
    /// Time kept free after each session (the injection buffer).
    pub buffer_after: Duration,
    pub step: Duration,
    pub window: IntervalWindow,
    /// The first session's start, when the front desk chose it.
    pub first_start: Option<DateTime<Utc>>,
    pub time_zone: Tz,
    /// The provider's weekly intervals at the location.
    pub hours: Vec<WeeklyInterval>,
    /// The provider's sessions (with buffers) and time off.
    pub provider_busy: Vec<Span>,
    /// The patient's sessions.
    pub patient_busy: Vec<Span>,
    /// Now plus the minimum notice.
    pub earliest: DateTime<Utc>,
    /// Now plus the booking horizon.
    pub latest: DateTime<Utc>,
    pub preferences: Preferences,
    /// The session the plan continues from (extending a course): the first planned session
    /// falls in the window after it, keeping its weekday and local time of day.
    pub after: Option<DateTime<Utc>>,
    /// No session starts before this: the end of the gap after the patient's assessment.
    pub not_before: Option<DateTime<Utc>>,
    /// The rooms and devices each session needs at the location, with what keeps them busy.
    pub resources: std::sync::Arc<Pools>,
}

/// The first instant a course session may start after an assessment spanning `assessment`:
/// the start of the local day `gap_days` after it, or with no gap, the assessment's end.
pub fn after_assessment(assessment: Span, zone: Tz, gap_days: u32) -> DateTime<Utc> {
    if gap_days == 0 {
        return assessment.end;
    }
    let day = assessment.start.with_timezone(&zone).date_naive();
    let later = day
        .checked_add_days(chrono::Days::new(u64::from(gap_days)))
        .unwrap_or(day);
    super::slots::local_instant(later, NaiveTime::MIN, zone, false)
}

/// A session placed by the planner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    pub number: u32,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// A session the planner could not place, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unplaced {
    pub number: u32,
    pub reason: String,
}

/// The proposal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub placed: Vec<Placed>,
    pub unplaced: Vec<Unplaced>,
}

/// Proposes every session of the course; writes nothing.
pub fn plan(input: &PlanInput) -> Plan {
    let mut provider_busy = input.provider_busy.clone();
    let mut patient_busy = input.patient_busy.clone();
    provider_busy.sort();
    patient_busy.sort();
    let mut plan = Plan::default();
    // Where the previous session is (or would have been): the next window counts from it.
    let mut anchor: Option<DateTime<Utc>> = input.after;
    // The course's rhythm: the first session's local weekday and time of day.
    let mut rhythm: Option<(Weekday, NaiveTime)> = None;
    for number in 1..=input.sessions {
        let found = match anchor {
            None => first_session(input, &provider_busy, &patient_busy),
            Some(previous) => next_session(input, previous, rhythm, &provider_busy, &patient_busy),
        };
        match found {
            Ok(start) => {
                let end = start + input.duration;
                provider_busy.push(Span {
                    start,
                    end: end + input.buffer_after,
                });
                provider_busy.sort();
                patient_busy.push(Span { start, end });
                patient_busy.sort();
                let local = start.with_timezone(&input.time_zone);
                rhythm.get_or_insert((Weekday::from(local.weekday()), local.time()));
                plan.placed.push(Placed {
                    number,
                    starts_at: start,
                    ends_at: end,
                });
                anchor = Some(start);
            }
            Err((reason, ideal)) => {
                plan.unplaced.push(Unplaced { number, reason });
                anchor = ideal;
            }
        }
    }
    plan
}

/// An unplaced session: why, and the instant the next window should count from.
type Miss = (String, Option<DateTime<Utc>>);

fn first_session(
    input: &PlanInput,
    provider: &[Span],
    patient: &[Span],
) -> Result<DateTime<Utc>, Miss> {
    if let Some(start) = input.first_start {
        return match refusal(input, start, provider, patient) {
            None => Ok(start),
            Some(reason) => Err((
                format!("the requested first start is not bookable: {reason}"),
                Some(start),
            )),
        };
    }
    let earliest = input
        .not_before
        .map_or(input.earliest, |n| n.max(input.earliest));
    let first_day = earliest.with_timezone(&input.time_zone).date_naive();
    let last_day = input.latest.with_timezone(&input.time_zone).date_naive();
    let mut day = first_day;
    while day <= last_day {
        let preferred = input.preferences.weekdays.is_empty()
            || input
                .preferences
                .weekdays
                .contains(&Weekday::from(day.weekday()));
        if preferred
            && let Some(start) = starts_on(input, day, None)
                .find(|s| refusal(input, *s, provider, patient).is_none())
        {
            return Ok(start);
        }
        let Some(next) = day.succ_opt() else { break };
        day = next;
    }
    Err(("no free slot before the booking horizon".into(), None))
}

fn next_session(
    input: &PlanInput,
    previous: DateTime<Utc>,
    rhythm: Option<(Weekday, NaiveTime)>,
    provider: &[Span],
    patient: &[Span],
) -> Result<DateTime<Utc>, Miss> {
    let zone = input.time_zone;
    let previous_day = previous.with_timezone(&zone).date_naive();
    let (weekday, time_of_day) = rhythm.unwrap_or_else(|| {
        let local = previous.with_timezone(&zone);
        (Weekday::from(local.weekday()), local.time())
    });
    let preferred = input.window.preferred();
    let mut days: Vec<(u32, NaiveDate)> = (input.window.min..=input.window.max)
        .filter_map(|offset| {
            Some((
                offset,
                previous_day.checked_add_days(chrono::Days::new(u64::from(offset)))?,
            ))
        })
        .collect();
    // Patient's weekdays first, then the course's weekday, then nearest the target interval.
    days.sort_by_key(|(offset, day)| {
        let day_weekday = Weekday::from(day.weekday());
        let unwanted = !input.preferences.weekdays.is_empty()
            && !input.preferences.weekdays.contains(&day_weekday);
        (
            unwanted,
            day_weekday != weekday,
            offset.abs_diff(preferred),
            *offset,
        )
    });
    for (_, day) in &days {
        let found = starts_on(input, *day, Some(time_of_day))
            .find(|s| refusal(input, *s, provider, patient).is_none());
        if let Some(start) = found {
            return Ok(start);
        }
    }
    let ideal_day = previous_day + Duration::days(i64::from(preferred));
    let ideal = local_instant(ideal_day, time_of_day, zone, false);
    let (from, to) = (
        days.iter().map(|d| d.1).min(),
        days.iter().map(|d| d.1).max(),
    );
    let reason = match (from, to) {
        (Some(from), Some(to)) => format!("no free slot between {from} and {to}"),
        _ => "the interval window is empty".into(),
    };
    Err((reason, Some(ideal)))
}

/// Candidate starts on a local `day`, closest to `time_of_day` first when given, within the
/// patient's time window.
fn starts_on(
    input: &PlanInput,
    day: NaiveDate,
    time_of_day: Option<NaiveTime>,
) -> impl Iterator<Item = DateTime<Utc>> {
    let zone = input.time_zone;
    let mut starts = Vec::new();
    for interval in input.hours.iter().filter(|i| i.applies_on(day)) {
        let span = working_span(day, interval.start.time(), interval.end.time(), zone);
        let mut start = span.start;
        while start + input.duration <= span.end {
            let local_time = start.with_timezone(&zone).time();
            let wanted = input
                .preferences
                .time_window
                .is_none_or(|(from, to)| from <= local_time && local_time < to);
            if wanted {
                starts.push(start);
            }
            start += input.step;
        }
    }
    if let Some(time_of_day) = time_of_day {
        let target = local_instant(day, time_of_day, zone, false);
        starts.sort_by_key(|start| ((*start - target).num_seconds().abs(), *start));
    } else {
        starts.sort();
    }
    starts.into_iter()
}

/// Why a session at `start` would be refused, if it would.
fn refusal(
    input: &PlanInput,
    start: DateTime<Utc>,
    provider: &[Span],
    patient: &[Span],
) -> Option<String> {
    if start < input.earliest {
        return Some("sooner than the minimum notice".into());
    }
    if input
        .not_before
        .is_some_and(|not_before| start < not_before)
    {
        return Some("too soon after the patient's assessment (the area's assessment gap)".into());
    }
    if start > input.latest {
        return Some("beyond the booking horizon".into());
    }
    let day = start.with_timezone(&input.time_zone).date_naive();
    let end = start + input.duration;
    let within = input
        .hours
        .iter()
        .filter(|i| i.applies_on(day))
        .any(|interval| {
            let span = working_span(
                day,
                interval.start.time(),
                interval.end.time(),
                input.time_zone,
            );
            span.start <= start && end <= span.end
        });
    if !within {
        return Some("outside the provider's working hours".into());
    }
    if !is_free(
        provider,
        &Span {
            start,
            end: end + input.buffer_after,
        },
    ) {
        return Some("the provider is busy or away".into());
    }
    if !is_free(patient, &Span { start, end }) {
        return Some("the patient has another session".into());
    }
    let held = Span {
        start,
        end: end + input.buffer_after,
    };
    if let Some(tag) = input.resources.unmet_over(&held) {
        return Some(format!("no resource tagged `{tag}` is free"));
    }
    None
}

#[cfg(test)]
mod tests;
