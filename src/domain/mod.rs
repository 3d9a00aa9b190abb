//! Pure types and rules of the clinic: no database, no HTTP.

pub mod access;
pub mod clinical;
pub mod contact;
pub mod courses;
pub mod events;
pub mod feed;
pub mod ical;
pub mod inquiries;
pub mod invite;
pub mod notifications;
pub mod online;
pub mod patients;
pub mod planning;
pub mod resources;
pub mod sessions;
pub mod slots;
pub mod time;
pub mod waitlist;
pub mod webhooks;
pub mod working_hours;
