//! The clinic's scheduling rules: one row.

use chrono::{DateTime, NaiveTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::domain::notifications::QuietHours;
use crate::schema::clinic_settings;

/// The row of `clinic_settings`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = clinic_settings)]
pub struct ClinicSettings {
    pub slot_step_minutes: i32,
    pub minimum_notice_minutes: i32,
    pub booking_horizon_days: i32,
    pub late_cancellation_hours: i32,
    pub buffer_after_injection_minutes: i32,
    pub check_in_lead_minutes: i32,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
    pub reminder_offsets_minutes: Vec<i32>,
    pub quiet_hours_start: Option<NaiveTime>,
    pub quiet_hours_end: Option<NaiveTime>,
    pub sender_name: Option<String>,
    pub reply_to: Option<String>,
    pub hold_minutes: i32,
    pub phone: Option<String>,
    pub feed_full_names: bool,
    pub waitlist_offer_count: i32,
    pub waitlist_offer_minutes: i32,
    pub waitlist_debounce_minutes: i32,
}

impl ClinicSettings {
    /// The quiet hours, when the clinic keeps any.
    pub fn quiet_hours(&self) -> Option<QuietHours> {
        match (self.quiet_hours_start, self.quiet_hours_end) {
            (Some(start), Some(end)) => Some(QuietHours {
                start: start.into(),
                end: end.into(),
            }),
            _ => None,
        }
    }
}

/// Fields to change; `None` leaves a field as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = clinic_settings)]
pub struct SettingsChanges {
    pub slot_step_minutes: Option<i32>,
    pub minimum_notice_minutes: Option<i32>,
    pub booking_horizon_days: Option<i32>,
    pub late_cancellation_hours: Option<i32>,
    pub buffer_after_injection_minutes: Option<i32>,
    pub check_in_lead_minutes: Option<i32>,
    pub reminder_offsets_minutes: Option<Vec<i32>>,
    pub quiet_hours_start: Option<Option<NaiveTime>>,
    pub quiet_hours_end: Option<Option<NaiveTime>>,
    pub sender_name: Option<Option<String>>,
    pub reply_to: Option<Option<String>>,
    pub hold_minutes: Option<i32>,
    pub phone: Option<Option<String>>,
    pub feed_full_names: Option<bool>,
    pub waitlist_offer_count: Option<i32>,
    pub waitlist_offer_minutes: Option<i32>,
    pub waitlist_debounce_minutes: Option<i32>,
}

pub async fn get(mut conn: &AsyncPgConnection) -> QueryResult<ClinicSettings> {
    clinic_settings::table
        .select(ClinicSettings::as_select())
        .first(&mut conn)
        .await
}

/// The row, locked until the transaction ends, for a versioned change.
pub async fn get_for_update(conn: &mut AsyncPgConnection) -> QueryResult<ClinicSettings> {
    clinic_settings::table
        .select(ClinicSettings::as_select())
        .for_update()
        .first(conn)
        .await
}

/// Applies `changes` and bumps the version.
pub async fn update(
    conn: &mut AsyncPgConnection,
    changes: SettingsChanges,
) -> QueryResult<ClinicSettings> {
    diesel::update(clinic_settings::table)
        .set((
            changes,
            clinic_settings::version.eq(clinic_settings::version + 1),
            clinic_settings::updated_at.eq(diesel::dsl::now),
        ))
        .returning(ClinicSettings::as_returning())
        .get_result(conn)
        .await
}
