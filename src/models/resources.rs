//! Rooms and devices at a location, and their downtime.

use super::prepared::prepared;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::PageRequest;
use crate::domain::resources::ResourceKind;
use crate::schema::{resource_downtime, resources};

/// A row of `resources`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = resources)]
pub struct Resource {
    pub id: Uuid,
    pub location_id: Uuid,
    pub kind: ResourceKind,
    pub name: String,
    pub tags: Vec<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
}

/// A resource to create.
#[derive(Debug, Insertable)]
#[diesel(table_name = resources)]
pub struct NewResource {
    pub id: Uuid,
    pub location_id: Uuid,
    pub kind: ResourceKind,
    pub name: String,
    pub tags: Vec<String>,
}

/// Fields to change; `None` leaves a field as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = resources)]
pub struct ResourceChanges {
    pub kind: Option<ResourceKind>,
    pub name: Option<String>,
    pub tags: Option<Vec<String>>,
}

/// Filters of the resource list.
#[derive(Debug, Default, Clone)]
pub struct ResourceFilter {
    pub location_id: Option<Uuid>,
    pub kind: Option<ResourceKind>,
    pub tag: Option<String>,
    pub active: Option<bool>,
}

pub async fn insert(conn: &mut AsyncPgConnection, new: NewResource) -> QueryResult<Resource> {
    diesel::insert_into(resources::table)
        .values(new)
        .returning(Resource::as_returning())
        .get_result(conn)
        .await
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Resource>> {
    resources::table
        .find(id)
        .select(Resource::as_select())
        .first(conn)
        .await
        .optional()
}

/// One page of resources, by id.
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: &ResourceFilter,
    page: PageRequest,
) -> QueryResult<Vec<Resource>> {
    let mut query = resources::table
        .select(Resource::as_select())
        .order(resources::id)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(resources::id.gt(after));
    }
    if let Some(location_id) = filter.location_id {
        query = query.filter(resources::location_id.eq(location_id));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(resources::kind.eq(kind));
    }
    if let Some(tag) = &filter.tag {
        query = query.filter(resources::tags.contains(vec![tag.clone()]));
    }
    match filter.active {
        Some(true) => query = query.filter(resources::archived_at.is_null()),
        Some(false) => query = query.filter(resources::archived_at.is_not_null()),
        None => {}
    }
    query.limit(page.limit + 1).load(conn).await
}

/// Which of `tags` an active resource at `location_id` carries.
pub async fn tags_at(
    conn: &mut AsyncPgConnection,
    location_id: Option<Uuid>,
    tags: &[String],
) -> QueryResult<Vec<String>> {
    use diesel::sql_types::{Array, Nullable, Text, Uuid as SqlUuid};
    #[derive(QueryableByName)]
    struct Tag {
        #[diesel(sql_type = Text)]
        tag: String,
    }
    let rows: Vec<Tag> = prepared(
        "SELECT DISTINCT t AS tag FROM resources r, unnest(r.tags) t \
         WHERE r.archived_at IS NULL AND ($1::uuid IS NULL OR r.location_id = $1) \
           AND t = ANY($2)",
    )
    .bind::<Nullable<SqlUuid>, _>(location_id)
    .bind::<Array<Text>, _>(tags)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|row| row.tag).collect())
}

/// A row of `resource_downtime`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = resource_downtime)]
pub struct Downtime {
    pub id: Uuid,
    pub resource_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Downtime to add.
#[derive(Debug, Insertable)]
#[diesel(table_name = resource_downtime)]
pub struct NewDowntime {
    pub id: Uuid,
    pub resource_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub reason: Option<String>,
}

pub async fn insert_downtime(
    conn: &mut AsyncPgConnection,
    new: NewDowntime,
) -> QueryResult<Downtime> {
    diesel::insert_into(resource_downtime::table)
        .values(new)
        .returning(Downtime::as_returning())
        .get_result(conn)
        .await
}

/// The resource's downtime overlapping `[from, to)`, by id.
pub async fn downtime(
    conn: &mut AsyncPgConnection,
    resource_id: Uuid,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    page: PageRequest,
) -> QueryResult<Vec<Downtime>> {
    let mut query = resource_downtime::table
        .filter(resource_downtime::resource_id.eq(resource_id))
        .select(Downtime::as_select())
        .order(resource_downtime::id)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(resource_downtime::id.gt(after));
    }
    if let Some(from) = from {
        query = query.filter(resource_downtime::ends_at.gt(from));
    }
    if let Some(to) = to {
        query = query.filter(resource_downtime::starts_at.lt(to));
    }
    query.limit(page.limit + 1).load(conn).await
}

/// Deletes one of the resource's downtime entries; the entry, if it existed.
pub async fn delete_downtime(
    conn: &mut AsyncPgConnection,
    resource_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<Downtime>> {
    diesel::delete(
        resource_downtime::table
            .filter(resource_downtime::id.eq(id))
            .filter(resource_downtime::resource_id.eq(resource_id)),
    )
    .returning(Downtime::as_returning())
    .get_result(conn)
    .await
    .optional()
}

super::versioned::versioned!(
    Resource,
    ResourceChanges,
    resources,
    "resource",
    ResourceUpdated,
    ResourceArchived
);
