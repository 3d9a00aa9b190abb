//! Planning a course against the calendars as they are: which provider, and when each session
//! falls. Writes nothing.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::domain::planning::{
    IntervalWindow, Plan, PlanInput, Preferences, after_assessment, plan,
};
use crate::domain::resources::{Pools, Requirements};
use crate::domain::sessions::SessionKind;
use crate::domain::slots::Span;
use crate::error::{AppError, ProblemType};
use crate::models::courses as model;
use crate::models::{allocations, calendars};
use crate::models::{locations, patients, providers, settings, treatment_areas, working_hours};

/// What course to plan.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    pub patient_id: Uuid,
    pub treatment_area_id: Uuid,
    pub location_id: Uuid,
    /// One provider; absent: the first provider of the area at the location who fits every session.
    pub provider_id: Option<Uuid>,
    pub sessions: u32,
    /// Days between sessions; absent: the treatment area's.
    pub interval: Option<IntervalWindow>,
    /// The first session's start; absent: the earliest fitting slot.
    pub first_start: Option<DateTime<Utc>>,
    /// The kind of every session; injections unless said otherwise.
    pub kind: Option<SessionKind>,
    pub preferences: Preferences,
}

/// What planning read and proposed, for booking it.
#[derive(Debug, Clone)]
pub struct Planned {
    pub provider_id: Uuid,
    pub kind: SessionKind,
    pub zone: Tz,
    pub buffer: Duration,
    pub window: IntervalWindow,
    pub plan: Plan,
    /// The area's resource requirements, to book the plan with.
    pub requirements: Requirements,
}

/// Where a plan continues from: after a session, ignoring sessions about to move.
#[derive(Debug, Clone, Default)]
pub struct Continuation {
    /// The start of the session the plan follows.
    pub after: Option<DateTime<Utc>>,
    /// Sessions whose current times do not count (they are being re-planned).
    pub except: Vec<Uuid>,
    /// Times taken that the database does not know yet: (provider span with buffer, patient span).
    pub taken: Vec<(Span, Span)>,
}

/// Plans `request` against the calendars as they are now.
pub async fn propose(
    conn: &mut AsyncPgConnection,
    request: &PlanRequest,
    now: DateTime<Utc>,
) -> Result<Planned, AppError> {
    plan_after(conn, request, Continuation::default(), now).await
}

/// A plan request for `sessions` more sessions of `course`, by its own provider and window.
pub fn continuing(course: &model::Course, sessions: u32, kind: Option<SessionKind>) -> PlanRequest {
    PlanRequest {
        patient_id: course.patient_id,
        treatment_area_id: course.treatment_area_id,
        location_id: course.location_id,
        provider_id: Some(course.provider_id),
        sessions,
        interval: Some(IntervalWindow {
            min: course.interval_min_days.max(1) as u32,
            target: course.interval_target_days.map(|t| t.max(1) as u32),
            max: course.interval_max_days.max(1) as u32,
        }),
        first_start: None,
        kind,
        preferences: Preferences::default(),
    }
}

/// Plans `request`, continuing as `continuation` says.
pub async fn plan_after(
    conn: &mut AsyncPgConnection,
    request: &PlanRequest,
    continuation: Continuation,
    now: DateTime<Utc>,
) -> Result<Planned, AppError> {
    let patient = patients::find(conn, request.patient_id)
        .await?
        .ok_or_else(|| AppError::rule("patient_id", "names a patient that does not exist"))?;
    if patient.archived_at.is_some() {
        return Err(AppError::Problem(
            ProblemType::InactiveRecord,
            "the patient is archived".into(),
        ));
    }
    let area = treatment_areas::find(conn, request.treatment_area_id)
        .await?
        .ok_or_else(|| {
            AppError::rule(
                "treatment_area_id",
                "names a treatment area that does not exist",
            )
        })?;
    let zones = locations::time_zones(conn, &[request.location_id]).await?;
    let zone = *zones
        .get(&request.location_id)
        .ok_or_else(|| AppError::rule("location_id", "names a location that does not exist"))?;
    let settings = settings::get(conn).await?;
    let kind = request.kind.unwrap_or(SessionKind::Injection);
    let minutes = match kind {
        SessionKind::Assessment => area.assessment_minutes,
        SessionKind::Injection => area.injection_minutes,
        SessionKind::FollowUp => area.follow_up_minutes,
    };
    let buffer = match kind {
        SessionKind::Injection => {
            Duration::minutes(i64::from(settings.buffer_after_injection_minutes))
        }
        _ => Duration::zero(),
    };
    let window = request.interval.unwrap_or(IntervalWindow {
        min: area.interval_min_days.max(1) as u32,
        target: area.interval_target_days.map(|t| t.max(1) as u32),
        max: area.interval_max_days.max(1) as u32,
    });
    let earliest = now + Duration::minutes(i64::from(settings.minimum_notice_minutes));
    let latest = now + Duration::days(i64::from(settings.booking_horizon_days));
    // Injection 1 does not fall on the assessment's day: the area's gap follows it.
    let not_before = match kind {
        SessionKind::Assessment => None,
        _ => calendars::latest_assessment(conn, patient.id, area.id)
            .await?
            .map(|assessment| {
                after_assessment(assessment, zone, area.assessment_gap_days.max(0) as u32)
            }),
    };
    let horizon = Span {
        start: earliest - Duration::days(1),
        end: latest + Duration::days(1),
    };
    let mut patient_busy =
        calendars::patient_busy(conn, patient.id, horizon, &continuation.except).await?;
    patient_busy.extend(continuation.taken.iter().map(|(_, patient)| *patient));
    let requirements = area.requirements();
    let pools = Arc::new(
        pools_at(
            conn,
            request.location_id,
            requirements.of(kind),
            horizon,
            &continuation.except,
            now,
        )
        .await?,
    );
    let mut candidates = providers::eligible(
        conn,
        area.id,
        request.provider_id,
        Some(request.location_id),
    )
    .await?;
    candidates.sort();
    let mut best: Option<Planned> = None;
    for (provider_id, _) in candidates {
        let hours = working_hours::for_provider(conn, provider_id)
            .await?
            .into_iter()
            .filter(|row| row.location_id == request.location_id)
            .filter_map(|row| row.interval())
            .collect();
        let mut provider_busy: Vec<Span> =
            calendars::busy(conn, &[provider_id], horizon, &continuation.except, now)
                .await?
                .into_iter()
                .map(|(_, span)| span)
                .collect();
        provider_busy.extend(continuation.taken.iter().map(|(provider, _)| *provider));
        let input = PlanInput {
            sessions: request.sessions,
            duration: Duration::minutes(i64::from(minutes)),
            buffer_after: buffer,
            step: Duration::minutes(i64::from(settings.slot_step_minutes)),
            window,
            first_start: request.first_start,
            time_zone: zone,
            hours,
            provider_busy,
            patient_busy: patient_busy.clone(),
            earliest,
            latest,
            preferences: request.preferences.clone(),
            after: continuation.after,
            not_before,
            resources: pools.clone(),
        };
        let proposal = plan(&input);
        let better = best
            .as_ref()
            .is_none_or(|b| proposal.unplaced.len() < b.plan.unplaced.len());
        if better {
            let complete = proposal.unplaced.is_empty();
            best = Some(Planned {
                provider_id,
                kind,
                zone,
                buffer,
                window,
                plan: proposal,
                requirements: requirements.clone(),
            });
            if complete {
                break;
            }
        }
    }
    best.ok_or_else(|| {
        AppError::Problem(
            ProblemType::ProviderNotEligible,
            "no active provider treats this area at this location".into(),
        )
    })
}

/// The pools of the resources `needs` at `location_id` over `window`, the sessions `except`
/// not counting (they are being re-planned): one query.
pub async fn pools_at(
    conn: &mut AsyncPgConnection,
    location_id: Uuid,
    needs: &[String],
    window: Span,
    except: &[Uuid],
    now: DateTime<Utc>,
) -> Result<Pools, AppError> {
    if needs.is_empty() {
        return Ok(Pools::default());
    }
    let busy: Vec<_> = allocations::busy(conn, &[location_id], needs, window, except, now)
        .await?
        .into_iter()
        .map(|(_, busy)| busy)
        .collect();
    Ok(Pools::new(needs, &busy))
}
