//! Open slots: a provider's weekly wall-clock pattern turned into instants in the location's time
//! zone (DST-correct), minus what is already taken, within the clinic's notice and horizon.

use chrono::{
    DateTime, Duration, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeZone, Utc,
};
use chrono_tz::Tz;
use uuid::Uuid;

use super::resources::Pools;
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
    /// The rooms and devices the session needs at this location (shared by its providers).
    pub pools: std::sync::Arc<Pools>,
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
                if start >= earliest
                    && start <= latest
                    && is_free_at(&busy, start, start + held)
                    && calendar.pools.fits(start, start + held)
                {
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
pub fn merged(busy: &[Span]) -> Vec<(i64, i64)> {
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
pub fn is_free_at(busy: &[(i64, i64)], start: i64, end: i64) -> bool {
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
mod tests;
