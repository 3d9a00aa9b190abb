//! Body regions the clinic treats, with their session durations and course defaults.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::PageRequest;
use crate::schema::treatment_areas;

/// A row of `treatment_areas`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = treatment_areas)]
pub struct TreatmentArea {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub assessment_minutes: i32,
    pub injection_minutes: i32,
    pub follow_up_minutes: i32,
    pub sessions_min: i32,
    pub sessions_max: i32,
    pub interval_min_days: i32,
    pub interval_target_days: Option<i32>,
    pub interval_max_days: i32,
    pub pre_care: Option<String>,
    pub post_care: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
    pub assessment_gap_days: i32,
    /// The tags each kind of session needs (`domain::resources::Requirements`).
    pub requirements: serde_json::Value,
}

/// A treatment area to create.
#[derive(Debug, Insertable)]
#[diesel(table_name = treatment_areas)]
pub struct NewTreatmentArea {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub assessment_minutes: i32,
    pub injection_minutes: i32,
    pub follow_up_minutes: i32,
    pub sessions_min: i32,
    pub sessions_max: i32,
    pub interval_min_days: i32,
    pub interval_target_days: Option<i32>,
    pub interval_max_days: i32,
    pub pre_care: Option<String>,
    pub post_care: Option<String>,
    pub assessment_gap_days: i32,
    pub requirements: serde_json::Value,
}

/// Fields to change; `None` leaves a field as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = treatment_areas)]
pub struct TreatmentAreaChanges {
    pub slug: Option<String>,
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub assessment_minutes: Option<i32>,
    pub injection_minutes: Option<i32>,
    pub follow_up_minutes: Option<i32>,
    pub sessions_min: Option<i32>,
    pub sessions_max: Option<i32>,
    pub interval_min_days: Option<i32>,
    pub interval_target_days: Option<Option<i32>>,
    pub interval_max_days: Option<i32>,
    pub pre_care: Option<Option<String>>,
    pub post_care: Option<Option<String>>,
    pub assessment_gap_days: Option<i32>,
    pub requirements: Option<serde_json::Value>,
}

pub async fn insert(
    conn: &mut AsyncPgConnection,
    new: NewTreatmentArea,
) -> QueryResult<TreatmentArea> {
    diesel::insert_into(treatment_areas::table)
        .values(new)
        .returning(TreatmentArea::as_returning())
        .get_result(conn)
        .await
}

pub async fn find(mut conn: &AsyncPgConnection, id: Uuid) -> QueryResult<Option<TreatmentArea>> {
    treatment_areas::table
        .find(id)
        .select(TreatmentArea::as_select())
        .first(&mut conn)
        .await
        .optional()
}

pub async fn find_by_slug(
    conn: &mut AsyncPgConnection,
    slug: &str,
) -> QueryResult<Option<TreatmentArea>> {
    treatment_areas::table
        .filter(treatment_areas::slug.eq(slug))
        .select(TreatmentArea::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    active: Option<bool>,
    page: PageRequest,
) -> QueryResult<Vec<TreatmentArea>> {
    let mut query = treatment_areas::table
        .select(TreatmentArea::as_select())
        .order(treatment_areas::id)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(treatment_areas::id.gt(after));
    }
    match active {
        Some(true) => query = query.filter(treatment_areas::archived_at.is_null()),
        Some(false) => query = query.filter(treatment_areas::archived_at.is_not_null()),
        None => {}
    }
    query.limit(page.limit + 1).load(conn).await
}

super::versioned::versioned!(
    TreatmentArea,
    TreatmentAreaChanges,
    treatment_areas,
    "treatment area",
    TreatmentAreaUpdated,
    TreatmentAreaArchived
);

impl TreatmentArea {
    /// The tags its sessions need.
    pub fn requirements(&self) -> crate::domain::resources::Requirements {
        crate::domain::resources::Requirements::from_stored(&self.requirements)
    }
}
