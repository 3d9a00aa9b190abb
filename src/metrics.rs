//! The process's metrics in Prometheus's registry: requests counted and timed per method,
//! route template and status as they are answered; the pools, the workers' queues and the event
//! consumers' lag read when a scrape asks. `http::metrics` serves them.

use std::sync::Mutex;
use std::time::Duration;

use prometheus::{
    Encoder, Gauge, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::db::DbPool;
use crate::db::standby::StandbyHealth;
use crate::models::queues::Backlog;

/// Request latency buckets, in seconds: the booking page's reads live in the first few.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0,
];
/// Pool wait buckets, in seconds: nothing at all, or a queue forming.
const WAIT_BUCKETS: &[f64] = &[0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 3.0];

/// The process's metrics: one per process, shared by every HTTP worker's state.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool_wait: Histogram,
    pool_connections: IntGaugeVec,
    pool_max: IntGauge,
    pool_waiting: IntGauge,
    queue_depth: IntGaugeVec,
    queue_lag: GaugeVec,
    consumer_behind: IntGaugeVec,
    consumer_lag: GaugeVec,
    scrape_ok: Gauge,
    reads: IntCounterVec,
    standby_usable: IntGauge,
    standby_lag: Gauge,
    pools: Mutex<Vec<deadpool::managed::WeakPool<DbManager>>>,
}

type DbManager =
    diesel_async::pooled_connection::AsyncDieselConnectionManager<diesel_async::AsyncPgConnection>;

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new().expect("the metrics' names and labels are valid")
    }
}

impl Metrics {
    fn new() -> prometheus::Result<Self> {
        let registry = Registry::new_custom(Some("prolo".into()), None)?;
        let route = &["method", "route", "status"];
        let requests =
            IntCounterVec::new(Opts::new("http_requests_total", "Requests answered"), route)?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time from the request's arrival to its answer",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            route,
        )?;
        let pool_wait = Histogram::with_opts(
            HistogramOpts::new(
                "db_pool_wait_seconds",
                "Time a request waited for a database connection",
            )
            .buckets(WAIT_BUCKETS.to_vec()),
        )?;
        let pool_connections = IntGaugeVec::new(
            Opts::new(
                "db_pool_connections",
                "Open database connections, idle or in use",
            ),
            &["state"],
        )?;
        let pool_max = IntGauge::new("db_pool_max_connections", "Connections the pools may open")?;
        let pool_waiting =
            IntGauge::new("db_pool_waiting", "Requests waiting for a connection now")?;
        let queue_depth = IntGaugeVec::new(
            Opts::new(
                "worker_queue_depth",
                "Work due now and not yet done: notifications to send, webhook deliveries to \
                 make, freed times to offer",
            ),
            &["kind"],
        )?;
        let queue_lag = GaugeVec::new(
            Opts::new(
                "worker_queue_lag_seconds",
                "How long the oldest due work has waited (0 when none)",
            ),
            &["kind"],
        )?;
        let consumer_behind = IntGaugeVec::new(
            Opts::new(
                "event_consumer_behind_events",
                "Domain events a consumer has not read yet",
            ),
            &["consumer"],
        )?;
        let consumer_lag = GaugeVec::new(
            Opts::new(
                "event_consumer_lag_seconds",
                "Age of the oldest event a consumer has not read yet (0 when none)",
            ),
            &["consumer"],
        )?;
        let scrape_ok = Gauge::new(
            "queues_scrape_ok",
            "1 when the queues could be read for this scrape, 0 when the database did not answer",
        )?;
        let reads = IntCounterVec::new(
            Opts::new(
                "reads_total",
                "Reads that may go to the standby, by the database they went to",
            ),
            &["database"],
        )?;
        let standby_usable = IntGauge::new(
            "standby_usable",
            "1 while reads go to the standby, 0 while it lags too far or does not answer",
        )?;
        let standby_lag = Gauge::new(
            "standby_lag_seconds",
            "How long the primary has had what the standby has not replayed yet",
        )?;
        registry.register(Box::new(reads.clone()))?;
        registry.register(Box::new(standby_usable.clone()))?;
        registry.register(Box::new(standby_lag.clone()))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(pool_wait.clone()))?;
        registry.register(Box::new(pool_connections.clone()))?;
        registry.register(Box::new(pool_max.clone()))?;
        registry.register(Box::new(pool_waiting.clone()))?;
        registry.register(Box::new(queue_depth.clone()))?;
        registry.register(Box::new(queue_lag.clone()))?;
        registry.register(Box::new(consumer_behind.clone()))?;
        registry.register(Box::new(consumer_lag.clone()))?;
        registry.register(Box::new(scrape_ok.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
            pool_wait,
            pool_connections,
            pool_max,
            pool_waiting,
            queue_depth,
            queue_lag,
            consumer_behind,
            consumer_lag,
            scrape_ok,
            reads,
            standby_usable,
            standby_lag,
            pools: Mutex::default(),
        })
    }

    /// Counts `pool`'s connections in the pool gauges from now on.
    pub fn watch_pool(&self, pool: &DbPool) {
        let mut pools = self.pools.lock().unwrap_or_else(|p| p.into_inner());
        pools.retain(|weak| weak.upgrade().is_some());
        pools.push(pool.weak());
    }

    /// Notes how long a connection took to get.
    pub fn waited_for_connection(&self, waited: Duration) {
        self.pool_wait.observe(waited.as_secs_f64());
    }

    /// Counts a read that could have gone to the standby where it went (`standby` or `primary`).
    pub fn read_on(&self, database: &str) {
        self.reads.with_label_values(&[database]).inc();
    }

    /// Sets the standby gauges from what its watcher last found.
    pub fn read_standby(&self, health: &StandbyHealth) {
        self.standby_usable.set(i64::from(health.usable()));
        self.standby_lag.set(health.lag().as_secs_f64());
    }

    /// Counts one answer, with how long it took.
    pub fn answered(&self, method: &str, route: &str, status: u16, took: Duration) {
        let status = status.to_string();
        let labels = [method, route, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.latency
            .with_label_values(&labels)
            .observe(took.as_secs_f64());
    }

    /// Sets the pool gauges from the pools as they are now.
    pub fn read_pools(&self) {
        let pools = self.pools.lock().unwrap_or_else(|p| p.into_inner());
        let (mut max, mut size, mut idle, mut waiting) = (0, 0, 0, 0);
        for status in pools
            .iter()
            .filter_map(|weak| weak.upgrade())
            .map(|p| p.status())
        {
            max += status.max_size;
            size += status.size;
            idle += status.available;
            waiting += status.waiting;
        }
        let gauge = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        self.pool_max.set(gauge(max));
        self.pool_waiting.set(gauge(waiting));
        self.pool_connections
            .with_label_values(&["idle"])
            .set(gauge(idle));
        self.pool_connections
            .with_label_values(&["in_use"])
            .set(gauge(size.saturating_sub(idle)));
    }

    /// Sets the queue and consumer gauges from `backlog`, or marks it unread.
    pub fn read_backlog(&self, backlog: Option<Backlog>) {
        let Some(backlog) = backlog else {
            self.scrape_ok.set(0.0);
            return;
        };
        self.scrape_ok.set(1.0);
        for queue in backlog.queues {
            let kind = [queue.kind.as_str()];
            self.queue_depth.with_label_values(&kind).set(queue.depth);
            self.queue_lag
                .with_label_values(&kind)
                .set(queue.lag_seconds);
        }
        for consumer in backlog.consumers {
            let name = [consumer.consumer.as_str()];
            self.consumer_behind
                .with_label_values(&name)
                .set(consumer.behind);
            self.consumer_lag
                .with_label_values(&name)
                .set(consumer.lag_seconds);
        }
    }

    /// The text exposition of everything registered.
    pub fn render(&self) -> Result<String, prometheus::Error> {
        let mut text = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut text)?;
        Ok(String::from_utf8_lossy(&text).into_owned())
    }
}
