//! The webhook worker: fans new events out into deliveries, then makes every due attempt:
//! claimed under a lease, sent outside any transaction, settled by the claim's holder.

use std::sync::Arc;

use tokio::task::JoinSet;

use crate::app::webhooks::deliver::{self, Attempted, Claim};
use crate::app::webhooks::fanout;
use crate::clock::Clock;
use crate::db::DbPool;
use crate::error::AppError;
use crate::webhook::{Request, Sender};

/// Everything the worker needs.
#[derive(Clone)]
pub struct WebhookWorker {
    pub pool: DbPool,
    /// The service's clock: when deliveries are due, when they are retried.
    pub clock: Arc<dyn Clock>,
    /// The machine's real clock, for `webhook-timestamp`: receivers compare it with their own
    /// clock to refuse replays, so it is real time even when the service's clock is set.
    pub wall_clock: Arc<dyn Clock>,
    pub sender: Sender,
    /// How long a claim holds (`app::webhooks::deliver::LEASE` unless set).
    pub lease: chrono::Duration,
    /// Deliveries claimed at a time.
    pub batch: i64,
    /// Requests in flight at once.
    pub concurrency: usize,
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    /// Events read from the log.
    pub events: usize,
    /// Attempts the receiver answered with a 2xx.
    pub delivered: usize,
    /// Attempts that failed (to be retried, or given up), or whose claim another worker had
    /// taken over.
    pub failed: usize,
}

impl WebhookWorker {
    /// Fans out what the log holds, then makes every due attempt, batch by batch.
    pub async fn round(&self) -> Result<Round, AppError> {
        let mut conn = self.pool.get().await?;
        let mut round = Round {
            events: fanout::fan_out_pending(&mut conn, self.clock.now()).await?,
            ..Round::default()
        };
        loop {
            let claims =
                deliver::claim(&mut conn, self.batch, self.lease, self.clock.now()).await?;
            if claims.is_empty() {
                return Ok(round);
            }
            let claimed = claims.len();
            let mut tasks = JoinSet::new();
            for claim in claims {
                if tasks.len() >= self.concurrency.max(1) {
                    count(&mut round, tasks.join_next().await);
                }
                let worker = self.clone();
                tasks.spawn(async move { worker.attempt(claim).await });
            }
            while let Some(done) = tasks.join_next().await {
                count(&mut round, Some(done));
            }
            if (claimed as i64) < self.batch {
                return Ok(round);
            }
        }
    }

    /// One attempt: send, then settle. True when the receiver took it.
    async fn attempt(&self, claim: Claim) -> Result<bool, AppError> {
        let id = claim.delivery.event_id.to_string();
        let request = Request {
            url: &claim.url,
            id: &id,
            timestamp: self.wall_clock.now().timestamp(),
            body: &claim.delivery.body,
            keys: claim.keys.iter().map(Vec::as_slice).collect(),
        };
        let at = self.clock.now();
        // No transaction and no pooled connection is held across the network.
        let answer = self.sender.send(&request).await;
        let delivered = answer.status.is_some_and(|s| (200..300).contains(&s));
        if !delivered {
            tracing::warn!(delivery = %claim.delivery.id, status = answer.status, error = answer.error.as_deref(), "a webhook attempt failed");
        }
        let attempted = Attempted {
            at,
            status: answer.status,
            latency_ms: i32::try_from(answer.latency.as_millis()).unwrap_or(i32::MAX),
            excerpt: answer.excerpt,
            error: answer.error,
        };
        let mut conn = self.pool.get().await?;
        let settled = deliver::settle(&mut conn, &claim, attempted, self.clock.now()).await?;
        Ok(delivered && settled)
    }
}

fn count(round: &mut Round, done: Option<Result<Result<bool, AppError>, tokio::task::JoinError>>) {
    match done {
        Some(Ok(Ok(true))) => round.delivered += 1,
        Some(Ok(Ok(false))) => round.failed += 1,
        Some(Ok(Err(error))) => {
            // Its claim lapses and another round takes it again.
            tracing::warn!(%error, "a webhook attempt could not be settled");
            round.failed += 1;
        }
        Some(Err(error)) => tracing::error!(%error, "a webhook task panicked"),
        None => {}
    }
}

impl super::Rounds for WebhookWorker {
    type Done = Round;
    const NAME: &'static str = "webhooks";

    fn round(&self) -> impl std::future::Future<Output = Result<Round, AppError>> + Send {
        WebhookWorker::round(self)
    }

    fn report(round: &Round) {
        if round.delivered > 0 || round.failed > 0 {
            tracing::info!(
                delivered = round.delivered,
                failed = round.failed,
                "webhooks delivered"
            );
        }
    }
}
