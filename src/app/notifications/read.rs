//! The front desk's view: notifications listed and read (audited like the patient data they
//! are about), and resent. An integration sees where each stands, never what it says.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::Outbox;
use super::deliver::subject_of;
use crate::app::caller::Caller;
use crate::domain::notifications::{NotificationStatus, notice_due};
use crate::error::AppError;
use crate::models::PageRequest;
use crate::models::audit_events;
use crate::models::notifications::{
    self as model, NewNotification, Notification, NotificationFilter,
};
use crate::models::settings;

/// A page of notifications (one extra row tells whether another page follows).
pub async fn list(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    filter: &NotificationFilter,
    page: PageRequest,
) -> Result<Vec<Notification>, AppError> {
    let rows = model::list(conn, filter, page).await?;
    let mut audit = caller.audit("notification.list", "notifications", None, 200);
    if let Some(patient_id) = filter.patient_id {
        audit = audit.patient(patient_id);
    }
    audit_events::append(conn, audit).await?;
    Ok(rows.into_iter().map(|row| redacted(caller, row)).collect())
}

/// One notification with its subject (as sent, or as it would be sent now).
pub async fn get(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    outbox: &Outbox,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(Notification, Option<String>), AppError> {
    let row = model::find(conn, id)
        .await?
        .ok_or(AppError::NotFound("notification"))?;
    let audit = caller
        .audit("notification.read", "notifications", Some(id), 200)
        .patient(row.patient_id);
    audit_events::append(conn, audit).await?;
    if !caller.sees_clinical() {
        return Ok((redacted(caller, row), None));
    }
    let subject = subject_of(conn, outbox, &row, now).await?;
    Ok((row, subject))
}

/// Sends a notification again: a new one, due now (or when quiet hours end), for a message
/// that went out or failed. One still pending, or dropped, is refused.
pub async fn resend(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Notification, AppError> {
    let original = model::find(conn, id)
        .await?
        .ok_or(AppError::NotFound("notification"))?;
    match original.status {
        NotificationStatus::Sent | NotificationStatus::Failed => {}
        NotificationStatus::Pending => {
            return Err(AppError::rule(
                "id",
                "is still pending: it will be sent when due",
            ));
        }
        NotificationStatus::Cancelled | NotificationStatus::Skipped => {
            return Err(AppError::rule(
                "id",
                "was cancelled or skipped; its session has moved on or the patient cannot be reached",
            ));
        }
    }
    let settings = settings::get(conn).await?;
    let zone = match original.session_id {
        Some(session_id) => match crate::models::sessions::find(conn, session_id).await? {
            Some(session) => crate::app::calendar::zone_of(conn, session.location_id).await?,
            None => chrono_tz::UTC,
        },
        None => chrono_tz::UTC,
    };
    let row = NewNotification {
        id: Uuid::now_v7(),
        patient_id: original.patient_id,
        session_id: original.session_id,
        course_id: original.course_id,
        kind: original.kind,
        status: NotificationStatus::Pending,
        due_at: notice_due(now, settings.quiet_hours(), zone),
        offset_minutes: original.offset_minutes,
        previous_starts_at: original.previous_starts_at,
        event_id: None,
        resend_of: Some(original.id),
        skip_reason: None,
        created_at: now,
        updated_at: now,
        waitlist_offer_id: original.waitlist_offer_id,
    };
    let new_id = row.id;
    model::plan(conn, vec![row]).await?;
    let audit = caller
        .audit("notification.resend", "notifications", Some(new_id), 202)
        .patient(original.patient_id);
    audit_events::append(conn, audit).await?;
    model::find(conn, new_id)
        .await?
        .ok_or_else(|| AppError::Internal("a resend just written is gone".into()))
}

/// The row without what it says, for a caller who may see only where it stands.
fn redacted(caller: &Caller, mut row: Notification) -> Notification {
    if !caller.sees_clinical() {
        row.subject = None;
        row.last_error = None;
    }
    row
}
