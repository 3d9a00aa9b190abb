//! Courses: the status lifecycle and the progress a front desk reads at a glance.

use chrono::{DateTime, Duration, FixedOffset, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::sessions::SessionStatus;

/// Where a course stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CourseStatus {
    Planned,
    Active,
    OnHold,
    Completed,
    Discontinued,
}

impl CourseStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Planned => "planned",
            Self::Active => "active",
            Self::OnHold => "on_hold",
            Self::Completed => "completed",
            Self::Discontinued => "discontinued",
        }
    }

    /// The status of a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Planned,
            Self::Active,
            Self::OnHold,
            Self::Completed,
            Self::Discontinued,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }

    /// Whether a course may move from this status to `next`.
    pub fn may_become(self, next: CourseStatus) -> bool {
        use CourseStatus::*;
        matches!(
            (self, next),
            (Planned, Active | OnHold | Discontinued)
                | (Active, OnHold | Completed | Discontinued)
                | (OnHold, Active | Discontinued)
        )
    }
}

/// Which side of the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Left,
    Right,
    Bilateral,
    None,
}

impl Side {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Left => "left",
            Self::Right => "right",
            Self::Bilateral => "bilateral",
            Self::None => "none",
        }
    }

    /// The side of a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Left, Self::Right, Self::Bilateral, Self::None]
            .into_iter()
            .find(|side| side.as_str() == text)
    }
}

/// What progress needs of one session of the course.
#[derive(Debug, Clone)]
pub struct SessionSummary {
    pub id: uuid::Uuid,
    pub number: Option<i32>,
    pub status: SessionStatus,
    pub starts_at: DateTime<Utc>,
    pub pain_before: Option<i16>,
    pub pain_after: Option<i16>,
    pub adverse_events: usize,
}

/// Pain at one completed session.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PainPoint {
    pub number: Option<i32>,
    pub before: i16,
    pub after: i16,
}

/// Pain from the baseline to the latest session.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PainTrend {
    pub baseline: Option<i16>,
    pub sessions: Vec<PainPoint>,
    /// The latest "after" score.
    pub latest: Option<i16>,
    /// Latest minus baseline, in points (negative is better).
    pub change_points: Option<i16>,
    /// The same as a percentage of the baseline.
    pub change_percent: Option<f64>,
}

/// The next session's window, counted from the last session, in the course location's zone.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DueWindow {
    #[schema(value_type = String, format = DateTime, example = "2027-02-01T09:00:00-07:00")]
    pub earliest: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime, example = "2027-02-22T09:00:00-07:00")]
    pub latest: DateTime<FixedOffset>,
}

/// The next booked session.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NextSession {
    pub id: uuid::Uuid,
    pub number: Option<i32>,
    /// In the course location's zone.
    #[schema(value_type = String, format = DateTime, example = "2027-02-01T09:00:00-07:00")]
    pub starts_at: DateTime<FixedOffset>,
}

/// Where a course stands.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Progress {
    pub completed: u32,
    /// Booked and not yet done (scheduled, confirmed, checked in).
    pub scheduled: u32,
    /// Planned sessions neither completed nor booked.
    pub remaining: u32,
    pub next_session: Option<NextSession>,
    /// When the next unbooked session is due, if one is.
    pub next_due_window: Option<DueWindow>,
    /// The due window has closed with nothing booked.
    pub overdue: bool,
    pub pain: PainTrend,
    pub adverse_events: u32,
    /// Days since the first session started (none before it).
    pub days_since_start: Option<i64>,
}

/// The progress of a course of `planned` sessions with an interval window of `min..=max` days.
pub fn progress(
    planned: u32,
    window: (u32, u32),
    baseline_pain: Option<i16>,
    sessions: &[SessionSummary],
    zone: Tz,
    now: DateTime<Utc>,
) -> Progress {
    let local = |at: DateTime<Utc>| at.with_timezone(&zone).fixed_offset();
    let completed: Vec<&SessionSummary> = sessions
        .iter()
        .filter(|s| s.status == SessionStatus::Completed)
        .collect();
    let active: Vec<&SessionSummary> = sessions
        .iter()
        .filter(|s| SessionStatus::ACTIVE.contains(&s.status.as_str()))
        .collect();
    let remaining = planned.saturating_sub(completed.len() as u32 + active.len() as u32);
    let next_session = active
        .iter()
        .filter(|s| s.starts_at >= now || s.status == SessionStatus::CheckedIn)
        .min_by_key(|s| s.starts_at)
        .map(|s| NextSession {
            id: s.id,
            number: s.number,
            starts_at: local(s.starts_at),
        });
    let last_held = sessions
        .iter()
        .filter(|s| {
            s.status == SessionStatus::Completed
                || SessionStatus::ACTIVE.contains(&s.status.as_str())
        })
        .map(|s| s.starts_at)
        .max();
    let next_due_window = match (remaining > 0, last_held) {
        (true, Some(last)) => Some(DueWindow {
            earliest: local(last + Duration::days(i64::from(window.0))),
            latest: local(last + Duration::days(i64::from(window.1))),
        }),
        _ => None,
    };
    let overdue =
        next_session.is_none() && next_due_window.as_ref().is_some_and(|due| due.latest < now);
    let points: Vec<PainPoint> = completed
        .iter()
        .filter_map(|s| {
            Some(PainPoint {
                number: s.number,
                before: s.pain_before?,
                after: s.pain_after?,
            })
        })
        .collect();
    let latest = points.last().map(|p| p.after);
    let change_points = baseline_pain.zip(latest).map(|(base, last)| last - base);
    let change_percent = baseline_pain
        .zip(change_points)
        .filter(|(base, _)| *base > 0)
        .map(|(base, change)| (f64::from(change) * 1000.0 / f64::from(base)).round() / 10.0);
    let first = sessions
        .iter()
        .filter(|s| s.status != SessionStatus::Cancelled)
        .map(|s| s.starts_at)
        .min()
        .filter(|first| *first <= now);
    Progress {
        completed: completed.len() as u32,
        scheduled: active.len() as u32,
        remaining,
        next_session,
        next_due_window,
        overdue,
        pain: PainTrend {
            baseline: baseline_pain,
            sessions: points,
            latest,
            change_points,
            change_percent,
        },
        adverse_events: completed.iter().map(|s| s.adverse_events as u32).sum(),
        days_since_start: first.map(|first| (now - first).num_days()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn session(
        number: i32,
        status: SessionStatus,
        start: &str,
        pain: Option<(i16, i16)>,
    ) -> SessionSummary {
        SessionSummary {
            id: uuid::Uuid::now_v7(),
            number: Some(number),
            status,
            starts_at: at(start),
            pain_before: pain.map(|p| p.0),
            pain_after: pain.map(|p| p.1),
            adverse_events: usize::from(number == 2),
        }
    }

    #[test]
    fn progress_counts_trends_and_finds_the_next_session() {
        let sessions = [
            session(
                1,
                SessionStatus::Completed,
                "2027-01-05T16:00:00Z",
                Some((7, 5)),
            ),
            session(
                2,
                SessionStatus::Completed,
                "2027-02-02T16:00:00Z",
                Some((5, 3)),
            ),
            session(3, SessionStatus::Scheduled, "2027-03-02T16:00:00Z", None),
            session(4, SessionStatus::Cancelled, "2027-03-30T16:00:00Z", None),
        ];
        let p = progress(
            5,
            (21, 42),
            Some(8),
            &sessions,
            chrono_tz::UTC,
            at("2027-02-10T00:00:00Z"),
        );
        assert_eq!((p.completed, p.scheduled, p.remaining), (2, 1, 2));
        assert_eq!(p.next_session.unwrap().number, Some(3));
        assert_eq!(p.pain.latest, Some(3));
        assert_eq!(p.pain.change_points, Some(-5));
        assert_eq!(p.pain.change_percent, Some(-62.5));
        assert_eq!(p.adverse_events, 1);
        assert_eq!(p.days_since_start, Some(35));
        let due = p.next_due_window.unwrap();
        assert_eq!(due.earliest, at("2027-03-23T16:00:00Z"));
        assert!(!p.overdue);
    }

    #[test]
    fn a_closed_window_with_nothing_booked_is_overdue() {
        let sessions = [session(
            1,
            SessionStatus::Completed,
            "2027-01-05T16:00:00Z",
            Some((6, 4)),
        )];
        let on_time = progress(
            3,
            (21, 42),
            Some(6),
            &sessions,
            chrono_tz::UTC,
            at("2027-02-10T00:00:00Z"),
        );
        assert!(!on_time.overdue);
        let late = progress(
            3,
            (21, 42),
            Some(6),
            &sessions,
            chrono_tz::UTC,
            at("2027-02-17T00:00:00Z"),
        );
        assert!(late.overdue);
        assert_eq!(late.remaining, 2);
    }

    #[test]
    fn the_lifecycle_allows_only_its_transitions() {
        use CourseStatus::*;
        assert!(Planned.may_become(Active));
        assert!(Active.may_become(Completed));
        assert!(OnHold.may_become(Active));
        assert!(!Completed.may_become(Active));
        assert!(!Discontinued.may_become(Active));
        assert!(!Planned.may_become(Completed));
        for status in [Planned, Active, OnHold, Completed, Discontinued] {
            assert_eq!(CourseStatus::parse(status.as_str()), Some(status));
        }
    }
}
