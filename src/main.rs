//! Start-up: parse the command line, set up logging, run the command.

use std::process::ExitCode;

use clap::Parser;
use prolo_scheduler::cli::{Cli, Command};
use prolo_scheduler::config::{DatabaseArgs, LogFormat, ServeArgs};
use prolo_scheduler::{db, state::AppState};

#[tokio::main]
async fn main() -> ExitCode {
    let command = Cli::parse().into_command();
    let log_format = match &command {
        Command::Serve(args) => args.log_format,
        Command::Migrate(_) => LogFormat::Text,
    };
    init_logging(log_format);
    let result = match command {
        Command::Serve(args) => serve(args).await,
        Command::Migrate(args) => migrate(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("prolo-scheduler: {message}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

async fn migrate(args: DatabaseArgs) -> Result<(), String> {
    let (url, cluster) = db::resolve(&args).await?;
    let result = db::migrate(&url).await;
    if let Some(cluster) = cluster {
        cluster.stop().await.map_err(|e| e.to_string())?;
    }
    let applied = result?;
    tracing::info!(applied, "migrations applied");
    Ok(())
}

async fn serve(args: ServeArgs) -> Result<(), String> {
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
    if (embedded && !args.no_demo) || args.seed_demo {
        let mut conn = pool
            .get()
            .await
            .map_err(|e| format!("cannot connect: {e}"))?;
        if db::demo::seed_if_empty(&mut conn)
            .await
            .map_err(|e| format!("demo seed failed: {e}"))?
        {
            tracing::info!("seeded the demo clinic (turn off with --no-demo)");
        }
    }
    let state = AppState::new(pool);
    let mut server = actix_web::HttpServer::new(move || prolo_scheduler::app(state.clone()))
        .shutdown_timeout(args.shutdown_timeout_secs);
    if let Some(workers) = args.workers {
        server = server.workers(workers.max(1));
    }
    let server = server
        .bind(args.bind)
        .map_err(|e| format!("cannot listen on {}: {e}", args.bind))?;
    tracing::info!(
        "listening on http://{} (API docs at http://{}/docs/)",
        args.bind,
        args.bind
    );
    server
        .run()
        .await
        .map_err(|e| format!("server failed: {e}"))
}
