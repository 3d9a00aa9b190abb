//! What each command does: `serve`, `migrate`, `api-keys`.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use std::time::Duration;

use chrono::Utc;
use uuid::Uuid;

use crate::app::notifications::Outbox;
use crate::app::webhooks::endpoints::UrlPolicy;
use crate::cli::{ApiKeyAction, ApiKeysArgs, PurgeAuditArgs, PurgeEventsArgs, PurgeInquiriesArgs};
use crate::config::{DatabaseArgs, ServeArgs};
use crate::db::standby::Standby;
use crate::db::{self, embedded::LocalCluster};
use crate::domain::access::{Role, hash_key, shown_prefix};
use crate::http::state::AppState;
use crate::mail::Mailer;
use crate::models::api_keys::{self, NewApiKey};

mod background;

use background::{
    flush_refusals, hourly_purges, notification_worker, waitlist_worker, webhook_worker,
};

/// Runs `work` against the configured database; an embedded cluster this process started is
/// stopped afterwards, one that was already running is left as found.
async fn with_database<T>(
    args: &DatabaseArgs,
    work: impl AsyncFnOnce(&str) -> Result<T, String>,
) -> Result<T, String> {
    let (url, cluster) = db::resolve(args).await?;
    let result = work(&url).await;
    if let Some(cluster) = cluster.filter(LocalCluster::launched_here) {
        cluster.stop().await.map_err(|e| e.to_string())?;
    }
    result
}

/// `migrate`.
pub async fn migrate(args: DatabaseArgs) -> Result<(), String> {
    let applied = with_database(&args, async |url| db::migrate(url).await).await?;
    tracing::info!(applied, "migrations applied");
    Ok(())
}

/// `api-keys …`.
pub async fn api_keys(args: ApiKeysArgs) -> Result<(), String> {
    with_database(&args.database, async |url| {
        db::migrate(url).await?;
        let mut conn = db::establish(url).await?;
        let failed = |e: diesel::result::Error| format!("database error: {e}");
        match args.action {
            ApiKeyAction::Create {
                role,
                label,
                provider_id,
                expires_in_days,
            } => {
                if (role == Role::Provider) != provider_id.is_some() {
                    return Err(
                        "--provider-id is required for, and only for, --role provider".into(),
                    );
                }
                if let Some(provider_id) = provider_id {
                    match api_keys::provider_is_active(&mut conn, provider_id).await {
                        Ok(Some(true)) => {}
                        Ok(Some(false)) => return Err("the provider is archived".into()),
                        Ok(None) => return Err("no provider has this id".into()),
                        Err(e) => return Err(failed(e)),
                    }
                }
                let expires_at = expires_in_days
                    .map(|days| Utc::now() + chrono::Duration::days(i64::from(days)));
                let (secret, new) = NewApiKey::generate(role, &label, provider_id, expires_at)
                    .map_err(|e| format!("cannot generate a key: {e}"))?;
                let key = api_keys::insert(&mut conn, new).await.map_err(failed)?;
                println!("{secret}");
                eprintln!(
                    "created {} key {} ({}); the key above is shown only once",
                    key.role.as_str(),
                    key.id,
                    key.label
                );
            }
            ApiKeyAction::List => {
                for key in list_all(&mut conn).await.map_err(failed)? {
                    let state = match (key.revoked_at, key.expires_at) {
                        (Some(_), _) => "revoked",
                        (None, Some(at)) if at <= Utc::now() => "expired",
                        _ => "active",
                    };
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        key.id,
                        key.prefix,
                        key.role.as_str(),
                        state,
                        key.label
                    );
                }
            }
            ApiKeyAction::Revoke { id } => {
                api_keys::revoke(&mut conn, id)
                    .await
                    .map_err(failed)?
                    .ok_or(format!("no API key {id}"))?;
                eprintln!("revoked {id}");
            }
        }
        Ok(())
    })
    .await
}

async fn list_all(
    conn: &mut diesel_async::AsyncPgConnection,
) -> diesel::QueryResult<Vec<api_keys::ApiKey>> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = api_keys::list(
            conn,
            crate::http::pagination::PageRequest { after, limit: 100 },
        )
        .await?;
        let done = page.len() <= 100;
        all.extend(page.into_iter().take(100));
        if done {
            return Ok(all);
        }
        after = all.last().map(|key| key.id);
    }
}

/// `purge-inquiries`.
pub async fn purge_inquiries(args: PurgeInquiriesArgs) -> Result<(), String> {
    with_database(&args.database, async |url| {
        db::migrate(url).await?;
        let mut conn = db::establish(url).await?;
        let erased = crate::app::inquiries::retention::erase_expired(
            &mut conn,
            args.retention.inquiry_retention_days,
            Utc::now(),
        )
        .await
        .map_err(|e| format!("database error: {e}"))?;
        eprintln!(
            "erased the personal data of {erased} inquiries closed more than {} days ago",
            args.retention.inquiry_retention_days
        );
        Ok(())
    })
    .await
}

/// `purge-audit`.
pub async fn purge_audit(args: PurgeAuditArgs) -> Result<(), String> {
    with_database(&args.database, async |url| {
        db::migrate(url).await?;
        let mut conn = db::establish(url).await?;
        let purged = crate::app::audit::purge_expired(
            &mut conn,
            args.retention.audit_retention_days,
            Utc::now(),
        )
        .await
        .map_err(|e| format!("database error: {e}"))?;
        eprintln!(
            "purged {purged} audit events older than {} days",
            args.retention.audit_retention_days
        );
        Ok(())
    })
    .await
}

/// `purge-events`.
pub async fn purge_events(args: PurgeEventsArgs) -> Result<(), String> {
    with_database(&args.database, async |url| {
        db::migrate(url).await?;
        let mut conn = db::establish(url).await?;
        let days = args.retention.event_retention_days;
        let purged = crate::app::events::purge_expired(&mut conn, days, Utc::now())
            .await
            .map_err(|e| format!("database error: {e}"))?;
        eprintln!("purged {purged} events older than {days} days");
        Ok(())
    })
    .await
}

/// `serve`.
pub async fn serve(args: ServeArgs) -> Result<(), String> {
    let (url, cluster) = db::resolve(&args.database).await?;
    let result = run_server(&args, &url, cluster.is_some()).await;
    if let Some(cluster) = cluster {
        tracing::info!("stopping the local PostgreSQL");
        cluster.stop().await.map_err(|e| e.to_string())?;
    }
    result
}

async fn run_server(args: &ServeArgs, url: &str, embedded: bool) -> Result<(), String> {
    let applied = db::migrate(url).await?;
    tracing::info!(applied, "database schema is current");
    let pool = db::pool(url, args.pool_options())?;
    let mut conn = pool
        .get()
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    let seed = (embedded && !args.no_demo) || args.seed_demo;
    if seed
        && crate::app::demo::seed_if_empty(&mut conn)
            .await
            .map_err(|e| format!("demo seed failed: {e}"))?
    {
        tracing::info!("seeded the demo clinic (turn off with --no-demo)");
    }
    if let Some(secret) = &args.bootstrap_admin_key {
        ensure_bootstrap_key(&mut conn, secret).await?;
    }
    if embedded
        && !api_keys::has_active_admin(&mut conn)
            .await
            .map_err(|e| e.to_string())?
    {
        create_demo_admin_key(&mut conn, args).await?;
    }
    drop(conn);
    let mut state = AppState::with_limits(pool, args.rate_limits()).with_trusted_proxies(
        crate::http::client::TrustedProxies::new(args.trusted_proxies.clone()),
    );
    if let Some(start) = args.clock_start {
        tracing::warn!(%start, "the clock starts at a chosen instant, not today");
        let clock = crate::clock::ShiftedClock::starting_at(start.with_timezone(&Utc));
        state = state.with_clock(std::sync::Arc::new(clock));
    }
    let retention = args.purge_inquiries.then(|| args.retention.clone());
    let audit_retention = args.purge_audit.then(|| args.audit_retention.clone());
    let event_retention = args.event_retention.event_retention_days;
    tokio::spawn(hourly_purges(
        state.clone(),
        retention,
        audit_retention,
        event_retention,
    ));
    tokio::spawn(flush_refusals(state.clone()));
    state.listen_for_key_changes();
    let public_url = args
        .mail
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", args.bind));
    let mailer = Mailer::new(
        args.mail.smtp_url.as_deref(),
        &args.mail.mail_from,
        &args.database.data_dir,
    )?;
    if mailer.writes_files() {
        tracing::info!(
            "mail: no PROLO_SMTP_URL, so messages are written to {} as .eml files",
            mailer.destination
        );
    } else {
        tracing::info!("mail: sent through {}", mailer.destination);
    }
    state = state
        .with_outbox(Outbox {
            from_address: args.mail.mail_from.clone(),
            public_url,
        })
        .with_mailer(mailer.clone());
    if let Some(worker) = notification_worker(args, &state, mailer) {
        let poll = Duration::from_millis(args.mail.notifications_poll_ms);
        tokio::spawn(crate::worker::run(worker, poll));
    }
    let hooks = &args.webhooks;
    state = state.with_webhook_urls(UrlPolicy {
        allow_insecure: hooks.webhook_allow_insecure,
        allow_private: hooks.webhook_allow_private,
    });
    if let Some(worker) = webhook_worker(args, &state)? {
        tokio::spawn(crate::worker::run(
            worker,
            Duration::from_millis(hooks.webhooks_poll_ms),
        ));
    }
    if let Some(worker) = waitlist_worker(args, &state) {
        tokio::spawn(crate::worker::run(
            worker,
            Duration::from_millis(args.waitlist.waitlist_poll_ms),
        ));
    }
    let read_url = args.read_database_url.clone();
    if let Some(read_url) = &read_url {
        let standby = watch_standby(args, &state, read_url)?;
        state = state.with_standby(standby);
    }
    if let Some(bind) = args.metrics_bind {
        crate::http::metrics::serve(state.clone(), bind)?;
    }
    let cors_origins = args.cors_origins.clone();
    // A pool per worker: a connection's driver task runs on the runtime that opened it, so one
    // opened and used by the same worker thread answers without crossing threads (measured:
    // see README, "Performance"). The rate limits, the clock and the draining flag stay shared.
    let workers = args.workers.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        |n| n.max(1),
    );
    let per_worker = args.pool_options().per_worker(workers);
    let url = url.to_owned();
    db::pool(&url, per_worker)?;
    let shared = state.clone();
    let shared_for_flush = state.clone();
    let server = actix_web::HttpServer::new(move || {
        let pool = db::pool(&url, per_worker).expect("the pool was built once before");
        let mut worker = state.with_pool(pool);
        if let (Some(standby), Some(read_url)) = (&state.standby, &read_url) {
            let pool = db::pool(read_url, per_worker).expect("the pool was built once before");
            worker = worker.with_standby(standby.with_pool(pool));
        }
        crate::app(worker, cors_origins.clone())
    })
    .workers(workers)
    .shutdown_timeout(args.shutdown_timeout_secs)
    .client_request_timeout(crate::config::HEADER_TIMEOUT)
    .client_disconnect_timeout(crate::config::DISCONNECT_TIMEOUT)
    .keep_alive(crate::config::IDLE_TIMEOUT)
    // Signals are handled below: SIGTERM first drains (readiness 503), then stops.
    .disable_signals()
    .bind(args.bind)
    .map_err(|e| format!("cannot listen on {}: {e}", args.bind))?;
    for addr in server.addrs() {
        tracing::info!("listening on http://{addr} (API docs at http://{addr}/docs/)");
    }
    let server = server.run();
    let drain = std::time::Duration::from_secs(args.shutdown_drain_secs);
    tokio::spawn(stop_on_signal(server.handle(), shared, drain));
    server.await.map_err(|e| format!("server failed: {e}"))?;
    crate::http::refusals::flush(
        &shared_for_flush.refusals,
        &shared_for_flush.pool,
        shared_for_flush.now(),
        true,
    )
    .await;
    tracing::info!("stopped");
    Ok(())
}

/// The standby at `read_url`, watched from now on by a task of this runtime.
fn watch_standby(args: &ServeArgs, state: &AppState, read_url: &str) -> Result<Standby, String> {
    let pool = db::pool(read_url, args.pool_options())?;
    let health = std::sync::Arc::new(db::standby::StandbyHealth::default());
    let max_lag = Duration::from_millis(args.read_max_lag_ms);
    tokio::spawn(db::standby::watch(
        state.pool.clone(),
        pool.clone(),
        health.clone(),
        max_lag,
    ));
    tracing::info!(
        max_lag_ms = args.read_max_lag_ms,
        "reads that allow it go to the standby"
    );
    Ok(Standby::new(pool, health))
}

/// On SIGTERM: readiness turns 503 while requests are still served for `drain`, then the
/// server stops accepting and gives in-flight requests the shutdown timeout. On SIGINT (or
/// a second signal) it stops at once, as gracefully.
async fn stop_on_signal(server: actix_web::dev::ServerHandle, state: AppState, drain: Duration) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut terminate), Ok(mut interrupt)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot listen for signals; stop the process with SIGKILL");
        return;
    };
    let terminated = tokio::select! {
        _ = terminate.recv() => true,
        _ = interrupt.recv() => false,
    };
    state.start_draining();
    if terminated && !drain.is_zero() {
        tracing::info!(
            drain_secs = drain.as_secs(),
            "SIGTERM: readiness answers 503 from now; still serving until the drain ends"
        );
        tokio::select! {
            _ = tokio::time::sleep(drain) => {}
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
    }
    tracing::info!("stopping: no new connections; in-flight requests may finish");
    server.stop(true).await;
}

/// Makes sure `PROLO_BOOTSTRAP_ADMIN_KEY` exists as an admin key (stored hashed).
pub async fn ensure_bootstrap_key(
    conn: &mut diesel_async::AsyncPgConnection,
    secret: &str,
) -> Result<(), String> {
    if secret.len() < 32 {
        return Err(
            "PROLO_BOOTSTRAP_ADMIN_KEY must be at least 32 characters of random text".into(),
        );
    }
    let new = NewApiKey {
        id: Uuid::now_v7(),
        prefix: shown_prefix(secret),
        key_hash: hash_key(secret).to_vec(),
        label: "bootstrap (PROLO_BOOTSTRAP_ADMIN_KEY)".into(),
        role: Role::Admin,
        provider_id: None,
        expires_at: None,
    };
    if api_keys::insert_if_absent(conn, new)
        .await
        .map_err(|e| e.to_string())?
    {
        tracing::info!("stored the bootstrap admin key");
    }
    Ok(())
}

/// The embedded demo's first admin key: printed once and written to `$PROLO_DATA_DIR/admin-key`.
async fn create_demo_admin_key(
    conn: &mut diesel_async::AsyncPgConnection,
    args: &ServeArgs,
) -> Result<(), String> {
    let (secret, new) = NewApiKey::generate(Role::Admin, "demo admin", None, None)
        .map_err(|e| format!("cannot generate a key: {e}"))?;
    let path = args.database.data_dir.join("admin-key");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    writeln!(file, "{secret}").map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    api_keys::insert(conn, new)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "\nAdmin API key (shown once, also saved to {}):\n\n    {secret}\n\n\
         Use it as `Authorization: Bearer <key>` (the Authorize button at /docs/).\n",
        path.display()
    );
    Ok(())
}
