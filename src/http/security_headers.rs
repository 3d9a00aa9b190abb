//! Headers every response carries so browsers treat the API defensively.

use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};

/// The docs page runs Swagger UI's own scripts and styles from this origin.
const DOCS_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                        script-src 'self' 'unsafe-inline'; frame-ancestors 'none'";
/// The booking page runs its own inline script and style, and talks to this origin only.
const BOOKING_CSP: &str = "default-src 'none'; script-src 'unsafe-inline'; \
                           style-src 'unsafe-inline'; connect-src 'self'; form-action 'none'; \
                           base-uri 'none'; frame-ancestors 'none'";
/// JSON needs nothing from a browser.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// What kind of answer a path gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Docs,
    Booking,
    Api,
}

impl Page {
    pub fn of(path: &str) -> Self {
        match path {
            "/book" => Self::Booking,
            docs if docs.starts_with("/docs") => Self::Docs,
            _ => Self::Api,
        }
    }
}

/// Adds the security headers (and `no-store`: answers may hold personal data).
pub fn apply(headers: &mut HeaderMap, page: Page) {
    let csp = match page {
        Page::Docs => DOCS_CSP,
        Page::Booking => BOOKING_CSP,
        Page::Api => API_CSP,
    };
    let is_docs = page == Page::Docs;
    let set = [
        (header::CONTENT_SECURITY_POLICY, csp),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            HeaderName::from_static("cross-origin-resource-policy"),
            "same-site",
        ),
    ];
    for (name, value) in set {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if !is_docs && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}
