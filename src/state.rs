//! The one shared application state.

use crate::db::{DbConn, DbPool};
use crate::error::AppError;

/// What every handler can reach: the pool and what readiness compares against.
#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    /// The newest migration compiled into this binary.
    pub migration_version: String,
}

impl AppState {
    /// State over `pool`.
    pub fn new(pool: DbPool) -> Self {
        Self {
            pool,
            migration_version: crate::db::latest_migration_version(),
        }
    }

    /// A pooled connection, or 503 when none can be had in time.
    pub async fn conn(&self) -> Result<DbConn, AppError> {
        Ok(self.pool.get().await?)
    }
}
