//! Inquiries from the website: kinds, the triage lifecycle, and the rules of intake, conversion
//! and retention.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An earlier inquiry from the same email or phone within this long marks a likely duplicate.
pub const DUPLICATE_WINDOW: Duration = Duration::hours(24);

/// What the visitor asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InquiryKind {
    Question,
    AppointmentRequest,
}

impl InquiryKind {
    /// Every kind, in the order stats list them.
    pub const ALL: [InquiryKind; 2] = [Self::Question, Self::AppointmentRequest];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Question => "question",
            Self::AppointmentRequest => "appointment_request",
        }
    }

    /// The kind of a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// Where an inquiry is in the front desk's triage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InquiryStatus {
    New,
    Contacted,
    Scheduled,
    Closed,
    Spam,
}

impl InquiryStatus {
    /// Every status, in the order stats list them.
    pub const ALL: [InquiryStatus; 5] = [
        Self::New,
        Self::Contacted,
        Self::Scheduled,
        Self::Closed,
        Self::Spam,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Contacted => "contacted",
            Self::Scheduled => "scheduled",
            Self::Closed => "closed",
            Self::Spam => "spam",
        }
    }

    /// The status of a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// Closed and spam inquiries are done with; their personal data expires after retention.
    pub fn is_closed(self) -> bool {
        matches!(self, Self::Closed | Self::Spam)
    }

    /// Whether reaching this status means the clinic has been in touch with the visitor.
    pub fn means_contacted(self) -> bool {
        matches!(self, Self::Contacted | Self::Scheduled)
    }
}

/// Why a status change is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriageRefusal {
    /// The lifecycle has no such step.
    NotAllowed,
    /// The inquiry became a patient: it is no longer spam.
    Converted,
}

/// Checks a status change of triage. `converted`: the inquiry is linked to a patient.
///
/// `new → contacted → scheduled | closed | spam`, with the shortcuts from `new`; a closed
/// inquiry may be reopened as `contacted`, and spam returned to `new` when it was a person.
pub fn check_transition(
    from: InquiryStatus,
    to: InquiryStatus,
    converted: bool,
) -> Result<(), TriageRefusal> {
    use InquiryStatus::*;
    let allowed = matches!(
        (from, to),
        (New, Contacted | Scheduled | Closed | Spam)
            | (Contacted, Scheduled | Closed | Spam)
            | (Scheduled, Closed)
            | (Closed, Contacted)
            | (Spam, New)
    );
    if !allowed {
        Err(TriageRefusal::NotAllowed)
    } else if converted && to == Spam {
        Err(TriageRefusal::Converted)
    } else {
        Ok(())
    }
}

/// Whether an inquiry in `status` may be converted into a patient (and a booking).
pub fn may_convert(status: InquiryStatus) -> bool {
    matches!(
        status,
        InquiryStatus::New | InquiryStatus::Contacted | InquiryStatus::Scheduled
    )
}

/// The status after a conversion: `scheduled` when a session was booked, else at least
/// `contacted` (someone spoke to the visitor to create the record).
pub fn status_after_conversion(from: InquiryStatus, booked: bool) -> InquiryStatus {
    if booked || from == InquiryStatus::Scheduled {
        InquiryStatus::Scheduled
    } else {
        InquiryStatus::Contacted
    }
}

/// A visitor's name split into given and family name for a new patient: the last word is the
/// family name. Only a default; the front desk overrides it where it is wrong.
pub fn split_name(name: &str) -> (Option<String>, Option<String>) {
    let name = name.trim();
    match name.rsplit_once(char::is_whitespace) {
        Some((given, family)) => (
            Some(given.trim().to_owned()),
            Some(family.trim().to_owned()),
        ),
        None if name.is_empty() => (None, None),
        None => (Some(name.to_owned()), None),
    }
}

/// Closed or spam inquiries closed before this instant have their personal data erased.
pub fn retention_cutoff(now: DateTime<Utc>, retention_days: u32) -> DateTime<Utc> {
    now - Duration::days(i64::from(retention_days))
}

/// How long the visitor has had the complaint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum SymptomDuration {
    #[serde(rename = "under_6_weeks")]
    UnderSixWeeks,
    #[serde(rename = "6_weeks_to_3_months")]
    SixWeeksToThreeMonths,
    #[serde(rename = "3_to_12_months")]
    ThreeToTwelveMonths,
    #[serde(rename = "over_a_year")]
    OverAYear,
}

impl SymptomDuration {
    const ALL: [SymptomDuration; 4] = [
        Self::UnderSixWeeks,
        Self::SixWeeksToThreeMonths,
        Self::ThreeToTwelveMonths,
        Self::OverAYear,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnderSixWeeks => "under_6_weeks",
            Self::SixWeeksToThreeMonths => "6_weeks_to_3_months",
            Self::ThreeToTwelveMonths => "3_to_12_months",
            Self::OverAYear => "over_a_year",
        }
    }

    /// The duration of a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == text)
    }
}

#[cfg(test)]
mod tests {
    use super::InquiryStatus::*;
    use super::*;

    #[test]
    fn triage_follows_the_lifecycle() {
        for (from, to) in [
            (New, Contacted),
            (New, Scheduled),
            (New, Closed),
            (New, Spam),
            (Contacted, Scheduled),
            (Contacted, Closed),
            (Contacted, Spam),
            (Scheduled, Closed),
            (Closed, Contacted),
            (Spam, New),
        ] {
            assert_eq!(
                check_transition(from, to, false),
                Ok(()),
                "{from:?} → {to:?}"
            );
        }
        for (from, to) in [
            (Contacted, New),
            (Scheduled, New),
            (Scheduled, Contacted),
            (Scheduled, Spam),
            (Closed, Spam),
            (Closed, New),
            (Spam, Contacted),
            (Spam, Closed),
        ] {
            assert_eq!(
                check_transition(from, to, false),
                Err(TriageRefusal::NotAllowed),
                "{from:?} → {to:?}"
            );
        }
    }

    #[test]
    fn a_converted_inquiry_stays_with_its_patient() {
        assert_eq!(check_transition(Scheduled, Closed, true), Ok(()));
        assert_eq!(check_transition(Contacted, Scheduled, true), Ok(()));
        assert_eq!(
            check_transition(Contacted, Spam, true),
            Err(TriageRefusal::Converted)
        );
        assert_eq!(check_transition(Closed, Contacted, true), Ok(()));
    }

    #[test]
    fn conversion_is_for_open_inquiries_and_schedules_a_booking() {
        assert!(may_convert(New) && may_convert(Contacted) && may_convert(Scheduled));
        assert!(!may_convert(Closed) && !may_convert(Spam));
        assert_eq!(status_after_conversion(New, true), Scheduled);
        assert_eq!(status_after_conversion(New, false), Contacted);
        assert_eq!(status_after_conversion(Scheduled, false), Scheduled);
    }

    #[test]
    fn names_split_at_the_last_word() {
        assert_eq!(
            split_name("  Mary Ann  Smith "),
            (Some("Mary Ann".into()), Some("Smith".into()))
        );
        assert_eq!(split_name("Cher"), (Some("Cher".into()), None));
        assert_eq!(split_name("  "), (None, None));
    }
}
