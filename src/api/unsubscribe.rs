//! One-click unsubscribe (RFC 8058): `/v1/unsubscribe/{token}`, the link in every message's
//! `List-Unsubscribe` header and footer. `GET` shows a page with a button and changes nothing
//! (mail scanners follow links); `POST` — the button, or a mail client's one-click request —
//! turns email off. The token is random and stored hashed; one that is unknown is a 404.

use actix_web::{HttpResponse, get, post, web};
use diesel_async::AsyncConnection;

use crate::app::notifications::unsubscribe as app;
use crate::error::AppError;
use crate::http::auth::Public;
use crate::http::problems::*;
use crate::http::state::AppState;

/// A token as links carry it: 64 lowercase hex characters.
fn well_formed(token: &str) -> Result<&str, AppError> {
    match token.len() == 64
        && token
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        true => Ok(token),
        false => Err(AppError::NotFound("unsubscribe link")),
    }
}

fn page(title: &str, body: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .body(format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <meta name=\"robots\" content=\"noindex\"><title>{title}</title></head>\
             <body><h1>{title}</h1>{body}</body></html>\n"
        ))
}

/// Show the unsubscribe page
///
/// A page with one button that turns email off; reading it changes nothing.
#[utoipa::path(
    tag = "notifications",
    params(("token" = String, Path, description = "The token of the link", pattern = r"^[0-9a-f]{64}$")),
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 404, response = NotFound),
        PublicErrors, ServerErrors,
    )
)]
#[get("/unsubscribe/{token}")]
pub async fn unsubscribe_page(
    _caller: Public,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = well_formed(&token)?;
    let mut conn = state.conn().await?;
    let subscribed = app::status(&mut conn, token).await?;
    Ok(match subscribed {
        true => page(
            "Stop emails about your appointments?",
            "<p>You will no longer get confirmations or reminders by email. The clinic can \
             turn them back on if you ask.</p>\
             <form method=\"post\"><input type=\"hidden\" name=\"List-Unsubscribe\" \
             value=\"One-Click\"><button type=\"submit\">Stop emails</button></form>",
        ),
        false => page(
            "You get no emails from us",
            "<p>Emails about your appointments are already turned off.</p>",
        ),
    })
}

/// Unsubscribe
///
/// Turns the patient's email notifications off (RFC 8058 one-click: the body is
/// `List-Unsubscribe=One-Click`, and any other body is accepted too). Idempotent.
#[utoipa::path(
    tag = "notifications",
    params(("token" = String, Path, description = "The token of the link", pattern = r"^[0-9a-f]{64}$")),
    responses(
        (status = 200, description = "Done: a page saying so", content_type = "text/html", body = String),
        (status = 404, response = NotFound),
        PublicErrors, ServerErrors,
    )
)]
#[post("/unsubscribe/{token}")]
pub async fn unsubscribe(
    Public(caller): Public,
    state: web::Data<AppState>,
    token: web::Path<String>,
    request: actix_web::HttpRequest,
) -> Result<HttpResponse, AppError> {
    let token = well_formed(&token)?.to_owned();
    let request_id = caller
        .and_then(|c| c.request_id)
        .or_else(|| crate::http::auth::request_id(&request));
    let now = state.now();
    let mut conn = state.conn().await?;
    conn.transaction::<_, AppError, _>(async |conn| {
        app::unsubscribe(conn, &token, request_id, now).await
    })
    .await?;
    Ok(page(
        "You are unsubscribed",
        "<p>You will no longer get emails about your appointments.</p>",
    ))
}
