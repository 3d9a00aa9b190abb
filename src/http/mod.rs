//! The HTTP edge's machinery, apart from the resources: authentication and its key cache,
//! extractors, conditional requests, idempotency, pagination, problems, limits, the access
//! log, headers.

pub mod access_log;
pub mod auth;
pub mod client;
pub mod conditional;
pub mod extract;
pub mod idempotency;
pub mod in_flight;
pub mod key_cache;
pub mod metrics;
pub mod pagination;
pub mod problem;
pub mod problems;
pub mod query_guard;
pub mod rate_limit;
pub mod refusals;
pub mod rules;
pub mod security_headers;
pub mod state;
