//! Treatment courses.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::PageRequest;
use crate::domain::courses::{CourseStatus, Side};
use crate::domain::sessions::SessionStatus;
use crate::schema::{courses, sessions};

/// A row of `courses`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = courses)]
pub struct Course {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub provider_id: Uuid,
    pub location_id: Uuid,
    pub treatment_area_id: Uuid,
    pub side: Side,
    pub planned_sessions: i32,
    pub interval_min_days: i32,
    pub interval_target_days: Option<i32>,
    pub interval_max_days: i32,
    pub goal: Option<String>,
    pub baseline_pain: Option<i16>,
    pub baseline_function: Option<i16>,
    pub assessment_session_id: Option<Uuid>,
    pub status: CourseStatus,
    pub status_reason: Option<String>,
    pub warnings: serde_json::Value,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A course to create.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = courses)]
pub struct NewCourse {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub provider_id: Uuid,
    pub location_id: Uuid,
    pub treatment_area_id: Uuid,
    pub side: Side,
    pub planned_sessions: i32,
    pub interval_min_days: i32,
    pub interval_target_days: Option<i32>,
    pub interval_max_days: i32,
    pub goal: Option<String>,
    pub baseline_pain: Option<i16>,
    pub baseline_function: Option<i16>,
    pub assessment_session_id: Option<Uuid>,
    pub status: CourseStatus,
}

/// Fields to change; `None` leaves a field as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = courses)]
pub struct CourseChanges {
    pub side: Option<Side>,
    pub goal: Option<Option<String>>,
    pub baseline_pain: Option<Option<i16>>,
    pub baseline_function: Option<Option<i16>>,
    pub interval_min_days: Option<i32>,
    pub interval_target_days: Option<Option<i32>>,
    pub interval_max_days: Option<i32>,
}

/// Applies `changes` and bumps the version.
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    changes: CourseChanges,
) -> QueryResult<Course> {
    diesel::update(courses::table.find(id))
        .set((
            changes,
            courses::version.eq(courses::version + 1),
            courses::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Course::as_returning())
        .get_result(conn)
        .await
}

/// Filters of the course list.
#[derive(Debug, Default, Clone)]
pub struct CourseFilter {
    pub patient_id: Option<Uuid>,
    pub provider_id: Option<Uuid>,
    pub status: Option<CourseStatus>,
}

pub async fn insert(conn: &mut AsyncPgConnection, new: NewCourse) -> QueryResult<Course> {
    diesel::insert_into(courses::table)
        .values(new)
        .returning(Course::as_returning())
        .get_result(conn)
        .await
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Course>> {
    courses::table
        .find(id)
        .select(Course::as_select())
        .first(conn)
        .await
        .optional()
}

/// The row, locked until the transaction ends.
pub async fn find_for_update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<Course>> {
    courses::table
        .find(id)
        .select(Course::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Sessions of the course that are not cancelled.
pub async fn live_sessions(conn: &mut AsyncPgConnection, course_id: Uuid) -> QueryResult<i64> {
    sessions::table
        .filter(sessions::course_id.eq(course_id))
        .filter(sessions::status.ne(SessionStatus::Cancelled))
        .count()
        .get_result(conn)
        .await
}

/// Completed sessions of the course.
pub async fn completed_sessions(conn: &mut AsyncPgConnection, course_id: Uuid) -> QueryResult<i64> {
    sessions::table
        .filter(sessions::course_id.eq(course_id))
        .filter(sessions::status.eq(SessionStatus::Completed))
        .count()
        .get_result(conn)
        .await
}

/// The highest number of a live session of the course.
pub async fn max_number(conn: &mut AsyncPgConnection, course_id: Uuid) -> QueryResult<Option<i32>> {
    sessions::table
        .filter(sessions::course_id.eq(course_id))
        .filter(sessions::status.ne(SessionStatus::Cancelled))
        .select(diesel::dsl::max(sessions::course_number))
        .get_result(conn)
        .await
}

/// Records a broken interval window on the course.
pub async fn add_warning(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    warning: serde_json::Value,
) -> QueryResult<()> {
    diesel::update(courses::table.find(id))
        .set((
            courses::warnings
                .eq(diesel::dsl::sql::<diesel::sql_types::Jsonb>("warnings || ")
                    .bind::<diesel::sql_types::Jsonb, _>(serde_json::Value::Array(vec![warning]))),
            courses::version.eq(courses::version + 1),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Adds `sessions` planned sessions; a completed course becomes active again.
pub async fn extend(conn: &mut AsyncPgConnection, id: Uuid, sessions: i32) -> QueryResult<Course> {
    diesel::update(courses::table.find(id))
        .set((
            courses::planned_sessions.eq(courses::planned_sessions + sessions),
            courses::status.eq(CourseStatus::Active),
            courses::version.eq(courses::version + 1),
            courses::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Course::as_returning())
        .get_result(conn)
        .await
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: CourseFilter,
    page: PageRequest,
) -> QueryResult<Vec<Course>> {
    let mut query = courses::table
        .select(Course::as_select())
        .order(courses::id)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(courses::id.gt(after));
    }
    if let Some(id) = filter.patient_id {
        query = query.filter(courses::patient_id.eq(id));
    }
    if let Some(id) = filter.provider_id {
        query = query.filter(courses::provider_id.eq(id));
    }
    if let Some(status) = filter.status {
        query = query.filter(courses::status.eq(status));
    }
    query.limit(page.limit + 1).load(conn).await
}

/// Every session of the course, by number then start.
pub async fn sessions_of(
    conn: &mut AsyncPgConnection,
    course_id: Uuid,
) -> QueryResult<Vec<super::sessions::Session>> {
    sessions::table
        .filter(sessions::course_id.eq(course_id))
        .select(super::sessions::Session::as_select())
        .order((sessions::course_number, sessions::starts_at))
        .load(conn)
        .await
}

/// Sets the status (with its reason) and bumps the version.
pub async fn set_status(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    status: CourseStatus,
    reason: Option<String>,
) -> QueryResult<Course> {
    diesel::update(courses::table.find(id))
        .set((
            courses::status.eq(status),
            courses::status_reason.eq(reason),
            courses::version.eq(courses::version + 1),
            courses::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Course::as_returning())
        .get_result(conn)
        .await
}
