//! Online booking by patients: holds, the emailed code, and what a manage link still allows.
//! Pure rules; `app::online` applies them.

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use super::sessions::{SessionKind, SessionStatus};

/// Live holds one client may have at a time.
pub const MAX_LIVE_HOLDS_PER_CLIENT: i64 = 3;
/// How long a mailed code may be used; the hold is kept as long.
pub const CODE_MINUTES: i64 = 15;
/// Wrong codes after which a booking request is void.
pub const MAX_CODE_ATTEMPTS: i16 = 5;

/// Where a booking request is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestStatus {
    /// The code is mailed; nothing is booked yet.
    AwaitingVerification,
    /// The code was right and the session booked.
    Verified,
    /// Too many wrong codes, or given up: the hold is released.
    Void,
}

impl RequestStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingVerification => "awaiting_verification",
            Self::Verified => "verified",
            Self::Void => "void",
        }
    }

    /// The value of a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "awaiting_verification" => Some(Self::AwaitingVerification),
            "verified" => Some(Self::Verified),
            "void" => Some(Self::Void),
            _ => None,
        }
    }
}

/// The kinds a visitor may book online: an assessment (injections follow an assessment, so the
/// front desk books them).
pub fn bookable_online(kind: SessionKind) -> bool {
    kind == SessionKind::Assessment
}

/// A six-digit code, uniform over 000000–999999, from the operating system's generator.
pub fn generate_code() -> Result<String, getrandom::Error> {
    // Rejection sampling: 4,294,000,000 is the largest multiple of a million below 2^32.
    loop {
        let value = getrandom::u32()?;
        if value < 4_294_000_000 {
            return Ok(format!("{:06}", value % 1_000_000));
        }
    }
}

/// What is stored of a request's code: SHA-256 over the request's id and the code, so equal
/// codes of two requests are stored differently.
pub fn code_hash(request_id: uuid::Uuid, code: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(request_id.as_bytes());
    hasher.update(code.as_bytes());
    hasher.finalize().into()
}

/// Whether `code` is the one stored as `stored`, in time independent of where they differ.
pub fn code_matches(stored: &[u8], request_id: uuid::Uuid, code: &str) -> bool {
    let given = code_hash(request_id, code);
    stored.len() == given.len()
        && stored
            .iter()
            .zip(given.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// Where a booking request stands when a code comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The code is right: book.
    Book,
    /// The code is wrong; this many tries are left.
    Wrong { remaining: i16 },
    /// The code is wrong and was the last try: the request is void.
    Exhausted,
    /// The code's time is over, whatever was sent.
    Expired,
}

/// Judges a code for a request that had `attempts` wrong codes so far and expires at
/// `expires_at`.
pub fn judge(
    matches: bool,
    attempts: i16,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Verdict {
    if now >= expires_at {
        return Verdict::Expired;
    }
    if matches {
        return Verdict::Book;
    }
    let remaining = MAX_CODE_ATTEMPTS - attempts - 1;
    if remaining <= 0 {
        Verdict::Exhausted
    } else {
        Verdict::Wrong { remaining }
    }
}

/// Whether a manage link still works for a session in `status` that ends at `ends_at`: dead
/// once the session has ended or been cancelled (or was missed, or completed).
pub fn link_alive(status: SessionStatus, ends_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    status.is_upcoming() && ends_at > now
}

/// What a patient may still do with their session through its link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowed {
    pub cancel: bool,
    pub reschedule: bool,
    /// The last instant a change is taken online: the start less the late-change window.
    pub change_until: DateTime<Utc>,
}

/// What the patient may do with a session starting at `starts_at`, in `status`, when changes
/// inside `late_hours` of the start go through the front desk.
pub fn allowed(
    status: SessionStatus,
    starts_at: DateTime<Utc>,
    late_hours: i32,
    now: DateTime<Utc>,
) -> Allowed {
    let change_until = starts_at - Duration::hours(i64::from(late_hours));
    let in_time = now < change_until;
    let scheduled = status.is_upcoming();
    Allowed {
        cancel: scheduled && in_time,
        reschedule: scheduled && in_time,
        change_until,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn codes_are_six_digits_and_vary() {
        let codes: std::collections::HashSet<String> =
            (0..50).map(|_| generate_code().unwrap()).collect();
        assert!(
            codes
                .iter()
                .all(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()))
        );
        assert!(codes.len() > 40, "50 codes drawn, {} distinct", codes.len());
    }

    #[test]
    fn a_code_matches_only_its_own_request() {
        let (one, two) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        let stored = code_hash(one, "042917");
        assert!(code_matches(&stored, one, "042917"));
        assert!(!code_matches(&stored, one, "042918"));
        assert!(!code_matches(&stored, two, "042917"));
        assert!(!code_matches(&stored[..31], one, "042917"));
        assert_ne!(code_hash(one, "042917"), code_hash(two, "042917"));
    }

    #[test]
    fn the_fifth_wrong_code_voids_and_time_beats_everything() {
        let (now, later) = (at("2027-01-04T15:00:00Z"), at("2027-01-04T15:15:00Z"));
        assert_eq!(judge(true, 4, later, now), Verdict::Book);
        assert_eq!(judge(false, 0, later, now), Verdict::Wrong { remaining: 4 });
        assert_eq!(judge(false, 3, later, now), Verdict::Wrong { remaining: 1 });
        assert_eq!(judge(false, 4, later, now), Verdict::Exhausted);
        assert_eq!(judge(true, 0, later, later), Verdict::Expired);
    }

    #[test]
    fn changes_stop_at_the_late_change_window() {
        let start = at("2027-01-06T16:00:00Z");
        let early = allowed(
            SessionStatus::Scheduled,
            start,
            24,
            at("2027-01-05T15:59:00Z"),
        );
        assert!(early.cancel && early.reschedule);
        assert_eq!(early.change_until, at("2027-01-05T16:00:00Z"));
        let late = allowed(
            SessionStatus::Confirmed,
            start,
            24,
            at("2027-01-05T16:00:00Z"),
        );
        assert!(!late.cancel && !late.reschedule);
        let checked_in = allowed(
            SessionStatus::CheckedIn,
            start,
            0,
            at("2027-01-04T00:00:00Z"),
        );
        assert!(!checked_in.cancel);
    }

    #[test]
    fn a_link_dies_when_the_session_ends_or_is_cancelled() {
        let end = at("2027-01-06T16:45:00Z");
        assert!(link_alive(
            SessionStatus::Scheduled,
            end,
            at("2027-01-06T16:44:00Z")
        ));
        assert!(!link_alive(SessionStatus::Scheduled, end, end));
        assert!(!link_alive(
            SessionStatus::Cancelled,
            end,
            at("2027-01-01T00:00:00Z")
        ));
        assert!(!link_alive(
            SessionStatus::Completed,
            end,
            at("2027-01-01T00:00:00Z")
        ));
    }
}
