//! Rooms and devices: adding, changing and archiving them (with their future sessions moved
//! to other resources on request), their downtime, and the check that what a treatment area
//! requires exists where it is booked. [`allocate`] gives sessions their resources.

pub mod allocate;

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::caller::Expected;
use super::events;
use super::records::{self, changed_fields};
use crate::domain::events::{DomainEvent, EventType};
use crate::domain::resources::Requirements;
use crate::domain::slots::Span;
use crate::error::{AppError, FieldError, ProblemType};
use crate::models::allocations;
use crate::models::resources::{
    self as model, Downtime, NewDowntime, NewResource, Resource, ResourceChanges,
};
use crate::models::versioned::Versioned;
use crate::models::{locations, providers, sessions};
use allocate::Needs;

/// Adds a resource at an active location.
pub async fn create(
    conn: &mut AsyncPgConnection,
    new: NewResource,
    now: DateTime<Utc>,
) -> Result<Resource, AppError> {
    let location = locations::find(conn, new.location_id)
        .await?
        .ok_or_else(|| AppError::rule("location_id", "names a location that does not exist"))?;
    if location.archived_at.is_some() {
        return Err(AppError::Problem(
            ProblemType::InactiveRecord,
            "the location is archived".into(),
        ));
    }
    let row = model::insert(conn, new).await?;
    let event = DomainEvent::record(EventType::ResourceCreated, row.id, &[]);
    events::record(conn, now, [event]).await?;
    Ok(row)
}

/// Changes a resource at `expected`. A tag its future sessions were given it for cannot be
/// taken away (they would lose what they need): those sessions are listed.
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    expected: Expected,
    changes: ResourceChanges,
    now: DateTime<Utc>,
) -> Result<Resource, AppError> {
    let current = records::locked::<Resource>(conn, id, expected).await?;
    if let Some(tags) = &changes.tags {
        let dropped: Vec<&String> = current.tags.iter().filter(|t| !tags.contains(t)).collect();
        let relying: Vec<Uuid> = allocations::of_resource_for_tags(conn, id, &dropped, now).await?;
        if !relying.is_empty() {
            return Err(AppError::SessionsInUse {
                detail: "future sessions were given this resource for a tag the change removes; \
                         move them first"
                    .into(),
                session_ids: relying,
            });
        }
    }
    let fields = changed_fields!(changes; kind, name, tags);
    records::apply(conn, id, changes, &fields, now).await
}

/// Archives a resource at `expected`. Future sessions relying on it make it a 409 `in-use`
/// listing them, unless `reassign`: then each is given other free resources, or nothing
/// changes at all.
pub async fn archive(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    expected: Expected,
    reassign: bool,
    now: DateTime<Utc>,
) -> Result<Resource, AppError> {
    let current = records::locked::<Resource>(conn, id, expected).await?;
    if current.is_archived() {
        return Ok(current);
    }
    let relying = allocations::future_sessions(conn, id, now).await?;
    if !relying.is_empty() && !reassign {
        return Err(AppError::SessionsInUse {
            detail: format!(
                "{} future session(s) use this resource; move them, or archive with \
                 `reassign: true` to give them other free resources",
                relying.len()
            ),
            session_ids: relying,
        });
    }
    let row = records::archive::<Resource>(conn, id, expected, now).await?;
    let zone = super::calendar::zone_of(conn, row.location_id).await?;
    for session_id in relying {
        let session = sessions::find(conn, session_id)
            .await?
            .ok_or(AppError::NotFound("session"))?;
        let area = crate::models::treatment_areas::find(conn, session.treatment_area_id)
            .await?
            .ok_or(AppError::NotFound("treatment area"))?;
        let needs = Needs::of(
            &area.requirements(),
            session.kind,
            session.location_id,
            zone,
        );
        let period = Span {
            start: session.starts_at,
            end: session.held_until,
        };
        allocate::reallocate(conn, session.id, &needs, period, now)
            .await
            .map_err(|error| match error {
                AppError::ResourceUnavailable(tag) => AppError::SessionsInUse {
                    detail: format!(
                        "session {session_id} cannot be given another free resource tagged \
                         `{tag}`; nothing was archived"
                    ),
                    session_ids: vec![session_id],
                },
                other => other,
            })?;
    }
    Ok(row)
}

/// Adds downtime to a resource. Sessions it serves then make it a 409 `in-use` listing them.
pub async fn add_downtime(
    conn: &mut AsyncPgConnection,
    new: NewDowntime,
    now: DateTime<Utc>,
) -> Result<Downtime, AppError> {
    // Locked for update: a booking holds its candidates for share, so none is half-way.
    Resource::find_for_update(conn, new.resource_id)
        .await?
        .ok_or(AppError::NotFound("resource"))?;
    let span = Span {
        start: new.starts_at,
        end: new.ends_at,
    };
    let relying = allocations::sessions_on(conn, new.resource_id, span).await?;
    if !relying.is_empty() {
        return Err(AppError::SessionsInUse {
            detail: format!(
                "the resource serves {} session(s) then; move them (or archive the resource \
                 with `reassign: true`) first",
                relying.len()
            ),
            session_ids: relying,
        });
    }
    let row = model::insert_downtime(conn, new).await?;
    let event = DomainEvent::record(EventType::ResourceDowntimeCreated, row.resource_id, &[]);
    events::record(conn, now, [event]).await?;
    Ok(row)
}

/// Deletes one downtime entry of a resource.
pub async fn delete_downtime(
    conn: &mut AsyncPgConnection,
    resource_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Downtime, AppError> {
    let row = model::delete_downtime(conn, resource_id, id)
        .await?
        .ok_or(AppError::NotFound("downtime"))?;
    let event = DomainEvent::record(EventType::ResourceDowntimeDeleted, resource_id, &[]);
    events::record(conn, now, [event]).await?;
    Ok(row)
}

/// Holds a treatment area's requirements to what exists: each tag is carried by an active
/// resource, at every active location where the area is booked (by an active provider who
/// treats it). A tag nothing can meet names itself, and the location, in a 422.
pub async fn check_requirements(
    conn: &mut AsyncPgConnection,
    area_id: Option<Uuid>,
    requirements: &Requirements,
) -> Result<(), AppError> {
    let mut wanted: Vec<String> = requirements
        .by_kind()
        .iter()
        .flat_map(|(_, tags)| tags.iter().cloned())
        .collect();
    wanted.sort();
    wanted.dedup();
    if wanted.is_empty() {
        return Ok(());
    }
    let mut places: Vec<Option<Uuid>> = vec![None];
    if let Some(area_id) = area_id {
        let mut booked_at: Vec<Uuid> = providers::eligible(conn, area_id, None, None)
            .await?
            .into_iter()
            .map(|(_, location)| location)
            .collect();
        booked_at.sort();
        booked_at.dedup();
        places.extend(booked_at.into_iter().map(Some));
    }
    let mut errors = Vec::new();
    for place in places {
        let present = model::tags_at(conn, place, &wanted).await?;
        for (kind, tags) in requirements.by_kind() {
            for (n, tag) in tags.iter().enumerate() {
                if present.contains(tag) {
                    continue;
                }
                let field = format!("requirements.{}[{n}]", kind.as_str());
                let message = match place {
                    None => format!("no active resource carries the tag `{tag}`"),
                    Some(location_id) => {
                        let name = locations::find(conn, location_id)
                            .await?
                            .map(|l| l.name)
                            .unwrap_or_default();
                        format!(
                            "no active resource at location {location_id} ({name}), where the \
                             area is booked, carries the tag `{tag}`"
                        )
                    }
                };
                errors.push(FieldError::new(field, message));
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Rules(errors));
        }
    }
    Ok(())
}
