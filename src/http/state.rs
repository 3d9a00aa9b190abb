//! The one shared application state.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::app::notifications::Outbox;
use crate::app::webhooks::endpoints::UrlPolicy;
use crate::clock::{Clock, SystemClock};
use crate::config::RateLimits;
use crate::db::standby::{Freshness, Standby};
use crate::db::{DbConn, DbPool};
use crate::domain::notifications::Letter;
use crate::error::AppError;
use crate::http::client::TrustedProxies;
use crate::http::in_flight::InFlight;
use crate::http::key_cache::KeyCache;
use crate::http::rate_limit::RateLimiter;
use crate::http::refusals::RefusalTally;
use crate::mail::Mailer;
use crate::metrics::Metrics;

/// What every handler can reach: the pool, rate limits, and what readiness compares against.
#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    /// Where reads that allow it go, when `PROLO_READ_DATABASE_URL` names a standby.
    pub standby: Option<Standby>,
    /// The newest migration compiled into this binary.
    pub migration_version: String,
    pub public_limiter: Arc<RateLimiter>,
    pub key_limiter: Arc<RateLimiter>,
    pub inquiry_limiter: Arc<RateLimiter>,
    pub booking_limiter: Arc<RateLimiter>,
    pub token_limiter: Arc<RateLimiter>,
    /// The API keys lately found valid, kept believable by [`crate::http::key_cache::listen`].
    pub keys: Arc<KeyCache>,
    /// What `/metrics` shows, shared by every state of the process.
    pub metrics: Arc<Metrics>,
    /// Requests in flight per key or client.
    pub in_flight: Arc<InFlight>,
    /// Refusals without a valid key, counted per client and minute for the audit trail.
    pub refusals: Arc<RefusalTally>,
    /// The proxies whose forwarding headers name the client.
    pub trusted_proxies: Arc<TrustedProxies>,
    pub clock: Arc<dyn Clock>,
    /// Where messages to patients come from and where their links point.
    pub outbox: Arc<Outbox>,
    /// The mail transport for what a request sends itself (a booking's code); none where the
    /// state was built without one.
    pub mailer: Option<Arc<Mailer>>,
    /// What webhook endpoint URLs may be.
    pub webhook_urls: UrlPolicy,
    /// Set once shutdown begins: readiness answers 503 while requests are still served.
    draining: Arc<AtomicBool>,
}

impl AppState {
    /// State over `pool` with the default rate limits.
    pub fn new(pool: DbPool) -> Self {
        Self::with_limits(pool, RateLimits::default())
    }

    /// State over `pool` with `limits`.
    pub fn with_limits(pool: DbPool, limits: RateLimits) -> Self {
        let metrics = Arc::new(Metrics::default());
        metrics.watch_pool(&pool);
        Self {
            pool,
            standby: None,
            metrics,
            migration_version: crate::db::latest_migration_version(),
            public_limiter: Arc::new(RateLimiter::per_minute(limits.public_per_minute)),
            key_limiter: Arc::new(RateLimiter::per_minute(limits.key_per_minute)),
            inquiry_limiter: Arc::new(RateLimiter::per_hour(limits.inquiries_per_hour)),
            booking_limiter: Arc::new(RateLimiter::per_hour(limits.bookings_per_hour)),
            token_limiter: Arc::new(RateLimiter::per_minute(limits.tokens_per_minute)),
            keys: Arc::new(KeyCache::default()),
            in_flight: Arc::new(InFlight::new(limits.in_flight)),
            refusals: Arc::new(RefusalTally::default()),
            trusted_proxies: Arc::new(TrustedProxies::default()),
            clock: Arc::new(SystemClock),
            outbox: Arc::new(Outbox::default()),
            mailer: None,
            webhook_urls: UrlPolicy::default(),
            draining: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Starts the listener that lets this state (and every state cloned from it) believe its
    /// cache of API keys; without it, every request reads its key.
    pub fn listen_for_key_changes(&self) {
        tokio::spawn(crate::http::key_cache::listen(
            self.keys.clone(),
            self.pool.clone(),
        ));
    }

    /// Marks the service as shutting down (for every worker sharing this state).
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// Whether shutdown has begun.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    /// The same state over another pool (one per HTTP worker).
    pub fn with_pool(&self, pool: DbPool) -> Self {
        self.metrics.watch_pool(&pool);
        Self {
            pool,
            ..self.clone()
        }
    }

    /// The same state sending the reads that allow it to `standby`.
    pub fn with_standby(mut self, standby: Standby) -> Self {
        self.standby = Some(standby);
        self
    }

    /// The same state believing the forwarding headers of `proxies`.
    pub fn with_trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.trusted_proxies = Arc::new(proxies);
        self
    }

    /// The same state going by `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The same state sending messages from `outbox`.
    pub fn with_outbox(mut self, outbox: Outbox) -> Self {
        self.outbox = Arc::new(outbox);
        self
    }

    /// The same state allowing webhook endpoint URLs by `policy`.
    pub fn with_webhook_urls(mut self, policy: UrlPolicy) -> Self {
        self.webhook_urls = policy;
        self
    }

    /// The same state sending what requests mail through `mailer`.
    pub fn with_mailer(mut self, mailer: Mailer) -> Self {
        self.mailer = Some(Arc::new(mailer));
        self
    }

    /// Sends `letter` now; 503 when it cannot go (no transport, or the transport failed).
    pub async fn send_mail(&self, letter: &Letter) -> Result<(), AppError> {
        let Some(mailer) = &self.mailer else {
            return Err(AppError::Unavailable(
                "no mail transport is configured".into(),
            ));
        };
        // The transport's words may quote the address: they are not logged.
        mailer.send(letter).await.map_err(|_| {
            tracing::warn!("a message a request sends could not be sent");
            AppError::Unavailable("the mail transport failed".into())
        })
    }

    /// The current instant by the state's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// A pooled connection, or 503 when none can be had in time.
    pub async fn conn(&self) -> Result<DbConn, AppError> {
        let asked = std::time::Instant::now();
        let conn = self.pool.get().await;
        self.metrics.waited_for_connection(asked.elapsed());
        Ok(conn?)
    }

    /// A connection for a read that needs nothing written: on the standby when there is one
    /// and it is fresh enough for `freshness`, else on the primary.
    pub async fn read_conn(&self, freshness: Freshness) -> Result<DbConn, AppError> {
        if let Some(standby) = &self.standby {
            let asked = std::time::Instant::now();
            if let Some(conn) = standby.checkout(&self.pool, freshness).await {
                self.metrics.waited_for_connection(asked.elapsed());
                self.metrics.read_on("standby");
                return Ok(conn);
            }
            self.metrics.read_on("primary");
        }
        self.conn().await
    }
}
