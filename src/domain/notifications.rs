//! Notifications to patients: what they are, when each is due, when a failure is retried.
//! Pure rules; the planner and the delivery worker apply them.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::time::WallTime;

/// Names stored and sent for an enum without data, with its parser.
macro_rules! named {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// Every value, in the documentation's order.
            pub const ALL: &[$name] = &[$(Self::$variant),+];

            /// The stored name.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text,)+ }
            }

            /// The value of a stored name.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)+ _ => None }
            }
        }
    };
}
pub(crate) use named;

named! {
    /// What a message tells the patient.
    NotificationKind {
        /// A session was booked.
        BookingConfirmation = "booking_confirmation",
        /// A session is coming up (one per offset in `reminder_offsets_minutes`).
        Reminder = "reminder",
        /// A session moved.
        Rescheduled = "rescheduled",
        /// A session was cancelled.
        Cancelled = "cancelled",
        /// A course was booked: one summary of its booked sessions.
        CourseBooked = "course_booked",
        /// An injection was completed: the treatment area's post-care advice.
        Aftercare = "aftercare",
        /// A freed time offered from the waitlist, with the link that takes it.
        WaitlistOffer = "waitlist_offer",
    }
}

named! {
    /// Where a notification is in its life.
    NotificationStatus {
        /// Waiting for its moment (or for a retry).
        Pending = "pending",
        /// Accepted by the mail server (or written to the mail directory).
        Sent = "sent",
        /// Refused for good by the mail server, or out of retries.
        Failed = "failed",
        /// Superseded before it was sent: its session moved, was cancelled or is over.
        Cancelled = "cancelled",
        /// Never to be sent: see `skip_reason`.
        Skipped = "skipped",
    }
}

named! {
    /// Why a notification was not sent.
    SkipReason {
        /// A reminder whose moment had passed when it was planned (it is never sent late).
        MomentPassed = "moment_passed",
        /// The patient turned email notifications off.
        OptedOut = "opted_out",
        /// The patient has no email address.
        NoEmail = "no_email",
        /// The session started, ended or was cancelled before the message went.
        SessionOver = "session_over",
        /// The patient's record was archived.
        PatientArchived = "patient_archived",
    }
}

named! {
    /// How a notification reaches the patient.
    Channel {
        Email = "email",
    }
}

/// Hours in which nothing is sent, in the location's time zone; `start` after `end` spans
/// midnight (the default, 21:00–08:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    /// Local time sends stop.
    pub start: WallTime,
    /// Local time sends resume.
    pub end: WallTime,
}

impl QuietHours {
    /// The first instant at or after `at` outside quiet hours, in `zone`.
    pub fn defer(&self, at: DateTime<Utc>, zone: Tz) -> DateTime<Utc> {
        let (start, end) = (self.start.time(), self.end.time());
        let local = at.with_timezone(&zone);
        let (date, time) = (local.date_naive(), local.time());
        let resume_on = if start == end {
            return at;
        } else if start < end {
            (start <= time && time < end).then_some(date)
        } else if time >= start {
            date.succ_opt()
        } else {
            (time < end).then_some(date)
        };
        match resume_on {
            Some(date) => local_instant(zone, date, end).max(at),
            None => at,
        }
    }
}

/// The instant a local date and time names in `zone`: the earlier of a repeated hour, and for
/// a time skipped by a DST change, the first minute after the gap.
pub fn local_instant(zone: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let mut naive = date.and_time(time);
    for _ in 0..=180 {
        if let Some(instant) = zone.from_local_datetime(&naive).earliest() {
            return instant.with_timezone(&Utc);
        }
        naive += Duration::minutes(1);
    }
    // No zone skips more than three hours; read the time as UTC rather than fail.
    Utc.from_utc_datetime(&date.and_time(time))
}

/// When a notification is due, or why it will never be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    At(DateTime<Utc>),
    Skip(SkipReason),
}

/// When the reminder `offset_minutes` before a session starting at `starts_at` is due, planned
/// at `now`: quiet hours defer it, and one whose moment has passed, or that quiet hours would
/// push to the start itself, is skipped rather than sent late.
pub fn reminder_due(
    starts_at: DateTime<Utc>,
    offset_minutes: i32,
    now: DateTime<Utc>,
    quiet: Option<QuietHours>,
    zone: Tz,
) -> Due {
    let moment = starts_at - Duration::minutes(i64::from(offset_minutes));
    if moment <= now {
        return Due::Skip(SkipReason::MomentPassed);
    }
    let due = quiet.map_or(moment, |quiet| quiet.defer(moment, zone));
    if due >= starts_at {
        return Due::Skip(SkipReason::MomentPassed);
    }
    Due::At(due)
}

/// When a message about a change made at `now` is due: now, or when quiet hours end.
pub fn notice_due(now: DateTime<Utc>, quiet: Option<QuietHours>, zone: Tz) -> DateTime<Utc> {
    quiet.map_or(now, |quiet| quiet.defer(now, zone))
}

/// Attempts a notification gets before a transient failure becomes `failed`.
pub const MAX_ATTEMPTS: i32 = 6;

/// How long to wait after the `attempts`-th attempt failed transiently: 1, 5, 15, 60, 180
/// minutes; `None` once the attempts are spent.
pub fn retry_after(attempts: i32) -> Option<Duration> {
    const MINUTES: [i64; 5] = [1, 5, 15, 60, 180];
    if attempts >= MAX_ATTEMPTS {
        return None;
    }
    let index = usize::try_from(attempts.max(1) - 1).unwrap_or(0);
    Some(Duration::minutes(MINUTES[index.min(MINUTES.len() - 1)]))
}

/// How a send failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendFailure {
    /// Worth retrying: a 4xx reply, a connection or TLS failure, a timeout.
    Transient(String),
    /// Not worth retrying: a 5xx reply (the address does not exist, the message is refused).
    Permanent(String),
}

impl SendFailure {
    /// The reason as stored: at most 300 characters.
    pub fn reason(&self) -> String {
        let text = match self {
            Self::Transient(text) | Self::Permanent(text) => text,
        };
        text.chars().take(300).collect()
    }
}

/// A message ready to go: what the mail transport sends.
#[derive(Debug, Clone)]
pub struct Letter {
    /// The notification it delivers: its id makes the `Message-ID`.
    pub notification_id: uuid::Uuid,
    pub to: String,
    pub to_name: String,
    /// The clinic's name for the `From` header, when it has one.
    pub sender_name: Option<String>,
    pub reply_to: Option<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The one-click unsubscribe address (RFC 8058); none on a message the patient asked for
    /// (a booking's code).
    pub unsubscribe_url: Option<String>,
    pub invites: Vec<super::invite::Invite>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn quiet(start: &str, end: &str) -> QuietHours {
        QuietHours {
            start: start.parse().unwrap(),
            end: end.parse().unwrap(),
        }
    }

    const LONDON: Tz = chrono_tz::Europe::London;
    const DENVER: Tz = chrono_tz::America::Denver;

    #[test]
    fn names_round_trip() {
        for kind in NotificationKind::ALL {
            assert_eq!(NotificationKind::parse(kind.as_str()), Some(*kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        for status in NotificationStatus::ALL {
            assert_eq!(NotificationStatus::parse(status.as_str()), Some(*status));
        }
        for reason in SkipReason::ALL {
            assert_eq!(SkipReason::parse(reason.as_str()), Some(*reason));
        }
        assert_eq!(NotificationKind::parse("fax"), None);
    }

    #[test]
    fn quiet_hours_over_midnight_defer_to_the_morning() {
        let night = quiet("21:00", "08:00");
        // Winter in London is UTC: 22:30 defers to 08:00 the next day, 06:00 to 08:00 the same day.
        assert_eq!(
            night.defer(at("2027-01-04T22:30:00Z"), LONDON),
            at("2027-01-05T08:00:00Z")
        );
        assert_eq!(
            night.defer(at("2027-01-05T06:00:00Z"), LONDON),
            at("2027-01-05T08:00:00Z")
        );
        // Outside them nothing moves, and the edges belong to the day.
        for free in [
            "2027-01-05T08:00:00Z",
            "2027-01-05T12:00:00Z",
            "2027-01-05T20:59:00Z",
        ] {
            assert_eq!(night.defer(at(free), LONDON), at(free));
        }
        assert_eq!(
            night.defer(at("2027-01-05T21:00:00Z"), LONDON),
            at("2027-01-06T08:00:00Z")
        );
        // The zone is the location's: 03:00Z is 20:00 in Denver, not quiet; 05:00Z is 22:00.
        assert_eq!(
            night.defer(at("2027-01-05T03:00:00Z"), DENVER),
            at("2027-01-05T03:00:00Z")
        );
        assert_eq!(
            night.defer(at("2027-01-05T05:00:00Z"), DENVER),
            at("2027-01-05T15:00:00Z")
        );
    }

    #[test]
    fn quiet_hours_inside_one_day_and_none() {
        let lunch = quiet("12:00", "13:00");
        assert_eq!(
            lunch.defer(at("2027-01-05T12:30:00Z"), LONDON),
            at("2027-01-05T13:00:00Z")
        );
        assert_eq!(
            lunch.defer(at("2027-01-05T13:00:00Z"), LONDON),
            at("2027-01-05T13:00:00Z")
        );
        let never = quiet("09:00", "09:00");
        assert_eq!(
            never.defer(at("2027-01-05T09:00:00Z"), LONDON),
            at("2027-01-05T09:00:00Z")
        );
    }

    #[test]
    fn quiet_hours_follow_dst_changes() {
        let night = quiet("21:00", "08:00");
        // London springs forward on 2027-03-28: the morning's 08:00 is 07:00Z.
        assert_eq!(
            night.defer(at("2027-03-27T23:00:00Z"), LONDON),
            at("2027-03-28T07:00:00Z")
        );
        // ...and falls back on 2027-10-31: 08:00 is 08:00Z again.
        assert_eq!(
            night.defer(at("2027-10-30T22:00:00Z"), LONDON),
            at("2027-10-31T08:00:00Z")
        );
        // An end inside the skipped hour resumes at the first minute after the gap.
        let early = quiet("21:00", "01:30");
        assert_eq!(
            early.defer(at("2027-03-28T00:30:00Z"), LONDON),
            at("2027-03-28T01:00:00Z")
        );
    }

    #[test]
    fn a_reminder_is_due_before_its_session_or_skipped() {
        let night = Some(quiet("21:00", "08:00"));
        let now = at("2027-01-04T15:00:00Z");
        let starts = at("2027-01-06T10:00:00Z");
        assert_eq!(
            reminder_due(starts, 1440, now, night, LONDON),
            Due::At(at("2027-01-05T10:00:00Z"))
        );
        // 10:00 minus 180 minutes is 07:00, quiet: deferred to 08:00.
        assert_eq!(
            reminder_due(starts, 180, now, night, LONDON),
            Due::At(at("2027-01-06T08:00:00Z"))
        );
        // A moment already past is skipped, not sent late.
        assert_eq!(
            reminder_due(at("2027-01-05T10:00:00Z"), 1440, now, night, LONDON),
            Due::Skip(SkipReason::MomentPassed)
        );
        // A session at 07:30 cannot be reminded 2 h before without waking anyone.
        assert_eq!(
            reminder_due(at("2027-01-06T07:30:00Z"), 120, now, night, LONDON),
            Due::Skip(SkipReason::MomentPassed)
        );
        assert_eq!(
            reminder_due(at("2027-01-06T07:30:00Z"), 120, now, None, LONDON),
            Due::At(at("2027-01-06T05:30:00Z"))
        );
    }

    #[test]
    fn notices_wait_for_the_morning() {
        let night = Some(quiet("21:00", "08:00"));
        assert_eq!(
            notice_due(at("2027-01-04T23:00:00Z"), night, LONDON),
            at("2027-01-05T08:00:00Z")
        );
        assert_eq!(
            notice_due(at("2027-01-04T15:00:00Z"), night, LONDON),
            at("2027-01-04T15:00:00Z")
        );
    }

    #[test]
    fn transient_failures_back_off_then_give_up() {
        let waits: Vec<_> = (1..=MAX_ATTEMPTS).map(retry_after).collect();
        assert_eq!(
            waits,
            vec![
                Some(Duration::minutes(1)),
                Some(Duration::minutes(5)),
                Some(Duration::minutes(15)),
                Some(Duration::minutes(60)),
                Some(Duration::minutes(180)),
                None,
            ]
        );
        let long = SendFailure::Permanent("x".repeat(1000));
        assert_eq!(long.reason().len(), 300);
    }
}
