//! The command line: `serve` (the default), `migrate` and `api-keys`.

use clap::{Args, Parser, Subcommand};
use uuid::Uuid;

use crate::config::{
    AuditRetentionArgs, DatabaseArgs, EventRetentionArgs, RetentionArgs, ServeArgs,
};
use crate::domain::access::Role;

/// Scheduling backend of a prolotherapy clinic.
#[derive(Debug, Parser)]
#[command(
    name = "prolo-scheduler",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Flags of `serve`, which runs when no command is given.
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API (the default).
    Serve(Box<ServeArgs>),
    /// Apply pending database migrations, then exit.
    Migrate(DatabaseArgs),
    /// Create, list and revoke API keys.
    ApiKeys(ApiKeysArgs),
    /// Erase the personal data of closed and spam inquiries past the retention period.
    PurgeInquiries(PurgeInquiriesArgs),
    /// Delete audit events older than the retention period, in batches, each batch audited.
    PurgeAudit(PurgeAuditArgs),
    /// Delete events of the event log older than their retention period, in batches (serving
    /// does this hourly too).
    PurgeEvents(PurgeEventsArgs),
}

/// `purge-events` and its database.
#[derive(Debug, Args)]
pub struct PurgeEventsArgs {
    #[command(flatten)]
    pub retention: EventRetentionArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// `purge-audit` and its database.
#[derive(Debug, Args)]
pub struct PurgeAuditArgs {
    #[command(flatten)]
    pub retention: AuditRetentionArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// `purge-inquiries` and its database.
#[derive(Debug, Args)]
pub struct PurgeInquiriesArgs {
    #[command(flatten)]
    pub retention: RetentionArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// `api-keys` and its database.
#[derive(Debug, Args)]
pub struct ApiKeysArgs {
    #[command(subcommand)]
    pub action: ApiKeyAction,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// What to do with keys.
#[derive(Debug, Subcommand)]
pub enum ApiKeyAction {
    /// Create a key and print it (it is shown only once).
    Create {
        /// What the key may do.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// What the key is for, e.g. "Front desk".
        #[arg(long)]
        label: String,
        /// The provider a `provider` key acts for.
        #[arg(long)]
        provider_id: Option<Uuid>,
        /// Days until the key stops working (never, when absent).
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
    /// List keys (never their secrets).
    List,
    /// Revoke a key by id; it stops working at once.
    Revoke {
        /// The key's id.
        id: Uuid,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| "expected admin, staff or provider".to_owned())
}

impl Cli {
    /// The command to run, `serve` when none was named.
    pub fn into_command(self) -> Command {
        self.command.unwrap_or(Command::Serve(Box::new(self.serve)))
    }
}
