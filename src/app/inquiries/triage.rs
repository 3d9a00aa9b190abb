//! The front desk's triage: read inquiries, change their status, assignee and notes.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::{audited, erased, find_for_update, inquiry_event};
use crate::app::caller::{Caller, Expected};
use crate::app::events;
use crate::domain::access::Role;
use crate::domain::events::EventType;
use crate::domain::inquiries::{InquiryStatus, TriageRefusal, check_transition};
use crate::error::{AppError, ProblemType};
use crate::models::inquiries::{self as model, InquiryChanges, InquiryEvent, InquirySearch};
use crate::models::{PageRequest, api_keys, audit_events};

/// One inquiry.
pub async fn get(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<model::Inquiry, AppError> {
    let row = model::find(conn, id)
        .await?
        .ok_or(AppError::NotFound("inquiry"))?;
    audit_events::append(conn, audited(caller, "inquiry.read", &row, 200)).await?;
    Ok(row)
}

/// A page of the inquiries `search` matches, audited as `action`.
pub async fn search(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    search: InquirySearch,
    page: PageRequest,
    action: &str,
) -> Result<Vec<model::Inquiry>, AppError> {
    let rows = model::search(conn, search, page).await?;
    audit_events::append(conn, caller.audit(action, "inquiries", None, 200)).await?;
    Ok(rows)
}

/// An inquiry's timeline, oldest first.
pub async fn timeline(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<Vec<InquiryEvent>, AppError> {
    let row = model::find(conn, id)
        .await?
        .ok_or(AppError::NotFound("inquiry"))?;
    let items = model::events(conn, row.id).await?;
    audit_events::append(conn, audited(caller, "inquiry.timeline", &row, 200)).await?;
    Ok(items)
}

/// How many inquiries arrived in `[from, to)` by status and kind, how many of them were
/// contacted, and the median minutes to the first contact.
pub async fn stats(
    conn: &mut AsyncPgConnection,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<(Vec<model::Count>, i64, Option<i64>), AppError> {
    let counts = model::counts(conn, from, to).await?;
    let (contacted, median) = model::first_contact(conn, from, to).await?;
    Ok((counts, contacted, median))
}

/// Triage changes; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct Triage {
    pub status: Option<InquiryStatus>,
    pub assignee_key_id: Option<Option<Uuid>>,
    pub notes: Option<Option<String>>,
}

/// Changes the inquiry at `expected`: a legal status move, an active admin or staff assignee,
/// notes. Every change lands in the timeline; a status change is `inquiry.status_changed`.
pub async fn update(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    expected: Expected,
    triage: Triage,
    now: DateTime<Utc>,
) -> Result<model::Inquiry, AppError> {
    let current = find_for_update(conn, id).await?;
    expected.check(current.version)?;
    if current.erased_at.is_some() {
        return Err(erased());
    }
    if let Some(Some(assignee)) = triage.assignee_key_id {
        may_be_assigned(conn, assignee).await?;
    }
    let from = current.status;
    let mut changes = InquiryChanges::default();
    let mut entry = InquiryEvent::new(id, caller.key_id, "updated", Some(from), from, now);
    let moved = triage.status.filter(|to| *to != from);
    if let Some(to) = moved {
        check_transition(from, to, current.patient_id.is_some())
            .map_err(|refusal| refused(from, to, refusal))?;
        changes.status = Some(to);
        if to.means_contacted() && current.first_contacted_at.is_none() {
            changes.first_contacted_at = Some(Some(now));
        }
        if to.is_closed() != from.is_closed() {
            changes.closed_at = Some(to.is_closed().then_some(now));
        }
        entry.to_status = to;
        entry.changed.push("status".into());
    }
    if let Some(assignee) = triage
        .assignee_key_id
        .filter(|a| *a != current.assignee_key_id)
    {
        changes.assignee_key_id = Some(assignee);
        entry.assignee_key_id = assignee;
        entry.changed.push("assignee_key_id".into());
    }
    if let Some(notes) = triage.notes.filter(|n| *n != current.notes) {
        changes.notes = Some(notes);
        entry.changed.push("notes".into());
    }
    let row = if entry.changed.is_empty() {
        current
    } else {
        model::add_event(conn, entry).await?;
        model::update(conn, id, changes, now).await?
    };
    if moved.is_some() {
        let event = inquiry_event(EventType::InquiryStatusChanged, &row, Some(from));
        events::record(conn, now, [event]).await?;
    }
    audit_events::append(conn, audited(caller, "inquiry.update", &row, 200)).await?;
    Ok(row)
}

fn refused(from: InquiryStatus, to: InquiryStatus, refusal: TriageRefusal) -> AppError {
    let detail = match refusal {
        TriageRefusal::NotAllowed => format!(
            "the inquiry is {}; it cannot become {}",
            from.as_str(),
            to.as_str()
        ),
        TriageRefusal::Converted => format!(
            "the inquiry became a patient; it cannot become {}",
            to.as_str()
        ),
    };
    AppError::Problem(ProblemType::InvalidTransition, detail)
}

async fn may_be_assigned(conn: &mut AsyncPgConnection, key_id: Uuid) -> Result<(), AppError> {
    let usable = api_keys::find(conn, key_id).await?.is_some_and(|key| {
        key.revoked_at.is_none() && matches!(key.role, Role::Admin | Role::Staff)
    });
    if usable {
        Ok(())
    } else {
        Err(AppError::rule(
            "assignee_key_id",
            "names no active admin or staff key",
        ))
    }
}
