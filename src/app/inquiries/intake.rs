//! An inquiry arriving from the website's contact form.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::inquiry_event;
use crate::app::caller::Caller;
use crate::app::events;
use crate::domain::contact::{ContactMethod, normalize_email};
use crate::domain::events::EventType;
use crate::domain::inquiries::{InquiryKind, InquiryStatus, SymptomDuration};
use crate::error::AppError;
use crate::models::audit_events::{self, NewAuditEvent};
use crate::models::inquiries::{self as model, InquiryEvent, NewInquiry};
use crate::models::treatment_areas;

/// Who sends the form: a key's holder, or a visitor without one.
#[derive(Debug, Clone)]
pub enum Sender {
    Key(Caller),
    Visitor { request_id: Option<String> },
}

impl Sender {
    fn key_id(&self) -> Option<Uuid> {
        match self {
            Self::Key(caller) => caller.key_id,
            Self::Visitor { .. } => None,
        }
    }

    fn audit(&self, id: Uuid) -> NewAuditEvent {
        let (action, resource) = ("inquiry.submit", "inquiries");
        match self {
            Self::Key(caller) => caller.audit(action, resource, Some(id), 201),
            Self::Visitor { request_id } => NewAuditEvent {
                id: Uuid::now_v7(),
                key_id: None,
                role: Some("public".to_owned()),
                action: action.to_owned(),
                resource_type: resource.to_owned(),
                resource_id: Some(id),
                patient_id: None,
                request_id: request_id.clone(),
                outcome: "success".to_owned(),
                status: 201,
            },
        }
    }
}

/// A filled-in form.
#[derive(Debug, Clone)]
pub struct Submission {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub kind: InquiryKind,
    pub message: String,
    /// The slug of the treatment area asked about.
    pub treatment_area: Option<String>,
    pub symptom_duration: Option<SymptomDuration>,
    pub preferred_contact: Option<ContactMethod>,
    /// The validated weekly windows, as stored.
    pub preferred_times: Option<serde_json::Value>,
    pub source_page: Option<String>,
    /// The hidden field a bot fills in: such a submission is kept as spam.
    pub honeypot: bool,
}

/// Keeps the inquiry (as `spam` when the honeypot was filled), linked to the first of a run
/// from the same contact, with its timeline entry, audit event and `inquiry.received`.
pub async fn receive(
    conn: &mut AsyncPgConnection,
    sender: &Sender,
    submission: Submission,
    now: DateTime<Utc>,
) -> Result<model::Inquiry, AppError> {
    let status = match submission.honeypot {
        true => InquiryStatus::Spam,
        false => InquiryStatus::New,
    };
    let email = submission.email.as_deref().map(normalize_email);
    let phone = submission.phone.map(|p| p.trim().to_owned());
    let treatment_area_id = match &submission.treatment_area {
        Some(slug) => Some(
            treatment_areas::find_by_slug(conn, slug)
                .await?
                .filter(|area| area.archived_at.is_none())
                .ok_or_else(|| {
                    AppError::rule("treatment_area", "is not an area the clinic treats")
                })?
                .id,
        ),
        None => None,
    };
    model::lock_contact(conn, email.as_deref(), phone.as_deref()).await?;
    let duplicate_of =
        model::likely_duplicate_of(conn, email.as_deref(), phone.as_deref(), now).await?;
    let row = model::insert(
        conn,
        NewInquiry {
            id: Uuid::now_v7(),
            kind: submission.kind,
            status,
            name: Some(submission.name.trim().to_owned()),
            email,
            phone,
            message: Some(submission.message),
            symptom_duration: submission.symptom_duration,
            preferred_contact: submission.preferred_contact,
            preferred_times: submission.preferred_times,
            source_page: submission.source_page.map(|page| page.trim().to_owned()),
            treatment_area_id,
            consented_at: now,
            duplicate_of,
            closed_at: submission.honeypot.then_some(now),
            created_at: now,
            updated_at: now,
        },
    )
    .await?;
    let received = InquiryEvent::new(row.id, sender.key_id(), "received", None, status, now);
    model::add_event(conn, received).await?;
    audit_events::append(conn, sender.audit(row.id)).await?;
    let event = inquiry_event(EventType::InquiryReceived, &row, None);
    events::record(conn, now, [event]).await?;
    Ok(row)
}

/// What a patient who booked online wrote for the clinic.
#[derive(Debug, Clone)]
pub struct OnlineNote {
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub message: String,
    pub treatment_area_id: Uuid,
    pub patient_id: Uuid,
    pub session_id: Uuid,
    /// When the patient consented, with the booking request.
    pub consented_at: DateTime<Utc>,
}

/// Keeps the message of an online booking where the front desk reads messages: an
/// appointment request already `scheduled`, linked to its patient and session, with its
/// timeline entry and `inquiry.received`.
pub async fn note_online_booking(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    note: OnlineNote,
    now: DateTime<Utc>,
) -> Result<model::Inquiry, AppError> {
    let status = InquiryStatus::Scheduled;
    let row = model::insert(
        conn,
        NewInquiry {
            id: Uuid::now_v7(),
            kind: InquiryKind::AppointmentRequest,
            status,
            name: Some(note.name),
            email: Some(note.email),
            phone: note.phone,
            message: Some(note.message),
            symptom_duration: None,
            preferred_contact: None,
            preferred_times: None,
            source_page: Some("online booking".to_owned()),
            treatment_area_id: Some(note.treatment_area_id),
            consented_at: note.consented_at,
            duplicate_of: None,
            closed_at: None,
            created_at: now,
            updated_at: now,
        },
    )
    .await?;
    let changes = model::InquiryChanges {
        patient_id: Some(Some(note.patient_id)),
        session_id: Some(Some(note.session_id)),
        first_contacted_at: Some(Some(now)),
        ..model::InquiryChanges::default()
    };
    let row = model::update(conn, row.id, changes, now).await?;
    let received = InquiryEvent::new(row.id, caller.key_id, "received", None, status, now);
    model::add_event(conn, received).await?;
    audit_events::append(
        conn,
        caller.audit("inquiry.submit", "inquiries", Some(row.id), 201),
    )
    .await?;
    let event = inquiry_event(EventType::InquiryReceived, &row, None);
    events::record(conn, now, [event]).await?;
    Ok(row)
}
