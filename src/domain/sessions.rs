//! Sessions: kinds, the status lifecycle, and the rules a booking must meet.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::slots::{Span, working_span};
use super::working_hours::WeeklyInterval;

/// What a session is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionKind {
    Assessment,
    Injection,
    FollowUp,
}

impl SessionKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Assessment => "assessment",
            Self::Injection => "injection",
            Self::FollowUp => "follow_up",
        }
    }

    /// The kind of a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "assessment" => Some(Self::Assessment),
            "injection" => Some(Self::Injection),
            "follow_up" => Some(Self::FollowUp),
            _ => None,
        }
    }
}

/// The longest a session can hold its provider: an area's longest kind (8 h) plus the largest
/// buffer (4 h). The database checks it (`sessions_hold_bounded`), so "ends after X" may be
/// narrowed to "starts after X minus this", which an index can serve.
pub const MAX_HOLD: chrono::Duration = chrono::Duration::hours(12);

/// Where a session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    Scheduled,
    Confirmed,
    CheckedIn,
    Completed,
    Cancelled,
    NoShow,
}

impl SessionStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Confirmed => "confirmed",
            Self::CheckedIn => "checked_in",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
            Self::NoShow => "no_show",
        }
    }

    /// The status of a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Scheduled,
            Self::Confirmed,
            Self::CheckedIn,
            Self::Completed,
            Self::Cancelled,
            Self::NoShow,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }

    /// Statuses that hold the provider's and the patient's time.
    pub const ACTIVE: [&'static str; 3] = ["scheduled", "confirmed", "checked_in"];

    /// Whether a session may move from this status to `next`.
    pub fn may_become(self, next: SessionStatus) -> bool {
        use SessionStatus::*;
        matches!(
            (self, next),
            (Scheduled, Confirmed)
                | (Scheduled | Confirmed, CheckedIn)
                | (Scheduled | Confirmed, Cancelled)
                | (Scheduled | Confirmed, NoShow)
                | (CheckedIn, Completed)
        )
    }

    /// Whether the session can still be moved to another time.
    pub fn may_reschedule(self) -> bool {
        self.is_upcoming()
    }

    /// Booked and not yet begun: the patient is expected.
    pub fn is_upcoming(self) -> bool {
        matches!(self, Self::Scheduled | Self::Confirmed)
    }
}

/// When a step of the visit may be recorded: from `from`, and before `until` when it is bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisitWindow {
    pub from: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
}

impl VisitWindow {
    /// Whether `now` lies in the window.
    pub fn contains(&self, now: DateTime<Utc>) -> bool {
        self.from <= now && self.until.is_none_or(|until| now < until)
    }
}

/// The window in which a session starting at `start` (at a location in `zone`) may become
/// `next`: a check-in from `check_in_lead` before the start until the end of the start's local
/// day; a completion or a no-show once the start has passed. Other steps have no window.
pub fn visit_window(
    next: SessionStatus,
    start: DateTime<Utc>,
    zone: Tz,
    check_in_lead: Duration,
) -> Option<VisitWindow> {
    match next {
        SessionStatus::CheckedIn => {
            let day = start.with_timezone(&zone).date_naive();
            let next_day = day.succ_opt().unwrap_or(day);
            Some(VisitWindow {
                from: start - check_in_lead,
                until: Some(super::slots::local_instant(
                    next_day,
                    chrono::NaiveTime::MIN,
                    zone,
                    false,
                )),
            })
        }
        SessionStatus::Completed | SessionStatus::NoShow => Some(VisitWindow {
            from: start,
            until: None,
        }),
        _ => None,
    }
}

/// Why a booking (or a move) is refused before it reaches the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingRefusal {
    ProviderDoesNotTreatArea,
    ProviderNotAtLocation,
    TooShortNotice,
    BeyondHorizon,
    OutsideWorkingHours,
    ProviderOnTimeOff,
}

/// Everything a booking is checked against.
#[derive(Debug, Clone)]
pub struct BookingCheck<'a> {
    pub session: Span,
    pub now: DateTime<Utc>,
    pub minimum_notice: Duration,
    pub horizon: Duration,
    pub treats_area: bool,
    pub works_at_location: bool,
    /// The provider's weekly intervals at the session's location.
    pub hours: &'a [WeeklyInterval],
    pub time_zone: Tz,
    /// The provider's time off around the session.
    pub time_off: &'a [Span],
}

/// The first rule the booking breaks, if any.
pub fn check_booking(check: &BookingCheck) -> Result<(), BookingRefusal> {
    if !check.treats_area {
        return Err(BookingRefusal::ProviderDoesNotTreatArea);
    }
    if !check.works_at_location {
        return Err(BookingRefusal::ProviderNotAtLocation);
    }
    if check.session.start < check.now + check.minimum_notice {
        return Err(BookingRefusal::TooShortNotice);
    }
    if check.session.start > check.now + check.horizon {
        return Err(BookingRefusal::BeyondHorizon);
    }
    let local_date = check
        .session
        .start
        .with_timezone(&check.time_zone)
        .date_naive();
    let within_hours = check
        .hours
        .iter()
        .filter(|i| i.applies_on(local_date))
        .any(|interval| {
            let span = working_span(
                local_date,
                interval.start.time(),
                interval.end.time(),
                check.time_zone,
            );
            span.start <= check.session.start && check.session.end <= span.end
        });
    if !within_hours {
        return Err(BookingRefusal::OutsideWorkingHours);
    }
    if check
        .time_off
        .iter()
        .any(|off| off.overlaps(&check.session))
    {
        return Err(BookingRefusal::ProviderOnTimeOff);
    }
    Ok(())
}

/// Why a session was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    PatientRequest,
    FeelingBetter,
    ConditionWorse,
    Illness,
    ProviderUnavailable,
    ClinicClosure,
    Other,
}

impl CancelReason {
    const ALL: [CancelReason; 7] = [
        Self::PatientRequest,
        Self::FeelingBetter,
        Self::ConditionWorse,
        Self::Illness,
        Self::ProviderUnavailable,
        Self::ClinicClosure,
        Self::Other,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PatientRequest => "patient_request",
            Self::FeelingBetter => "feeling_better",
            Self::ConditionWorse => "condition_worse",
            Self::Illness => "illness",
            Self::ProviderUnavailable => "provider_unavailable",
            Self::ClinicClosure => "clinic_closure",
            Self::Other => "other",
        }
    }

    /// The reason of a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|reason| reason.as_str() == text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::Weekday;
    use uuid::Uuid;

    #[test]
    fn check_in_opens_before_the_start_and_closes_at_local_midnight_across_dst() {
        let denver: Tz = "America/Denver".parse().unwrap();
        // 2027-03-14 is the spring-forward day in Denver: midnight after it is UTC-6.
        let start = at("2027-03-14T16:00:00Z"); // 10:00 MDT
        let window =
            visit_window(SessionStatus::CheckedIn, start, denver, Duration::hours(2)).unwrap();
        assert_eq!(window.from, at("2027-03-14T14:00:00Z"));
        assert_eq!(window.until, Some(at("2027-03-15T06:00:00Z")));
        assert!(!window.contains(at("2027-03-14T13:59:59Z")));
        assert!(window.contains(at("2027-03-14T14:00:00Z")));
        assert!(window.contains(at("2027-03-15T05:59:59Z")));
        assert!(!window.contains(at("2027-03-15T06:00:00Z")));
        // On the fall-back day midnight after is UTC-7 again.
        let autumn = visit_window(
            SessionStatus::CheckedIn,
            at("2027-11-07T17:00:00Z"),
            denver,
            Duration::zero(),
        )
        .unwrap();
        assert_eq!(autumn.until, Some(at("2027-11-08T07:00:00Z")));
    }

    #[test]
    fn completion_and_no_show_wait_for_the_start() {
        let start = at("2027-01-12T16:00:00Z");
        for next in [SessionStatus::Completed, SessionStatus::NoShow] {
            let window = visit_window(next, start, chrono_tz::UTC, Duration::hours(2)).unwrap();
            assert!(!window.contains(start - Duration::seconds(1)));
            assert!(window.contains(start));
            assert!(window.contains(start + Duration::days(400)));
        }
        assert_eq!(
            visit_window(
                SessionStatus::Confirmed,
                start,
                chrono_tz::UTC,
                Duration::zero()
            ),
            None
        );
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn monday_hours() -> Vec<WeeklyInterval> {
        vec![WeeklyInterval {
            location_id: Uuid::nil(),
            weekday: Weekday::Monday,
            start: "09:00".parse().unwrap(),
            end: "17:00".parse().unwrap(),
            effective_from: None,
            effective_until: None,
        }]
    }

    fn check<'a>(
        start: &str,
        minutes: i64,
        hours: &'a [WeeklyInterval],
        off: &'a [Span],
    ) -> BookingCheck<'a> {
        let start = at(start);
        BookingCheck {
            session: Span {
                start,
                end: start + Duration::minutes(minutes),
            },
            now: at("2027-03-01T00:00:00Z"),
            minimum_notice: Duration::hours(12),
            horizon: Duration::days(180),
            treats_area: true,
            works_at_location: true,
            hours,
            time_zone: chrono_tz::America::New_York,
            time_off: off,
        }
    }

    #[test]
    fn a_session_inside_hours_is_accepted_across_the_dst_change() {
        let hours = monday_hours();
        // Monday 2027-03-15, after the spring change: 09:00 EDT is 13:00Z.
        assert_eq!(
            check_booking(&check("2027-03-15T13:00:00Z", 30, &hours, &[])),
            Ok(())
        );
        assert_eq!(
            check_booking(&check("2027-03-15T12:30:00Z", 30, &hours, &[])),
            Err(BookingRefusal::OutsideWorkingHours)
        );
        assert_eq!(
            check_booking(&check("2027-03-15T20:45:00Z", 30, &hours, &[])),
            Err(BookingRefusal::OutsideWorkingHours),
            "ends after 17:00"
        );
    }

    #[test]
    fn each_rule_names_itself() {
        let hours = monday_hours();
        let off = [Span {
            start: at("2027-03-15T12:00:00Z"),
            end: at("2027-03-15T14:00:00Z"),
        }];
        let mut c = check("2027-03-15T13:00:00Z", 30, &hours, &off);
        assert_eq!(check_booking(&c), Err(BookingRefusal::ProviderOnTimeOff));
        c.now = at("2027-03-15T06:00:00Z");
        assert_eq!(check_booking(&c), Err(BookingRefusal::TooShortNotice));
        c.now = at("2026-01-01T00:00:00Z");
        assert_eq!(check_booking(&c), Err(BookingRefusal::BeyondHorizon));
        c.works_at_location = false;
        assert_eq!(
            check_booking(&c),
            Err(BookingRefusal::ProviderNotAtLocation)
        );
        c.treats_area = false;
        assert_eq!(
            check_booking(&c),
            Err(BookingRefusal::ProviderDoesNotTreatArea)
        );
    }

    #[test]
    fn the_lifecycle_allows_only_its_transitions() {
        use SessionStatus::*;
        let all = [
            Scheduled, Confirmed, CheckedIn, Completed, Cancelled, NoShow,
        ];
        let allowed: Vec<(SessionStatus, SessionStatus)> = all
            .iter()
            .flat_map(|from| all.iter().map(move |to| (*from, *to)))
            .filter(|(from, to)| from.may_become(*to))
            .collect();
        assert_eq!(
            allowed,
            [
                (Scheduled, Confirmed),
                (Scheduled, CheckedIn),
                (Scheduled, Cancelled),
                (Scheduled, NoShow),
                (Confirmed, CheckedIn),
                (Confirmed, Cancelled),
                (Confirmed, NoShow),
                (CheckedIn, Completed),
            ]
        );
        for status in all {
            assert_eq!(SessionStatus::parse(status.as_str()), Some(status));
        }
    }
}
