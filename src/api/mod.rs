//! The HTTP edge: request and response types, handlers, and every route on one screen.

pub mod conditional;
pub mod extract;
pub mod health;
pub mod locations;
pub mod pagination;
pub mod problems;
pub mod rules;

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

/// Every documented route of the service.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(
            scope("/v1")
                .service(locations::create_location)
                .service(locations::list_locations)
                .service(locations::get_location)
                .service(locations::update_location)
                .service(locations::archive_location),
        );
}
