//! A streaming standby that reads may go to (`PROLO_READ_DATABASE_URL`): how far behind the
//! primary it is, and the fence that makes a read there as fresh as one on the primary.
//!
//! The write-ahead log's position (LSN) only grows. A read is *current* when the connection it
//! runs on has replayed at least the primary's position at the moment the read began: every
//! commit acknowledged before then is visible there, as it would be on the primary (commits are
//! synchronous, so an acknowledged commit is in the written log). A *bounded* read goes to the
//! standby while the watcher finds it less than the allowed lag behind, without a fence.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Nullable};
use diesel_async::AsyncPgConnection;

use super::{DbConn, DbPool};

/// How long a current read waits for its standby connection to replay the primary's position
/// before it goes to the primary instead: a healthy standby replays within a millisecond or two.
pub const FENCE_WAIT: Duration = Duration::from_millis(50);
/// Between two looks at a lagging connection's replay position.
const FENCE_POLL: Duration = Duration::from_millis(1);
/// Between two looks of the watcher at both servers.
pub const WATCH_INTERVAL: Duration = Duration::from_millis(100);
/// How long past the allowed lag the watcher remembers the primary's positions: the longest lag
/// it can report beyond the allowed one.
const KEEP_BEYOND_LAG: Duration = Duration::from_secs(60);

/// How fresh a read must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Sees every commit acknowledged before the read began (a key's reads after its writes).
    Current,
    /// May miss the last moments' commits, up to the allowed lag (the public booking page).
    Bounded,
}

/// What the watcher last found, shared by every worker's [`Standby`].
#[derive(Debug, Default)]
pub struct StandbyHealth {
    usable: AtomicBool,
    lag_micros: AtomicU64,
}

impl StandbyHealth {
    /// Whether reads may go to the standby: it answers, replays, and is within the allowed lag.
    pub fn usable(&self) -> bool {
        self.usable.load(Ordering::Relaxed)
    }

    /// How far behind the primary the standby was at the watcher's last look.
    pub fn lag(&self) -> Duration {
        Duration::from_micros(self.lag_micros.load(Ordering::Relaxed))
    }

    fn set(&self, usable: bool, lag: Duration) {
        let micros = u64::try_from(lag.as_micros()).unwrap_or(u64::MAX);
        self.lag_micros.store(micros, Ordering::Relaxed);
        self.usable.store(usable, Ordering::Relaxed);
    }
}

/// One worker's way to the standby: its own pool (connections stay on the runtime that opened
/// them) and the shared verdict of the watcher.
#[derive(Clone)]
pub struct Standby {
    pool: DbPool,
    health: Arc<StandbyHealth>,
}

impl Standby {
    /// The standby behind `pool`, judged by `health`.
    pub fn new(pool: DbPool, health: Arc<StandbyHealth>) -> Self {
        Self { pool, health }
    }

    /// The same standby over another pool (one per HTTP worker).
    pub fn with_pool(&self, pool: DbPool) -> Self {
        Self {
            pool,
            health: self.health.clone(),
        }
    }

    /// What the watcher last found.
    pub fn health(&self) -> &Arc<StandbyHealth> {
        &self.health
    }

    /// A standby connection fresh enough for `freshness`, or none: the read then goes to the
    /// primary. A current read asks the primary for its position while it checks the
    /// connection out, then waits at most [`FENCE_WAIT`] for the connection to replay it.
    pub async fn checkout(&self, primary: &DbPool, freshness: Freshness) -> Option<DbConn> {
        if !self.health.usable() {
            return None;
        }
        if freshness == Freshness::Bounded {
            return self.pool.get().await.ok();
        }
        let (target, conn) = futures_util::future::join(
            async { written_position(&mut *primary.get().await.ok()?).await.ok() },
            self.pool.get(),
        )
        .await;
        let (target, mut conn) = (target?, conn.ok()?);
        let deadline = Instant::now() + FENCE_WAIT;
        loop {
            if replayed_position(&mut conn).await.ok()?? >= target {
                return Some(conn);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(FENCE_POLL).await;
        }
    }
}

/// Keeps `health` true to the standby: every [`WATCH_INTERVAL`] it reads both positions and
/// finds how long ago the primary had written what the standby has not replayed yet. Runs for
/// the process's lifetime.
pub async fn watch(
    primary: DbPool,
    standby: DbPool,
    health: Arc<StandbyHealth>,
    max_lag: Duration,
) {
    let mut written = WrittenPositions::default();
    let mut was_usable = None;
    loop {
        let (primary_at, replayed) = futures_util::future::join(
            async { written_position(&mut *primary.get().await.ok()?).await.ok() },
            async {
                replayed_position(&mut *standby.get().await.ok()?)
                    .await
                    .ok()
            },
        )
        .await;
        let now = Instant::now();
        // With the primary down the standby cannot fall further behind what was last seen.
        if let Some(position) = primary_at {
            written.push(now, position, max_lag + KEEP_BEYOND_LAG);
        }
        let (usable, lag) = match replayed {
            Some(Some(replayed)) => {
                let lag = written.lag(replayed, now);
                (lag <= max_lag, lag)
            }
            Some(None) => (false, Duration::ZERO),
            None => (false, Duration::ZERO),
        };
        health.set(usable, lag);
        if was_usable != Some(usable) {
            match replayed {
                _ if usable => tracing::info!("reads go to the standby"),
                Some(Some(_)) => tracing::warn!(
                    lag_ms = lag.as_millis() as u64,
                    "the standby is too far behind: reads go to the primary"
                ),
                Some(None) => tracing::warn!(
                    "the read database is not replaying a primary (not a standby, or promoted): \
                     reads go to the primary"
                ),
                None => tracing::warn!("the standby does not answer: reads go to the primary"),
            }
            was_usable = Some(usable);
        }
        tokio::time::sleep(WATCH_INTERVAL).await;
    }
}

/// The primary's positions as the watcher saw them, oldest first, kept as long as a lag could
/// be measured against them.
#[derive(Debug, Default)]
struct WrittenPositions(VecDeque<(Instant, u64)>);

impl WrittenPositions {
    fn push(&mut self, at: Instant, position: u64, keep: Duration) {
        if self.0.back().is_none_or(|&(_, last)| position > last) {
            self.0.push_back((at, position));
        }
        // The newest stays: it is what a caught-up standby is compared with.
        while self.0.len() > 1 && self.0.front().is_some_and(|&(t, _)| at - t > keep) {
            self.0.pop_front();
        }
    }

    /// How long the primary has had something the standby, at `replayed`, lacks: since the
    /// oldest position seen beyond it (zero when it has everything seen).
    fn lag(&self, replayed: u64, now: Instant) -> Duration {
        self.0
            .iter()
            .find(|&&(_, position)| position > replayed)
            .map_or(Duration::ZERO, |&(at, _)| now - at)
    }
}

#[derive(QueryableByName)]
struct Position {
    #[diesel(sql_type = Nullable<BigInt>)]
    position: Option<i64>,
}

/// The primary's written position: every acknowledged commit lies at or before it.
async fn written_position(conn: &mut AsyncPgConnection) -> diesel::QueryResult<u64> {
    use diesel_async::RunQueryDsl;
    let row: Position =
        diesel::sql_query("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint AS position")
            .get_result(conn)
            .await?;
    Ok(row.position.map_or(0, |p| p.unsigned_abs()))
}

/// How far the standby has replayed; none when the server is not replaying (not a standby).
async fn replayed_position(conn: &mut AsyncPgConnection) -> diesel::QueryResult<Option<u64>> {
    use diesel_async::RunQueryDsl;
    let row: Position = diesel::sql_query(
        "SELECT CASE WHEN pg_is_in_recovery() \
         THEN (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint END AS position",
    )
    .get_result(conn)
    .await?;
    Ok(row.position.map(i64::unsigned_abs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caught_up_standby_lags_not_at_all() {
        let start = Instant::now();
        let mut written = WrittenPositions::default();
        written.push(start, 100, Duration::from_secs(2));
        written.push(
            start + Duration::from_millis(100),
            200,
            Duration::from_secs(2),
        );
        assert_eq!(
            written.lag(200, start + Duration::from_secs(5)),
            Duration::ZERO
        );
        assert_eq!(
            written.lag(250, start + Duration::from_secs(5)),
            Duration::ZERO
        );
    }

    #[test]
    fn the_lag_runs_from_the_oldest_position_not_replayed() {
        let start = Instant::now();
        let mut written = WrittenPositions::default();
        for (ms, position) in [(0, 100), (100, 200), (200, 300)] {
            written.push(
                start + Duration::from_millis(ms),
                position,
                Duration::from_secs(2),
            );
        }
        let now = start + Duration::from_millis(250);
        assert_eq!(written.lag(150, now), Duration::from_millis(150));
        assert_eq!(written.lag(99, now), Duration::from_millis(250));
        assert_eq!(written.lag(299, now), Duration::from_millis(50));
    }

    #[test]
    fn an_idle_primary_adds_no_samples_and_old_ones_go() {
        let start = Instant::now();
        let keep = Duration::from_secs(1);
        let mut written = WrittenPositions::default();
        written.push(start, 100, keep);
        written.push(start + Duration::from_millis(500), 100, keep);
        assert_eq!(written.0.len(), 1);
        written.push(start + Duration::from_secs(3), 200, keep);
        assert_eq!(written.0.len(), 1, "{:?}", written.0);
        // A standby stuck before the only position kept lags since that position was seen.
        assert_eq!(
            written.lag(150, start + Duration::from_millis(3500)),
            Duration::from_millis(500)
        );
    }
}
