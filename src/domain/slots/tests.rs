//! Tests of the slots rules.

use super::*;

const NEW_YORK: Tz = chrono_tz::America::New_York;

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn every_day(start: &str, end: &str, location_id: Uuid) -> Vec<WeeklyInterval> {
    use Weekday::*;
    [
        Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday,
    ]
    .into_iter()
    .map(|weekday| WeeklyInterval {
        location_id,
        weekday,
        start: start.parse().unwrap(),
        end: end.parse().unwrap(),
        effective_from: None,
        effective_until: None,
    })
    .collect()
}

fn request(from: &str, to: &str) -> SlotRequest {
    SlotRequest {
        from: date(from),
        to: date(to),
        duration: Duration::minutes(30),
        buffer_after: Duration::zero(),
        step: Duration::minutes(15),
        earliest: at("2027-01-01T00:00:00Z"),
        latest: at("2028-01-01T00:00:00Z"),
    }
}

fn calendar(hours: Vec<WeeklyInterval>, busy: Vec<Span>) -> Calendar {
    let location_id = hours.first().map_or(Uuid::nil(), |h| h.location_id);
    Calendar {
        provider_id: Uuid::nil(),
        location_id,
        time_zone: NEW_YORK,
        hours,
        busy,
        pools: Default::default(),
    }
}

#[test]
fn working_days_start_at_local_nine_across_dst_changes() {
    let here = Uuid::now_v7();
    let cal = calendar(every_day("09:00", "17:00", here), vec![]);
    for (day, first) in [
        ("2027-03-13", "2027-03-13T14:00:00Z"),
        ("2027-03-14", "2027-03-14T13:00:00Z"),
        ("2027-11-07", "2027-11-07T14:00:00Z"),
        ("2027-11-08", "2027-11-08T14:00:00Z"),
    ] {
        let slots = open_slots(&request(day, day), std::slice::from_ref(&cal));
        assert_eq!(slots[0].starts_at, at(first), "{day}");
        assert_eq!(
            slots.len(),
            31,
            "{day}: 8 h of 30-min sessions every 15 min"
        );
    }
}

#[test]
fn night_hours_keep_their_real_length_on_transition_days() {
    let here = Uuid::now_v7();
    let cal = calendar(every_day("01:00", "04:00", here), vec![]);
    let mut req = request("2027-03-14", "2027-03-14");
    req.duration = Duration::minutes(15);
    assert_eq!(
        open_slots(&req, std::slice::from_ref(&cal)).len(),
        8,
        "2 h on spring-forward day"
    );
    req.from = date("2027-11-07");
    req.to = date("2027-11-07");
    assert_eq!(
        open_slots(&req, std::slice::from_ref(&cal)).len(),
        16,
        "4 h on fall-back day"
    );
    req.from = date("2027-11-08");
    req.to = date("2027-11-08");
    assert_eq!(open_slots(&req, &[cal]).len(), 12, "3 h on an ordinary day");
}

#[test]
fn each_slot_carries_the_offsets_in_force_at_its_start_and_end() {
    let cal = calendar(every_day("01:00", "04:00", Uuid::now_v7()), vec![]);
    let mut req = request("2027-11-07", "2027-11-07");
    req.duration = Duration::minutes(30);
    let slots = open_slots(&req, &[cal]);
    let edt = FixedOffset::west_opt(4 * 3600).unwrap();
    let est = FixedOffset::west_opt(5 * 3600).unwrap();
    let offsets = |start: &str| {
        slots
            .iter()
            .find(|slot| slot.starts_at == at(start))
            .map(|slot| slot.offsets)
    };
    // 01:00 EDT is 05:00Z; the clocks fall back at 06:00Z (02:00 EDT → 01:00 EST).
    assert_eq!(offsets("2027-11-07T05:00:00Z"), Some((edt, edt)));
    assert_eq!(
        offsets("2027-11-07T05:45:00Z"),
        Some((edt, est)),
        "ends after the change"
    );
    assert_eq!(offsets("2027-11-07T06:00:00Z"), Some((est, est)));
    for slot in &slots {
        let local = |instant: DateTime<Utc>| instant.with_timezone(&NEW_YORK).offset().fix();
        assert_eq!(slot.offsets, (local(slot.starts_at), local(slot.ends_at)));
    }
}

#[test]
fn slots_of_calendars_in_different_zones_come_merged_by_start() {
    let mut calendars = Vec::new();
    for (n, zone) in [NEW_YORK, chrono_tz::America::Denver, NEW_YORK]
        .into_iter()
        .enumerate()
    {
        let mut cal = calendar(every_day("08:00", "12:00", Uuid::now_v7()), vec![]);
        cal.provider_id = Uuid::from_u128(3 - n as u128);
        cal.time_zone = zone;
        calendars.push(cal);
    }
    let slots = open_slots(&request("2027-06-01", "2027-06-03"), &calendars);
    assert_eq!(slots.len(), 3 * 3 * 15);
    let keys: Vec<_> = slots.iter().map(|s| (s.starts_at, s.provider_id)).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

#[test]
fn a_busy_span_ending_within_a_second_still_covers_it() {
    let cal = calendar(
        every_day("09:00", "10:15", Uuid::now_v7()),
        vec![Span {
            start: at("2027-06-01T13:00:00Z"),
            end: at("2027-06-01T13:30:00.5Z"),
        }],
    );
    let starts: Vec<_> = open_slots(&request("2027-06-01", "2027-06-01"), &[cal])
        .into_iter()
        .map(|slot| slot.starts_at)
        .collect();
    // 13:30 would overlap the busy span's last half second; 13:45 is the first free start.
    assert_eq!(starts, [at("2027-06-01T13:45:00Z")]);
}

#[test]
fn busy_time_buffers_notice_and_horizon_remove_slots() {
    let here = Uuid::now_v7();
    let busy = vec![Span {
        start: at("2027-06-01T14:00:00Z"),
        end: at("2027-06-01T15:00:00Z"),
    }];
    let cal = calendar(every_day("09:00", "12:00", here), busy);
    let mut req = request("2027-06-01", "2027-06-01");
    let starts = |req: &SlotRequest| -> Vec<String> {
        open_slots(req, std::slice::from_ref(&cal))
            .iter()
            .map(|s| s.starts_at.format("%H:%M").to_string())
            .collect()
    };
    // 09:00–12:00 EDT is 13:00–16:00Z; 14:00–15:00Z is taken.
    assert_eq!(
        starts(&req),
        ["13:00", "13:15", "13:30", "15:00", "15:15", "15:30"]
    );
    req.buffer_after = Duration::minutes(10);
    assert_eq!(starts(&req), ["13:00", "13:15", "15:00", "15:15", "15:30"]);
    req.earliest = at("2027-06-01T15:10:00Z");
    assert_eq!(starts(&req), ["15:15", "15:30"]);
    req.latest = at("2027-06-01T15:15:00Z");
    assert_eq!(starts(&req), ["15:15"]);
}

#[test]
fn effective_ranges_and_weekdays_are_respected() {
    let here = Uuid::now_v7();
    let mut hours = every_day("09:00", "10:00", here);
    hours.retain(|h| h.weekday == Weekday::Tuesday);
    hours[0].effective_from = Some(date("2027-06-08"));
    let cal = calendar(hours, vec![]);
    let slots = open_slots(&request("2027-06-01", "2027-06-14"), &[cal]);
    let days: Vec<String> = slots
        .iter()
        .map(|s| s.starts_at.date_naive().to_string())
        .collect();
    assert_eq!(days, ["2027-06-08"; 3]);
}

#[test]
fn free_gaps_are_what_is_left_of_the_day() {
    let span = |a: &str, b: &str| Span {
        start: at(a),
        end: at(b),
    };
    let day = span("2027-06-01T08:00:00Z", "2027-06-01T12:00:00Z");
    let busy = [
        span("2027-06-01T09:00:00Z", "2027-06-01T09:30:00Z"),
        span("2027-06-01T09:15:00Z", "2027-06-01T10:00:00Z"),
        span("2027-06-01T11:30:00Z", "2027-06-01T13:00:00Z"),
        span("2027-06-01T06:00:00Z", "2027-06-01T07:00:00Z"),
    ];
    assert_eq!(
        free_gaps(day, &busy),
        [
            span("2027-06-01T08:00:00Z", "2027-06-01T09:00:00Z"),
            span("2027-06-01T10:00:00Z", "2027-06-01T11:30:00Z")
        ]
    );
    assert_eq!(free_gaps(day, &[]), [day]);
}

#[test]
fn gap_and_repeated_times_map_to_real_instants() {
    let spring = date("2027-03-14");
    let gap = local_instant(spring, "02:30".parse().unwrap(), NEW_YORK, false);
    assert_eq!(gap, at("2027-03-14T07:30:00Z"));
    let fall = date("2027-11-07");
    let one_thirty: NaiveTime = "01:30".parse().unwrap();
    assert_eq!(
        local_instant(fall, one_thirty, NEW_YORK, false),
        at("2027-11-07T05:30:00Z")
    );
    assert_eq!(
        local_instant(fall, one_thirty, NEW_YORK, true),
        at("2027-11-07T06:30:00Z")
    );
}

#[test]
fn a_start_needing_a_taken_device_is_not_offered() {
    use crate::domain::resources::{Busy, Pools};
    let here = Uuid::now_v7();
    let mut cal = calendar(every_day("09:00", "12:00", here), vec![]);
    // The one ultrasound is in use 10:00-10:45 New York time (15:00-15:45 UTC).
    let ultrasound = Busy {
        id: Uuid::now_v7(),
        tags: vec!["ultrasound".into()],
        busy: vec![Span {
            start: at("2027-03-01T15:00:00Z"),
            end: at("2027-03-01T15:45:00Z"),
        }],
    };
    cal.pools = std::sync::Arc::new(Pools::new(&["ultrasound".into()], &[ultrasound]));
    let starts: Vec<String> = open_slots(&request("2027-03-01", "2027-03-01"), &[cal])
        .iter()
        .map(|slot| slot.starts_at.format("%H:%M").to_string())
        .collect();
    assert_eq!(
        starts,
        [
            "14:00", "14:15", "14:30", "15:45", "16:00", "16:15", "16:30"
        ]
    );
}
