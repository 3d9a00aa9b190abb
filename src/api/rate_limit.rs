//! Per-client token buckets: each client may burst up to its per-minute allowance, refilled
//! evenly. Held in this process's memory, so each replica counts on its own.

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
    per_minute: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// Allows `per_minute` requests a minute per client (0 turns the limit off).
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `client`'s allowance, or says in how many seconds to retry.
    pub fn check(&self, client: &str) -> Result<(), u64> {
        self.check_at(client, Instant::now())
    }

    fn check_at(&self, client: &str, now: Instant) -> Result<(), u64> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(self.per_minute);
        let per_second = capacity / 60.0;
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
        let limiter = RateLimiter::new(3);
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
    fn zero_means_unlimited() {
        let limiter = RateLimiter::new(0);
        let now = Instant::now();
        assert!((0..1000).all(|_| limiter.check_at("a", now).is_ok()));
    }
}
