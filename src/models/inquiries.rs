//! Inquiries and their timeline. Personal data: read and changed only with an audit event, and
//! erased once a closed inquiry has passed the retention period.

use super::prepared::prepared;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::PageRequest;
use crate::domain::contact::ContactMethod;
use crate::domain::inquiries::{DUPLICATE_WINDOW, InquiryKind, InquiryStatus, SymptomDuration};
use crate::models::audit_events::{self, NewAuditEvent};
use crate::schema::{inquiries, inquiry_events};

/// A row of `inquiries`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = inquiries)]
pub struct Inquiry {
    pub id: Uuid,
    pub kind: InquiryKind,
    pub status: InquiryStatus,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub message: Option<String>,
    pub symptom_duration: Option<SymptomDuration>,
    pub preferred_contact: Option<ContactMethod>,
    pub preferred_times: Option<serde_json::Value>,
    pub source_page: Option<String>,
    pub treatment_area_id: Option<Uuid>,
    pub consented_at: DateTime<Utc>,
    pub duplicate_of: Option<Uuid>,
    pub assignee_key_id: Option<Uuid>,
    pub notes: Option<String>,
    pub patient_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    pub first_contacted_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub erased_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An inquiry as it arrives.
#[derive(Debug, Insertable)]
#[diesel(table_name = inquiries)]
pub struct NewInquiry {
    pub id: Uuid,
    pub kind: InquiryKind,
    pub status: InquiryStatus,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub message: Option<String>,
    pub symptom_duration: Option<SymptomDuration>,
    pub preferred_contact: Option<ContactMethod>,
    pub preferred_times: Option<serde_json::Value>,
    pub source_page: Option<String>,
    pub treatment_area_id: Option<Uuid>,
    pub consented_at: DateTime<Utc>,
    pub duplicate_of: Option<Uuid>,
    pub closed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Triage changes; `None` leaves a field as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = inquiries)]
pub struct InquiryChanges {
    pub status: Option<InquiryStatus>,
    pub assignee_key_id: Option<Option<Uuid>>,
    pub notes: Option<Option<String>>,
    pub patient_id: Option<Option<Uuid>>,
    pub session_id: Option<Option<Uuid>>,
    pub first_contacted_at: Option<Option<DateTime<Utc>>>,
    pub closed_at: Option<Option<DateTime<Utc>>>,
}

/// What a triage list matches.
#[derive(Debug, Default, Clone)]
pub struct InquirySearch {
    /// Part of the name, email, phone or message, case-insensitive.
    pub text: Option<String>,
    pub status: Option<InquiryStatus>,
    pub kind: Option<InquiryKind>,
    pub treatment_area_id: Option<Uuid>,
    pub assignee_key_id: Option<Uuid>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
}

/// A row of `inquiry_events`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = inquiry_events)]
pub struct InquiryEvent {
    pub id: Uuid,
    pub inquiry_id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub key_id: Option<Uuid>,
    pub action: String,
    pub from_status: Option<InquiryStatus>,
    pub to_status: InquiryStatus,
    pub changed: Vec<String>,
    pub assignee_key_id: Option<Uuid>,
    pub patient_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
}

impl InquiryEvent {
    /// An entry of inquiry `inquiry_id` at `now`, by `key_id` (none: the public form or the purge).
    pub fn new(
        inquiry_id: Uuid,
        key_id: Option<Uuid>,
        action: &str,
        from: Option<InquiryStatus>,
        to: InquiryStatus,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: Uuid::now_v7(),
            inquiry_id,
            occurred_at: now,
            key_id,
            action: action.to_owned(),
            from_status: from,
            to_status: to,
            changed: Vec::new(),
            assignee_key_id: None,
            patient_id: None,
            session_id: None,
        }
    }
}

pub async fn insert(conn: &mut AsyncPgConnection, new: NewInquiry) -> QueryResult<Inquiry> {
    diesel::insert_into(inquiries::table)
        .values(new)
        .returning(Inquiry::as_returning())
        .get_result(conn)
        .await
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Inquiry>> {
    inquiries::table
        .find(id)
        .select(Inquiry::as_select())
        .first(conn)
        .await
        .optional()
}

/// The row, locked until the transaction ends, for a versioned change.
pub async fn find_for_update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<Inquiry>> {
    inquiries::table
        .find(id)
        .select(Inquiry::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// SQL for a phone number's digits; the phone index is built on the same expression.
const PHONE_DIGITS: &str = "regexp_replace(phone, '[^0-9]', '', 'g')";

#[derive(QueryableByName)]
struct Earlier {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    first: Uuid,
}

/// Queues intake of inquiries from this email or phone until the transaction ends, so that two
/// arriving at once on different replicas still see each other as duplicates.
pub async fn lock_contact(
    conn: &mut AsyncPgConnection,
    email: Option<&str>,
    phone: Option<&str>,
) -> QueryResult<()> {
    let mut keys: Vec<String> = email
        .map(|e| format!("email/{}", e.to_lowercase()))
        .into_iter()
        .chain(phone.map(|p| {
            let digits: String = p.chars().filter(char::is_ascii_digit).collect();
            format!("phone/{digits}")
        }))
        .collect();
    keys.sort();
    for key in keys {
        prepared("SELECT pg_advisory_xact_lock(hashtextextended($1, 2))")
            .bind::<Text, _>(format!("inquiry-contact/{key}"))
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// The first of the run of inquiries this one repeats: the latest from the same email or phone
/// within [`DUPLICATE_WINDOW`] before `now`, or what that one repeats in turn.
pub async fn likely_duplicate_of(
    conn: &mut AsyncPgConnection,
    email: Option<&str>,
    phone: Option<&str>,
    now: DateTime<Utc>,
) -> QueryResult<Option<Uuid>> {
    if email.is_none() && phone.is_none() {
        return Ok(None);
    }
    diesel::sql_query(format!(
        "SELECT coalesce(duplicate_of, id) AS first FROM inquiries \
         WHERE created_at > $3 AND created_at <= $4 \
           AND ((email IS NOT NULL AND lower(email) = lower($1)) \
             OR (phone IS NOT NULL AND {PHONE_DIGITS} = regexp_replace($2, '[^0-9]', '', 'g'))) \
         ORDER BY created_at DESC, id DESC LIMIT 1"
    ))
    .bind::<Nullable<Text>, _>(email)
    .bind::<Nullable<Text>, _>(phone)
    .bind::<Timestamptz, _>(now - DUPLICATE_WINDOW)
    .bind::<Timestamptz, _>(now)
    .get_result::<Earlier>(conn)
    .await
    .optional()
    .map(|row| row.map(|row| row.first))
}

/// Inquiries matching `search`, oldest first, at most `limit + 1`.
pub async fn search(
    conn: &mut AsyncPgConnection,
    search: InquirySearch,
    page: PageRequest,
) -> QueryResult<Vec<Inquiry>> {
    let mut query = inquiries::table
        .select(Inquiry::as_select())
        .order(inquiries::id)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(inquiries::id.gt(after));
    }
    if let Some(text) = search.text {
        let pattern = super::contains_pattern(&text);
        query = query.filter(
            inquiries::name
                .ilike(pattern.clone())
                .or(inquiries::email.ilike(pattern.clone()))
                .or(inquiries::phone.ilike(pattern.clone()))
                .or(inquiries::message.ilike(pattern)),
        );
    }
    if let Some(status) = search.status {
        query = query.filter(inquiries::status.eq(status));
    }
    if let Some(kind) = search.kind {
        query = query.filter(inquiries::kind.eq(kind));
    }
    if let Some(area) = search.treatment_area_id {
        query = query.filter(inquiries::treatment_area_id.eq(area));
    }
    if let Some(assignee) = search.assignee_key_id {
        query = query.filter(inquiries::assignee_key_id.eq(assignee));
    }
    if let Some(from) = search.created_from {
        query = query.filter(inquiries::created_at.ge(from));
    }
    if let Some(to) = search.created_to {
        query = query.filter(inquiries::created_at.lt(to));
    }
    query.limit(page.limit + 1).load(conn).await
}

/// Applies `changes` at `now` and bumps the version.
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    changes: InquiryChanges,
    now: DateTime<Utc>,
) -> QueryResult<Inquiry> {
    diesel::update(inquiries::table.find(id))
        .set((
            changes,
            inquiries::version.eq(inquiries::version + 1),
            inquiries::updated_at.eq(now),
        ))
        .returning(Inquiry::as_returning())
        .get_result(conn)
        .await
}

pub async fn add_event(conn: &mut AsyncPgConnection, event: InquiryEvent) -> QueryResult<()> {
    diesel::insert_into(inquiry_events::table)
        .values(event)
        .execute(conn)
        .await
        .map(|_| ())
}

/// The inquiry's timeline, oldest first.
pub async fn events(
    conn: &mut AsyncPgConnection,
    inquiry_id: Uuid,
) -> QueryResult<Vec<InquiryEvent>> {
    inquiry_events::table
        .filter(inquiry_events::inquiry_id.eq(inquiry_id))
        .order(inquiry_events::id)
        .select(InquiryEvent::as_select())
        .load(conn)
        .await
}

/// Counts of inquiries that arrived in a period.
#[derive(Debug, Clone, QueryableByName)]
pub struct Count {
    #[diesel(sql_type = Text)]
    pub status: InquiryStatus,
    #[diesel(sql_type = Text)]
    pub kind: InquiryKind,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub count: i64,
}

/// How many inquiries arrived in `[from, to)`, by status and kind.
pub async fn counts(
    conn: &mut AsyncPgConnection,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> QueryResult<Vec<Count>> {
    prepared(
        "SELECT status, kind, count(*) AS count FROM inquiries \
         WHERE ($1::timestamptz IS NULL OR created_at >= $1) \
           AND ($2::timestamptz IS NULL OR created_at < $2) \
         GROUP BY status, kind",
    )
    .bind::<Nullable<Timestamptz>, _>(from)
    .bind::<Nullable<Timestamptz>, _>(to)
    .load(conn)
    .await
}

#[derive(QueryableByName)]
struct Contact {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    contacted: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    median_minutes: Option<i64>,
}

/// Of the inquiries that arrived in `[from, to)`: how many have been contacted, and the median
/// minutes from arrival to the first contact, rounded to a whole minute.
pub async fn first_contact(
    conn: &mut AsyncPgConnection,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> QueryResult<(i64, Option<i64>)> {
    let row: Contact = prepared(
        "SELECT count(*) AS contacted, \
                round(percentile_cont(0.5) WITHIN GROUP \
                    (ORDER BY extract(epoch FROM first_contacted_at - created_at) / 60))::bigint \
                    AS median_minutes \
         FROM inquiries \
         WHERE first_contacted_at IS NOT NULL \
           AND ($1::timestamptz IS NULL OR created_at >= $1) \
           AND ($2::timestamptz IS NULL OR created_at < $2)",
    )
    .bind::<Nullable<Timestamptz>, _>(from)
    .bind::<Nullable<Timestamptz>, _>(to)
    .get_result(conn)
    .await?;
    Ok((row.contacted, row.median_minutes))
}

#[derive(QueryableByName)]
struct Erased {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    status: InquiryStatus,
    #[diesel(sql_type = Nullable<diesel::sql_types::Uuid>)]
    patient_id: Option<Uuid>,
}

/// Inquiries erased per transaction, so a large backlog never holds many locks for long.
const ERASE_BATCH: i64 = 500;

/// Erases the personal fields of every closed or spam inquiry closed before `cutoff`, at `now`,
/// each with its timeline entry and audit event; returns how many. Kind, status, area and times
/// stay, so the figures still count them.
pub async fn erase_expired(
    conn: &mut AsyncPgConnection,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let mut erased = 0;
    loop {
        let batch = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let rows: Vec<Erased> = prepared(
                    "UPDATE inquiries SET name = NULL, email = NULL, phone = NULL, message = NULL, \
                            symptom_duration = NULL, preferred_contact = NULL, preferred_times = NULL, \
                            source_page = NULL, notes = NULL, erased_at = $2, updated_at = $2, \
                            version = version + 1 \
                     WHERE id IN (SELECT id FROM inquiries \
                                  WHERE erased_at IS NULL AND status IN ('closed', 'spam') \
                                    AND closed_at < $1 \
                                  ORDER BY closed_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
                     RETURNING id, status, patient_id",
                )
                .bind::<Timestamptz, _>(cutoff)
                .bind::<Timestamptz, _>(now)
                .bind::<diesel::sql_types::BigInt, _>(ERASE_BATCH)
                .load(conn)
                .await?;
                for row in &rows {
                    let entry =
                        InquiryEvent::new(row.id, None, "erased", Some(row.status), row.status, now);
                    add_event(conn, entry).await?;
                    let audit = NewAuditEvent {
                        id: Uuid::now_v7(),
                        key_id: None,
                        role: Some("system".to_owned()),
                        action: "inquiry.erase".to_owned(),
                        resource_type: "inquiries".to_owned(),
                        resource_id: Some(row.id),
                        patient_id: row.patient_id,
                        request_id: None,
                        outcome: "success".to_owned(),
                        status: 200,
                    };
                    audit_events::append(conn, audit).await?;
                }
                Ok(rows.len())
            })
            .await?;
        erased += batch;
        if batch < ERASE_BATCH as usize {
            return Ok(erased);
        }
    }
}
