//! The database: connection pool, embedded migrations, readiness, and the local cluster.

pub mod embedded;

use diesel::prelude::*;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::config::PoolOptions;

/// The migrations under `migrations/`, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// The pool every request draws its connection from.
pub type DbPool = diesel_async::pooled_connection::deadpool::Pool<AsyncPgConnection>;
/// A connection checked out of the pool.
pub type DbConn = diesel_async::pooled_connection::deadpool::Object<AsyncPgConnection>;
/// Why a connection could not be had.
pub type PoolError = diesel_async::pooled_connection::deadpool::PoolError;

/// Builds the pool; connections are opened lazily, so this succeeds with the database down.
pub fn pool(database_url: &str, options: PoolOptions) -> Result<DbPool, String> {
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(database_url);
    DbPool::builder(manager)
        .max_size(options.max_size)
        .wait_timeout(Some(options.timeout))
        .create_timeout(Some(options.timeout))
        .recycle_timeout(Some(options.timeout))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|error| format!("cannot build the connection pool: {error}"))
}

/// Applies every pending migration; returns how many ran.
pub async fn migrate(database_url: &str) -> Result<usize, String> {
    let conn = establish(database_url).await?;
    tokio::task::spawn_blocking(move || {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::from(conn);
        conn.run_pending_migrations(MIGRATIONS)
            .map(|applied| applied.len())
            .map_err(|error| format!("migration failed: {error}"))
    })
    .await
    .map_err(|error| format!("migration task failed: {error}"))?
}

/// Opens one connection outside the pool (migrations, administration).
pub async fn establish(database_url: &str) -> Result<AsyncPgConnection, String> {
    use diesel_async::AsyncConnection;
    AsyncPgConnection::establish(database_url)
        .await
        .map_err(|error| format!("cannot connect to the database: {error}"))
}

/// The newest migration version compiled into this binary, as diesel records it.
pub fn latest_migration_version() -> String {
    use diesel::migration::MigrationSource;
    let migrations: Vec<Box<dyn diesel::migration::Migration<diesel::pg::Pg>>> =
        MIGRATIONS.migrations().unwrap_or_default();
    migrations
        .iter()
        .map(|migration| migration.name().version().to_string())
        .max()
        .unwrap_or_default()
}

diesel::table! {
    __diesel_schema_migrations (version) {
        version -> VarChar,
    }
}

/// Whether the database answers and has every migration of this binary applied.
pub async fn is_ready(pool: &DbPool, latest_version: &str) -> Result<bool, PoolError> {
    let mut conn = pool.get().await?;
    let newest: Option<String> = __diesel_schema_migrations::table
        .select(diesel::dsl::max(__diesel_schema_migrations::version))
        .get_result(&mut conn)
        .await
        .unwrap_or(None);
    Ok(newest.as_deref() == Some(latest_version))
}

/// The database named on the command line, or the embedded cluster (started here) when none is.
pub async fn resolve(
    args: &crate::config::DatabaseArgs,
) -> Result<(String, Option<embedded::LocalCluster>), String> {
    match &args.database_url {
        Some(url) => Ok((url.clone(), None)),
        None => {
            let cluster = embedded::LocalCluster::start(&args.data_dir)
                .await
                .map_err(|error| error.to_string())?;
            if let Err(error) = cluster.ensure_database(EMBEDDED_DATABASE).await {
                let _ = cluster.stop().await;
                return Err(error.to_string());
            }
            Ok((cluster.url(EMBEDDED_DATABASE), Some(cluster)))
        }
    }
}

/// Name of the service's database in the embedded cluster.
pub const EMBEDDED_DATABASE: &str = "prolo";
