//! Diesel rows and the queries that read and write them, one module per table or aggregate.

pub mod allocations;
pub mod api_keys;
pub mod audit_events;
pub mod booking_requests;
pub mod calendar_feeds;
pub mod calendars;
pub mod courses;
pub mod events;
pub mod holds;
pub mod inquiries;
pub mod locations;
pub mod manage_tokens;
pub mod notifications;
pub mod patients;
pub mod prepared;
pub mod providers;
pub mod queues;
pub mod resources;
pub mod sessions;
pub mod settings;
pub mod text_enums;
pub mod time_off;
pub mod treatment_areas;
pub mod versioned;
pub mod waitlist;
pub mod waitlist_offers;
pub mod webhooks;
pub mod working_hours;

use uuid::Uuid;

/// A validated page request: items after `after`, at most `limit`.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub after: Option<Uuid>,
    pub limit: i64,
}

/// A `LIKE`/`ILIKE` pattern matching `text` anywhere, its wildcards taken literally.
pub fn contains_pattern(text: &str) -> String {
    format!(
        "%{}%",
        text.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    )
}
