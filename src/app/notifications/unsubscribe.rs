//! One-click unsubscribe (RFC 8058): the link in every message names a random token whose
//! hash is stored; posting to it turns the patient's email off, audited, with a
//! `patient.updated` event. Reading the link changes nothing (mail scanners follow links).

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::app::events;
use crate::domain::access::hash_key;
use crate::domain::events::{DomainEvent, EventType};
use crate::error::AppError;
use crate::models::audit_events::{self, NewAuditEvent};
use crate::models::notifications as model;
use crate::models::patients;

/// The patient a token speaks for; an unknown token is "not found" (and says nothing more).
async fn patient_of(conn: &mut AsyncPgConnection, token: &str) -> Result<Uuid, AppError> {
    model::unsubscribe_patient(conn, &hash_key(token))
        .await?
        .ok_or(AppError::NotFound("unsubscribe link"))
}

/// Whether the patient behind `token` still gets email.
pub async fn status(conn: &mut AsyncPgConnection, token: &str) -> Result<bool, AppError> {
    let patient_id = patient_of(conn, token).await?;
    Ok(patients::find(conn, patient_id)
        .await?
        .is_some_and(|p| p.email_notifications))
}

/// Turns email off for the patient behind `token`. Idempotent: a second click changes
/// nothing more and writes no second event.
pub async fn unsubscribe(
    conn: &mut AsyncPgConnection,
    token: &str,
    request_id: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let hash = hash_key(token);
    let patient_id = patient_of(conn, token).await?;
    let changed = patients::set_email_notifications(conn, patient_id, false).await?;
    model::use_unsubscribe_token(conn, &hash, now).await?;
    let audit = NewAuditEvent {
        id: Uuid::now_v7(),
        key_id: None,
        role: Some("public".to_owned()),
        action: "patient.unsubscribe".to_owned(),
        resource_type: "patients".to_owned(),
        resource_id: Some(patient_id),
        patient_id: Some(patient_id),
        request_id,
        outcome: "success".to_owned(),
        status: 200,
    };
    audit_events::append(conn, audit).await?;
    if changed {
        let event = DomainEvent::record(
            EventType::PatientUpdated,
            patient_id,
            &["email_notifications"],
        );
        events::record(conn, now, [event]).await?;
    }
    Ok(())
}
