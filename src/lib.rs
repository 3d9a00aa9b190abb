//! prolo-scheduler: the scheduling backend of a prolotherapy clinic.

pub mod api;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod models;
pub mod openapi;
pub mod schema;
pub mod state;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{App, web};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::api::problems::KnownRoutes;
use crate::state::AppState;

/// The OpenAPI document of every route, as served at `/openapi.json`.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let (_, document) = App::new()
        .into_utoipa_app()
        .openapi(openapi::root())
        .configure(api::routes)
        .split_for_parts();
    document
}

/// The whole HTTP application over `state`; used by `serve` and by the tests.
pub fn app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (app, document) = App::new()
        .into_utoipa_app()
        .openapi(openapi::root())
        .configure(api::routes)
        .split_for_parts();
    let known_routes = KnownRoutes::from_document(&document);
    app.app_data(web::Data::new(state))
        .app_data(web::Data::new(known_routes))
        .app_data(web::PathConfig::default().error_handler(api::extract::path_error))
        .app_data(web::PayloadConfig::new(api::extract::JSON_LIMIT))
        .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", document))
        .default_service(web::to(api::problems::no_route))
        .wrap(ErrorHandlers::new().default_handler(problem_safety_net))
        .wrap(tracing_actix_web::TracingLogger::default())
}

/// Rewrites any error response not already a problem (from actix itself) as one.
fn problem_safety_net<B: MessageBody>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .is_some_and(|value| value == error::PROBLEM_JSON);
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let problem = error::problem_for_status(res.status());
    let (req, _) = res.into_parts();
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, problem).map_into_right_body(),
    ))
}
