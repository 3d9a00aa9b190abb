//! Tests of the planning rules.

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
        resources: Default::default(),
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
