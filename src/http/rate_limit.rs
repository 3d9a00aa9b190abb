//! Per-client token buckets: each client may burst up to its allowance for a window, refilled
//! evenly over the window. Held in this process's memory, so each replica counts on its own.
//!
//! The table stays bounded and every check O(1) however many clients come: it is split into
//! shards by the client's hash, and each shard keeps two generations of buckets. A bucket is
//! looked up in the current generation, then in the previous one (and moved forward). Once a
//! generation is a window old the shard drops the previous one whole: a bucket untouched for
//! a whole window has refilled, so forgetting it changes nothing. No check ever scans the table.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Shards of the table, so that workers rarely wait on each other's lock.
const SHARDS: usize = 16;
/// Buckets a shard's current generation holds before it is rotated early (then a client idle
/// for less than a window may find its bucket full again): 16 × 16,384 ≈ 262k clients a window.
const MAX_PER_GENERATION: usize = 16_384;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

#[derive(Debug)]
struct Shard {
    current: HashMap<String, Bucket>,
    previous: HashMap<String, Bucket>,
    /// When `current` began.
    since: Instant,
}

/// A rate limit shared by every worker of the process.
#[derive(Debug)]
pub struct RateLimiter {
    allowance: u32,
    window: Duration,
    hasher: RandomState,
    shards: Vec<Mutex<Shard>>,
}

impl RateLimiter {
    /// Allows `per_minute` requests a minute per client (0 turns the limit off).
    pub fn per_minute(per_minute: u32) -> Self {
        Self::new(per_minute, Duration::from_secs(60))
    }

    /// Allows `per_hour` requests an hour per client (0 turns the limit off).
    pub fn per_hour(per_hour: u32) -> Self {
        Self::new(per_hour, Duration::from_secs(3600))
    }

    fn new(allowance: u32, window: Duration) -> Self {
        let now = Instant::now();
        let shards = (0..SHARDS)
            .map(|_| {
                Mutex::new(Shard {
                    current: HashMap::new(),
                    previous: HashMap::new(),
                    since: now,
                })
            })
            .collect();
        Self {
            allowance,
            window,
            hasher: RandomState::new(),
            shards,
        }
    }

    /// Takes one request from `client`'s allowance, or says in how many seconds to retry.
    pub fn check(&self, client: &str) -> Result<(), u64> {
        self.check_at(client, Instant::now())
    }

    fn check_at(&self, client: &str, now: Instant) -> Result<(), u64> {
        if self.allowance == 0 {
            return Ok(());
        }
        let capacity = f64::from(self.allowance);
        let per_second = capacity / self.window.as_secs_f64();
        let index = (self.hasher.hash_one(client) as usize) % SHARDS;
        let mut shard = self.shards[index]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Dropped after the lock is released: freeing a generation is the only O(n) work.
        let mut forgotten = None;
        let stale = now.duration_since(shard.since) >= self.window;
        if stale || shard.current.len() >= MAX_PER_GENERATION {
            let current = std::mem::take(&mut shard.current);
            forgotten = Some(std::mem::replace(&mut shard.previous, current));
            shard.since = now;
        }
        let bucket = match shard.current.get_mut(client) {
            Some(bucket) => bucket,
            None => {
                let moved = shard.previous.remove(client).unwrap_or(Bucket {
                    tokens: capacity,
                    updated: now,
                });
                shard.current.entry(client.to_owned()).or_insert(moved)
            }
        };
        let refilled =
            bucket.tokens + now.duration_since(bucket.updated).as_secs_f64() * per_second;
        bucket.tokens = refilled.min(capacity);
        bucket.updated = now;
        let answer = if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = Duration::from_secs_f64((1.0 - bucket.tokens) / per_second);
            Err(wait.as_secs().max(1))
        };
        drop(shard);
        drop(forgotten);
        answer
    }

    /// Buckets held, over every shard and generation.
    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| {
                let shard = shard.lock().unwrap();
                shard.current.len() + shard.previous.len()
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_refused_then_refilled() {
        let limiter = RateLimiter::per_minute(3);
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.check_at("a", start), Ok(()));
        }
        assert_eq!(
            limiter.check_at("a", start),
            Err(20),
            "one token every 20 s"
        );
        assert_eq!(
            limiter.check_at("b", start),
            Ok(()),
            "clients are counted apart"
        );
        assert_eq!(
            limiter.check_at("a", start + Duration::from_secs(21)),
            Ok(())
        );
        assert!(
            limiter
                .check_at("a", start + Duration::from_secs(21))
                .is_err()
        );
    }

    #[test]
    fn an_hourly_allowance_refills_over_the_hour() {
        let limiter = RateLimiter::per_hour(2);
        let start = Instant::now();
        assert!(limiter.check_at("a", start).is_ok() && limiter.check_at("a", start).is_ok());
        assert_eq!(
            limiter.check_at("a", start),
            Err(1800),
            "one token every 30 min"
        );
        assert!(
            limiter
                .check_at("a", start + Duration::from_secs(1801))
                .is_ok()
        );
    }

    #[test]
    fn a_bucket_survives_a_generation_change_and_is_forgotten_only_once_full() {
        let limiter = RateLimiter::per_minute(2);
        let start = Instant::now();
        assert!(limiter.check_at("a", start).is_ok() && limiter.check_at("a", start).is_ok());
        // A window later its generation rotates, but the bucket moves forward, still spent
        // by the refill it has had (one token per 30 s: two after 61 s, used twice here).
        let later = start + Duration::from_secs(61);
        assert!(limiter.check_at("a", later).is_ok() && limiter.check_at("a", later).is_ok());
        assert!(limiter.check_at("a", later).is_err());
    }

    #[test]
    fn a_hundred_thousand_clients_keep_the_table_bounded() {
        let limiter = RateLimiter::per_minute(10);
        let start = Instant::now();
        for n in 0..300_000u32 {
            // Three windows' worth of distinct clients, a hundred thousand a window.
            let now = start + Duration::from_millis(u64::from(n) * 60_000 / 100_000);
            assert!(limiter.check_at(&format!("client-{n}"), now).is_ok());
        }
        let tracked = limiter.tracked();
        assert!(
            tracked <= 2 * SHARDS * MAX_PER_GENERATION,
            "{tracked} buckets held"
        );
        assert!(
            tracked <= 200_000 + SHARDS,
            "at most two windows of clients: {tracked}"
        );
    }

    #[test]
    fn zero_means_unlimited() {
        let limiter = RateLimiter::per_minute(0);
        let now = Instant::now();
        assert!((0..1000).all(|_| limiter.check_at("a", now).is_ok()));
    }
}
