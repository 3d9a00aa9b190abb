//! Online booking for patients, with no key: `holds` (`POST /v1/holds`), `bookings`
//! (`POST /v1/bookings`, `POST /v1/bookings/{id}/verify`), `manage` (`/v1/manage/{token}`),
//! and `page`, the booking page itself (`GET /book`).

pub mod bookings;
pub mod holds;
pub mod manage;
pub mod page;

use crate::http::state::AppState;

/// The link a patient manages their session with (`app::online::manage::link`).
pub fn manage_url(state: &AppState, token: &str) -> String {
    crate::app::online::manage::link(&state.outbox.public_url, token)
}
