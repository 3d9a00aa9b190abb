//! The one shared application state.

use std::sync::Arc;

use crate::api::rate_limit::RateLimiter;
use crate::clock::{Clock, SystemClock};
use crate::db::{DbConn, DbPool};
use crate::error::AppError;

/// Requests a minute each client may send.
#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    /// Per client IP, on routes that need no key.
    pub public_per_minute: u32,
    /// Per API key, on the others.
    pub key_per_minute: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            public_per_minute: 120,
            key_per_minute: 1200,
        }
    }
}

/// What every handler can reach: the pool, rate limits, and what readiness compares against.
#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    /// The newest migration compiled into this binary.
    pub migration_version: String,
    pub public_limiter: Arc<RateLimiter>,
    pub key_limiter: Arc<RateLimiter>,
    pub clock: Arc<dyn Clock>,
}

impl AppState {
    /// State over `pool` with the default rate limits.
    pub fn new(pool: DbPool) -> Self {
        Self::with_limits(pool, RateLimits::default())
    }

    /// State over `pool` with `limits`.
    pub fn with_limits(pool: DbPool, limits: RateLimits) -> Self {
        Self {
            pool,
            migration_version: crate::db::latest_migration_version(),
            public_limiter: Arc::new(RateLimiter::new(limits.public_per_minute)),
            key_limiter: Arc::new(RateLimiter::new(limits.key_per_minute)),
            clock: Arc::new(SystemClock),
        }
    }

    /// The same state going by `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The current instant by the state's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// A pooled connection, or 503 when none can be had in time.
    pub async fn conn(&self) -> Result<DbConn, AppError> {
        Ok(self.pool.get().await?)
    }
}
