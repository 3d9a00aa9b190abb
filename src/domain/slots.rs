//! Open slots: a provider's weekly wall-clock pattern turned into instants in the location's time
//! zone (DST-correct), minus what is already taken, within the clinic's notice and horizon.

use chrono::{
    DateTime, Duration, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeZone, Utc,
};
use chrono_tz::Tz;
use uuid::Uuid;

use super::time::Weekday;
use super::working_hours::WeeklyInterval;

/// A half-open span of time `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Span {
    /// Whether the two spans share any instant.
    pub fn overlaps(&self, other: &Span) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// The instant a wall-clock time names on `date` in `tz`. A time inside a spring-forward gap is
/// read with the offset before the gap; a time repeated by a fall-back is the first occurrence
/// for a start and the second for an end, so an interval keeps every hour it really has.
pub fn local_instant(date: NaiveDate, time: NaiveTime, tz: Tz, is_end: bool) -> DateTime<Utc> {
    let naive = NaiveDateTime::new(date, time);
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(instant) => instant.to_utc(),
        LocalResult::Ambiguous(first, second) => if is_end { second } else { first }.to_utc(),
        LocalResult::None => {
            let before = naive - Duration::hours(1);
            match tz.from_local_datetime(&before) {
                LocalResult::Single(instant) | LocalResult::Ambiguous(instant, _) => {
                    instant.to_utc() + Duration::hours(1)
                }
                LocalResult::None => Utc.from_utc_datetime(&naive),
            }
        }
    }
}

/// A wall-clock interval on `date` as instants; an end of 00:00 means midnight after `date`.
pub fn working_span(date: NaiveDate, start: NaiveTime, end: NaiveTime, tz: Tz) -> Span {
    Span {
        start: local_instant(date, start, tz, false),
        end: local_instant(date, end, tz, true),
    }
}

/// One provider at one location: the hours worked there and everything that blocks time.
#[derive(Debug, Clone)]
pub struct Calendar {
    pub provider_id: Uuid,
    pub location_id: Uuid,
    pub time_zone: Tz,
    /// The provider's weekly intervals at this location.
    pub hours: Vec<WeeklyInterval>,
    /// Sessions (with their buffers) and time off, at any location; need not be sorted.
    pub busy: Vec<Span>,
}

/// What is asked for.
#[derive(Debug, Clone, Copy)]
pub struct SlotRequest {
    /// Local dates, inclusive, in each location's time zone.
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The session's length.
    pub duration: Duration,
    /// Time kept free after the session (after injections).
    pub buffer_after: Duration,
    /// Starts are this far apart, from the start of each working interval.
    pub step: Duration,
    /// No start before this (now + minimum notice).
    pub earliest: DateTime<Utc>,
    /// No start after this (now + booking horizon).
    pub latest: DateTime<Utc>,
}

/// An open slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub provider_id: Uuid,
    pub location_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The location's UTC offsets at the start and at the end.
    pub offsets: (FixedOffset, FixedOffset),
}

impl WeeklyInterval {
    /// Whether the interval applies on `date`.
    pub fn applies_on(&self, date: NaiveDate) -> bool {
        Weekday::from(chrono::Datelike::weekday(&date)) == self.weekday
            && self.effective_from.is_none_or(|from| from <= date)
            && self.effective_until.is_none_or(|until| date <= until)
    }
}

/// Every open slot of `calendars` for `request`, sorted by start, then provider.
pub fn open_slots(request: &SlotRequest, calendars: &[Calendar]) -> Vec<Slot> {
    if request.step <= Duration::zero() || request.duration <= Duration::zero() {
        return Vec::new();
    }
    let per_calendar: Vec<Vec<Slot>> = calendars
        .iter()
        .map(|calendar| calendar_slots(request, calendar))
        .collect();
    merge_by_start(per_calendar)
}

/// One calendar's open slots, in order of start.
fn calendar_slots(request: &SlotRequest, calendar: &Calendar) -> Vec<Slot> {
    // Whole seconds from here on: a 14-day search tries thousands of starts, and plain integer
    // steps cost a fraction of `DateTime` arithmetic.
    let (step, length) = (
        request.step.num_seconds().max(1),
        request.duration.num_seconds(),
    );
    let held = length + request.buffer_after.num_seconds();
    let (earliest, latest) = (request.earliest.timestamp(), request.latest.timestamp());
    let busy = merged(&calendar.busy);
    let zone = calendar.time_zone;
    let offset_at =
        |instant: DateTime<Utc>| zone.offset_from_utc_datetime(&instant.naive_utc()).fix();
    let mut hours: Vec<&WeeklyInterval> = calendar.hours.iter().collect();
    hours.sort_by_key(|interval| interval.start);
    let mut slots = Vec::new();
    let mut date = request.from;
    while date <= request.to {
        for interval in hours.iter().filter(|i| i.applies_on(date)) {
            let span = working_span(date, interval.start.time(), interval.end.time(), zone);
            // Offsets change months apart: equal at both ends, they hold throughout.
            let (first, last) = (offset_at(span.start), offset_at(span.end));
            let (open, close) = (span.start.timestamp(), span.end.timestamp());
            let mut start = open;
            while start + length <= close {
                if start >= earliest && start <= latest && is_free_at(&busy, start, start + held) {
                    let (starts_at, ends_at) = (instant(start), instant(start + length));
                    let offsets = if first == last {
                        (first, first)
                    } else {
                        (offset_at(starts_at), offset_at(ends_at))
                    };
                    slots.push(Slot {
                        provider_id: calendar.provider_id,
                        location_id: calendar.location_id,
                        starts_at,
                        ends_at,
                        offsets,
                    });
                }
                start += step;
            }
        }
        let Some(next) = date.succ_opt() else { break };
        date = next;
    }
    slots
}

/// Merges lists that are each in order of start into one, by start, then provider and
/// location: a k-way merge, cheaper than sorting thousands of slots.
fn merge_by_start(lists: Vec<Vec<Slot>>) -> Vec<Slot> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let key = |slot: &Slot| (slot.starts_at, slot.provider_id, slot.location_id);
    let mut merged = Vec::with_capacity(lists.iter().map(Vec::len).sum());
    let mut heads: Vec<std::iter::Peekable<std::vec::IntoIter<Slot>>> = lists
        .into_iter()
        .map(|list| list.into_iter().peekable())
        .collect();
    let mut heap: BinaryHeap<Reverse<(_, usize)>> = heads
        .iter_mut()
        .enumerate()
        .filter_map(|(n, head)| head.peek().map(|slot| Reverse((key(slot), n))))
        .collect();
    while let Some(Reverse((_, n))) = heap.pop() {
        if let Some(slot) = heads[n].next() {
            merged.push(slot);
        }
        if let Some(next) = heads[n].peek() {
            heap.push(Reverse((key(next), n)));
        }
    }
    merged
}

fn instant(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

/// `busy` as sorted, disjoint spans of whole seconds (touching spans joined).
fn merged(busy: &[Span]) -> Vec<(i64, i64)> {
    let mut spans: Vec<(i64, i64)> = busy
        .iter()
        // The end rounded up: a busy span ending mid-second still covers that second.
        .map(|span| {
            let end = span.end.timestamp() + i64::from(span.end.timestamp_subsec_nanos() > 0);
            (span.start.timestamp(), end)
        })
        .filter(|(start, end)| start < end)
        .collect();
    spans.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(spans.len());
    for (start, end) in spans {
        match out.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

/// Whether `[start, end)` misses every one of the disjoint, sorted `busy` spans.
fn is_free_at(busy: &[(i64, i64)], start: i64, end: i64) -> bool {
    // The first span ending after `start` is the only one that can overlap.
    let next = busy.partition_point(|(_, busy_end)| *busy_end <= start);
    busy.get(next)
        .is_none_or(|(busy_start, _)| *busy_start >= end)
}

/// The parts of `open` not covered by any of `busy`.
pub fn free_gaps(open: Span, busy: &[Span]) -> Vec<Span> {
    let mut busy: Vec<Span> = busy.iter().copied().filter(|b| b.overlaps(&open)).collect();
    busy.sort();
    let mut gaps = Vec::new();
    let mut cursor = open.start;
    for taken in busy {
        if taken.start > cursor {
            gaps.push(Span {
                start: cursor,
                end: taken.start.min(open.end),
            });
        }
        cursor = cursor.max(taken.end);
    }
    if cursor < open.end {
        gaps.push(Span {
            start: cursor,
            end: open.end,
        });
    }
    gaps
}

/// Whether `span` misses every busy span (sorted by start).
pub fn is_free(busy: &[Span], span: &Span) -> bool {
    // Only spans starting before `span` ends can overlap it.
    let candidates = busy.partition_point(|b| b.start < span.end);
    !busy[..candidates].iter().any(|b| b.end > span.start)
}

#[cfg(test)]
mod tests {
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
}
