//! Integration tests: the whole service in-process against a real PostgreSQL.

mod support;

mod access;
mod architecture;
mod availability;
mod catalog_locations;
mod catalog_providers;
mod catalog_settings;
mod catalog_treatment_areas;
mod concurrency;
mod courses;
mod events;
mod feeds;
mod hardening;
mod health;
mod inquiries;
mod inquiry_conversion;
mod key_cache;
mod logs;
mod migrations;
mod notifications;
mod online_bookings;
mod online_holds;
mod online_manage;
mod openapi;
mod patients;
mod problems;
mod query_input;
mod resources;
mod sessions;
mod statements;
mod waitlist;
mod waitlist_desk;
mod webhooks;
