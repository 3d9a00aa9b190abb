//! Reading courses: one with its sessions and progress, a list, a patient's all.

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::Course;
use crate::app::courses::read;
use crate::domain::courses::CourseStatus;
use crate::error::AppError;
use crate::http::auth::{AnyKey, StaffKey};
use crate::http::conditional::ok_tagged;
use crate::http::extract::Query;
use crate::http::pagination::{Page, PageQuery};
use crate::http::problems::*;
use crate::http::state::AppState;
use crate::models::courses::CourseFilter;

/// Get a course with its sessions and progress
///
/// A provider key sees only its own courses.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The course", body = Course, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        AuthErrors, ServerErrors,
    )
)]
#[get("/courses/{id}")]
pub async fn get_course(
    AnyKey(caller): AnyKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.conn().await?;
    let course = Course::from_view(read::get(&mut conn, &caller, *id, state.now()).await?);
    Ok(ok_tagged(&course, course.version))
}

/// Filters of the course list.
#[derive(Debug, Deserialize, IntoParams, garde::Validate)]
#[into_params(parameter_in = Query)]
pub struct CourseQuery {
    #[garde(skip)]
    pub patient_id: Option<Uuid>,
    /// A provider key always sees only its own courses.
    #[garde(skip)]
    pub provider_id: Option<Uuid>,
    #[garde(skip)]
    pub status: Option<CourseStatus>,
}

/// List courses
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    params(PageQuery, CourseQuery),
    responses(
        (status = 200, description = "One page of courses, oldest first (without sessions and progress)", body = Page<Course>),
        (status = 400, response = BadRequest), AuthErrors, ServerErrors,
    )
)]
#[get("/courses")]
pub async fn list_courses(
    AnyKey(caller): AnyKey,
    state: web::Data<AppState>,
    Query(page): Query<PageQuery>,
    Query(query): Query<CourseQuery>,
) -> Result<HttpResponse, AppError> {
    let request = page.request()?;
    let filter = CourseFilter {
        patient_id: query.patient_id,
        provider_id: query.provider_id,
        status: query.status,
    };
    let mut conn = state.conn().await?;
    let views = read::list(&mut conn, &caller, filter, request).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(
        views,
        request,
        |view| view.row.id,
        Course::from_view,
    )))
}

/// A patient's courses with their progress
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every course of the patient, oldest first, with sessions and progress", body = Vec<Course>),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        AuthErrors, ServerErrors,
    )
)]
#[get("/patients/{id}/courses")]
pub async fn patient_courses(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.conn().await?;
    let views = read::of_patient(&mut conn, &caller, *id, state.now()).await?;
    let courses: Vec<Course> = views.into_iter().map(Course::from_view).collect();
    Ok(HttpResponse::Ok().json(courses))
}
