//! A provider's calendar feed: their sessions as an RFC 5545 `PUBLISH` calendar that calendar
//! apps subscribe to and refresh hourly. Each session keeps one `UID` (the same as in the
//! patient's invites) and a `SEQUENCE` that grows with every change; cancelled sessions stay
//! a while as `STATUS:CANCELLED` so subscribed calendars drop them.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::ical::{fold, text, utc};
use super::sessions::{SessionKind, SessionStatus};

/// How far back the feed reaches.
pub const PAST: Duration = Duration::days(30);
/// How far ahead it reaches.
pub const AHEAD: Duration = Duration::days(180);
/// How long a cancelled session stays in the feed after it was cancelled.
pub const CANCELLED_KEPT: Duration = Duration::days(30);

/// One session of the feed.
#[derive(Debug, Clone)]
pub struct FeedEvent {
    pub session_id: Uuid,
    pub sequence: i32,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// When the session last changed (`DTSTAMP`, `LAST-MODIFIED`).
    pub changed_at: DateTime<Utc>,
    pub status: SessionStatus,
    pub summary: String,
    pub location: String,
}

/// The feed of one provider.
#[derive(Debug, Clone)]
pub struct Feed {
    /// `X-WR-CALNAME`: what the calendar app calls the subscription.
    pub name: String,
    /// The domain that makes each `UID` globally unique.
    pub domain: String,
    pub events: Vec<FeedEvent>,
}

/// Whether a session in the feed's window is shown: all but those cancelled longer ago than
/// [`CANCELLED_KEPT`].
pub fn shown(status: SessionStatus, changed_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    status != SessionStatus::Cancelled || now - changed_at <= CANCELLED_KEPT
}

/// "J. R.": what the feed says of the patient unless the clinic allows full names.
pub fn initials(given_name: &str, family_name: &str) -> String {
    [given_name, family_name]
        .iter()
        .filter_map(|name| name.trim().chars().next())
        .map(|c| format!("{}.", c.to_uppercase()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// "Knee — assessment · J. R.": the area, the kind, and who.
pub fn summary(area: &str, kind: SessionKind, who: &str) -> String {
    let kind = match kind {
        SessionKind::Assessment => "assessment",
        SessionKind::Injection => "injection",
        SessionKind::FollowUp => "follow-up",
    };
    format!("{area} — {kind} · {who}")
}

impl Feed {
    /// The iCalendar text (CRLF line ends, lines folded at 75 octets).
    pub fn to_ics(&self) -> String {
        let mut lines = vec![
            "BEGIN:VCALENDAR".to_owned(),
            "VERSION:2.0".to_owned(),
            "PRODID:-//prolo-scheduler//calendar feed//EN".to_owned(),
            "CALSCALE:GREGORIAN".to_owned(),
            "METHOD:PUBLISH".to_owned(),
            format!("X-WR-CALNAME:{}", text(&self.name)),
            "REFRESH-INTERVAL;VALUE=DURATION:PT1H".to_owned(),
            "X-PUBLISHED-TTL:PT1H".to_owned(),
        ];
        for event in &self.events {
            let status = match event.status {
                SessionStatus::Cancelled => "CANCELLED",
                SessionStatus::Scheduled => "TENTATIVE",
                _ => "CONFIRMED",
            };
            lines.extend([
                "BEGIN:VEVENT".to_owned(),
                format!("UID:session-{}@{}", event.session_id, self.domain),
                format!("DTSTAMP:{}", utc(event.changed_at)),
                format!("LAST-MODIFIED:{}", utc(event.changed_at)),
                format!("SEQUENCE:{}", event.sequence),
                format!("DTSTART:{}", utc(event.starts_at)),
                format!("DTEND:{}", utc(event.ends_at)),
                format!("SUMMARY:{}", text(&event.summary)),
                format!("LOCATION:{}", text(&event.location)),
                format!("STATUS:{status}"),
                "TRANSP:OPAQUE".to_owned(),
                "END:VEVENT".to_owned(),
            ]);
        }
        lines.push("END:VCALENDAR".to_owned());
        lines.iter().map(|line| fold(line)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_say_who_without_naming_them() {
        assert_eq!(initials("jordan", "Reyes"), "J. R.");
        assert_eq!(initials("Émile", " Zola"), "É. Z.");
        assert_eq!(initials("", "Reyes"), "R.");
    }

    #[test]
    fn cancelled_sessions_stay_thirty_days() {
        let now: DateTime<Utc> = "2027-02-01T00:00:00Z".parse().unwrap();
        assert!(shown(
            SessionStatus::Cancelled,
            now - Duration::days(30),
            now
        ));
        assert!(!shown(
            SessionStatus::Cancelled,
            now - Duration::days(31),
            now
        ));
        assert!(shown(
            SessionStatus::Completed,
            now - Duration::days(400),
            now
        ));
    }

    #[test]
    fn the_feed_publishes_each_session_in_utc_with_its_uid_and_sequence() {
        let feed = Feed {
            name: "Dr. Maya Chen, Prolo Clinic".into(),
            domain: "clinic.example".into(),
            events: vec![FeedEvent {
                session_id: Uuid::nil(),
                sequence: 3,
                starts_at: "2027-01-05T17:00:00Z".parse().unwrap(),
                ends_at: "2027-01-05T17:45:00Z".parse().unwrap(),
                changed_at: "2027-01-04T15:00:00Z".parse().unwrap(),
                status: SessionStatus::Cancelled,
                summary: summary("Knee", SessionKind::Assessment, "J. R."),
                location: "Prolo Clinic Denver, 1200 Pearl St".into(),
            }],
        };
        let ics = feed.to_ics();
        for line in [
            "METHOD:PUBLISH",
            "X-WR-CALNAME:Dr. Maya Chen\\, Prolo Clinic",
            "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
            "X-PUBLISHED-TTL:PT1H",
            "UID:session-00000000-0000-0000-0000-000000000000@clinic.example",
            "SEQUENCE:3",
            "DTSTART:20270105T170000Z",
            "SUMMARY:Knee — assessment · J. R.",
            "STATUS:CANCELLED",
        ] {
            assert!(ics.contains(&format!("{line}\r\n")), "{line} in {ics}");
        }
    }
}
