//! Providers' calendar feeds: issue and revoke a feed's capability URL, and render the feed a
//! calendar app fetches with it.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::caller::Caller;
use super::notifications::Outbox;
use super::notifications::compose::provider_label;
use crate::domain::access::{generate_link_token, hash_key};
use crate::domain::feed::{AHEAD, Feed, FeedEvent, PAST, initials, shown, summary};
use crate::error::AppError;
use crate::models::{audit_events, calendar_feeds as model, providers, settings};

/// The feed's URL: the token in the path, since calendar apps fetch it without headers.
pub fn url(public_url: &str, token: &str) -> String {
    format!("{}/calendar/{token}.ics", public_url.trim_end_matches('/'))
}

async fn visible_provider(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    provider_id: Uuid,
) -> Result<providers::ProviderRow, AppError> {
    let provider = providers::find(conn, provider_id)
        .await?
        .ok_or(AppError::NotFound("provider"))?;
    if !caller.sees_provider(provider_id) {
        return Err(AppError::Concealed("provider"));
    }
    Ok(provider.row)
}

/// A new feed URL for the provider; the one before it (if any) stops working.
pub async fn issue(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    provider_id: Uuid,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let provider = visible_provider(conn, caller, provider_id).await?;
    if provider.archived_at.is_some() {
        return Err(AppError::rule(
            "provider_id",
            "is archived: it has no calendar to share",
        ));
    }
    model::revoke(conn, provider_id, now).await?;
    let (token, hash) = generate_link_token().map_err(|e| AppError::Internal(Box::new(e)))?;
    model::insert(conn, &hash, provider_id, now).await?;
    let audit = caller.audit("calendar_feed.create", "providers", Some(provider_id), 201);
    audit_events::append(conn, audit).await?;
    Ok(token)
}

/// Revokes the provider's feed URL; 404 when it has none.
pub async fn revoke(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    provider_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    visible_provider(conn, caller, provider_id).await?;
    if !model::revoke(conn, provider_id, now).await? {
        return Err(AppError::NotFound("calendar feed"));
    }
    let audit = caller.audit("calendar_feed.delete", "providers", Some(provider_id), 204);
    audit_events::append(conn, audit).await?;
    Ok(())
}

/// The feed of a live token, as iCalendar text; a guessed or revoked token is the same 404.
pub async fn render(
    conn: &mut AsyncPgConnection,
    outbox: &Outbox,
    token: &str,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let provider_id = model::provider_of(conn, &hash_key(token))
        .await?
        .ok_or(AppError::NotFound("calendar feed"))?;
    let provider = providers::find(conn, provider_id)
        .await?
        .ok_or(AppError::NotFound("calendar feed"))?;
    let clinic = settings::get(conn).await?;
    let rows = model::sessions_of(conn, provider_id, now - PAST, now + AHEAD).await?;
    let events = rows
        .into_iter()
        .filter(|row| shown(row.status, row.updated_at, now))
        .map(|row| {
            let who = match clinic.feed_full_names {
                true => format!("{} {}", row.given_name, row.family_name),
                false => initials(&row.given_name, &row.family_name),
            };
            FeedEvent {
                session_id: row.id,
                sequence: row.version - 1,
                starts_at: row.starts_at,
                ends_at: row.ends_at,
                changed_at: row.updated_at,
                status: row.status,
                summary: summary(&row.area, row.kind, &who),
                location: match row.address {
                    Some(address) => format!("{}, {address}", row.location),
                    None => row.location,
                },
            }
        })
        .collect();
    let name = match &clinic.sender_name {
        Some(clinic) => format!("{} — {clinic}", provider_label(&provider.row)),
        None => provider_label(&provider.row),
    };
    let feed = Feed {
        name,
        domain: outbox.domain().to_owned(),
        events,
    };
    Ok(feed.to_ics())
}
