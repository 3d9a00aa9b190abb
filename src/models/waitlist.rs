//! Waitlist entries and their history.

use chrono::{DateTime, NaiveTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::PageRequest;
use crate::domain::sessions::SessionKind;
use crate::domain::waitlist::{Actor, EntrySource, EntryStatus, HistoryAction};
use crate::schema::{waitlist_entries, waitlist_history};

/// A row of `waitlist_entries`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = waitlist_entries)]
pub struct Entry {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub treatment_area_id: Uuid,
    pub kind: SessionKind,
    pub provider_id: Option<Uuid>,
    pub location_id: Option<Uuid>,
    pub earliest: Option<DateTime<Utc>>,
    pub latest: Option<DateTime<Utc>>,
    /// ISO weekday numbers.
    pub weekdays: Vec<i16>,
    pub window_start: Option<NaiveTime>,
    pub window_end: Option<NaiveTime>,
    pub urgent: bool,
    pub session_id: Option<Uuid>,
    pub source: EntrySource,
    pub status: EntryStatus,
    pub booked_session_id: Option<Uuid>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

/// A new entry, waiting.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = waitlist_entries)]
pub struct NewEntry {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub treatment_area_id: Uuid,
    pub kind: SessionKind,
    pub provider_id: Option<Uuid>,
    pub location_id: Option<Uuid>,
    pub earliest: Option<DateTime<Utc>>,
    pub latest: Option<DateTime<Utc>>,
    pub weekdays: Vec<i16>,
    pub window_start: Option<NaiveTime>,
    pub window_end: Option<NaiveTime>,
    pub urgent: bool,
    pub session_id: Option<Uuid>,
    pub source: EntrySource,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a change sets; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = waitlist_entries)]
pub struct EntryChanges {
    pub provider_id: Option<Option<Uuid>>,
    pub location_id: Option<Option<Uuid>>,
    pub earliest: Option<Option<DateTime<Utc>>>,
    pub latest: Option<Option<DateTime<Utc>>>,
    pub weekdays: Option<Vec<i16>>,
    pub window_start: Option<Option<NaiveTime>>,
    pub window_end: Option<Option<NaiveTime>>,
    pub urgent: Option<bool>,
}

/// Filters of the list.
#[derive(Debug, Clone, Default)]
pub struct EntryFilter {
    pub status: Option<EntryStatus>,
    pub treatment_area_id: Option<Uuid>,
    pub patient_id: Option<Uuid>,
}

pub async fn insert(conn: &mut AsyncPgConnection, new: NewEntry) -> QueryResult<Entry> {
    diesel::insert_into(waitlist_entries::table)
        .values(new)
        .returning(Entry::as_returning())
        .get_result(conn)
        .await
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Entry>> {
    waitlist_entries::table
        .find(id)
        .select(Entry::as_select())
        .first(conn)
        .await
        .optional()
}

/// The entry, locked until the transaction ends.
pub async fn find_for_update(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Entry>> {
    waitlist_entries::table
        .find(id)
        .select(Entry::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Entries by id, in any order.
pub async fn by_ids(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<Entry>> {
    waitlist_entries::table
        .filter(waitlist_entries::id.eq_any(ids))
        .select(Entry::as_select())
        .load(conn)
        .await
}

/// One page, by id (which is by creation: ids are v7).
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: &EntryFilter,
    page: PageRequest,
) -> QueryResult<Vec<Entry>> {
    let mut query = waitlist_entries::table
        .select(Entry::as_select())
        .order(waitlist_entries::id)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(waitlist_entries::id.gt(after));
    }
    if let Some(status) = filter.status {
        query = query.filter(waitlist_entries::status.eq(status));
    }
    if let Some(area) = filter.treatment_area_id {
        query = query.filter(waitlist_entries::treatment_area_id.eq(area));
    }
    if let Some(patient) = filter.patient_id {
        query = query.filter(waitlist_entries::patient_id.eq(patient));
    }
    query.limit(page.limit + 1).load(conn).await
}

/// Every waiting entry a slot with `provider_id` could serve (any provider, or this one).
pub async fn waiting_for(
    conn: &mut AsyncPgConnection,
    provider_id: Uuid,
) -> QueryResult<Vec<Entry>> {
    waitlist_entries::table
        .filter(waitlist_entries::status.eq(EntryStatus::Waiting))
        .filter(
            waitlist_entries::provider_id
                .is_null()
                .or(waitlist_entries::provider_id.eq(provider_id)),
        )
        .select(Entry::as_select())
        .order((waitlist_entries::created_at, waitlist_entries::id))
        .load(conn)
        .await
}

/// Applies `changes` and bumps the version.
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    changes: EntryChanges,
    now: DateTime<Utc>,
) -> QueryResult<Entry> {
    diesel::update(waitlist_entries::table.find(id))
        .set((
            changes,
            waitlist_entries::version.eq(waitlist_entries::version + 1),
            waitlist_entries::updated_at.eq(now),
        ))
        .returning(Entry::as_returning())
        .get_result(conn)
        .await
}

/// Ends a waiting entry: booked (naming the session), cancelled or expired.
pub async fn end(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    status: EntryStatus,
    booked_session_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> QueryResult<Entry> {
    diesel::update(waitlist_entries::table.find(id))
        .set((
            waitlist_entries::status.eq(status),
            waitlist_entries::booked_session_id.eq(booked_session_id),
            waitlist_entries::ended_at.eq(now),
            waitlist_entries::version.eq(waitlist_entries::version + 1),
            waitlist_entries::updated_at.eq(now),
        ))
        .returning(Entry::as_returning())
        .get_result(conn)
        .await
}

/// Waiting entries whose time has gone by `now`: past `latest`, or their session began, ended
/// or was cancelled. Locked, skipping those another transaction holds.
pub async fn lapsed(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> QueryResult<Vec<Entry>> {
    use crate::schema::sessions;
    let session_gone = diesel::dsl::exists(
        sessions::table
            .filter(sessions::id.nullable().eq(waitlist_entries::session_id))
            .filter(
                sessions::starts_at
                    .le(now)
                    .or(sessions::status.ne_all(["scheduled", "confirmed"])),
            ),
    );
    waitlist_entries::table
        .filter(waitlist_entries::status.eq(EntryStatus::Waiting))
        .filter(waitlist_entries::latest.le(now).or(session_gone))
        .select(Entry::as_select())
        .limit(200)
        .for_update()
        .skip_locked()
        .load(conn)
        .await
}

/// A row of `waitlist_history`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = waitlist_history)]
pub struct HistoryEntry {
    pub id: Uuid,
    pub entry_id: Uuid,
    pub offer_id: Option<Uuid>,
    pub action: HistoryAction,
    pub actor: Actor,
    pub occurred_at: DateTime<Utc>,
}

pub async fn add_history(
    conn: &mut AsyncPgConnection,
    rows: Vec<HistoryEntry>,
) -> QueryResult<usize> {
    diesel::insert_into(waitlist_history::table)
        .values(rows)
        .execute(conn)
        .await
}

/// The entry's history, oldest first.
pub async fn history_of(
    conn: &mut AsyncPgConnection,
    entry_id: Uuid,
) -> QueryResult<Vec<HistoryEntry>> {
    waitlist_history::table
        .filter(waitlist_history::entry_id.eq(entry_id))
        .order((waitlist_history::occurred_at, waitlist_history::id))
        .select(HistoryEntry::as_select())
        .load(conn)
        .await
}

/// A session that keeps a patient busy.
#[derive(Debug, Clone, Queryable)]
pub struct Busy {
    pub patient_id: Uuid,
    pub session_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// The active sessions of `patient_ids` overlapping `[start, end)`.
pub async fn patients_busy(
    conn: &mut AsyncPgConnection,
    patient_ids: &[Uuid],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> QueryResult<Vec<Busy>> {
    use crate::schema::sessions;
    sessions::table
        .filter(sessions::patient_id.eq_any(patient_ids))
        .filter(sessions::status.eq_any(["scheduled", "confirmed", "checked_in"]))
        .filter(sessions::starts_at.lt(end))
        .filter(sessions::ends_at.gt(start))
        .select((
            sessions::patient_id,
            sessions::id,
            sessions::starts_at,
            sessions::ends_at,
        ))
        .load(conn)
        .await
}
