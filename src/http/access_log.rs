//! The access log: one line per request with its id, route template, status, latency and key
//! id, and nothing else: no path values, query strings, bodies or headers, which can hold
//! personal data.

use std::time::Instant;

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpanBuilder};

use super::auth::CallerKeyId;

/// When the request arrived.
#[derive(Debug, Clone, Copy)]
struct Arrived(Instant);

/// Builds the request span and writes the access-log line when the response is ready.
pub struct AccessLog;

impl RootSpanBuilder for AccessLog {
    fn on_request_start(request: &ServiceRequest) -> Span {
        request.extensions_mut().insert(Arrived(Instant::now()));
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(|id| id.to_string())
            .unwrap_or_default();
        tracing::info_span!("request", %request_id, method = %request.method())
    }

    fn on_request_end<B: MessageBody>(
        span: Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        let Ok(response) = outcome else {
            tracing::error!(parent: &span, "request failed without a response");
            return;
        };
        let request = response.request();
        let route = request
            .match_pattern()
            .unwrap_or_else(|| "(no route)".to_owned());
        let latency_ms = request
            .extensions()
            .get::<Arrived>()
            .map_or(0.0, |arrived| arrived.0.elapsed().as_secs_f64() * 1000.0);
        let key_id = request
            .extensions()
            .get::<CallerKeyId>()
            .map(|key| key.0.to_string())
            .unwrap_or_default();
        tracing::info!(
            parent: &span,
            route,
            status = response.status().as_u16(),
            latency_ms = format!("{latency_ms:.1}"),
            key_id,
            "request"
        );
    }
}
