//! Online booking for patients, with no key: `holds` (`POST /v1/holds`), `bookings`
//! (`POST /v1/bookings`, `POST /v1/bookings/{id}/verify`), `manage` (`/v1/manage/{token}`),
//! and `page`, the booking page itself (`GET /book`).

pub mod bookings;
pub mod holds;
pub mod manage;
pub mod page;

use crate::http::state::AppState;

/// The link a patient manages their session with: the booking page, the token in its
/// fragment (a fragment is never sent to a server, so no log or `Referer` carries it).
pub fn manage_url(state: &AppState, token: &str) -> String {
    format!(
        "{}/book#manage={token}",
        state.outbox.public_url.trim_end_matches('/')
    )
}
