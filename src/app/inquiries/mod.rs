//! Inquiries from the website's contact form: intake, the front desk's triage, conversion into
//! a patient (and a booked session), and erasure once their retention is over.

pub mod convert;
pub mod intake;
pub mod retention;
pub mod triage;

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::caller::Caller;
use crate::domain::events::{DomainEvent, EventData, EventType, InquiryEventData};
use crate::domain::inquiries::InquiryStatus;
use crate::error::{AppError, ProblemType};
use crate::models::audit_events::NewAuditEvent;
use crate::models::inquiries as model;

/// The domain event of a change to `row` (as it is after the change) from `previous`.
pub fn inquiry_event(
    event_type: EventType,
    row: &model::Inquiry,
    previous: Option<InquiryStatus>,
) -> DomainEvent {
    let data = InquiryEventData {
        kind: row.kind,
        status: row.status,
        previous_status: previous,
        session_id: row.session_id,
    };
    DomainEvent::new(event_type, row.id, row.patient_id, EventData::Inquiry(data))
}

/// An audit event about inquiry `row` by `caller`, naming the patient once it has one.
pub fn audited(caller: &Caller, action: &str, row: &model::Inquiry, status: u16) -> NewAuditEvent {
    let event = caller.audit(action, "inquiries", Some(row.id), status);
    match row.patient_id {
        Some(patient) => event.patient(patient),
        None => event,
    }
}

/// 409 for an inquiry past its retention.
pub fn erased() -> AppError {
    AppError::Problem(
        ProblemType::InquiryErased,
        "the inquiry's personal data was erased under the retention period".into(),
    )
}

/// The inquiry, locked for a change, or 404.
async fn find_for_update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> Result<model::Inquiry, AppError> {
    model::find_for_update(conn, id)
        .await?
        .ok_or(AppError::NotFound("inquiry"))
}
