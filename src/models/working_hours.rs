//! A provider's weekly working pattern.

use chrono::{NaiveDate, NaiveTime};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::domain::time::Weekday;
use crate::domain::working_hours::WeeklyInterval;

use crate::schema::working_hours;

/// A row of `working_hours`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = working_hours)]
pub struct WorkingHours {
    pub id: Uuid,
    pub provider_id: Uuid,
    pub location_id: Uuid,
    pub weekday: i16,
    pub start_time: NaiveTime,
    pub end_time: NaiveTime,
    pub effective_from: Option<NaiveDate>,
    pub effective_until: Option<NaiveDate>,
}

impl WorkingHours {
    /// The row as the rules read it (`None` only for a weekday outside 1–7, which the
    /// column's CHECK rules out).
    pub fn interval(&self) -> Option<WeeklyInterval> {
        Some(WeeklyInterval {
            location_id: self.location_id,
            weekday: Weekday::from_iso_number(self.weekday)?,
            start: self.start_time.into(),
            end: self.end_time.into(),
            effective_from: self.effective_from,
            effective_until: self.effective_until,
        })
    }
}

/// The provider's pattern, by weekday then start.
pub async fn for_provider(
    conn: &mut AsyncPgConnection,
    provider_id: Uuid,
) -> QueryResult<Vec<WorkingHours>> {
    working_hours::table
        .filter(working_hours::provider_id.eq(provider_id))
        .select(WorkingHours::as_select())
        .order((
            working_hours::weekday,
            working_hours::start_time,
            working_hours::id,
        ))
        .load(conn)
        .await
}

/// Replaces the whole pattern (call inside a transaction holding the provider's row lock).
pub async fn replace(
    conn: &mut AsyncPgConnection,
    provider_id: Uuid,
    rows: Vec<WorkingHours>,
) -> QueryResult<()> {
    diesel::delete(working_hours::table.filter(working_hours::provider_id.eq(provider_id)))
        .execute(conn)
        .await?;
    if !rows.is_empty() {
        diesel::insert_into(working_hours::table)
            .values(rows)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// The patterns of several providers at once.
pub async fn for_providers(
    mut conn: &AsyncPgConnection,
    provider_ids: &[Uuid],
) -> QueryResult<Vec<WorkingHours>> {
    working_hours::table
        .filter(working_hours::provider_id.eq_any(provider_ids))
        .select(WorkingHours::as_select())
        .load(&mut conn)
        .await
}
