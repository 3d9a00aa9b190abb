//! What the calendars of providers and patients hold, for the booking checks and the planner:
//! who is busy when, the facts a booking depends on, and the locks that serialise bookings.

use super::prepared::prepared;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Int4, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::domain::sessions::{SessionKind, SessionStatus};
use crate::domain::slots::Span;
use crate::schema::{sessions, time_off};

#[derive(QueryableByName)]
struct BusyRow {
    #[diesel(sql_type = SqlUuid)]
    provider_id: Uuid,
    #[diesel(sql_type = Timestamptz)]
    starts_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    ends_at: DateTime<Utc>,
}

/// Everything that blocks `providers` within `window` at `now`: active sessions held with
/// their buffers (but for `except`), holds still live, and time off; one query, served by the
/// index of active sessions (index-only: `sessions_active_calendar_idx`, the start bounded by
/// `sessions_hold_bounded`) and the holds' and time-off indexes.
pub async fn busy(
    mut conn: &AsyncPgConnection,
    providers: &[Uuid],
    window: Span,
    except: &[Uuid],
    now: DateTime<Utc>,
) -> QueryResult<Vec<(Uuid, Span)>> {
    let rows: Vec<BusyRow> = prepared(
        "SELECT provider_id, starts_at, held_until AS ends_at FROM sessions \
         WHERE provider_id = ANY($1) AND status IN ('scheduled', 'confirmed', 'checked_in') \
           AND starts_at < $3 AND starts_at > $2 - interval '12 hours' AND held_until > $2 \
           AND id <> ALL($4) \
         UNION ALL \
         SELECT provider_id, starts_at, held_until FROM holds \
         WHERE provider_id = ANY($1) AND released_at IS NULL AND expires_at > $5 \
           AND starts_at < $3 AND held_until > $2 \
         UNION ALL \
         SELECT provider_id, starts_at, ends_at FROM time_off \
         WHERE provider_id = ANY($1) AND tstzrange(starts_at, ends_at) && tstzrange($2, $3)",
    )
    .bind::<Array<SqlUuid>, _>(providers)
    .bind::<Timestamptz, _>(window.start)
    .bind::<Timestamptz, _>(window.end)
    .bind::<Array<SqlUuid>, _>(except)
    .bind::<Timestamptz, _>(now)
    .load(&mut conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            (
                row.provider_id,
                Span {
                    start: row.starts_at,
                    end: row.ends_at,
                },
            )
        })
        .collect())
}

/// The provider's time off overlapping `window`.
pub async fn time_off_around(
    mut conn: &AsyncPgConnection,
    provider_id: Uuid,
    window: Span,
) -> QueryResult<Vec<Span>> {
    let rows: Vec<(DateTime<Utc>, DateTime<Utc>)> = time_off::table
        .filter(time_off::provider_id.eq(provider_id))
        .filter(time_off::starts_at.lt(window.end))
        .filter(time_off::ends_at.gt(window.start))
        .select((time_off::starts_at, time_off::ends_at))
        .load(&mut conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(start, end)| Span { start, end })
        .collect())
}

/// What a booking at a time is checked against, read in the booking's transaction.
#[derive(Debug, Clone)]
pub struct BookingFacts {
    pub patient_active: bool,
    pub provider_active: bool,
    pub location_active: bool,
    pub area_active: bool,
    pub treats_area: bool,
    pub works_at_location: bool,
    /// The location's IANA zone.
    pub time_zone: String,
    /// The treatment area's lengths, by kind.
    pub assessment_minutes: i32,
    pub injection_minutes: i32,
    pub follow_up_minutes: i32,
    pub minimum_notice_minutes: i32,
    pub booking_horizon_days: i32,
    pub buffer_after_injection_minutes: i32,
    /// The provider's weekly intervals at the location.
    pub hours: Vec<crate::domain::working_hours::WeeklyInterval>,
    /// The tags the area's sessions need, by kind.
    pub requirements: crate::domain::resources::Requirements,
}

/// Why facts could not be gathered: a record the booking names does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingRecord {
    Patient,
    Provider,
    Location,
    TreatmentArea,
}

/// The single-row answer of [`FACTS_SQL`]; a column is NULL where its record is missing.
#[derive(QueryableByName)]
struct FactsRow {
    #[diesel(sql_type = Nullable<Bool>)]
    patient_active: Option<bool>,
    #[diesel(sql_type = Nullable<Bool>)]
    provider_active: Option<bool>,
    #[diesel(sql_type = Nullable<Bool>)]
    location_active: Option<bool>,
    #[diesel(sql_type = Nullable<Text>)]
    time_zone: Option<String>,
    #[diesel(sql_type = Nullable<Bool>)]
    area_active: Option<bool>,
    #[diesel(sql_type = Nullable<Int4>)]
    assessment_minutes: Option<i32>,
    #[diesel(sql_type = Nullable<Int4>)]
    injection_minutes: Option<i32>,
    #[diesel(sql_type = Nullable<Int4>)]
    follow_up_minutes: Option<i32>,
    #[diesel(sql_type = Nullable<Jsonb>)]
    requirements: Option<serde_json::Value>,
    #[diesel(sql_type = Bool)]
    treats_area: bool,
    #[diesel(sql_type = Bool)]
    works_at_location: bool,
    #[diesel(sql_type = Int4)]
    minimum_notice_minutes: i32,
    #[diesel(sql_type = Int4)]
    booking_horizon_days: i32,
    #[diesel(sql_type = Int4)]
    buffer_after_injection_minutes: i32,
}

/// Every single-valued fact of a booking in one round trip: bookings are the hot write path,
/// and six separate lookups cost more in round trips than in work.
const FACTS_SQL: &str = "\
SELECT (SELECT p.archived_at IS NULL FROM patients p WHERE p.id = $1) AS patient_active,
       (SELECT v.archived_at IS NULL FROM providers v WHERE v.id = $2) AS provider_active,
       l.archived_at IS NULL AS location_active, l.time_zone,
       a.archived_at IS NULL AS area_active,
       a.assessment_minutes, a.injection_minutes, a.follow_up_minutes, a.requirements,
       EXISTS (SELECT 1 FROM provider_treatment_areas t
               WHERE t.provider_id = $2 AND t.treatment_area_id = $4) AS treats_area,
       EXISTS (SELECT 1 FROM provider_locations w
               WHERE w.provider_id = $2 AND w.location_id = $3) AS works_at_location,
       s.minimum_notice_minutes, s.booking_horizon_days, s.buffer_after_injection_minutes
FROM clinic_settings s
LEFT JOIN locations l ON l.id = $3
LEFT JOIN treatment_areas a ON a.id = $4";

/// Reads everything a booking of `provider_id` for `patient_id` at `location_id` needs (for
/// a hold, which has no patient yet, `None`: the patient counts as active): the facts and the
/// working hours, two statements sent together.
pub async fn booking_facts(
    conn: &AsyncPgConnection,
    patient_id: Option<Uuid>,
    provider_id: Uuid,
    location_id: Uuid,
    treatment_area_id: Uuid,
) -> QueryResult<Result<BookingFacts, MissingRecord>> {
    use crate::schema::working_hours;
    let facts = prepared(FACTS_SQL)
        .bind::<Nullable<SqlUuid>, _>(patient_id)
        .bind::<SqlUuid, _>(provider_id)
        .bind::<SqlUuid, _>(location_id)
        .bind::<SqlUuid, _>(treatment_area_id)
        .get_result::<FactsRow>(&mut &*conn);
    let hours = working_hours::table
        .filter(working_hours::provider_id.eq(provider_id))
        .filter(working_hours::location_id.eq(location_id))
        .select(crate::models::working_hours::WorkingHours::as_select())
        .load(&mut &*conn);
    let (row, hours) = futures_util::future::try_join(facts, hours).await?;
    let patient_active = match (patient_id, row.patient_active) {
        (None, _) => true,
        (Some(_), Some(active)) => active,
        (Some(_), None) => return Ok(Err(MissingRecord::Patient)),
    };
    let Some(provider_active) = row.provider_active else {
        return Ok(Err(MissingRecord::Provider));
    };
    let (Some(location_active), Some(time_zone)) = (row.location_active, row.time_zone) else {
        return Ok(Err(MissingRecord::Location));
    };
    let (Some(area_active), Some(assessment), Some(injection), Some(follow_up)) = (
        row.area_active,
        row.assessment_minutes,
        row.injection_minutes,
        row.follow_up_minutes,
    ) else {
        return Ok(Err(MissingRecord::TreatmentArea));
    };
    let hours = hours
        .into_iter()
        .filter_map(|row: crate::models::working_hours::WorkingHours| row.interval())
        .collect();
    Ok(Ok(BookingFacts {
        patient_active,
        provider_active,
        location_active,
        area_active,
        treats_area: row.treats_area,
        works_at_location: row.works_at_location,
        time_zone,
        assessment_minutes: assessment,
        injection_minutes: injection,
        follow_up_minutes: follow_up,
        minimum_notice_minutes: row.minimum_notice_minutes,
        booking_horizon_days: row.booking_horizon_days,
        buffer_after_injection_minutes: row.buffer_after_injection_minutes,
        hours,
        requirements: row
            .requirements
            .as_ref()
            .map(crate::domain::resources::Requirements::from_stored)
            .unwrap_or_default(),
    }))
}

/// Takes, until the transaction ends, the calendars of these providers and patients, always in
/// the same order: what a course plan (several sessions placed on one reading of the
/// calendars) and a hold take, so that those queue instead of deadlocking inside the
/// exclusion constraints; the constraints still decide who wins. No ids, no statement.
pub async fn lock_calendars(mut conn: &AsyncPgConnection, ids: &[Uuid]) -> QueryResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    let keys: Vec<String> = ids.iter().map(|id| format!("calendar/{id}")).collect();
    // One statement; a volatile function in the select list runs row by row after the
    // ORDER BY, so the locks are taken in the sorted order.
    prepared(
        "SELECT pg_advisory_xact_lock(hashtextextended(k, 1)) \
         FROM unnest($1::text[]) WITH ORDINALITY AS t(k, n) ORDER BY n",
    )
    .bind::<Array<Text>, _>(keys)
    .execute(&mut conn)
    .await?;
    Ok(())
}

/// The patient's active sessions overlapping `window`, but for `except`.
pub async fn patient_busy(
    conn: &mut AsyncPgConnection,
    patient_id: Uuid,
    window: Span,
    except: &[Uuid],
) -> QueryResult<Vec<Span>> {
    let rows: Vec<(DateTime<Utc>, DateTime<Utc>)> = sessions::table
        .filter(sessions::patient_id.eq(patient_id))
        .filter(sessions::id.ne_all(except))
        .filter(sessions::status.eq_any(SessionStatus::ACTIVE))
        .filter(sessions::starts_at.lt(window.end))
        .filter(sessions::ends_at.gt(window.start))
        .select((sessions::starts_at, sessions::ends_at))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(start, end)| Span { start, end })
        .collect())
}

/// The patient's latest assessment in the area that has happened or still will (neither
/// cancelled nor missed), as its span.
pub async fn latest_assessment(
    conn: &mut AsyncPgConnection,
    patient_id: Uuid,
    treatment_area_id: Uuid,
) -> QueryResult<Option<Span>> {
    let row: Option<(DateTime<Utc>, DateTime<Utc>)> = sessions::table
        .filter(sessions::patient_id.eq(patient_id))
        .filter(sessions::treatment_area_id.eq(treatment_area_id))
        .filter(sessions::kind.eq(SessionKind::Assessment))
        .filter(sessions::status.ne_all([SessionStatus::Cancelled, SessionStatus::NoShow]))
        .order(sessions::starts_at.desc())
        .select((sessions::starts_at, sessions::ends_at))
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(|(start, end)| Span { start, end }))
}
