//! Liveness and readiness probes.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ProblemType;
use crate::http::problem::problem_response;
use crate::http::state::AppState;

/// A probe's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Is the process up
///
/// Answers as long as the process serves HTTP; it does not touch the database.
#[utoipa::path(tag = "health", responses((status = 200, description = "The process is up", body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Is the service ready for traffic
///
/// Ready when the database answers and has every migration of this build applied, and the
/// process is not shutting down (it then still serves requests for a while, but load
/// balancers should send no more).
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, response = crate::http::problems::ServiceUnavailable),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    if state.is_draining() {
        return problem_response(
            ProblemType::ServiceUnavailable,
            "the service is shutting down".into(),
            vec![],
        );
    }
    match crate::db::is_ready(&state.pool, &state.migration_version).await {
        Ok(true) => HttpResponse::Ok().json(Health { status: "ready" }),
        Ok(false) => problem_response(
            ProblemType::ServiceUnavailable,
            "the database schema is not at this build's migration version".into(),
            vec![],
        ),
        Err(_) => problem_response(
            ProblemType::ServiceUnavailable,
            "the database cannot be reached".into(),
            vec![],
        ),
    }
}
