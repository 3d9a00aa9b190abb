//! Reading courses: one with its sessions and progress, a page of a list, a patient's all.
//! Each read leaves an audit event.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::{CourseView, with_sessions};
use crate::app::calendar::zone_in;
use crate::app::caller::Caller;
use crate::error::AppError;
use crate::models::courses::{self as model, CourseFilter};
use crate::models::{PageRequest, audit_events, locations, patients};

/// One course with its sessions and progress; a provider key sees only its own.
pub async fn get(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<CourseView, AppError> {
    let row = model::find(conn, id)
        .await?
        .ok_or(AppError::NotFound("course"))?;
    if !caller.sees_provider(row.provider_id) {
        return Err(AppError::Concealed("course"));
    }
    let audit = caller
        .audit("course.read", "courses", Some(row.id), 200)
        .patient(row.patient_id);
    audit_events::append(conn, audit).await?;
    with_sessions(conn, caller, row, now).await
}

/// A page of courses (without sessions and progress); a provider key sees only its own.
pub async fn list(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    mut filter: CourseFilter,
    page: PageRequest,
) -> Result<Vec<CourseView>, AppError> {
    filter.provider_id = match (caller.provider_id, filter.provider_id) {
        (Some(own), Some(asked)) if own != asked => return Err(AppError::Concealed("provider")),
        (Some(own), _) => Some(own),
        (None, asked) => asked,
    };
    let patient_id = filter.patient_id;
    let rows = model::list(conn, filter, page).await?;
    let location_ids: Vec<Uuid> = rows.iter().map(|row| row.location_id).collect();
    let zones = locations::time_zones(conn, &location_ids).await?;
    let mut audit = caller.audit("course.list", "courses", None, 200);
    audit.patient_id = patient_id;
    audit_events::append(conn, audit).await?;
    let clinical = caller.sees_clinical();
    Ok(rows
        .into_iter()
        .map(|mut row| {
            if !clinical {
                row.goal = None;
                row.baseline_pain = None;
                row.baseline_function = None;
            }
            CourseView {
                zone: zone_in(&zones, row.location_id),
                row,
                sessions: None,
                progress: None,
            }
        })
        .collect())
}

/// Every course of a patient (up to 100), oldest first, with sessions and progress.
pub async fn of_patient(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    patient_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<CourseView>, AppError> {
    patients::find(conn, patient_id)
        .await?
        .ok_or(AppError::NotFound("patient"))?;
    let filter = CourseFilter {
        patient_id: Some(patient_id),
        ..CourseFilter::default()
    };
    let page = PageRequest {
        after: None,
        limit: 100,
    };
    let mut courses = Vec::new();
    for row in model::list(conn, filter, page).await? {
        courses.push(with_sessions(conn, caller, row, now).await?);
    }
    let audit = caller
        .audit("course.list", "courses", None, 200)
        .patient(patient_id);
    audit_events::append(conn, audit).await?;
    Ok(courses)
}
