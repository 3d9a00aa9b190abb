//! Integration tests: the whole service in-process against a real PostgreSQL.

mod support;

mod catalog_locations;
mod catalog_providers;
mod catalog_settings;
mod catalog_treatment_areas;
mod health;
mod migrations;
mod openapi;
mod problems;
