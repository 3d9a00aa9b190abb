//! The one path by which a versioned record (a patient, location, treatment area or provider)
//! changes or is archived: locked, held to the caller's `If-Match`, written, and its domain
//! event recorded, all in the caller's transaction.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::caller::Expected;
use super::events;
use crate::domain::events::DomainEvent;
use crate::error::AppError;
use crate::models::versioned::Versioned;

/// The record, locked for a change, if it exists and is still at `expected`.
pub async fn locked<R: Versioned>(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    expected: Expected,
) -> Result<R, AppError> {
    let row = R::find_for_update(conn, id)
        .await?
        .ok_or(AppError::NotFound(R::NAME))?;
    expected.check(row.version())?;
    Ok(row)
}

/// Applies `changes` to a record locked by [`locked`]; its `*.updated` event names `fields`.
pub async fn apply<R: Versioned>(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    changes: R::Changes,
    fields: &[&str],
    now: DateTime<Utc>,
) -> Result<R, AppError> {
    let row = R::update(conn, id, changes).await?;
    events::record(conn, now, [DomainEvent::record(R::UPDATED, id, fields)]).await?;
    Ok(row)
}

/// Changes the record if it is at `expected`.
pub async fn update<R: Versioned>(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    expected: Expected,
    changes: R::Changes,
    fields: &[&str],
    now: DateTime<Utc>,
) -> Result<R, AppError> {
    locked::<R>(conn, id, expected).await?;
    apply(conn, id, changes, fields, now).await
}

/// Archives the record if it is at `expected`; one archived already is answered as it is.
pub async fn archive<R: Versioned>(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    expected: Expected,
    now: DateTime<Utc>,
) -> Result<R, AppError> {
    let current = locked::<R>(conn, id, expected).await?;
    if current.is_archived() {
        return Ok(current);
    }
    let row = R::archive(conn, id).await?;
    events::record(conn, now, [DomainEvent::record(R::ARCHIVED, id, &[])]).await?;
    Ok(row)
}

/// The names of the fields a change sets, from `(name, is set)` pairs.
pub fn set_fields<'a>(fields: &[(&'a str, bool)]) -> Vec<&'a str> {
    fields
        .iter()
        .filter(|(_, set)| *set)
        .map(|(name, _)| *name)
        .collect()
}

/// The names of the fields of `changes` that are set: `changed_fields!(changes; name, address)`.
macro_rules! changed_fields {
    ($changes:expr; $($field:ident),+ $(,)?) => {
        $crate::app::records::set_fields(&[$((stringify!($field), $changes.$field.is_some())),+])
    };
}

pub(crate) use changed_fields;
