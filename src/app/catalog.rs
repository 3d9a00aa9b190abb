//! The clinic's catalog: locations, treatment areas, providers, their weekly hours and their
//! time off. Each change writes its domain event in the caller's transaction; versioned
//! records change through [`records`](super::records).

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::caller::Expected;
use super::events;
use super::records::{self, changed_fields};
use crate::domain::events::{DomainEvent, EventData, EventType, ScheduleEventData};
use crate::domain::working_hours::{WeeklyInterval, check_pattern};
use crate::error::{AppError, FieldError};
use crate::models::locations::{self, Location, LocationChanges, NewLocation};
use crate::models::providers::{self, NewProvider, Provider, ProviderChanges, ProviderRow};
use crate::models::settings::{self, ClinicSettings, SettingsChanges};
use crate::models::treatment_areas::{self, NewTreatmentArea, TreatmentArea, TreatmentAreaChanges};
use crate::models::{time_off, working_hours};

async fn created(
    conn: &mut AsyncPgConnection,
    event_type: EventType,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    events::record(conn, now, [DomainEvent::record(event_type, id, &[])]).await
}

/// Opens a location.
pub async fn create_location(
    conn: &mut AsyncPgConnection,
    new: NewLocation,
    now: DateTime<Utc>,
) -> Result<Location, AppError> {
    let row = locations::insert(conn, new).await?;
    created(conn, EventType::LocationCreated, row.id, now).await?;
    Ok(row)
}

/// Changes a location at `expected`.
pub async fn update_location(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    expected: Expected,
    changes: LocationChanges,
    now: DateTime<Utc>,
) -> Result<Location, AppError> {
    let fields = changed_fields!(changes; name, address, time_zone);
    records::update(conn, id, expected, changes, &fields, now).await
}

/// Adds a treatment area.
pub async fn create_treatment_area(
    conn: &mut AsyncPgConnection,
    new: NewTreatmentArea,
    now: DateTime<Utc>,
) -> Result<TreatmentArea, AppError> {
    let requirements = crate::domain::resources::Requirements::from_stored(&new.requirements);
    super::resources::check_requirements(conn, None, &requirements).await?;
    let row = treatment_areas::insert(conn, new).await?;
    created(conn, EventType::TreatmentAreaCreated, row.id, now).await?;
    Ok(row)
}

/// Changes a treatment area at `expected`.
pub async fn update_treatment_area(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    expected: Expected,
    changes: TreatmentAreaChanges,
    now: DateTime<Utc>,
) -> Result<TreatmentArea, AppError> {
    let fields = changed_fields!(changes;
        slug, name, description, assessment_minutes, injection_minutes, follow_up_minutes,
        sessions_min, sessions_max, interval_min_days, interval_target_days, interval_max_days,
        pre_care, post_care, assessment_gap_days, requirements);
    if let Some(stored) = &changes.requirements {
        let requirements = crate::domain::resources::Requirements::from_stored(stored);
        super::resources::check_requirements(conn, Some(id), &requirements).await?;
    }
    records::update(conn, id, expected, changes, &fields, now).await
}

/// Which treatment areas and locations a provider serves (`None` keeps them as they are).
#[derive(Debug, Clone, Default)]
pub struct ProviderLinks {
    pub treatment_area_ids: Option<Vec<Uuid>>,
    pub location_ids: Option<Vec<Uuid>>,
}

/// Adds a provider with the areas they treat and the locations they work at.
pub async fn create_provider(
    conn: &mut AsyncPgConnection,
    new: NewProvider,
    treatment_area_ids: &[Uuid],
    location_ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<Provider, AppError> {
    let provider = providers::insert(conn, new, treatment_area_ids, location_ids).await?;
    created(conn, EventType::ProviderCreated, provider.row.id, now).await?;
    Ok(provider)
}

/// Changes a provider at `expected`, and which areas and locations they serve.
pub async fn update_provider(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    expected: Expected,
    changes: ProviderChanges,
    links: ProviderLinks,
    now: DateTime<Utc>,
) -> Result<Provider, AppError> {
    let mut fields = changed_fields!(changes; name, credentials, bio);
    fields.extend(changed_fields!(links; treatment_area_ids, location_ids));
    records::locked::<ProviderRow>(conn, id, expected).await?;
    providers::replace_links(
        conn,
        id,
        links.treatment_area_ids.as_deref(),
        links.location_ids.as_deref(),
    )
    .await?;
    let row = records::apply(conn, id, changes, &fields, now).await?;
    Ok(providers::with_links(conn, vec![row]).await?.remove(0))
}

/// Archives a provider at `expected`; their keys stop working with it.
pub async fn archive_provider(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    expected: Expected,
    now: DateTime<Utc>,
) -> Result<Provider, AppError> {
    let row = records::archive::<ProviderRow>(conn, id, expected, now).await?;
    Ok(providers::with_links(conn, vec![row]).await?.remove(0))
}

/// Replaces a provider's weekly hours with `intervals`, which must hold together and fall at
/// locations the provider serves.
pub async fn replace_working_hours(
    conn: &mut AsyncPgConnection,
    provider_id: Uuid,
    intervals: Vec<WeeklyInterval>,
    now: DateTime<Utc>,
) -> Result<Vec<working_hours::WorkingHours>, AppError> {
    // The provider's row lock serialises concurrent replacements of its pattern.
    records::locked::<ProviderRow>(conn, provider_id, Expected::Any).await?;
    let served = providers::location_ids(conn, provider_id).await?;
    let problems = check_pattern(&intervals, &served);
    if !problems.is_empty() {
        return Err(AppError::Rules(
            problems
                .into_iter()
                .map(|p| FieldError::new(format!("intervals[{}].{}", p.index, p.field), p.message))
                .collect(),
        ));
    }
    let rows = intervals
        .iter()
        .map(|i| working_hours::WorkingHours {
            id: Uuid::now_v7(),
            provider_id,
            location_id: i.location_id,
            weekday: i.weekday.iso_number(),
            start_time: i.start.time(),
            end_time: i.end.time(),
            effective_from: i.effective_from,
            effective_until: i.effective_until,
        })
        .collect();
    working_hours::replace(conn, provider_id, rows).await?;
    let rows = working_hours::for_provider(conn, provider_id).await?;
    let data = ScheduleEventData {
        provider_id,
        starts_at: None,
        ends_at: None,
        intervals: Some(rows.len() as i32),
    };
    let event = DomainEvent::new(
        EventType::WorkingHoursUpdated,
        provider_id,
        None,
        EventData::Schedule(data),
    );
    events::record(conn, now, [event]).await?;
    Ok(rows)
}

fn time_off_event(event_type: EventType, row: &time_off::TimeOff) -> DomainEvent {
    let data = ScheduleEventData {
        provider_id: row.provider_id,
        starts_at: Some(row.starts_at),
        ends_at: Some(row.ends_at),
        intervals: None,
    };
    DomainEvent::new(event_type, row.id, None, EventData::Schedule(data))
}

/// Records time off of a provider.
pub async fn create_time_off(
    conn: &mut AsyncPgConnection,
    new: time_off::NewTimeOff,
    now: DateTime<Utc>,
) -> Result<time_off::TimeOff, AppError> {
    let row = time_off::insert(conn, new).await?;
    events::record(conn, now, [time_off_event(EventType::TimeOffCreated, &row)]).await?;
    Ok(row)
}

/// Removes time off of a provider; 404 when the provider has no such entry.
pub async fn delete_time_off(
    conn: &mut AsyncPgConnection,
    provider_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let row = time_off::delete(conn, provider_id, id)
        .await?
        .ok_or(AppError::NotFound("time off"))?;
    events::record(conn, now, [time_off_event(EventType::TimeOffDeleted, &row)]).await?;
    Ok(())
}

/// Changes the clinic's scheduling rules, if they are still at `expected`.
pub async fn update_settings(
    conn: &mut AsyncPgConnection,
    expected: Expected,
    changes: SettingsChanges,
) -> Result<ClinicSettings, AppError> {
    let current = settings::get_for_update(conn).await?;
    expected.check(current.version)?;
    Ok(settings::update(conn, changes).await?)
}
