//! The database: connection pool, embedded migrations, readiness, and the local cluster.

pub mod embedded;
pub mod standby;

use diesel::prelude::*;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
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

/// A connection this old is closed instead of handed out again: the server's per-connection
/// caches (plans, catalog) stay bounded, and a load balancer's changes are picked up.
const MAX_CONNECTION_AGE: std::time::Duration = std::time::Duration::from_secs(30 * 60);
/// A connection not handed out for this long is pinged before it is again: it may have died
/// while idle (a server restart, a proxy's idle timeout). Busy connections skip the ping.
const PING_AFTER_IDLE: std::time::Duration = std::time::Duration::from_secs(10);

/// Builds the pool; connections are opened lazily, so this succeeds with the database down.
///
/// A checkout does not ping the server (`RecyclingMethod::Fast`): a connection is recycled by
/// age, after an idle spell, or once it broke (diesel marks it so and the pool drops it).
pub fn pool(database_url: &str, options: PoolOptions) -> Result<DbPool, String> {
    let mut config = ManagerConfig::default();
    config.recycling_method = RecyclingMethod::Fast;
    let manager =
        AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(database_url, config);
    DbPool::builder(manager)
        .max_size(options.max_size)
        .wait_timeout(Some(options.timeout))
        .create_timeout(Some(options.timeout))
        .recycle_timeout(Some(options.timeout))
        .runtime(deadpool::Runtime::Tokio1)
        .pre_recycle(deadpool::managed::Hook::async_fn(|conn, metrics| {
            Box::pin(async move {
                if metrics.age() > MAX_CONNECTION_AGE {
                    return Err(deadpool::managed::HookError::message("too old"));
                }
                if metrics.last_used() > PING_AFTER_IDLE {
                    ping(conn).await.map_err(|error| {
                        deadpool::managed::HookError::Backend(
                            diesel_async::pooled_connection::PoolError::QueryError(error),
                        )
                    })?;
                }
                Ok(())
            })
        }))
        .build()
        .map_err(|error| format!("cannot build the connection pool: {error}"))
}

/// Whether the connection still answers.
pub async fn ping(conn: &mut AsyncPgConnection) -> QueryResult<()> {
    diesel::sql_query("SELECT 1")
        .execute(conn)
        .await
        .map(|_| ())
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
