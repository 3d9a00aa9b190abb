//! The waitlist's rules: what an entry wants, whether a freed time fits it, which entries an
//! opening is offered to first, and an offer's life. Pure; the worker and the use cases apply
//! them.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::notifications::named;
pub use super::time::TimeWindow;
use super::time::Weekday;

named! {
    /// Where an entry is in its life.
    EntryStatus {
        /// Waiting for a time; offers may come.
        Waiting = "waiting",
        /// An offer was accepted: `booked_session_id` names the session booked or moved.
        Booked = "booked",
        /// Taken off the list by staff.
        Cancelled = "cancelled",
        /// Past `latest`, or its session began, ended or was cancelled.
        Expired = "expired",
    }
}

named! {
    /// Where an offer is in its life.
    OfferStatus {
        /// Sent and not yet answered; acceptable until `expires_at`.
        Open = "open",
        /// Accepted: the time was booked for the entry.
        Accepted = "accepted",
        /// Another offer of the same freed time was accepted first.
        Taken = "taken",
        /// The time was booked otherwise, or the entry ended, before an answer.
        Closed = "closed",
        /// Not answered in time (`waitlist_offer_minutes`).
        Expired = "expired",
    }
}

named! {
    /// Who put the patient on the list.
    EntrySource {
        /// The front desk.
        Staff = "staff",
        /// The patient, from the manage link of their session.
        Patient = "patient",
    }
}

named! {
    /// What happened to an entry.
    HistoryAction {
        Joined = "joined",
        Updated = "updated",
        Offered = "offered",
        Accepted = "accepted",
        OfferTaken = "offer_taken",
        OfferClosed = "offer_closed",
        OfferExpired = "offer_expired",
        Booked = "booked",
        Cancelled = "cancelled",
        Expired = "expired",
    }
}

named! {
    /// Who did it.
    Actor {
        Staff = "staff",
        Patient = "patient",
        /// The waitlist worker.
        System = "system",
    }
}

/// What a waiting patient can take, as the entry and its session say.
#[derive(Debug, Clone, Default)]
pub struct Wish {
    pub earliest: Option<DateTime<Utc>>,
    pub latest: Option<DateTime<Utc>>,
    /// Any weekday when empty.
    pub weekdays: Vec<Weekday>,
    pub window: Option<TimeWindow>,
    /// The start of the session an offer would move: an offer must come before it.
    pub before: Option<DateTime<Utc>>,
    /// For a course session: the local dates its interval window allows after the previous
    /// session of the course.
    pub dates: Option<(NaiveDate, NaiveDate)>,
}

impl Wish {
    /// Whether a session from `start` to `end` at a location in `zone` is one the patient
    /// asked for.
    pub fn admits(&self, start: DateTime<Utc>, end: DateTime<Utc>, zone: Tz) -> bool {
        let (local_start, local_end) = (start.with_timezone(&zone), end.with_timezone(&zone));
        let date = local_start.date_naive();
        self.earliest.is_none_or(|earliest| start >= earliest)
            && self.latest.is_none_or(|latest| start < latest)
            && self.before.is_none_or(|before| start < before)
            && (self.weekdays.is_empty()
                || self
                    .weekdays
                    .contains(&Weekday::from(local_start.weekday())))
            && self.window.is_none_or(|window| {
                local_end.date_naive() == date
                    && local_start.time() >= window.start.time()
                    && local_end.time() <= window.end.time()
            })
            && self
                .dates
                .is_none_or(|(first, last)| first <= date && date <= last)
    }
}

/// The local dates a course session may take after the previous session started at
/// `previous`: its interval window of `min` to `max` days.
pub fn window_after(
    previous: DateTime<Utc>,
    min: i32,
    max: i32,
    zone: Tz,
) -> (NaiveDate, NaiveDate) {
    let date = previous.with_timezone(&zone).date_naive();
    (
        date + Duration::days(i64::from(min)),
        date + Duration::days(i64::from(max)),
    )
}

/// Whether a session moved to `start` leaves the next session of its course, at `next`, more
/// than `max` days later: accepting then needs the course's later sessions moved along.
pub fn strands_next(start: DateTime<Utc>, next: DateTime<Utc>, max: i32, zone: Tz) -> bool {
    let days = (next.with_timezone(&zone).date_naive() - start.with_timezone(&zone).date_naive())
        .num_days();
    days > i64::from(max)
}

/// A waiting entry with the time it would be offered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fit {
    pub entry_id: Uuid,
    pub urgent: bool,
    pub joined_at: DateTime<Utc>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// The `count` entries an opening goes to: urgent ones first, then the longest waiting.
pub fn first_in_line(mut fits: Vec<Fit>, count: usize) -> Vec<Fit> {
    fits.sort_by_key(|fit| (!fit.urgent, fit.joined_at, fit.entry_id));
    fits.truncate(count);
    fits
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::Denver;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn window(start: &str, end: &str) -> Option<TimeWindow> {
        Some(TimeWindow {
            start: start.parse().unwrap(),
            end: end.parse().unwrap(),
        })
    }

    // Tuesday 5 January 2027, 09:00–09:45 in Denver (UTC-7).
    const START: &str = "2027-01-05T16:00:00Z";
    const END: &str = "2027-01-05T16:45:00Z";

    fn admits(wish: &Wish) -> bool {
        wish.admits(at(START), at(END), Denver)
    }

    #[test]
    fn an_empty_wish_takes_any_time() {
        assert!(admits(&Wish::default()));
    }

    #[test]
    fn weekdays_are_read_in_the_location_zone() {
        let tuesday = Wish {
            weekdays: vec![Weekday::Tuesday],
            ..Wish::default()
        };
        assert!(admits(&tuesday));
        let monday = Wish {
            weekdays: vec![Weekday::Monday, Weekday::Friday],
            ..Wish::default()
        };
        assert!(!admits(&monday));
        // 17:30 on Tuesday in Denver is already Wednesday in UTC.
        let evening = tuesday.admits(
            at("2027-01-06T00:30:00Z"),
            at("2027-01-06T01:00:00Z"),
            Denver,
        );
        assert!(evening);
    }

    #[test]
    fn the_whole_session_must_fit_the_time_window() {
        let morning = Wish {
            window: window("08:00", "09:45"),
            ..Wish::default()
        };
        assert!(admits(&morning));
        let too_short = Wish {
            window: window("08:00", "09:30"),
            ..Wish::default()
        };
        assert!(!admits(&too_short));
        let afternoon = Wish {
            window: window("13:00", "17:00"),
            ..Wish::default()
        };
        assert!(!admits(&afternoon));
    }

    #[test]
    fn window_times_follow_daylight_saving() {
        // 09:00 in Denver is 15:00 UTC in summer (UTC-6), 16:00 in winter.
        let morning = Wish {
            window: window("09:00", "10:00"),
            ..Wish::default()
        };
        assert!(morning.admits(
            at("2027-07-06T15:00:00Z"),
            at("2027-07-06T15:45:00Z"),
            Denver
        ));
        assert!(!morning.admits(
            at("2027-07-06T16:00:00Z"),
            at("2027-07-06T16:45:00Z"),
            Denver
        ));
    }

    #[test]
    fn earliest_latest_and_the_session_to_move_bound_the_start() {
        let inside = Wish {
            earliest: Some(at("2027-01-05T00:00:00Z")),
            latest: Some(at("2027-01-06T00:00:00Z")),
            before: Some(at("2027-01-12T16:00:00Z")),
            ..Wish::default()
        };
        assert!(admits(&inside));
        let later = Wish {
            earliest: Some(at("2027-01-05T16:15:00Z")),
            ..Wish::default()
        };
        assert!(!admits(&later));
        let ended = Wish {
            latest: Some(at(START)),
            ..Wish::default()
        };
        assert!(!admits(&ended));
        let not_earlier = Wish {
            before: Some(at(START)),
            ..Wish::default()
        };
        assert!(!admits(&not_earlier));
    }

    #[test]
    fn a_course_session_stays_in_its_interval_window() {
        // The previous injection was on Tuesday 22 December; the window is 14 to 21 days.
        let dates = window_after(at("2026-12-22T16:00:00Z"), 14, 21, Denver);
        assert_eq!(
            dates,
            (
                NaiveDate::from_ymd_opt(2027, 1, 5).unwrap(),
                NaiveDate::from_ymd_opt(2027, 1, 12).unwrap()
            )
        );
        let wish = Wish {
            dates: Some(dates),
            ..Wish::default()
        };
        assert!(admits(&wish));
        let too_soon = Wish {
            dates: Some(window_after(at("2026-12-23T16:00:00Z"), 14, 21, Denver)),
            ..Wish::default()
        };
        assert!(!admits(&too_soon));
    }

    #[test]
    fn moving_far_earlier_strands_the_next_session() {
        assert!(!strands_next(
            at(START),
            at("2027-01-26T16:00:00Z"),
            21,
            Denver
        ));
        assert!(strands_next(
            at(START),
            at("2027-01-27T16:00:00Z"),
            21,
            Denver
        ));
    }

    #[test]
    fn urgent_entries_go_first_then_the_longest_waiting() {
        let fit = |n: u128, urgent: bool, joined: &str| Fit {
            entry_id: Uuid::from_u128(n),
            urgent,
            joined_at: at(joined),
            starts_at: at(START),
            ends_at: at(END),
        };
        let fits = vec![
            fit(1, false, "2026-12-01T00:00:00Z"),
            fit(2, true, "2026-12-03T00:00:00Z"),
            fit(3, false, "2026-11-20T00:00:00Z"),
            fit(4, true, "2026-12-02T00:00:00Z"),
        ];
        let order: Vec<u128> = first_in_line(fits, 3)
            .iter()
            .map(|fit| fit.entry_id.as_u128())
            .collect();
        assert_eq!(order, vec![4, 2, 3]);
    }
}
