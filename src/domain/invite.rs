//! Calendar invites: an RFC 5545 iCalendar object carrying an iTIP (RFC 5546) `REQUEST` for a
//! booked or moved session, or a `CANCEL`. One `UID` per session for its whole life, and a
//! `SEQUENCE` that grows with each move, so a calendar updates the event it already has.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::ical::{fold, param, text, utc};

/// What the invite asks of the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Add the event, or update it when its `SEQUENCE` is higher.
    Request,
    /// Remove the event.
    Cancel,
}

/// One session as an event.
#[derive(Debug, Clone)]
pub struct Invite {
    pub method: Method,
    pub session_id: Uuid,
    /// The domain of the sender, which makes the `UID` globally unique.
    pub domain: String,
    /// How many times the session has changed in a way a calendar must follow.
    pub sequence: i32,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// When the invite was made (`DTSTAMP`).
    pub stamp: DateTime<Utc>,
    pub summary: String,
    pub location: String,
    pub description: String,
    pub organizer_name: String,
    pub organizer_email: String,
    pub attendee_email: String,
}

impl Invite {
    /// The `UID`: the same in every invite about this session.
    pub fn uid(&self) -> String {
        format!("session-{}@{}", self.session_id, self.domain)
    }

    /// The iCalendar text (CRLF line ends, lines folded at 75 octets).
    pub fn to_ics(&self) -> String {
        let (method, status) = match self.method {
            Method::Request => ("REQUEST", "CONFIRMED"),
            Method::Cancel => ("CANCEL", "CANCELLED"),
        };
        let lines = [
            "BEGIN:VCALENDAR".to_owned(),
            "VERSION:2.0".to_owned(),
            "PRODID:-//prolo-scheduler//notifications//EN".to_owned(),
            "CALSCALE:GREGORIAN".to_owned(),
            format!("METHOD:{method}"),
            "BEGIN:VEVENT".to_owned(),
            format!("UID:{}", self.uid()),
            format!("DTSTAMP:{}", utc(self.stamp)),
            format!("SEQUENCE:{}", self.sequence),
            format!("DTSTART:{}", utc(self.starts_at)),
            format!("DTEND:{}", utc(self.ends_at)),
            format!("SUMMARY:{}", text(&self.summary)),
            format!("LOCATION:{}", text(&self.location)),
            format!("DESCRIPTION:{}", text(&self.description)),
            format!(
                "ORGANIZER;CN={}:mailto:{}",
                param(&self.organizer_name),
                self.organizer_email
            ),
            format!(
                "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE:mailto:{}",
                self.attendee_email
            ),
            format!("STATUS:{status}"),
            "TRANSP:OPAQUE".to_owned(),
            "END:VEVENT".to_owned(),
            "END:VCALENDAR".to_owned(),
        ];
        lines.iter().map(|line| fold(line)).collect()
    }

    /// The `method` parameter of the `text/calendar` part that carries the invite.
    pub fn method_name(&self) -> &'static str {
        match self.method {
            Method::Request => "REQUEST",
            Method::Cancel => "CANCEL",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invite(method: Method) -> Invite {
        Invite {
            method,
            session_id: Uuid::nil(),
            domain: "clinic.example".into(),
            sequence: 2,
            starts_at: "2027-01-06T10:00:00Z".parse().unwrap(),
            ends_at: "2027-01-06T10:30:00Z".parse().unwrap(),
            stamp: "2027-01-04T15:00:00Z".parse().unwrap(),
            summary: "Knee injection, Dr. Ng".into(),
            location: "Main St Clinic; 1 Main St".into(),
            description: "Bring: your imaging.\nWear loose clothing.".into(),
            organizer_name: "Prolo \"Clinic\"".into(),
            organizer_email: "desk@clinic.example".into(),
            attendee_email: "pat@example.com".into(),
        }
    }

    #[test]
    fn a_request_names_the_session_its_sequence_and_utc_times() {
        let ics = invite(Method::Request).to_ics();
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        for line in [
            "METHOD:REQUEST",
            "UID:session-00000000-0000-0000-0000-000000000000@clinic.example",
            "SEQUENCE:2",
            "DTSTART:20270106T100000Z",
            "DTEND:20270106T103000Z",
            "DTSTAMP:20270104T150000Z",
            "SUMMARY:Knee injection\\, Dr. Ng",
            "LOCATION:Main St Clinic\\; 1 Main St",
            "DESCRIPTION:Bring: your imaging.\\nWear loose clothing.",
            "ORGANIZER;CN=\"Prolo Clinic\":mailto:desk@clinic.example",
            "STATUS:CONFIRMED",
        ] {
            assert!(ics.contains(&format!("{line}\r\n")), "{line} in {ics}");
        }
        let cancel = invite(Method::Cancel).to_ics();
        assert!(cancel.contains("METHOD:CANCEL\r\n") && cancel.contains("STATUS:CANCELLED\r\n"));
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_a_character() {
        let mut long = invite(Method::Request);
        long.description = "é".repeat(100);
        let ics = long.to_ics();
        for line in ics.split("\r\n") {
            assert!(line.len() <= 75, "{} octets: {line}", line.len());
        }
        let unfolded = ics.replace("\r\n ", "");
        assert!(unfolded.contains(&format!("DESCRIPTION:{}\r\n", "é".repeat(100))));
    }
}
