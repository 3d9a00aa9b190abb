//! Notifications: planned in the event consumer's transaction, claimed by a worker with a
//! lease (`FOR UPDATE SKIP LOCKED`), settled by the claim's holder only.

use super::prepared::prepared;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::PageRequest;
use crate::domain::notifications::{Channel, NotificationKind, NotificationStatus, SkipReason};
use crate::schema::{notifications, session_events, unsubscribe_tokens};

/// A row of `notifications`.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = notifications)]
pub struct Notification {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub session_id: Option<Uuid>,
    pub course_id: Option<Uuid>,
    pub kind: NotificationKind,
    pub channel: Channel,
    pub status: NotificationStatus,
    pub due_at: DateTime<Utc>,
    pub offset_minutes: Option<i32>,
    pub previous_starts_at: Option<DateTime<Utc>>,
    pub event_id: Option<Uuid>,
    pub resend_of: Option<Uuid>,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub skip_reason: Option<SkipReason>,
    pub subject: Option<String>,
    pub lease_token: Option<Uuid>,
    pub sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub waitlist_offer_id: Option<Uuid>,
}

/// A notification to plan.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = notifications)]
pub struct NewNotification {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub session_id: Option<Uuid>,
    pub course_id: Option<Uuid>,
    pub kind: NotificationKind,
    pub status: NotificationStatus,
    pub due_at: DateTime<Utc>,
    pub offset_minutes: Option<i32>,
    pub previous_starts_at: Option<DateTime<Utc>>,
    pub event_id: Option<Uuid>,
    pub resend_of: Option<Uuid>,
    pub skip_reason: Option<SkipReason>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub waitlist_offer_id: Option<Uuid>,
}

/// Inserts `rows`; one an event already planned is left out. Returns how many were new.
pub async fn plan(conn: &mut AsyncPgConnection, rows: Vec<NewNotification>) -> QueryResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    diesel::insert_into(notifications::table)
        .values(rows)
        .on_conflict_do_nothing()
        .execute(conn)
        .await
}

/// Cancels the pending notifications of `kinds` about a session; returns how many.
pub async fn cancel_pending_of_session(
    conn: &mut AsyncPgConnection,
    session_id: Uuid,
    kinds: &[NotificationKind],
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        notifications::table
            .filter(notifications::session_id.eq(session_id))
            .filter(notifications::kind.eq_any(kinds))
            .filter(notifications::status.eq(NotificationStatus::Pending)),
    )
    .set((
        notifications::status.eq(NotificationStatus::Cancelled),
        notifications::updated_at.eq(now),
    ))
    .execute(conn)
    .await
}

/// The pending notifications about a session.
pub async fn pending_of_session(
    conn: &mut AsyncPgConnection,
    session_id: Uuid,
) -> QueryResult<Vec<Notification>> {
    notifications::table
        .filter(notifications::session_id.eq(session_id))
        .filter(notifications::status.eq(NotificationStatus::Pending))
        .select(Notification::as_select())
        .load(conn)
        .await
}

/// How many times a session has moved: the `SEQUENCE` of its calendar invites.
pub async fn moves_of(conn: &mut AsyncPgConnection, session_id: Uuid) -> QueryResult<i64> {
    session_events::table
        .filter(session_events::session_id.eq(session_id))
        .filter(session_events::action.eq("rescheduled"))
        .count()
        .get_result(conn)
        .await
}

/// Cancels every pending notification of a patient; returns how many.
pub async fn cancel_pending_of_patient(
    conn: &mut AsyncPgConnection,
    patient_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        notifications::table
            .filter(notifications::patient_id.eq(patient_id))
            .filter(notifications::status.eq(NotificationStatus::Pending)),
    )
    .set((
        notifications::status.eq(NotificationStatus::Cancelled),
        notifications::updated_at.eq(now),
    ))
    .execute(conn)
    .await
}

/// Claims up to `limit` due notifications for `lease` under `token`, skipping rows another
/// worker holds (locked now, or leased until later): each is counted as an attempt. A claim
/// whose lease has lapsed — its worker crashed — is taken like any due row.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    token: Uuid,
    now: DateTime<Utc>,
    lease: chrono::Duration,
    limit: i64,
) -> QueryResult<Vec<Notification>> {
    // One statement: the rows are locked (or skipped) and leased together.
    prepared(
        "UPDATE notifications SET lease_token = $1, lease_expires_at = $3, \
                attempts = attempts + 1, updated_at = $2 \
         WHERE id IN (SELECT id FROM notifications \
                      WHERE status = 'pending' AND due_at <= $2 \
                        AND (lease_expires_at IS NULL OR lease_expires_at <= $2) \
                      ORDER BY due_at LIMIT $4 FOR UPDATE SKIP LOCKED) \
         RETURNING *",
    )
    .bind::<diesel::sql_types::Uuid, _>(token)
    .bind::<diesel::sql_types::Timestamptz, _>(now)
    .bind::<diesel::sql_types::Timestamptz, _>(now + lease)
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .load(conn)
    .await
}

/// How a claimed notification ends its attempt.
#[derive(Debug, Clone)]
pub enum Settle {
    /// Accepted by the mail server, with the subject it carried.
    Sent { subject: String },
    /// Try again at `due_at` (a transient failure).
    Retry {
        due_at: DateTime<Utc>,
        error: String,
    },
    /// Not to be tried again.
    Failed { error: String },
    /// Not to be sent.
    Skipped(SkipReason),
    /// Superseded: the session moved on.
    Cancelled,
    /// Not now (quiet hours): back to waiting, the attempt not counted.
    Deferred { due_at: DateTime<Utc> },
}

/// Settles the claim `token` holds on `id`; a claim that lapsed and was taken by another
/// worker changes nothing (returns false).
pub async fn settle(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    token: Uuid,
    outcome: Settle,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let held = notifications::table
        .filter(notifications::id.eq(id))
        .filter(notifications::lease_token.eq(token));
    let release = (
        notifications::lease_token.eq(None::<Uuid>),
        notifications::lease_expires_at.eq(None::<DateTime<Utc>>),
        notifications::updated_at.eq(now),
    );
    let update = diesel::update(held);
    let changed = match outcome {
        Settle::Sent { subject } => {
            update
                .set((
                    release,
                    notifications::status.eq(NotificationStatus::Sent),
                    notifications::sent_at.eq(now),
                    notifications::subject.eq(subject),
                    notifications::last_error.eq(None::<String>),
                ))
                .execute(conn)
                .await?
        }
        Settle::Retry { due_at, error } => {
            update
                .set((
                    release,
                    notifications::due_at.eq(due_at),
                    notifications::last_error.eq(error),
                ))
                .execute(conn)
                .await?
        }
        Settle::Failed { error } => {
            update
                .set((
                    release,
                    notifications::status.eq(NotificationStatus::Failed),
                    notifications::last_error.eq(error),
                ))
                .execute(conn)
                .await?
        }
        Settle::Skipped(reason) => {
            update
                .set((
                    release,
                    notifications::status.eq(NotificationStatus::Skipped),
                    notifications::skip_reason.eq(reason),
                ))
                .execute(conn)
                .await?
        }
        Settle::Cancelled => {
            update
                .set((
                    release,
                    notifications::status.eq(NotificationStatus::Cancelled),
                ))
                .execute(conn)
                .await?
        }
        Settle::Deferred { due_at } => {
            update
                .set((
                    release,
                    notifications::due_at.eq(due_at),
                    notifications::attempts.eq(notifications::attempts - 1),
                ))
                .execute(conn)
                .await?
        }
    };
    Ok(changed == 1)
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Notification>> {
    notifications::table
        .find(id)
        .select(Notification::as_select())
        .first(conn)
        .await
        .optional()
}

/// Filters of the list.
#[derive(Debug, Clone, Default)]
pub struct NotificationFilter {
    pub patient_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    pub status: Option<NotificationStatus>,
    pub kind: Option<NotificationKind>,
}

/// A page in id order (ids are time-ordered UUIDv7, so oldest first), one extra row to tell
/// whether another page follows.
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: &NotificationFilter,
    page: PageRequest,
) -> QueryResult<Vec<Notification>> {
    let mut query = notifications::table
        .select(Notification::as_select())
        .order(notifications::id)
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(notifications::id.gt(after));
    }
    if let Some(patient_id) = filter.patient_id {
        query = query.filter(notifications::patient_id.eq(patient_id));
    }
    if let Some(session_id) = filter.session_id {
        query = query.filter(notifications::session_id.eq(session_id));
    }
    if let Some(status) = filter.status {
        query = query.filter(notifications::status.eq(status));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(notifications::kind.eq(kind));
    }
    query.load(conn).await
}

/// Counts by status (for the worker's figures and the tests).
pub async fn count_with_status(
    conn: &mut AsyncPgConnection,
    status: NotificationStatus,
) -> QueryResult<i64> {
    notifications::table
        .filter(notifications::status.eq(status))
        .count()
        .get_result(conn)
        .await
}

/// Stores an unsubscribe token's hash for the message that carries it.
pub async fn add_unsubscribe_token(
    conn: &mut AsyncPgConnection,
    token_hash: &[u8; 32],
    patient_id: Uuid,
    notification_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(unsubscribe_tokens::table)
        .values((
            unsubscribe_tokens::token_hash.eq(token_hash.to_vec()),
            unsubscribe_tokens::patient_id.eq(patient_id),
            unsubscribe_tokens::notification_id.eq(notification_id),
            unsubscribe_tokens::created_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The patient an unsubscribe token speaks for (looked up by its hash).
pub async fn unsubscribe_patient(
    conn: &mut AsyncPgConnection,
    token_hash: &[u8; 32],
) -> QueryResult<Option<Uuid>> {
    unsubscribe_tokens::table
        .find(token_hash.to_vec())
        .select(unsubscribe_tokens::patient_id)
        .first(conn)
        .await
        .optional()
}

/// Marks a token used.
pub async fn use_unsubscribe_token(
    conn: &mut AsyncPgConnection,
    token_hash: &[u8; 32],
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(unsubscribe_tokens::table.find(token_hash.to_vec()))
        .set(unsubscribe_tokens::used_at.eq(now))
        .execute(conn)
        .await?;
    Ok(())
}
