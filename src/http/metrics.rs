//! `GET /metrics` in Prometheus's text format, on its own address (`PROLO_METRICS_BIND`, off by
//! default) so it is never served to the public; and the middleware that counts and times
//! every API request. Labels carry route templates (`/v1/sessions/{id}`), never paths: no id
//! or token reaches a label, and the label sets stay bounded.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};

use crate::error::AppError;
use crate::http::state::AppState;
use crate::models::queues::{self, Backlog};

/// Counts and times every request by its route template (`unmatched` for none).
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|state| state.metrics.clone());
    let method = req.method().as_str().to_owned();
    let response = next.call(req).await?;
    if let Some(metrics) = metrics {
        let route = response.request().match_pattern();
        let route = route.as_deref().unwrap_or("unmatched");
        metrics.answered(
            &method,
            route,
            response.status().as_u16(),
            started.elapsed(),
        );
    }
    Ok(response)
}

/// `GET /metrics`: the text exposition, read afresh.
pub async fn scrape(state: web::Data<AppState>) -> HttpResponse {
    let metrics = &state.metrics;
    metrics.read_pools();
    if let Some(standby) = &state.standby {
        metrics.read_standby(standby.health());
    }
    let backlog = read_backlog(&state).await;
    if let Err(error) = &backlog {
        tracing::warn!(%error, "metrics: the queues could not be read");
    }
    metrics.read_backlog(backlog.ok());
    match metrics.render() {
        Ok(text) => HttpResponse::Ok()
            .content_type(prometheus::TEXT_FORMAT)
            .body(text),
        Err(error) => {
            tracing::error!(%error, "metrics: cannot encode");
            HttpResponse::InternalServerError().finish()
        }
    }
}

async fn read_backlog(state: &AppState) -> Result<Backlog, AppError> {
    let mut conn = state.conn().await?;
    Ok(queues::backlog(&mut conn, state.now()).await?)
}
/// Serves `GET /metrics` for `state` on `bind`, apart from the API, until the process ends.
pub fn serve(state: AppState, bind: std::net::SocketAddr) -> Result<(), String> {
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(web::Data::new(state.clone()))
            .route("/metrics", web::get().to(scrape))
    })
    .workers(1)
    .disable_signals()
    .bind(bind)
    .map_err(|e| format!("cannot listen on {bind} for metrics: {e}"))?;
    for addr in server.addrs() {
        tracing::info!("metrics on http://{addr}/metrics");
    }
    tokio::spawn(server.run());
    Ok(())
}
