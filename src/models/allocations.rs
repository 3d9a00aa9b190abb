//! `session_resources`: which resource serves which tag of a session or a hold, and what keeps
//! resources busy. The table's exclusion constraint refuses two live rows of one resource
//! whose periods and validities overlap; inserts here skip such a row instead of failing, so
//! the booking can choose again.

use super::prepared::prepared;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::domain::resources::{Busy, Candidate, ResourceKind};
use crate::domain::slots::Span;

/// Who a row of resources is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Session(Uuid),
    /// A hold, which keeps its resources until it expires.
    Hold {
        id: Uuid,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    },
}

/// Takes, until the transaction ends, a share lock on the active resources at `location_id`
/// carrying any of `tags`, in id order. Downtime and archiving lock their resource for update,
/// so neither can slip in between a booking's read of the resources and its insert.
pub async fn lock_candidates(
    conn: &mut AsyncPgConnection,
    location_id: Uuid,
    tags: &[String],
) -> QueryResult<()> {
    prepared(
        "SELECT id FROM resources \
         WHERE location_id = $1 AND archived_at IS NULL AND tags && $2 \
         ORDER BY id FOR SHARE",
    )
    .bind::<SqlUuid, _>(location_id)
    .bind::<Array<Text>, _>(tags)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(QueryableByName)]
struct CandidateRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    kind: ResourceKind,
    #[diesel(sql_type = Array<Text>)]
    tags: Vec<String>,
    #[diesel(sql_type = BigInt)]
    used: i64,
    #[diesel(sql_type = Bool)]
    free: bool,
}

/// The active resources at `location_id` carrying any of `tags`: whether each is free over
/// `period` at `now` (no live session's or hold's row there, no downtime), and
/// how many live sessions it serves within `day`.
pub async fn candidates(
    conn: &mut AsyncPgConnection,
    location_id: Uuid,
    tags: &[String],
    period: Span,
    day: Span,
    now: DateTime<Utc>,
) -> QueryResult<Vec<Candidate>> {
    let rows: Vec<CandidateRow> = prepared(
        "SELECT r.id, r.name, r.kind, r.tags, \
           (SELECT count(*) FROM session_resources u \
            WHERE u.resource_id = r.id AND u.live AND u.session_id IS NOT NULL \
              AND u.period && tstzrange($5, $6)) AS used, \
           NOT EXISTS (SELECT 1 FROM session_resources c \
                       WHERE c.resource_id = r.id AND c.live AND c.period && tstzrange($3, $4) \
                         AND (c.hold_id IS NULL OR upper(c.valid) > $7)) \
           AND NOT EXISTS (SELECT 1 FROM resource_downtime d \
                           WHERE d.resource_id = r.id AND d.starts_at < $4 AND d.ends_at > $3) \
             AS free \
         FROM resources r \
         WHERE r.location_id = $1 AND r.archived_at IS NULL AND r.tags && $2",
    )
    .bind::<SqlUuid, _>(location_id)
    .bind::<Array<Text>, _>(tags)
    .bind::<Timestamptz, _>(period.start)
    .bind::<Timestamptz, _>(period.end)
    .bind::<Timestamptz, _>(day.start)
    .bind::<Timestamptz, _>(day.end)
    .bind::<Timestamptz, _>(now)
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| Candidate {
            id: row.id,
            name: row.name,
            kind: row.kind,
            tags: row.tags,
            used: row.used,
            free: row.free,
        })
        .collect())
}

#[derive(QueryableByName)]
struct TagRow {
    #[diesel(sql_type = Text)]
    tag: String,
}

/// Inserts `owner`'s rows for `picks` (tag, resource) over `period`; a row whose resource is
/// taken meanwhile is skipped (`ON CONFLICT DO NOTHING` waits for the other transaction and
/// skips only if it committed). Returns the tags inserted.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    owner: Owner,
    picks: &[(String, Uuid)],
    period: Span,
) -> QueryResult<Vec<String>> {
    let (session_id, hold_id, valid_from, valid_until) = match owner {
        Owner::Session(id) => (Some(id), None, None, None),
        Owner::Hold {
            id,
            created_at,
            expires_at,
        } => (None, Some(id), Some(created_at), Some(expires_at)),
    };
    let tags: Vec<String> = picks.iter().map(|(tag, _)| tag.clone()).collect();
    let resources: Vec<Uuid> = picks.iter().map(|(_, id)| *id).collect();
    let rows: Vec<TagRow> = prepared(
        "INSERT INTO session_resources (session_id, hold_id, resource_id, tag, starts_at, ends_at, \
                                        valid) \
         SELECT $1, $2, p.resource_id, p.tag, $5, $6, tstzrange($7, $8) \
         FROM unnest($3::uuid[], $4::text[]) AS p(resource_id, tag) \
         ON CONFLICT DO NOTHING RETURNING tag",
    )
    .bind::<Nullable<SqlUuid>, _>(session_id)
    .bind::<Nullable<SqlUuid>, _>(hold_id)
    .bind::<Array<SqlUuid>, _>(resources)
    .bind::<Array<Text>, _>(tags)
    .bind::<Timestamptz, _>(period.start)
    .bind::<Timestamptz, _>(period.end)
    .bind::<Nullable<Timestamptz>, _>(valid_from)
    .bind::<Nullable<Timestamptz>, _>(valid_until)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|row| row.tag).collect())
}

/// Removes `owner`'s rows (before it is allocated again).
pub async fn release(conn: &mut AsyncPgConnection, owner: Owner) -> QueryResult<()> {
    let (column, id) = match owner {
        Owner::Session(id) => ("session_id", id),
        Owner::Hold { id, .. } => ("hold_id", id),
    };
    diesel::sql_query(format!("DELETE FROM session_resources WHERE {column} = $1"))
        .bind::<SqlUuid, _>(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A resource serving a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocated {
    pub session_id: Uuid,
    pub id: Uuid,
    pub name: String,
    pub kind: ResourceKind,
    pub tag: String,
}

#[derive(QueryableByName)]
struct AllocatedRow {
    #[diesel(sql_type = SqlUuid)]
    session_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    kind: ResourceKind,
    #[diesel(sql_type = Text)]
    tag: String,
}

/// The resources of `sessions`, by session and tag.
pub async fn of_sessions(
    conn: &mut AsyncPgConnection,
    sessions: &[Uuid],
) -> QueryResult<Vec<Allocated>> {
    if sessions.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<AllocatedRow> = prepared(
        "SELECT s.session_id, r.id, r.name, r.kind, s.tag \
         FROM session_resources s JOIN resources r ON r.id = s.resource_id \
         WHERE s.session_id = ANY($1) ORDER BY s.session_id, s.tag",
    )
    .bind::<Array<SqlUuid>, _>(sessions)
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| Allocated {
            session_id: row.session_id,
            id: row.id,
            name: row.name,
            kind: row.kind,
            tag: row.tag,
        })
        .collect())
}

/// The live sessions that `resource_id` serves after `now`, by start.
pub async fn future_sessions(
    conn: &mut AsyncPgConnection,
    resource_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Vec<Uuid>> {
    // A century ahead stands for "ever": no booking horizon reaches it.
    let end = now + chrono::Duration::days(36_525);
    sessions_on(conn, resource_id, Span { start: now, end }).await
}

/// The live sessions that `resource_id` serves during `span`, by start.
pub async fn sessions_on(
    conn: &mut AsyncPgConnection,
    resource_id: Uuid,
    span: Span,
) -> QueryResult<Vec<Uuid>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = SqlUuid)]
        session_id: Uuid,
    }
    let rows: Vec<Row> = prepared(
        "SELECT session_id FROM session_resources \
         WHERE resource_id = $1 AND live AND session_id IS NOT NULL \
           AND period && tstzrange($2, $3) \
         ORDER BY lower(period), session_id",
    )
    .bind::<SqlUuid, _>(resource_id)
    .bind::<Timestamptz, _>(span.start)
    .bind::<Timestamptz, _>(span.end)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|row| row.session_id).collect())
}

#[derive(QueryableByName)]
struct BusyRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    location_id: Uuid,
    #[diesel(sql_type = Array<Text>)]
    tags: Vec<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    starts_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    ends_at: Option<DateTime<Utc>>,
}

/// The active resources at `locations` carrying any of `tags`, each with what keeps it busy
/// within `window` at `now`: live sessions (but `except`), live holds and downtime. One query
/// whatever the number of resources, each resource's rows found through the exclusion
/// constraint's index (measured cheaper to plan and run here than a btree on the start).
pub async fn busy(
    mut conn: &AsyncPgConnection,
    locations: &[Uuid],
    tags: &[String],
    window: Span,
    except: &[Uuid],
    now: DateTime<Utc>,
) -> QueryResult<Vec<(Uuid, Busy)>> {
    if tags.is_empty() || locations.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<BusyRow> = prepared(
        "SELECT r.id, r.location_id, r.tags, b.starts_at, b.ends_at \
         FROM resources r \
         LEFT JOIN LATERAL ( \
             SELECT c.starts_at, c.ends_at FROM session_resources c \
             WHERE c.resource_id = r.id AND c.live AND c.period && tstzrange($3, $4) \
               AND (c.hold_id IS NULL OR upper(c.valid) > $5) \
               AND (c.session_id IS NULL OR c.session_id <> ALL($6)) \
             UNION ALL \
             SELECT d.starts_at, d.ends_at FROM resource_downtime d \
             WHERE d.resource_id = r.id AND d.starts_at < $4 AND d.ends_at > $3 \
         ) b ON true \
         WHERE r.location_id = ANY($1) AND r.archived_at IS NULL AND r.tags && $2 \
         ORDER BY r.id",
    )
    .bind::<Array<SqlUuid>, _>(locations)
    .bind::<Array<Text>, _>(tags)
    .bind::<Timestamptz, _>(window.start)
    .bind::<Timestamptz, _>(window.end)
    .bind::<Timestamptz, _>(now)
    .bind::<Array<SqlUuid>, _>(except)
    .load(&mut conn)
    .await?;
    let mut out: Vec<(Uuid, Busy)> = Vec::new();
    for row in rows {
        if out.last().is_none_or(|(_, last)| last.id != row.id) {
            out.push((
                row.location_id,
                Busy {
                    id: row.id,
                    tags: row.tags,
                    busy: Vec::new(),
                },
            ));
        }
        if let (Some(start), Some(end), Some((_, last))) =
            (row.starts_at, row.ends_at, out.last_mut())
        {
            last.busy.push(Span { start, end });
        }
    }
    Ok(out)
}

/// The live future sessions given `resource_id` for one of `tags`, by start.
pub async fn of_resource_for_tags(
    conn: &mut AsyncPgConnection,
    resource_id: Uuid,
    tags: &[&String],
    now: DateTime<Utc>,
) -> QueryResult<Vec<Uuid>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = SqlUuid)]
        session_id: Uuid,
    }
    if tags.is_empty() {
        return Ok(Vec::new());
    }
    let tags: Vec<&str> = tags.iter().map(|t| t.as_str()).collect();
    let rows: Vec<Row> = prepared(
        "SELECT session_id FROM session_resources \
         WHERE resource_id = $1 AND live AND session_id IS NOT NULL AND tag = ANY($2) \
           AND upper(period) > $3 \
         ORDER BY lower(period), session_id",
    )
    .bind::<SqlUuid, _>(resource_id)
    .bind::<Array<Text>, _>(tags)
    .bind::<Timestamptz, _>(now)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|row| row.session_id).collect())
}
