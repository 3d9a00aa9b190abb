//! Per-client token buckets: each client may burst up to its allowance for a window, refilled
//! evenly over the window. Held in this process's memory, so each replica counts on its own.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Buckets kept before full ones are dropped, bounding memory under many clients.
const MAX_TRACKED: usize = 50_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// A rate limit shared by every worker of the process.
#[derive(Debug)]
pub struct RateLimiter {
    allowance: u32,
    window: Duration,
    buckets: Mutex<HashMap<String, Bucket>>,
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
        Self {
            allowance,
            window,
            buckets: Mutex::new(HashMap::new()),
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
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() >= MAX_TRACKED {
            buckets.retain(|_, bucket| {
                bucket.tokens + now.duration_since(bucket.updated).as_secs_f64() * per_second
                    < capacity
            });
        }
        let bucket = buckets.entry(client.to_owned()).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        let refilled =
            bucket.tokens + now.duration_since(bucket.updated).as_secs_f64() * per_second;
        bucket.tokens = refilled.min(capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = Duration::from_secs_f64((1.0 - bucket.tokens) / per_second);
            Err(wait.as_secs().max(1))
        }
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
    fn zero_means_unlimited() {
        let limiter = RateLimiter::per_minute(0);
        let now = Instant::now();
        assert!((0..1000).all(|_| limiter.check_at("a", now).is_ok()));
    }
}
