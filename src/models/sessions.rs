//! Sessions, their event history and clinical records.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::domain::sessions::{CancelReason, SessionKind, SessionStatus};
use crate::schema::{clinical_records, session_events, sessions};

/// A row of `sessions`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id: Uuid,
    pub kind: SessionKind,
    pub patient_id: Uuid,
    pub provider_id: Uuid,
    pub location_id: Uuid,
    pub treatment_area_id: Uuid,
    pub course_id: Option<Uuid>,
    pub course_number: Option<i32>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub held_until: DateTime<Utc>,
    pub status: SessionStatus,
    pub cancel_reason: Option<CancelReason>,
    pub cancel_note: Option<String>,
    pub late_cancellation: Option<bool>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A session to book.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = sessions)]
pub struct NewSession {
    pub id: Uuid,
    pub kind: SessionKind,
    pub patient_id: Uuid,
    pub provider_id: Uuid,
    pub location_id: Uuid,
    pub treatment_area_id: Uuid,
    pub course_id: Option<Uuid>,
    pub course_number: Option<i32>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub held_until: DateTime<Utc>,
}

/// A row of `session_events`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = session_events)]
pub struct SessionEvent {
    pub id: Uuid,
    pub session_id: Uuid,
    #[diesel(skip_insertion)]
    pub occurred_at: DateTime<Utc>,
    pub key_id: Option<Uuid>,
    pub action: String,
    pub from_status: Option<SessionStatus>,
    pub to_status: SessionStatus,
    pub old_starts_at: Option<DateTime<Utc>>,
    pub new_starts_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
}

/// A row of `clinical_records`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = clinical_records)]
pub struct ClinicalRecord {
    pub session_id: Uuid,
    pub pain_before: i16,
    pub pain_after: i16,
    pub function_score: Option<i16>,
    pub injectate: Option<String>,
    pub volume_ml: Option<f64>,
    pub sites: Vec<String>,
    pub adverse_events: serde_json::Value,
    pub note: Option<String>,
    pub recorded_by: Option<Uuid>,
    #[diesel(skip_insertion)]
    pub recorded_at: DateTime<Utc>,
}

/// Filters of the session list.
#[derive(Debug, Default, Clone)]
pub struct SessionFilter {
    pub patient_id: Option<Uuid>,
    pub provider_id: Option<Uuid>,
    pub course_id: Option<Uuid>,
    pub location_id: Option<Uuid>,
    pub status: Option<SessionStatus>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// A session's new time.
#[derive(Debug, Clone, Copy)]
pub struct Move {
    pub id: Uuid,
    pub provider_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub held_until: DateTime<Utc>,
}

/// Position after which a page of the list continues: the last (start, id) seen.
pub type SessionCursor = (DateTime<Utc>, Uuid);

/// Inserts the session; the provider's expired holds on its span are released first (they keep
/// no slot), so only a session or a live hold stands in its way.
/// Inserts the session, the provider's expired holds on its span cleared first (both sent
/// at once).
pub async fn insert(
    conn: &AsyncPgConnection,
    new: NewSession,
    now: DateTime<Utc>,
) -> QueryResult<Session> {
    let cleared =
        super::holds::clear_expired(conn, new.provider_id, new.starts_at, new.held_until, now);
    let inserted = diesel::insert_into(sessions::table)
        .values(new)
        .returning(Session::as_returning())
        .get_result(&mut &*conn);
    let ((), row) = futures_util::future::try_join(cleared, inserted).await?;
    Ok(row)
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Session>> {
    sessions::table
        .find(id)
        .select(Session::as_select())
        .first(conn)
        .await
        .optional()
}

/// The row, locked until the transaction ends, for a change.
pub async fn find_for_update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<Session>> {
    sessions::table
        .find(id)
        .select(Session::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Sessions by start then id, after `cursor`, at most `limit + 1`.
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: SessionFilter,
    cursor: Option<SessionCursor>,
    limit: i64,
) -> QueryResult<Vec<Session>> {
    let mut query = sessions::table
        .select(Session::as_select())
        .order((sessions::starts_at, sessions::id))
        .into_boxed();
    if let Some((start, id)) = cursor {
        query = query.filter(
            sessions::starts_at
                .gt(start)
                .or(sessions::starts_at.eq(start).and(sessions::id.gt(id))),
        );
    }
    if let Some(id) = filter.patient_id {
        query = query.filter(sessions::patient_id.eq(id));
    }
    if let Some(id) = filter.provider_id {
        query = query.filter(sessions::provider_id.eq(id));
    }
    if let Some(id) = filter.course_id {
        query = query.filter(sessions::course_id.eq(id));
    }
    if let Some(id) = filter.location_id {
        query = query.filter(sessions::location_id.eq(id));
    }
    if let Some(status) = filter.status {
        query = query.filter(sessions::status.eq(status));
    }
    if let Some(from) = filter.from {
        query = query
            .filter(sessions::ends_at.gt(from))
            .filter(sessions::starts_at.gt(from - crate::domain::sessions::MAX_HOLD));
    }
    if let Some(to) = filter.to {
        query = query.filter(sessions::starts_at.lt(to));
    }
    query.limit(limit + 1).load(conn).await
}

/// Moves the session (same id) and bumps its version; as [`insert`], the provider's expired
/// holds on the new span are released first.
pub async fn move_to(
    conn: &mut AsyncPgConnection,
    moving: Move,
    now: DateTime<Utc>,
) -> QueryResult<Session> {
    let Move {
        id,
        provider_id,
        starts_at,
        ends_at,
        held_until,
    } = moving;
    super::holds::clear_expired(conn, provider_id, starts_at, held_until, now).await?;
    diesel::update(sessions::table.find(id))
        .set((
            sessions::starts_at.eq(starts_at),
            sessions::ends_at.eq(ends_at),
            sessions::held_until.eq(held_until),
            sessions::version.eq(sessions::version + 1),
            sessions::updated_at.eq(now),
        ))
        .returning(Session::as_returning())
        .get_result(conn)
        .await
}

/// Sets the status (and, for a cancellation, its reason) and bumps the version.
pub async fn set_status(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    status: SessionStatus,
    cancellation: Option<(CancelReason, Option<String>, bool)>,
    now: DateTime<Utc>,
) -> QueryResult<Session> {
    let (reason, note, late) = match cancellation {
        Some((reason, note, late)) => (Some(reason), note, Some(late)),
        None => (None, None, None),
    };
    diesel::update(sessions::table.find(id))
        .set((
            sessions::status.eq(status),
            sessions::cancel_reason.eq(reason),
            sessions::cancel_note.eq(note),
            sessions::late_cancellation.eq(late),
            sessions::version.eq(sessions::version + 1),
            // The service's clock, which the rules that read it (a feed's cancelled sessions)
            // go by.
            sessions::updated_at.eq(now),
        ))
        .returning(Session::as_returning())
        .get_result(conn)
        .await
}

pub async fn add_event(mut conn: &AsyncPgConnection, event: SessionEvent) -> QueryResult<()> {
    diesel::insert_into(session_events::table)
        .values(event)
        .execute(&mut conn)
        .await
        .map(|_| ())
}

pub async fn events(
    conn: &mut AsyncPgConnection,
    session_id: Uuid,
) -> QueryResult<Vec<SessionEvent>> {
    session_events::table
        .filter(session_events::session_id.eq(session_id))
        .select(SessionEvent::as_select())
        .order(session_events::id)
        .load(conn)
        .await
}

pub async fn add_record(conn: &mut AsyncPgConnection, record: ClinicalRecord) -> QueryResult<()> {
    diesel::insert_into(clinical_records::table)
        .values(record)
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn record(
    conn: &mut AsyncPgConnection,
    session_id: Uuid,
) -> QueryResult<Option<ClinicalRecord>> {
    clinical_records::table
        .find(session_id)
        .select(ClinicalRecord::as_select())
        .first(conn)
        .await
        .optional()
}

/// The clinical records of whichever of `session_ids` have one (one query).
pub async fn records(
    conn: &mut AsyncPgConnection,
    session_ids: &[Uuid],
) -> QueryResult<Vec<ClinicalRecord>> {
    if session_ids.is_empty() {
        return Ok(Vec::new());
    }
    clinical_records::table
        .filter(clinical_records::session_id.eq_any(session_ids))
        .select(ClinicalRecord::as_select())
        .load(conn)
        .await
}
