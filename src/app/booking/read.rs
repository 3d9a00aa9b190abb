//! Reading sessions: one, a page of a list, one's history. Each read of a patient's sessions
//! leaves an audit event; a caller without access to clinical records gets none of them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::app::calendar::{self, SessionView, visible_to, zone_in};
use crate::app::caller::Caller;
use crate::domain::sessions::SessionStatus;
use crate::error::AppError;
use crate::models::sessions::{self as model, SessionFilter};
use crate::models::{audit_events, locations};

/// One session, with its clinical record once completed.
pub async fn get(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<SessionView, AppError> {
    let row = redacted(caller, visible_to(caller, model::find(conn, id).await?)?);
    let record = match caller.sees_clinical() {
        true => model::record(conn, row.id).await?,
        false => None,
    };
    let zone = calendar::zone_of(conn, row.location_id).await?;
    let audit = caller
        .audit("session.read", "sessions", Some(row.id), 200)
        .patient(row.patient_id);
    audit_events::append(conn, audit).await?;
    calendar::with_resources_of(conn, SessionView::new(row, zone, record)).await
}

/// A page of sessions by start: those after `after` (a start and an id), at most `limit`, and
/// whether more follow.
pub async fn list(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    mut filter: SessionFilter,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<(Vec<SessionView>, bool), AppError> {
    filter.provider_id = match (caller.provider_id, filter.provider_id) {
        (Some(own), Some(asked)) if own != asked => return Err(AppError::Concealed("provider")),
        (Some(own), _) => Some(own),
        (None, asked) => asked,
    };
    let patient_id = filter.patient_id;
    let mut rows = model::list(conn, filter, after, limit).await?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let location_ids: Vec<Uuid> = rows.iter().map(|row| row.location_id).collect();
    let zones = locations::time_zones(conn, &location_ids).await?;
    let completed: Vec<Uuid> = rows
        .iter()
        .filter(|row| row.status == SessionStatus::Completed && caller.sees_clinical())
        .map(|row| row.id)
        .collect();
    let mut records: HashMap<Uuid, model::ClinicalRecord> = model::records(conn, &completed)
        .await?
        .into_iter()
        .map(|record| (record.session_id, record))
        .collect();
    let mut audit = caller.audit("session.list", "sessions", None, 200);
    audit.patient_id = patient_id;
    audit_events::append(conn, audit).await?;
    let views = rows
        .into_iter()
        .map(|row| {
            let zone = zone_in(&zones, row.location_id);
            let record = records.remove(&row.id);
            SessionView::new(redacted(caller, row), zone, record)
        })
        .collect();
    Ok((calendar::with_resources(conn, views).await?, has_more))
}

/// A session's history, oldest first, and its location's zone. The entries' free-text reasons
/// are left out for a caller without access to notes.
pub async fn history(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<(Vec<model::SessionEvent>, Tz), AppError> {
    let row = visible_to(caller, model::find(conn, id).await?)?;
    let mut entries = model::events(conn, row.id).await?;
    if !caller.sees_clinical() {
        entries.iter_mut().for_each(|entry| entry.reason = None);
    }
    let zone = calendar::zone_of(conn, row.location_id).await?;
    let audit = caller
        .audit("session.history", "sessions", Some(row.id), 200)
        .patient(row.patient_id);
    audit_events::append(conn, audit).await?;
    Ok((entries, zone))
}

/// The row without its free-text note for a caller without access to notes.
fn redacted(caller: &Caller, mut row: model::Session) -> model::Session {
    if !caller.sees_clinical() {
        row.cancel_note = None;
    }
    row
}
