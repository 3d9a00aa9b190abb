//! Domain events: what changed, for whatever reacts to it (notifications, webhooks, calendar
//! feeds, the waitlist). Thin by construction: the data types below hold ids, instants,
//! statuses, counts, reason codes and field names, and nothing else — no name, email, phone,
//! note, message or clinical value can be put in an event.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::courses::CourseStatus;
use super::inquiries::{InquiryKind, InquiryStatus};
use super::sessions::{CancelReason, SessionKind, SessionStatus};
use super::waitlist::{EntryStatus, OfferStatus};

macro_rules! event_types {
    ($($(#[$doc:meta])* $variant:ident = $name:literal, $subject:literal, $data:ident;)+) => {
        /// The type of an event, `subject.change`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        pub enum EventType {
            $($(#[$doc])* #[serde(rename = $name)] $variant,)+
        }

        impl EventType {
            /// Every type, in the order the documentation lists them.
            pub const ALL: &[EventType] = &[$(Self::$variant),+];

            /// The name, as stored and sent.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $name,)+ }
            }

            /// The kind of record the event is about.
            pub fn subject(self) -> &'static str {
                match self { $(Self::$variant => $subject,)+ }
            }

            /// The name of the schema of the event's `data`.
            pub fn data_schema(self) -> &'static str {
                match self { $(Self::$variant => stringify!($data),)+ }
            }
        }
    };
}

event_types! {
    /// A session was booked (by staff, a course, a conversion).
    SessionBooked = "session.booked", "session", SessionEventData;
    /// A session moved; `previous_starts_at` is where it was.
    SessionRescheduled = "session.rescheduled", "session", SessionEventData;
    SessionConfirmed = "session.confirmed", "session", SessionEventData;
    SessionCheckedIn = "session.checked_in", "session", SessionEventData;
    /// The clinical record was written (it is not in the event).
    SessionCompleted = "session.completed", "session", SessionEventData;
    SessionNoShow = "session.no_show", "session", SessionEventData;
    /// The time is free again; `reason_code` and `late_cancellation` say why and when.
    SessionCancelled = "session.cancelled", "session", SessionEventData;
    CourseCreated = "course.created", "course", CourseEventData;
    /// Held, resumed or discontinued by staff.
    CourseStatusChanged = "course.status_changed", "course", CourseEventData;
    /// Every planned session is completed, or staff completed the course early.
    CourseCompleted = "course.completed", "course", CourseEventData;
    /// Cancelled with its future sessions (each has its own `session.cancelled`).
    CourseCancelled = "course.cancelled", "course", CourseEventData;
    /// Sessions were added; `added_sessions` says how many.
    CourseExtended = "course.extended", "course", CourseEventData;
    /// Side, goal, baselines or interval window changed; `fields` names which.
    CourseUpdated = "course.updated", "course", CourseEventData;
    /// A question or an appointment request arrived.
    InquiryReceived = "inquiry.received", "inquiry", InquiryEventData;
    InquiryStatusChanged = "inquiry.status_changed", "inquiry", InquiryEventData;
    /// The inquiry became a patient (and perhaps a session).
    InquiryConverted = "inquiry.converted", "inquiry", InquiryEventData;
    PatientCreated = "patient.created", "patient", RecordEventData;
    /// `fields` names what changed.
    PatientUpdated = "patient.updated", "patient", RecordEventData;
    PatientArchived = "patient.archived", "patient", RecordEventData;
    ProviderCreated = "provider.created", "provider", RecordEventData;
    ProviderUpdated = "provider.updated", "provider", RecordEventData;
    ProviderArchived = "provider.archived", "provider", RecordEventData;
    LocationCreated = "location.created", "location", RecordEventData;
    LocationUpdated = "location.updated", "location", RecordEventData;
    LocationArchived = "location.archived", "location", RecordEventData;
    TreatmentAreaCreated = "treatment_area.created", "treatment_area", RecordEventData;
    TreatmentAreaUpdated = "treatment_area.updated", "treatment_area", RecordEventData;
    TreatmentAreaArchived = "treatment_area.archived", "treatment_area", RecordEventData;
    /// A provider's weekly hours were replaced; the subject is the provider.
    WorkingHoursUpdated = "working_hours.updated", "provider", ScheduleEventData;
    TimeOffCreated = "time_off.created", "time_off", ScheduleEventData;
    TimeOffDeleted = "time_off.deleted", "time_off", ScheduleEventData;
    ResourceCreated = "resource.created", "resource", RecordEventData;
    /// `fields` names what changed.
    ResourceUpdated = "resource.updated", "resource", RecordEventData;
    /// Archived; with `reassign`, its future sessions moved to other resources first.
    ResourceArchived = "resource.archived", "resource", RecordEventData;
    /// Downtime was added to the resource (the subject); its times are in the resource's list.
    ResourceDowntimeCreated = "resource.downtime_created", "resource", RecordEventData;
    ResourceDowntimeDeleted = "resource.downtime_deleted", "resource", RecordEventData;
    /// A patient joined the waitlist (from the front desk or their manage link).
    WaitlistEntryCreated = "waitlist_entry.created", "waitlist_entry", WaitlistEventData;
    /// `fields` names what changed.
    WaitlistEntryUpdated = "waitlist_entry.updated", "waitlist_entry", WaitlistEventData;
    WaitlistEntryCancelled = "waitlist_entry.cancelled", "waitlist_entry", WaitlistEventData;
    /// Past `latest`, or its session began, ended or was cancelled.
    WaitlistEntryExpired = "waitlist_entry.expired", "waitlist_entry", WaitlistEventData;
    /// A freed time was offered to the entry; the email follows.
    WaitlistOfferCreated = "waitlist_offer.created", "waitlist_offer", WaitlistEventData;
    /// The patient took the time: `session_id` is the session booked or moved.
    WaitlistOfferAccepted = "waitlist_offer.accepted", "waitlist_offer", WaitlistEventData;
    /// Another offer of the time was accepted (`offer_status` `taken`), or the time was booked
    /// otherwise or the entry ended (`closed`).
    WaitlistOfferClosed = "waitlist_offer.closed", "waitlist_offer", WaitlistEventData;
    /// Not answered within `waitlist_offer_minutes`.
    WaitlistOfferExpired = "waitlist_offer.expired", "waitlist_offer", WaitlistEventData;
}

impl EventType {
    /// The type of a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| t.as_str() == name)
    }
}

/// What a session event says about the session, as it is after the change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SessionEventData {
    pub kind: SessionKind,
    pub status: SessionStatus,
    /// The status before the change (absent for `session.booked`).
    pub previous_status: Option<SessionStatus>,
    pub provider_id: Uuid,
    pub location_id: Uuid,
    pub treatment_area_id: Uuid,
    pub course_id: Option<Uuid>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// For `session.rescheduled`: the start before the move.
    pub previous_starts_at: Option<DateTime<Utc>>,
    /// For a session moved by a cascade: the session whose move carried it along.
    pub moved_with: Option<Uuid>,
    /// For `session.cancelled`.
    pub reason_code: Option<CancelReason>,
    /// For `session.cancelled`: inside the clinic's late-cancellation window.
    pub late_cancellation: Option<bool>,
    /// For `session.booked`: booked with its course (created or extended) in one change, which
    /// the course's own event summarises.
    pub course_booking: Option<bool>,
}

/// What a course event says about the course, as it is after the change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CourseEventData {
    pub status: CourseStatus,
    pub previous_status: Option<CourseStatus>,
    pub provider_id: Uuid,
    pub location_id: Uuid,
    pub treatment_area_id: Uuid,
    pub planned_sessions: i32,
    /// For `course.extended`.
    pub added_sessions: Option<i32>,
    /// For `course.cancelled`: the future sessions cancelled with it.
    pub cancelled_sessions: Option<i32>,
    /// For `course.cancelled`.
    pub reason_code: Option<CancelReason>,
    /// For `course.updated`: the names of the fields the change set (never their values).
    #[serde(default)]
    pub fields: Vec<String>,
}

/// What an inquiry event says: its kind and status, never who wrote it or what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InquiryEventData {
    pub kind: InquiryKind,
    pub status: InquiryStatus,
    pub previous_status: Option<InquiryStatus>,
    /// For `inquiry.converted`: the session booked with the conversion, if one was.
    pub session_id: Option<Uuid>,
}

/// What a patient or catalog event says: which fields a change touched.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RecordEventData {
    /// For `*.updated`: the names of the fields the change set (never their values).
    #[serde(default)]
    pub fields: Vec<String>,
}

/// What a working-hours or time-off event says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScheduleEventData {
    pub provider_id: Uuid,
    /// For `time_off.*`: the span (its reason is not in the event).
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    /// For `working_hours.updated`: how many weekly intervals the provider has now.
    pub intervals: Option<i32>,
}

/// What a waitlist event says about the entry (and the offer, for `waitlist_offer.*`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WaitlistEventData {
    pub entry_id: Uuid,
    pub status: EntryStatus,
    pub treatment_area_id: Uuid,
    pub kind: SessionKind,
    pub urgent: bool,
    /// The session to move earlier; for `waitlist_offer.accepted`, the session booked or moved.
    pub session_id: Option<Uuid>,
    /// For `waitlist_offer.*`.
    pub offer_id: Option<Uuid>,
    pub offer_status: Option<OfferStatus>,
    /// For `waitlist_offer.*`: the time offered.
    pub provider_id: Option<Uuid>,
    pub location_id: Option<Uuid>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    /// For `waitlist_offer.created`.
    pub expires_at: Option<DateTime<Utc>>,
    /// For `waitlist_entry.updated`: the names of the fields the change set.
    #[serde(default)]
    pub fields: Vec<String>,
}

/// The data of one event, of the shape its type has.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum EventData {
    Session(SessionEventData),
    Course(CourseEventData),
    Inquiry(InquiryEventData),
    Record(RecordEventData),
    Schedule(ScheduleEventData),
    Waitlist(WaitlistEventData),
}

impl EventData {
    /// The name of this data's schema, to hold it to its event type.
    pub fn schema(&self) -> &'static str {
        match self {
            Self::Session(_) => "SessionEventData",
            Self::Course(_) => "CourseEventData",
            Self::Inquiry(_) => "InquiryEventData",
            Self::Record(_) => "RecordEventData",
            Self::Schedule(_) => "ScheduleEventData",
            Self::Waitlist(_) => "WaitlistEventData",
        }
    }
}

/// One change, as a use case records it.
#[derive(Debug, Clone, PartialEq)]
pub struct DomainEvent {
    pub event_type: EventType,
    pub subject_id: Uuid,
    pub patient_id: Option<Uuid>,
    pub data: EventData,
}

impl DomainEvent {
    /// An event of `event_type` about `subject_id`. A data shape that does not belong to the
    /// type is a programming error, caught by the tests that run every workflow.
    pub fn new(
        event_type: EventType,
        subject_id: Uuid,
        patient_id: Option<Uuid>,
        data: EventData,
    ) -> Self {
        debug_assert_eq!(event_type.data_schema(), data.schema(), "{event_type:?}");
        Self {
            event_type,
            subject_id,
            patient_id,
            data,
        }
    }

    /// A patient or catalog event naming the fields that were set.
    pub fn record(event_type: EventType, subject_id: Uuid, fields: &[&str]) -> Self {
        let patient_id = (event_type.subject() == "patient").then_some(subject_id);
        let fields = fields.iter().map(|f| (*f).to_owned()).collect();
        Self::new(
            event_type,
            subject_id,
            patient_id,
            EventData::Record(RecordEventData { fields }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_parse_back() {
        let mut names: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(*t));
            let json = serde_json::to_value(t).unwrap();
            assert_eq!(json, t.as_str());
            assert!(t.as_str().starts_with(t.subject()) || t.subject() == "provider");
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), EventType::ALL.len());
        assert_eq!(EventType::parse("session.exploded"), None);
    }

    #[test]
    fn a_record_event_names_fields_and_links_patients_only() {
        let id = Uuid::nil();
        let updated = DomainEvent::record(EventType::PatientUpdated, id, &["phone", "email"]);
        assert_eq!(updated.patient_id, Some(id));
        let json = serde_json::to_value(&updated.data).unwrap();
        assert_eq!(json, serde_json::json!({"fields": ["phone", "email"]}));
        let location = DomainEvent::record(EventType::LocationArchived, id, &[]);
        assert_eq!(location.patient_id, None);
        assert_eq!(
            serde_json::to_value(&location.data).unwrap(),
            serde_json::json!({"fields": []})
        );
    }
}
