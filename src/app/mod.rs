//! The use cases: every workflow that changes the clinic's records, one module per family.
//! Each takes a connection inside a transaction, the caller and a typed command, checks the
//! rules through `domain`, writes through `models`, and records its audit and domain events.
//! Nothing here knows HTTP: the API, the CLI and the background workers all call in.

pub mod access;
pub mod audit;
pub mod availability;
pub mod booking;
pub mod calendar;
pub mod caller;
pub mod catalog;
pub mod courses;
pub mod demo;
pub mod events;
pub mod feeds;
pub mod inquiries;
pub mod notifications;
pub mod online;
pub mod patients;
pub mod records;
pub mod resources;
pub mod waitlist;
pub mod webhooks;
