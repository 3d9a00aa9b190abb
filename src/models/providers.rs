//! Clinicians, with the treatment areas they treat and the locations they work at.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::PageRequest;
use crate::schema::{provider_locations, provider_treatment_areas, providers};

/// A row of `providers`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = providers)]
pub struct ProviderRow {
    pub id: Uuid,
    pub name: String,
    pub credentials: Option<String>,
    pub bio: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
}

/// A provider with its links.
#[derive(Debug, Clone)]
pub struct Provider {
    pub row: ProviderRow,
    pub treatment_area_ids: Vec<Uuid>,
    pub location_ids: Vec<Uuid>,
}

/// A provider to create.
#[derive(Debug, Insertable)]
#[diesel(table_name = providers)]
pub struct NewProvider {
    pub id: Uuid,
    pub name: String,
    pub credentials: Option<String>,
    pub bio: Option<String>,
}

/// Fields to change; `None` leaves a field as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = providers)]
pub struct ProviderChanges {
    pub name: Option<String>,
    pub credentials: Option<Option<String>>,
    pub bio: Option<Option<String>>,
}

/// Filters of the provider list.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProviderFilter {
    pub treatment_area_id: Option<Uuid>,
    pub location_id: Option<Uuid>,
    pub active: Option<bool>,
}

/// Inserts the provider and its links (call inside a transaction).
pub async fn insert(
    conn: &mut AsyncPgConnection,
    new: NewProvider,
    treatment_area_ids: &[Uuid],
    location_ids: &[Uuid],
) -> QueryResult<Provider> {
    let row = diesel::insert_into(providers::table)
        .values(new)
        .returning(ProviderRow::as_returning())
        .get_result(conn)
        .await?;
    replace_links(conn, row.id, Some(treatment_area_ids), Some(location_ids)).await?;
    with_links(conn, vec![row])
        .await
        .map(|mut all| all.remove(0))
}

/// Replaces whichever link sets are given (call inside a transaction).
pub async fn replace_links(
    conn: &mut AsyncPgConnection,
    provider_id: Uuid,
    treatment_area_ids: Option<&[Uuid]>,
    location_ids: Option<&[Uuid]>,
) -> QueryResult<()> {
    if let Some(ids) = treatment_area_ids {
        diesel::delete(
            provider_treatment_areas::table
                .filter(provider_treatment_areas::provider_id.eq(provider_id)),
        )
        .execute(conn)
        .await?;
        let rows: Vec<_> = ids
            .iter()
            .map(|id| {
                (
                    provider_treatment_areas::provider_id.eq(provider_id),
                    provider_treatment_areas::treatment_area_id.eq(*id),
                )
            })
            .collect();
        if !rows.is_empty() {
            diesel::insert_into(provider_treatment_areas::table)
                .values(rows)
                .execute(conn)
                .await?;
        }
    }
    if let Some(ids) = location_ids {
        // Delete only the locations dropped: working hours reference the ones kept.
        diesel::delete(
            provider_locations::table
                .filter(provider_locations::provider_id.eq(provider_id))
                .filter(provider_locations::location_id.ne_all(ids)),
        )
        .execute(conn)
        .await?;
        let rows: Vec<_> = ids
            .iter()
            .map(|id| {
                (
                    provider_locations::provider_id.eq(provider_id),
                    provider_locations::location_id.eq(*id),
                )
            })
            .collect();
        if !rows.is_empty() {
            diesel::insert_into(provider_locations::table)
                .values(rows)
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Provider>> {
    let row = providers::table
        .find(id)
        .select(ProviderRow::as_select())
        .first(conn)
        .await
        .optional()?;
    match row {
        Some(row) => Ok(with_links(conn, vec![row]).await?.pop()),
        None => Ok(None),
    }
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: ProviderFilter,
    page: PageRequest,
) -> QueryResult<Vec<Provider>> {
    let mut query = providers::table
        .select(ProviderRow::as_select())
        .order(providers::id)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(providers::id.gt(after));
    }
    match filter.active {
        Some(true) => query = query.filter(providers::archived_at.is_null()),
        Some(false) => query = query.filter(providers::archived_at.is_not_null()),
        None => {}
    }
    if let Some(area) = filter.treatment_area_id {
        query = query.filter(
            providers::id.eq_any(
                provider_treatment_areas::table
                    .filter(provider_treatment_areas::treatment_area_id.eq(area))
                    .select(provider_treatment_areas::provider_id),
            ),
        );
    }
    if let Some(location) = filter.location_id {
        query = query.filter(
            providers::id.eq_any(
                provider_locations::table
                    .filter(provider_locations::location_id.eq(location))
                    .select(provider_locations::provider_id),
            ),
        );
    }
    let rows = query.limit(page.limit + 1).load(conn).await?;
    with_links(conn, rows).await
}

/// The locations a provider works at.
pub async fn location_ids(
    conn: &mut AsyncPgConnection,
    provider_id: Uuid,
) -> QueryResult<Vec<Uuid>> {
    provider_locations::table
        .filter(provider_locations::provider_id.eq(provider_id))
        .select(provider_locations::location_id)
        .load(conn)
        .await
}

/// Loads the links of `rows` in two queries, whatever their number.
pub async fn with_links(
    conn: &mut AsyncPgConnection,
    rows: Vec<ProviderRow>,
) -> QueryResult<Vec<Provider>> {
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let areas: Vec<(Uuid, Uuid)> = provider_treatment_areas::table
        .filter(provider_treatment_areas::provider_id.eq_any(&ids))
        .select((
            provider_treatment_areas::provider_id,
            provider_treatment_areas::treatment_area_id,
        ))
        .order((
            provider_treatment_areas::provider_id,
            provider_treatment_areas::treatment_area_id,
        ))
        .load(conn)
        .await?;
    let places: Vec<(Uuid, Uuid)> = provider_locations::table
        .filter(provider_locations::provider_id.eq_any(&ids))
        .select((
            provider_locations::provider_id,
            provider_locations::location_id,
        ))
        .order((
            provider_locations::provider_id,
            provider_locations::location_id,
        ))
        .load(conn)
        .await?;
    let group = |pairs: Vec<(Uuid, Uuid)>| {
        let mut map: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for (provider, other) in pairs {
            map.entry(provider).or_default().push(other);
        }
        map
    };
    let mut areas = group(areas);
    let mut places = group(places);
    Ok(rows
        .into_iter()
        .map(|row| Provider {
            treatment_area_ids: areas.remove(&row.id).unwrap_or_default(),
            location_ids: places.remove(&row.id).unwrap_or_default(),
            row,
        })
        .collect())
}

/// Active (provider, location) pairs where the provider treats `treatment_area_id` at an active
/// location, optionally narrowed to one provider and/or location.
pub async fn eligible(
    mut conn: &AsyncPgConnection,
    treatment_area_id: Uuid,
    provider_id: Option<Uuid>,
    location_id: Option<Uuid>,
) -> QueryResult<Vec<(Uuid, Uuid)>> {
    use crate::schema::locations;
    let mut query = provider_locations::table
        .inner_join(providers::table)
        .inner_join(locations::table)
        .filter(providers::archived_at.is_null())
        .filter(locations::archived_at.is_null())
        .filter(
            provider_locations::provider_id.eq_any(
                provider_treatment_areas::table
                    .filter(provider_treatment_areas::treatment_area_id.eq(treatment_area_id))
                    .select(provider_treatment_areas::provider_id),
            ),
        )
        .select((
            provider_locations::provider_id,
            provider_locations::location_id,
        ))
        .into_boxed();
    if let Some(id) = provider_id {
        query = query.filter(provider_locations::provider_id.eq(id));
    }
    if let Some(id) = location_id {
        query = query.filter(provider_locations::location_id.eq(id));
    }
    query.load(&mut conn).await
}

super::versioned::versioned!(
    ProviderRow,
    ProviderChanges,
    providers,
    "provider",
    ProviderUpdated,
    ProviderArchived
);
