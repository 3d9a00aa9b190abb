//! Start-up: parse the command line, set up logging, run the command.

use std::process::ExitCode;

use clap::Parser;
use prolo_scheduler::cli::{Cli, Command};
use prolo_scheduler::commands;
use prolo_scheduler::config::LogFormat;

#[tokio::main]
async fn main() -> ExitCode {
    let command = Cli::parse().into_command();
    let log_format = match &command {
        Command::Serve(args) => args.log_format,
        _ => LogFormat::Text,
    };
    init_logging(log_format);
    let result = match command {
        Command::Serve(args) => commands::serve(*args).await,
        Command::Migrate(args) => commands::migrate(args).await,
        Command::ApiKeys(args) => commands::api_keys(args).await,
        Command::PurgeInquiries(args) => commands::purge_inquiries(args).await,
        Command::PurgeAudit(args) => commands::purge_audit(args).await,
        Command::PurgeEvents(args) => commands::purge_events(args).await,
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
    // Colour codes only for a person at a terminal, never into a file or a collector.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}
