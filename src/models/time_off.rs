//! A provider's absences.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::PageRequest;
use crate::schema::time_off;

/// A row of `time_off`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = time_off)]
pub struct TimeOff {
    pub id: Uuid,
    pub provider_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub reason: Option<String>,
    #[diesel(skip_insertion)]
    pub created_at: DateTime<Utc>,
}

/// A time off to create.
#[derive(Debug, Insertable)]
#[diesel(table_name = time_off)]
pub struct NewTimeOff {
    pub id: Uuid,
    pub provider_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub reason: Option<String>,
}

pub async fn insert(conn: &mut AsyncPgConnection, new: NewTimeOff) -> QueryResult<TimeOff> {
    diesel::insert_into(time_off::table)
        .values(new)
        .returning(TimeOff::as_returning())
        .get_result(conn)
        .await
}

/// The provider's time off overlapping `[from, to)`, by id.
pub async fn list(
    conn: &mut AsyncPgConnection,
    provider_id: Uuid,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    page: PageRequest,
) -> QueryResult<Vec<TimeOff>> {
    let mut query = time_off::table
        .filter(time_off::provider_id.eq(provider_id))
        .select(TimeOff::as_select())
        .order(time_off::id)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(time_off::id.gt(after));
    }
    if let Some(from) = from {
        query = query.filter(time_off::ends_at.gt(from));
    }
    if let Some(to) = to {
        query = query.filter(time_off::starts_at.lt(to));
    }
    query.limit(page.limit + 1).load(conn).await
}

/// Deletes one of the provider's time off entries; whether it existed.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    provider_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<TimeOff>> {
    diesel::delete(
        time_off::table
            .filter(time_off::id.eq(id))
            .filter(time_off::provider_id.eq(provider_id)),
    )
    .returning(TimeOff::as_returning())
    .get_result(conn)
    .await
    .optional()
}
