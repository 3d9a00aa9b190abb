//! The API keys this process has lately found valid, so that a request's key costs no round
//! trip to the database.
//!
//! Safe across replicas: every change that can end a key's use (revoked, deleted, re-scoped,
//! its provider archived) notifies `api_key_changes` at commit (migration 000019), and
//! [`listen`] empties the cache on each notice, within milliseconds on every replica. While the
//! listener is not connected (startup, a lost connection) the cache is bypassed: a revocation
//! is never missed, only the saving is. A silent listener connection is found out by a ping
//! every [`HEARTBEAT`], so even a connection that died without a word costs at most about a
//! second of staleness. Entries also lapse after [`TTL`], and expiry is checked on every use.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::db::{DbConn, DbPool};
use crate::models::api_keys::{self, KeyWithProvider};

/// How long an entry is believed without a notice: a bound on what a lost notice could cost.
const TTL: Duration = Duration::from_secs(60);
/// How often a quiet listener connection is asked whether it is still there, and how long it
/// has to answer.
pub const HEARTBEAT: Duration = Duration::from_millis(500);
/// The pause before the listener reconnects.
const RETRY: Duration = Duration::from_millis(500);
/// At most this many keys are kept; a full cache starts again empty (keys are few; this only
/// bounds memory).
const CAPACITY: usize = 10_000;

/// Keys by the SHA-256 of their secret.
#[derive(Default)]
pub struct KeyCache {
    inner: Mutex<Inner>,
    listening: AtomicBool,
}

#[derive(Default)]
struct Inner {
    /// Bumped by every forgetting: a lookup begun before it must not be stored after it.
    generation: u64,
    keys: HashMap<[u8; 32], Entry>,
}

struct Entry {
    key: KeyWithProvider,
    stored: Instant,
}

/// The cache's state when a lookup began, to store its result with ([`KeyCache::put`]).
#[derive(Debug, Clone, Copy)]
pub struct Generation(Option<u64>);

impl KeyCache {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The key with this hash, if it is cached and the cache can be believed.
    pub fn get(&self, hash: &[u8; 32]) -> Option<KeyWithProvider> {
        if !self.listening.load(Ordering::Acquire) {
            return None;
        }
        let inner = self.inner();
        let entry = inner.keys.get(hash)?;
        (entry.stored.elapsed() < TTL).then(|| entry.key.clone())
    }

    /// Taken before a key is read from the database.
    pub fn generation(&self) -> Generation {
        if !self.listening.load(Ordering::Acquire) {
            return Generation(None);
        }
        Generation(Some(self.inner().generation))
    }

    /// Stores a key read since `generation`, unless the cache forgot anything meanwhile.
    pub fn put(&self, generation: Generation, hash: [u8; 32], key: KeyWithProvider) {
        let mut inner = self.inner();
        if generation.0 != Some(inner.generation) || !self.listening.load(Ordering::Acquire) {
            return;
        }
        if inner.keys.len() >= CAPACITY {
            inner.keys.clear();
        }
        let stored = Instant::now();
        inner.keys.insert(hash, Entry { key, stored });
    }

    /// Notes that the key was just recorded as used, so the next touch is a minute away.
    pub fn touched(&self, hash: &[u8; 32], at: DateTime<Utc>) {
        if let Some(entry) = self.inner().keys.get_mut(hash) {
            entry.key.key.last_used_at = Some(at);
        }
    }

    /// Forgets every key: something that can end a key's use changed.
    pub fn forget_all(&self) {
        let mut inner = self.inner();
        inner.generation += 1;
        inner.keys.clear();
    }

    /// How many keys are cached.
    pub fn len(&self) -> usize {
        self.inner().keys.len()
    }

    /// Whether no key is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the listener is connected, so that the cache is used.
    pub fn is_listening(&self) -> bool {
        self.listening.load(Ordering::Acquire)
    }

    fn set_listening(&self, listening: bool) {
        // Forget before believing again: what was stored before the listener connected (or
        // while it was losing its connection) may have missed a notice.
        self.forget_all();
        self.listening.store(listening, Ordering::Release);
    }
}

/// Keeps `cache` believable for as long as it runs: a connection of its own (taken out of
/// `pool`) listens for key changes; lost, it is replaced.
pub async fn listen(cache: std::sync::Arc<KeyCache>, pool: DbPool) {
    loop {
        if let Ok(conn) = pool.get().await {
            // Out of the pool for good: a listening connection is not lent to requests.
            let mut conn = DbConn::take(conn);
            if api_keys::listen_for_changes(&mut conn).await.is_ok() {
                cache.set_listening(true);
                follow(&cache, &mut conn).await;
                tracing::warn!("the API key listener lost its connection; keys are read afresh");
            }
        }
        cache.set_listening(false);
        tokio::time::sleep(RETRY).await;
    }
}

/// Forgets on every notice until the connection fails or stops answering.
async fn follow(cache: &KeyCache, conn: &mut diesel_async::AsyncPgConnection) {
    use futures_util::StreamExt;
    loop {
        let notice = {
            let mut notices = std::pin::pin!(conn.notifications_stream());
            tokio::time::timeout(HEARTBEAT, notices.next()).await
        };
        match notice {
            Ok(Some(Ok(_))) => cache.forget_all(),
            Ok(_) => return,
            Err(_quiet) => {
                let answered = tokio::time::timeout(HEARTBEAT, crate::db::ping(conn)).await;
                if !matches!(answered, Ok(Ok(()))) {
                    return;
                }
            }
        }
    }
}
