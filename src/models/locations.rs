//! Clinic sites.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::PageRequest;
use crate::schema::locations;

/// A row of `locations`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = locations)]
pub struct Location {
    pub id: Uuid,
    pub name: String,
    pub address: Option<String>,
    pub time_zone: String,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
}

/// A location to create.
#[derive(Debug, Insertable)]
#[diesel(table_name = locations)]
pub struct NewLocation {
    pub id: Uuid,
    pub name: String,
    pub address: Option<String>,
    pub time_zone: String,
}

/// Fields to change; `None` leaves a field as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = locations)]
pub struct LocationChanges {
    pub name: Option<String>,
    pub address: Option<Option<String>>,
    pub time_zone: Option<String>,
}

pub async fn insert(conn: &mut AsyncPgConnection, new: NewLocation) -> QueryResult<Location> {
    diesel::insert_into(locations::table)
        .values(new)
        .returning(Location::as_returning())
        .get_result(conn)
        .await
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Location>> {
    locations::table
        .find(id)
        .select(Location::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    active: Option<bool>,
    page: PageRequest,
) -> QueryResult<Vec<Location>> {
    let mut query = locations::table
        .select(Location::as_select())
        .order(locations::id)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(locations::id.gt(after));
    }
    match active {
        Some(true) => query = query.filter(locations::archived_at.is_null()),
        Some(false) => query = query.filter(locations::archived_at.is_not_null()),
        None => {}
    }
    query.limit(page.limit + 1).load(conn).await
}

/// The time zones of `ids`, by location id.
pub async fn time_zones(
    mut conn: &AsyncPgConnection,
    ids: &[Uuid],
) -> QueryResult<std::collections::HashMap<Uuid, chrono_tz::Tz>> {
    let rows: Vec<(Uuid, String)> = locations::table
        .filter(locations::id.eq_any(ids))
        .select((locations::id, locations::time_zone))
        .load(&mut conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, zone)| (id, zone.parse().unwrap_or(chrono_tz::UTC)))
        .collect())
}

super::versioned::versioned!(
    Location,
    LocationChanges,
    locations,
    "location",
    LocationUpdated,
    LocationArchived
);
