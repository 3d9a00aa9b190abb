//! prolo-scheduler: the scheduling backend of a prolotherapy clinic.

pub mod api;
pub mod app;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod mail;
pub mod metrics;
pub mod models;
pub mod openapi;
pub mod schema;
pub mod webhook;
pub mod worker;

use actix_web::body::MessageBody;
use actix_web::dev::Service;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{App, web};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::http::problems::KnownRoutes;
use crate::http::state::AppState;

/// The OpenAPI document of every route, as served at `/openapi.json`.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let (_, document) = App::new()
        .into_utoipa_app()
        .openapi(openapi::root())
        .configure(api::routes)
        .split_for_parts();
    openapi::complete(document)
}

/// The whole HTTP application over `state`, answering browsers from `cors_origins`; used by
/// `serve` and by the tests.
pub fn app(
    state: AppState,
    cors_origins: Vec<String>,
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
    let document = openapi::complete(document);
    let known_routes = KnownRoutes::from_document(&document);
    app.app_data(web::Data::new(state))
        .app_data(web::Data::new(known_routes))
        .app_data(web::PathConfig::default().error_handler(http::extract::path_error))
        .app_data(web::PayloadConfig::new(http::extract::JSON_LIMIT))
        // The docs' relative links resolve only under `/docs/`.
        .route(
            "/docs",
            web::get().to(|| async {
                actix_web::HttpResponse::PermanentRedirect()
                    .insert_header((actix_web::http::header::LOCATION, "/docs/"))
                    .finish()
            }),
        )
        .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", document))
        .default_service(web::to(http::problems::no_route))
        .wrap(actix_web::middleware::from_fn(
            http::query_guard::check_query,
        ))
        .wrap(actix_web::middleware::from_fn(http::auth::authenticate))
        .wrap(ErrorHandlers::new().default_handler(problem_safety_net))
        .wrap(cors(&cors_origins))
        .wrap_fn(|req, service| {
            let page = http::security_headers::Page::of(req.path());
            let response = service.call(req);
            async move {
                let mut response = response.await?;
                http::security_headers::apply(response.headers_mut(), page);
                Ok(response)
            }
        })
        .wrap(actix_web::middleware::from_fn(http::metrics::track))
        .wrap(tracing_actix_web::TracingLogger::<
            http::access_log::AccessLog,
        >::new())
}

/// Cross-origin access for the configured origins only; other origins get no CORS headers,
/// so browsers keep them out, while same-origin callers (the docs page) are untouched.
fn cors(origins: &[String]) -> actix_cors::Cors {
    use actix_web::http::header;
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
        ])
        .allowed_header("idempotency-key")
        .expose_headers([header::ETAG, header::LOCATION, header::RETRY_AFTER])
        .block_on_origin_mismatch(false)
        .max_age(3600);
    for origin in origins.iter().map(|o| o.trim()).filter(|o| !o.is_empty()) {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// Rewrites any error response not already a problem (from actix itself) as one.
fn problem_safety_net<B: MessageBody>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .is_some_and(|value| value == http::problem::PROBLEM_JSON);
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let problem = http::problem::problem_for_status(res.status());
    let (req, _) = res.into_parts();
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, problem).map_into_right_body(),
    ))
}
