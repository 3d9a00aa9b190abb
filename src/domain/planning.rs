//! Course planning: where each session of a course can go. Session k+1 falls inside
//! `[start_k + min, start_k + max]` days, at the target interval where possible, on the same
//! weekday and at the same local time of day as the course's first session (so a 09:00 course stays
//! at 09:00 across a DST change), and only where a booking would be accepted.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

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
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    const NEW_YORK: Tz = chrono_tz::America::New_York;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn weekdays(start: &str, end: &str) -> Vec<WeeklyInterval> {
        use Weekday::*;
        [Monday, Tuesday, Wednesday, Thursday, Friday]
            .into_iter()
            .map(|weekday| WeeklyInterval {
                location_id: Uuid::nil(),
                weekday,
                start: start.parse().unwrap(),
                end: end.parse().unwrap(),
                effective_from: None,
                effective_until: None,
            })
            .collect()
    }

    fn weekly_course(first: &str, sessions: u32) -> PlanInput {
        PlanInput {
            sessions,
            duration: Duration::minutes(30),
            buffer_after: Duration::minutes(10),
            step: Duration::minutes(15),
            window: IntervalWindow {
                min: 5,
                target: Some(7),
                max: 10,
            },
            first_start: Some(at(first)),
            time_zone: NEW_YORK,
            hours: weekdays("08:00", "17:00"),
            provider_busy: vec![],
            patient_busy: vec![],
            earliest: at("2027-01-01T00:00:00Z"),
            latest: at("2028-06-01T00:00:00Z"),
            preferences: Preferences::default(),
            after: None,
            not_before: None,
        }
    }

    #[test]
    fn the_first_session_follows_the_assessment_by_the_areas_gap() {
        // An assessment on Monday 2027-03-08 09:00-09:45 in New York.
        let assessment = Span {
            start: at("2027-03-08T14:00:00Z"),
            end: at("2027-03-08T14:45:00Z"),
        };
        let gap = after_assessment(assessment, NEW_YORK, 1);
        assert_eq!(gap, at("2027-03-09T05:00:00Z"), "midnight after, local");
        // Across the spring-forward night the local midnight moves to UTC-4.
        let before_dst = Span {
            start: at("2027-03-13T15:00:00Z"),
            end: at("2027-03-13T15:45:00Z"),
        };
        assert_eq!(
            after_assessment(before_dst, NEW_YORK, 1),
            at("2027-03-14T05:00:00Z")
        );
        assert_eq!(
            after_assessment(before_dst, NEW_YORK, 2),
            at("2027-03-15T04:00:00Z")
        );
        assert_eq!(after_assessment(assessment, NEW_YORK, 0), assessment.end);
        let mut course = weekly_course("2027-03-08T15:00:00Z", 2);
        course.first_start = None;
        course.earliest = at("2027-03-08T12:00:00Z");
        course.not_before = Some(gap);
        let placed = plan(&course).placed;
        assert_eq!(
            local(&placed[0]),
            "2027-03-09 Tue 08:00",
            "not on the assessment's day"
        );
        let mut chosen = weekly_course("2027-03-08T16:00:00Z", 1);
        chosen.not_before = Some(gap);
        let refused = plan(&chosen);
        assert!(
            refused.unplaced[0].reason.contains("assessment"),
            "{refused:?}"
        );
    }

    fn local(placed: &Placed) -> String {
        placed
            .starts_at
            .with_timezone(&NEW_YORK)
            .format("%Y-%m-%d %a %H:%M")
            .to_string()
    }

    #[test]
    fn a_weekly_nine_oclock_course_stays_at_nine_across_the_fall_change() {
        // Monday 2027-10-25 09:00 EDT.
        let plan = plan(&weekly_course("2027-10-25T13:00:00Z", 4));
        let days: Vec<String> = plan.placed.iter().map(local).collect();
        assert_eq!(
            days,
            [
                "2027-10-25 Mon 09:00",
                "2027-11-01 Mon 09:00",
                "2027-11-08 Mon 09:00",
                "2027-11-15 Mon 09:00"
            ]
        );
        assert_eq!(
            plan.placed[2].starts_at,
            at("2027-11-08T14:00:00Z"),
            "09:00 EST after the change"
        );
        assert!(plan.unplaced.is_empty());
    }

    #[test]
    fn and_across_the_spring_change() {
        let plan = plan(&weekly_course("2027-03-08T14:00:00Z", 3));
        let days: Vec<String> = plan.placed.iter().map(local).collect();
        assert_eq!(
            days,
            [
                "2027-03-08 Mon 09:00",
                "2027-03-15 Mon 09:00",
                "2027-03-22 Mon 09:00"
            ]
        );
    }

    #[test]
    fn time_off_and_a_full_day_move_a_session_within_its_window() {
        let mut input = weekly_course("2027-10-25T13:00:00Z", 3);
        // Away the whole of Monday 2027-11-01, and the patient is busy at 09:00 on Tuesday.
        input.provider_busy.push(Span {
            start: at("2027-11-01T04:00:00Z"),
            end: at("2027-11-02T04:00:00Z"),
        });
        input.patient_busy.push(Span {
            start: at("2027-11-02T13:00:00Z"),
            end: at("2027-11-02T14:00:00Z"),
        });
        let plan = plan(&input);
        let days: Vec<String> = plan.placed.iter().map(local).collect();
        // Same weekday impossible: the nearest day to the target, at the nearest time to 09:00.
        assert_eq!(days[1], "2027-11-02 Tue 08:30");
        for pair in plan.placed.windows(2) {
            let gap = (pair[1].starts_at.date_naive() - pair[0].starts_at.date_naive()).num_days();
            assert!((5..=10).contains(&gap), "window kept: {gap} days");
        }
        assert_eq!(days[2], "2027-11-08 Mon 09:00", "the rhythm returns");
    }

    #[test]
    fn a_session_that_cannot_be_placed_is_reported_and_the_rest_still_planned() {
        let mut input = weekly_course("2027-10-25T13:00:00Z", 3);
        // The provider is away for the whole window of session 2 (days 5 to 10 after the first).
        input.provider_busy.push(Span {
            start: at("2027-10-29T00:00:00Z"),
            end: at("2027-11-05T00:00:00Z"),
        });
        let plan = plan(&input);
        assert_eq!(plan.unplaced.len(), 1);
        assert_eq!(plan.unplaced[0].number, 2);
        assert!(
            plan.unplaced[0]
                .reason
                .contains("no free slot between 2027-10-30 and 2027-11-04")
        );
        assert_eq!(
            plan.placed.iter().map(|p| p.number).collect::<Vec<_>>(),
            [1, 3]
        );
        assert_eq!(
            local(&plan.placed[1]),
            "2027-11-08 Mon 09:00",
            "counted from where session 2 belonged"
        );
    }

    #[test]
    fn without_a_first_start_the_earliest_fitting_slot_is_taken_and_preferences_count() {
        let mut input = weekly_course("2027-10-25T13:00:00Z", 2);
        input.first_start = None;
        input.earliest = at("2027-10-25T15:20:00Z");
        let first = plan(&input);
        assert_eq!(local(&first.placed[0]), "2027-10-25 Mon 11:30");
        input.preferences.weekdays = vec![Weekday::Thursday];
        input.preferences.time_window = Some(("14:00".parse().unwrap(), "16:00".parse().unwrap()));
        let preferred = plan(&input);
        assert_eq!(local(&preferred.placed[0]), "2027-10-28 Thu 14:00");
        assert_eq!(local(&preferred.placed[1]), "2027-11-04 Thu 14:00");
    }

    #[test]
    fn a_plan_can_continue_after_an_existing_session() {
        let mut input = weekly_course("2027-10-25T13:00:00Z", 2);
        input.first_start = None;
        input.after = Some(at("2027-11-15T14:00:00Z"));
        let plan = plan(&input);
        let days: Vec<String> = plan.placed.iter().map(local).collect();
        assert_eq!(days, ["2027-11-22 Mon 09:00", "2027-11-29 Mon 09:00"]);
        assert_eq!(
            plan.placed[0].number, 1,
            "numbers are the plan's own; the caller offsets them"
        );
    }

    #[test]
    fn every_proposal_is_bookable() {
        let mut input = weekly_course("2027-10-25T13:00:00Z", 6);
        input.provider_busy.push(Span {
            start: at("2027-11-08T13:00:00Z"),
            end: at("2027-11-08T22:00:00Z"),
        });
        let plan = plan(&input);
        assert_eq!(plan.placed.len(), 6);
        for placed in &plan.placed {
            let others: Vec<Span> = plan
                .placed
                .iter()
                .filter(|p| p.number != placed.number)
                .map(|p| Span {
                    start: p.starts_at,
                    end: p.ends_at + input.buffer_after,
                })
                .chain(input.provider_busy.iter().copied())
                .collect();
            let mut others = others;
            others.sort();
            assert_eq!(
                refusal(&input, placed.starts_at, &others, &[]),
                None,
                "session {}",
                placed.number
            );
        }
        let refused_first = PlanInput {
            first_start: Some(at("2027-10-25T03:00:00Z")),
            ..input
        };
        let plan = super::plan(&refused_first);
        assert!(
            plan.unplaced[0]
                .reason
                .contains("outside the provider's working hours")
        );
    }
}
