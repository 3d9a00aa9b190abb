//! Online booking by patients: `holds` (a slot kept a few minutes), `requests` (the visitor's
//! details and the mailed code, then the verified booking), `manage` (what the manage link
//! shows and does). A visitor acts as [`Caller::visitor`](super::caller::Caller::visitor):
//! every booking goes through the same use cases and rules as the front desk's.

pub mod holds;
pub mod manage;
pub mod requests;

use chrono::{DateTime, Utc};

use crate::domain::access::hash_key;
use crate::error::{AppError, ProblemType};
use crate::models::holds::{self as model, Hold};

/// The hold `id` if `token` is its token; 422 naming `hold_id` when no hold has both (a wrong
/// token says no more than an unknown id), 409 `hold-expired` when it no longer keeps its slot.
pub async fn held(
    conn: &mut diesel_async::AsyncPgConnection,
    id: uuid::Uuid,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Hold, AppError> {
    let hold = model::find_for_update(conn, id).await?;
    let given = hash_key(token);
    let Some(hold) = hold.filter(|hold| same_digest(&hold.token_hash, &given)) else {
        return Err(AppError::rule(
            "hold_id",
            "names no hold with this hold_token",
        ));
    };
    if !hold.is_live(now) {
        return Err(AppError::Problem(
            ProblemType::HoldExpired,
            "the hold has expired or was used: hold a time again".into(),
        ));
    }
    Ok(hold)
}

/// Compares two digests in time independent of where they differ.
fn same_digest(stored: &[u8], given: &[u8; 32]) -> bool {
    stored.len() == given.len()
        && stored
            .iter()
            .zip(given)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}
