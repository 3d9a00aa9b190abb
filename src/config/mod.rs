//! Settings read once at start-up, from flags or their environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

pub mod cidr;
pub use cidr::Cidr;

/// How many requests each client may send; 0 turns a limit off.
#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    /// A minute per client IP, on routes that need no key.
    pub public_per_minute: u32,
    /// A minute per API key, on the others.
    pub key_per_minute: u32,
    /// An hour per client IP, of inquiries sent without a key (on top of the public limit).
    pub inquiries_per_hour: u32,
    /// An hour per client IP, of online booking requests (each mails a code).
    pub bookings_per_hour: u32,
    /// A minute per client IP, on the endpoints a secret in the path or body opens: codes and
    /// manage links.
    pub tokens_per_minute: u32,
    /// Requests in flight at once per key (or, without one, per client IP).
    pub in_flight: u32,
}

impl RateLimits {
    /// No limits at all.
    pub const UNLIMITED: RateLimits = RateLimits {
        public_per_minute: 0,
        key_per_minute: 0,
        inquiries_per_hour: 0,
        bookings_per_hour: 0,
        tokens_per_minute: 0,
        in_flight: 0,
    };
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            public_per_minute: 120,
            key_per_minute: 1200,
            inquiries_per_hour: 10,
            bookings_per_hour: 10,
            tokens_per_minute: 20,
            in_flight: 64,
        }
    }
}

/// Pool sizing and timeouts.
#[derive(Debug, Clone, Copy)]
pub struct PoolOptions {
    /// Connections kept at most.
    pub max_size: usize,
    /// How long a request waits for a free connection (or a new one) before it gets 503.
    pub timeout: Duration,
}

impl PoolOptions {
    /// The share of one of `workers` pools: together they keep at most `max_size` connections.
    pub fn per_worker(self, workers: usize) -> Self {
        Self {
            max_size: self.max_size.div_ceil(workers.max(1)).max(1),
            ..self
        }
    }
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_size: 16,
            timeout: Duration::from_secs(3),
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Where the database is.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// PostgreSQL to use; unset: a private cluster under the data directory.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Where the embedded cluster keeps its data.
    #[arg(long, env = "PROLO_DATA_DIR", default_value = "./.data")]
    pub data_dir: PathBuf,
}

/// How long inquiries keep their personal data.
#[derive(Debug, Clone, Args)]
pub struct RetentionArgs {
    /// Days a closed or spam inquiry keeps its personal data before it is erased.
    #[arg(long, env = "PROLO_INQUIRY_RETENTION_DAYS", default_value_t = 365,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub inquiry_retention_days: u32,
}

/// How long the audit trail is kept.
#[derive(Debug, Clone, Args)]
pub struct AuditRetentionArgs {
    /// Days audit events are kept before they may be purged (default six years, the HIPAA
    /// documentation period).
    #[arg(long, env = "PROLO_AUDIT_RETENTION_DAYS", default_value_t = 2192,
          value_parser = clap::value_parser!(u32).range(30..=36500))]
    pub audit_retention_days: u32,
}

/// How long the event log keeps its events.
#[derive(Debug, Clone, Args)]
pub struct EventRetentionArgs {
    /// Days events are kept in the log (`GET /v1/events`) before they are purged.
    #[arg(long, env = "PROLO_EVENT_RETENTION_DAYS", default_value_t = 90,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub event_retention_days: u32,
}

/// How messages to patients leave.
#[derive(Debug, Clone, Args)]
pub struct MailArgs {
    /// SMTP server for messages to patients: `smtps://user:pass@host:465`, or
    /// `smtp://user:pass@host:587?tls=required` for STARTTLS; unset: `.eml` files under
    /// `<data dir>/mail/`.
    #[arg(long, env = "PROLO_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The address messages come from (the clinic's name, from the settings, goes with it).
    #[arg(long, env = "PROLO_MAIL_FROM", default_value = "scheduling@localhost")]
    pub mail_from: String,
    /// The service's address as patients reach it, for the links in messages (default: the
    /// listen address over http).
    #[arg(long, env = "PROLO_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Do not run the notification worker in this process (another replica runs it).
    #[arg(long, env = "PROLO_NO_NOTIFICATIONS")]
    pub no_notifications: bool,
    /// Milliseconds between the worker's rounds.
    #[arg(long, env = "PROLO_NOTIFICATIONS_POLL_MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(10..=60000))]
    pub notifications_poll_ms: u64,
}

/// Who offers freed times to the waitlist.
#[derive(Debug, Clone, Args)]
pub struct WaitlistArgs {
    /// Do not run the waitlist worker in this process (another replica runs it).
    #[arg(long, env = "PROLO_NO_WAITLIST")]
    pub no_waitlist: bool,
    /// Milliseconds between the waitlist worker's rounds.
    #[arg(long, env = "PROLO_WAITLIST_POLL_MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(10..=60000))]
    pub waitlist_poll_ms: u64,
}

/// How webhooks leave.
#[derive(Debug, Clone, Args)]
pub struct WebhookArgs {
    /// Allow `http://` endpoint URLs (else `https://` only).
    #[arg(long, env = "PROLO_WEBHOOK_ALLOW_INSECURE")]
    pub webhook_allow_insecure: bool,
    /// Allow endpoints on loopback, private and link-local addresses (tests, local trials).
    #[arg(long, env = "PROLO_WEBHOOK_ALLOW_PRIVATE")]
    pub webhook_allow_private: bool,
    /// Do not run the webhook worker in this process (another replica runs it).
    #[arg(long, env = "PROLO_NO_WEBHOOKS")]
    pub no_webhooks: bool,
    /// Milliseconds between the webhook worker's rounds.
    #[arg(long, env = "PROLO_WEBHOOKS_POLL_MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(10..=60000))]
    pub webhooks_poll_ms: u64,
    /// Seconds a worker's claim on a delivery holds (beyond the 10 s send deadline): how soon
    /// another replica takes over from one that died mid-attempt. For the resilience tests.
    #[arg(long, env = "PROLO_WEBHOOK_LEASE_SECS", default_value_t = 120, hide = true,
          value_parser = clap::value_parser!(u32).range(15..=3600))]
    pub webhook_lease_secs: u32,
}

/// Settings of `serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// A streaming standby of the database (`pg_basebackup -R`) for the reads that allow it:
    /// availability, catalog lists, schedules, plans, calendar feeds. Unset: all on the primary.
    #[arg(long, env = "PROLO_READ_DATABASE_URL", hide_env_values = true)]
    pub read_database_url: Option<String>,
    /// Milliseconds the standby may lag before reads go to the primary. The public booking page
    /// reads up to this far behind; a key's reads are never behind its writes.
    #[arg(long, env = "PROLO_READ_MAX_LAG_MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(10..=60000))]
    pub read_max_lag_ms: u64,
    /// Listen address.
    #[arg(long, env = "PROLO_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Where `GET /metrics` (Prometheus text format) is served, apart from the API; off when
    /// unset. Keep it off the public network.
    #[arg(long, env = "PROLO_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,
    /// Log format.
    #[arg(long, env = "PROLO_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Do not seed the demo clinic into an empty embedded database.
    #[arg(long, env = "PROLO_NO_DEMO")]
    pub no_demo: bool,
    /// Seed the demo clinic even into a database given by DATABASE_URL (only when it is empty).
    #[arg(long, env = "PROLO_SEED_DEMO", conflicts_with = "no_demo")]
    pub seed_demo: bool,
    /// Database connections kept at most.
    #[arg(long, env = "PROLO_POOL_SIZE", default_value_t = 16)]
    pub pool_size: usize,
    /// Seconds a request waits for a database connection before answering 503.
    #[arg(long, env = "PROLO_POOL_TIMEOUT_SECS", default_value_t = 3)]
    pub pool_timeout_secs: u64,
    /// Seconds in-flight requests get to finish once the server stops (SIGINT/SIGTERM).
    #[arg(long, env = "PROLO_SHUTDOWN_TIMEOUT_SECS", default_value_t = 30)]
    pub shutdown_timeout_secs: u64,
    /// Seconds between SIGTERM and the stop during which readiness answers 503 while requests
    /// are still served, for load balancers to notice (SIGINT stops without it).
    #[arg(long, env = "PROLO_SHUTDOWN_DRAIN_SECS", default_value_t = 5)]
    pub shutdown_drain_secs: u64,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "PROLO_WORKERS")]
    pub workers: Option<usize>,
    /// An admin API key to ensure at start-up (stored hashed; at least 32 characters).
    #[arg(long, env = "PROLO_BOOTSTRAP_ADMIN_KEY", hide_env_values = true)]
    pub bootstrap_admin_key: Option<String>,
    /// Comma-separated origins allowed to call the API from a browser (CORS).
    #[arg(long, env = "PROLO_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Comma-separated CIDR blocks (or addresses) of reverse proxies whose `Forwarded` or
    /// `X-Forwarded-For` names the client; from any other peer those headers are ignored.
    #[arg(long, env = "PROLO_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<Cidr>,
    /// Requests a minute per client IP on routes that need no key (0: unlimited).
    #[arg(long, env = "PROLO_RATE_LIMIT_PUBLIC", default_value_t = 120)]
    pub rate_limit_public: u32,
    /// Requests a minute per API key (0: unlimited).
    #[arg(long, env = "PROLO_RATE_LIMIT_KEY", default_value_t = 1200)]
    pub rate_limit_key: u32,
    /// Inquiries an hour per client IP sent to the public intake without a key (0: unlimited).
    #[arg(long, env = "PROLO_RATE_LIMIT_INQUIRIES", default_value_t = 10)]
    pub rate_limit_inquiries: u32,
    /// Online booking requests (each mails a code) an hour per client IP (0: unlimited).
    #[arg(long, env = "PROLO_RATE_LIMIT_BOOKINGS", default_value_t = 10)]
    pub rate_limit_bookings: u32,
    /// Requests a minute per client IP to the code and manage-link endpoints (0: unlimited).
    #[arg(long, env = "PROLO_RATE_LIMIT_TOKENS", default_value_t = 20)]
    pub rate_limit_tokens: u32,
    /// Requests one key (or, without a key, one client IP) may have in flight at once
    /// (0: unlimited).
    #[arg(long, env = "PROLO_MAX_IN_FLIGHT", default_value_t = 64)]
    pub max_in_flight: u32,
    #[command(flatten)]
    pub retention: RetentionArgs,
    #[command(flatten)]
    pub audit_retention: AuditRetentionArgs,
    #[command(flatten)]
    pub event_retention: EventRetentionArgs,
    #[command(flatten)]
    pub mail: MailArgs,
    #[command(flatten)]
    pub webhooks: WebhookArgs,
    #[command(flatten)]
    pub waitlist: WaitlistArgs,
    /// Run the clock from this RFC 3339 instant instead of the machine's date (time then
    /// passes as usual). For tests and demos that must not depend on today's date.
    #[arg(long, env = "PROLO_CLOCK_START", hide = true)]
    pub clock_start: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// Erase expired inquiries' personal data hourly while serving (else: `purge-inquiries`).
    #[arg(long, env = "PROLO_PURGE_INQUIRIES")]
    pub purge_inquiries: bool,
    /// Purge audit events past their retention hourly while serving (else: `purge-audit`).
    #[arg(long, env = "PROLO_PURGE_AUDIT")]
    pub purge_audit: bool,
}

/// A client must send its request head within this time (slow-header clients are cut off).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// An idle keep-alive connection is closed after this time.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// A client gets this long to close its side once the response is sent on a closing connection.
pub const DISCONNECT_TIMEOUT: Duration = Duration::from_secs(2);

impl ServeArgs {
    /// The rate limits.
    pub fn rate_limits(&self) -> RateLimits {
        RateLimits {
            public_per_minute: self.rate_limit_public,
            key_per_minute: self.rate_limit_key,
            inquiries_per_hour: self.rate_limit_inquiries,
            bookings_per_hour: self.rate_limit_bookings,
            tokens_per_minute: self.rate_limit_tokens,
            in_flight: self.max_in_flight,
        }
    }

    /// The pool's settings.
    pub fn pool_options(&self) -> PoolOptions {
        PoolOptions {
            max_size: self.pool_size.max(1),
            timeout: Duration::from_secs(self.pool_timeout_secs.max(1)),
        }
    }
}
