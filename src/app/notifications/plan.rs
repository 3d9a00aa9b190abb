//! The planner: reads the event log from its cursor and turns each change into notification
//! rows — confirmations, reminders, notices — in one transaction with the cursor's advance, so
//! every event is planned exactly once, by whichever replica holds the cursor.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::app::events;
use crate::domain::courses::CourseStatus;
use crate::domain::events::{CourseEventData, EventType, SessionEventData, WaitlistEventData};
use crate::domain::notifications::{
    Due, NotificationKind, NotificationStatus, SkipReason, notice_due, reminder_due,
};
use crate::domain::sessions::SessionKind;
use crate::error::AppError;
use crate::models::events::Event;
use crate::models::notifications::{self as model, NewNotification};
use crate::models::settings::{self, ClinicSettings};
use crate::models::{locations, patients, treatment_areas};

/// The planner's name on its cursor.
pub const CONSUMER: &str = "notifications";

/// Events planned per transaction.
const BATCH: i64 = 200;

/// Plans what has happened since the cursor, a batch per transaction, until the log is read
/// or another replica holds the cursor. Returns how many events were read.
pub async fn plan_pending(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    events::consume(conn, CONSUMER, BATCH, move |conn, events| {
        Box::pin(async move {
            let mut planner = Planner::new(conn, now).await?;
            for event in &events {
                planner.plan(conn, event).await?;
            }
            Ok(())
        })
    })
    .await
}

/// Who a patient is to the planner: whether messages can reach them.
#[derive(Debug, Clone, Copy)]
struct Reach(Option<SkipReason>);

struct Planner {
    now: DateTime<Utc>,
    settings: ClinicSettings,
    zones: HashMap<Uuid, Tz>,
    reach: HashMap<Uuid, Reach>,
}

impl Planner {
    async fn new(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> Result<Self, AppError> {
        Ok(Self {
            now,
            settings: settings::get(conn).await?,
            zones: HashMap::new(),
            reach: HashMap::new(),
        })
    }

    async fn zone(
        &mut self,
        conn: &mut AsyncPgConnection,
        location_id: Uuid,
    ) -> Result<Tz, AppError> {
        if let Some(zone) = self.zones.get(&location_id) {
            return Ok(*zone);
        }
        let zones = locations::time_zones(conn, &[location_id]).await?;
        let zone = zones.get(&location_id).copied().unwrap_or(chrono_tz::UTC);
        self.zones.insert(location_id, zone);
        Ok(zone)
    }

    /// Why messages cannot reach the patient, if they cannot.
    async fn reach(
        &mut self,
        conn: &mut AsyncPgConnection,
        patient_id: Uuid,
    ) -> Result<Reach, AppError> {
        if let Some(reach) = self.reach.get(&patient_id) {
            return Ok(*reach);
        }
        let reach = Reach(match patients::find(conn, patient_id).await? {
            None => Some(SkipReason::PatientArchived),
            Some(p) if p.archived_at.is_some() => Some(SkipReason::PatientArchived),
            Some(p) if p.email.is_none() => Some(SkipReason::NoEmail),
            Some(p) if !p.email_notifications => Some(SkipReason::OptedOut),
            Some(_) => None,
        });
        self.reach.insert(patient_id, reach);
        Ok(reach)
    }

    async fn plan(&mut self, conn: &mut AsyncPgConnection, event: &Event) -> Result<(), AppError> {
        let Some(event_type) = EventType::parse(&event.type_) else {
            return Ok(());
        };
        match event_type {
            EventType::SessionBooked
            | EventType::SessionRescheduled
            | EventType::SessionCancelled
            | EventType::SessionCompleted
            | EventType::SessionNoShow => {
                let data: SessionEventData = parse(event)?;
                self.session_changed(conn, event, event_type, &data).await
            }
            EventType::CourseCreated | EventType::CourseExtended => {
                let data: CourseEventData = parse(event)?;
                let booked =
                    event_type == EventType::CourseExtended || data.status == CourseStatus::Active;
                match (booked, event.patient_id) {
                    (true, Some(patient_id)) => {
                        let zone = self.zone(conn, data.location_id).await?;
                        let due = notice_due(self.now, self.settings.quiet_hours(), zone);
                        let row = self
                            .row(conn, event, patient_id, NotificationKind::CourseBooked, due)
                            .await?;
                        model::plan(
                            conn,
                            vec![NewNotification {
                                course_id: Some(event.subject_id),
                                ..row
                            }],
                        )
                        .await?;
                        Ok(())
                    }
                    _ => Ok(()),
                }
            }
            EventType::WaitlistOfferCreated => {
                let data: WaitlistEventData = parse(event)?;
                let (Some(patient_id), Some(offer_id)) = (event.patient_id, data.offer_id) else {
                    return Ok(());
                };
                // Due at once: the opening was offered outside quiet hours, and the offer
                // lives only `waitlist_offer_minutes`.
                let row = self
                    .row(
                        conn,
                        event,
                        patient_id,
                        NotificationKind::WaitlistOffer,
                        self.now,
                    )
                    .await?;
                model::plan(
                    conn,
                    vec![NewNotification {
                        waitlist_offer_id: Some(offer_id),
                        session_id: data.session_id,
                        ..row
                    }],
                )
                .await?;
                Ok(())
            }
            EventType::PatientArchived => {
                model::cancel_pending_of_patient(conn, event.subject_id, self.now).await?;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    async fn session_changed(
        &mut self,
        conn: &mut AsyncPgConnection,
        event: &Event,
        event_type: EventType,
        data: &SessionEventData,
    ) -> Result<(), AppError> {
        use NotificationKind::{BookingConfirmation, Reminder, Rescheduled};
        let Some(patient_id) = event.patient_id else {
            return Ok(());
        };
        let session_id = event.subject_id;
        let zone = self.zone(conn, data.location_id).await?;
        let notice = notice_due(self.now, self.settings.quiet_hours(), zone);
        let mut rows = Vec::new();
        match event_type {
            EventType::SessionBooked => {
                if data.course_booking != Some(true) {
                    rows.push(
                        self.row(conn, event, patient_id, BookingConfirmation, notice)
                            .await?,
                    );
                }
                rows.extend(
                    self.reminders(conn, event, patient_id, data.starts_at, zone)
                        .await?,
                );
            }
            EventType::SessionRescheduled => {
                model::cancel_pending_of_session(conn, session_id, &[Reminder], self.now).await?;
                // A confirmation not yet sent will show the new time; a notice not yet sent is
                // replaced by this one, which names the time the patient last heard of.
                let pending = model::pending_of_session(conn, session_id).await?;
                let confirmation_pending = pending.iter().any(|n| n.kind == BookingConfirmation);
                let known_start = pending
                    .iter()
                    .filter(|n| n.kind == Rescheduled)
                    .filter_map(|n| n.previous_starts_at)
                    .min()
                    .or(data.previous_starts_at);
                model::cancel_pending_of_session(conn, session_id, &[Rescheduled], self.now)
                    .await?;
                if !confirmation_pending {
                    let mut row = self
                        .row(conn, event, patient_id, Rescheduled, notice)
                        .await?;
                    row.previous_starts_at = known_start;
                    rows.push(row);
                }
                rows.extend(
                    self.reminders(conn, event, patient_id, data.starts_at, zone)
                        .await?,
                );
            }
            EventType::SessionCancelled => {
                let superseded = [BookingConfirmation, Reminder, Rescheduled];
                model::cancel_pending_of_session(conn, session_id, &superseded, self.now).await?;
                rows.push(
                    self.row(conn, event, patient_id, NotificationKind::Cancelled, notice)
                        .await?,
                );
            }
            EventType::SessionCompleted => {
                model::cancel_pending_of_session(conn, session_id, &[Reminder], self.now).await?;
                if data.kind == SessionKind::Injection
                    && treatment_areas::find(conn, data.treatment_area_id)
                        .await?
                        .is_some_and(|area| area.post_care.is_some())
                {
                    rows.push(
                        self.row(conn, event, patient_id, NotificationKind::Aftercare, notice)
                            .await?,
                    );
                }
            }
            _ => {
                model::cancel_pending_of_session(conn, session_id, &[Reminder], self.now).await?;
            }
        }
        for row in &mut rows {
            row.session_id = Some(session_id);
        }
        model::plan(conn, rows).await?;
        Ok(())
    }

    /// One reminder per offset of the settings, each due before the start or skipped.
    async fn reminders(
        &mut self,
        conn: &mut AsyncPgConnection,
        event: &Event,
        patient_id: Uuid,
        starts_at: DateTime<Utc>,
        zone: Tz,
    ) -> Result<Vec<NewNotification>, AppError> {
        let quiet = self.settings.quiet_hours();
        let mut rows = Vec::new();
        for offset in self.settings.reminder_offsets_minutes.clone() {
            let due = reminder_due(starts_at, offset, self.now, quiet, zone);
            let at = match due {
                Due::At(at) => at,
                // The moment it would have had.
                Due::Skip(_) => starts_at - chrono::Duration::minutes(i64::from(offset)),
            };
            let mut row = self
                .row(conn, event, patient_id, NotificationKind::Reminder, at)
                .await?;
            row.offset_minutes = Some(offset);
            if let (Due::Skip(reason), NotificationStatus::Pending) = (due, row.status) {
                row.status = NotificationStatus::Skipped;
                row.skip_reason = Some(reason);
            }
            rows.push(row);
        }
        Ok(rows)
    }

    /// A notification of `kind` due at `due`, skipped at once when the patient cannot be reached.
    async fn row(
        &mut self,
        conn: &mut AsyncPgConnection,
        event: &Event,
        patient_id: Uuid,
        kind: NotificationKind,
        due_at: DateTime<Utc>,
    ) -> Result<NewNotification, AppError> {
        let Reach(unreachable) = self.reach(conn, patient_id).await?;
        Ok(NewNotification {
            id: Uuid::now_v7(),
            patient_id,
            session_id: None,
            course_id: None,
            kind,
            status: match unreachable {
                Some(_) => NotificationStatus::Skipped,
                None => NotificationStatus::Pending,
            },
            due_at,
            offset_minutes: None,
            previous_starts_at: None,
            event_id: Some(event.id),
            resend_of: None,
            skip_reason: unreachable,
            created_at: self.now,
            updated_at: self.now,
            waitlist_offer_id: None,
        })
    }
}

/// An event's data in the shape its type has.
fn parse<T: serde::de::DeserializeOwned>(event: &Event) -> Result<T, AppError> {
    serde_json::from_value(event.data.clone()).map_err(|e| AppError::Internal(Box::new(e)))
}
