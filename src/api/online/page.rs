//! `GET /book`: the booking page (`examples/booking.html`), served by the service itself so a
//! patient's browser talks to the API from the same origin, with no CORS to set up. Manage
//! links open it on a session (`/book#manage=<token>`).

use actix_web::{HttpResponse, get};

use crate::error::AppError;
use crate::http::auth::Public;
use crate::http::problems::{PublicErrors, ServerErrors};

const PAGE: &str = include_str!("../../../examples/booking.html");

/// The booking page
///
/// A page with no dependencies: pick an area, a day and a time, hold it, give your details,
/// enter the code from the email; with `#manage=<token>`, the session of a manage link.
#[utoipa::path(
    tag = "online booking",
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        PublicErrors, ServerErrors,
    )
)]
#[get("/book")]
pub async fn booking_page(_caller: Public) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .body(PAGE))
}
