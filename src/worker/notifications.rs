//! The notification worker: plans notifications from new events, then delivers what is due —
//! claimed under a lease, sent outside any transaction, settled by the claim's holder.

use std::sync::Arc;

use tokio::task::JoinSet;

use crate::app::notifications::Outbox;
use crate::app::notifications::deliver::{self, Claim, Next};
use crate::app::notifications::plan;
use crate::clock::Clock;
use crate::db::DbPool;
use crate::domain::notifications::SendFailure;
use crate::error::AppError;
use crate::mail::Mailer;

/// Everything the worker needs.
#[derive(Clone)]
pub struct NotificationWorker {
    pub pool: DbPool,
    pub clock: Arc<dyn Clock>,
    pub mailer: Mailer,
    pub outbox: Outbox,
    /// Notifications claimed at a time.
    pub batch: i64,
    /// Messages in flight at once.
    pub concurrency: usize,
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    /// Events read from the log.
    pub events: usize,
    /// Messages accepted by the mail server (or written).
    pub sent: usize,
    /// Attempts that ended otherwise: retried, failed, skipped, cancelled, deferred, or lost
    /// to another worker after a lapsed claim.
    pub settled_otherwise: usize,
}

impl NotificationWorker {
    /// Plans what the log holds, then delivers everything due, batch by batch.
    pub async fn round(&self) -> Result<Round, AppError> {
        let mut conn = self.pool.get().await?;
        let mut round = Round {
            events: plan::plan_pending(&mut conn, self.clock.now()).await?,
            ..Round::default()
        };
        loop {
            let claims = deliver::claim(&mut conn, self.batch, self.clock.now()).await?;
            if claims.is_empty() {
                return Ok(round);
            }
            let claimed = claims.len();
            let mut tasks = JoinSet::new();
            for claim in claims {
                if tasks.len() >= self.concurrency.max(1) {
                    self.count(&mut round, tasks.join_next().await);
                }
                let worker = self.clone();
                tasks.spawn(async move { worker.deliver(claim).await });
            }
            while let Some(done) = tasks.join_next().await {
                self.count(&mut round, Some(done));
            }
            if (claimed as i64) < self.batch {
                return Ok(round);
            }
        }
    }

    fn count(
        &self,
        round: &mut Round,
        done: Option<Result<Result<bool, AppError>, tokio::task::JoinError>>,
    ) {
        match done {
            Some(Ok(Ok(true))) => round.sent += 1,
            Some(Ok(Ok(false))) => round.settled_otherwise += 1,
            Some(Ok(Err(error))) => {
                // Its claim lapses and another round takes it again.
                tracing::warn!(%error, "a notification could not be delivered");
                round.settled_otherwise += 1;
            }
            Some(Err(error)) => tracing::error!(%error, "a delivery task panicked"),
            None => {}
        }
    }

    /// One claimed notification: decide, send, settle. True when a message went.
    async fn deliver(&self, claim: Claim) -> Result<bool, AppError> {
        let mut conn = self.pool.get().await?;
        let now = self.clock.now();
        let next = match deliver::prepare(&mut conn, &self.outbox, &claim, now).await {
            Ok(next) => next,
            Err(error) => {
                // One that cannot be written (a record gone, the database failing) is retried
                // like a transient failure and fails once its attempts are spent.
                tracing::warn!(notification = %claim.notification.id, %error, "a notification could not be prepared");
                let failure =
                    SendFailure::Transient(format!("cannot prepare the message: {error}"));
                deliver::settle_send(&mut conn, &claim, String::new(), Err(failure), now).await?;
                return Ok(false);
            }
        };
        match next {
            Next::Settle(outcome) => {
                deliver::settle(&mut conn, &claim, outcome, now).await?;
                Ok(false)
            }
            Next::Send(letter) => {
                // No transaction and no pooled connection is held across the network.
                drop(conn);
                let outcome = self.mailer.send(&letter).await;
                let sent = outcome.is_ok();
                if let Err(failure) = &outcome {
                    // The reason may quote the address: only the id is logged.
                    tracing::warn!(notification = %claim.notification.id, permanent = matches!(failure, SendFailure::Permanent(_)), "a send failed");
                }
                let mut conn = self.pool.get().await?;
                let settled = deliver::settle_send(
                    &mut conn,
                    &claim,
                    letter.subject,
                    outcome,
                    self.clock.now(),
                )
                .await?;
                Ok(sent && settled)
            }
        }
    }
}

impl super::Rounds for NotificationWorker {
    type Done = Round;
    const NAME: &'static str = "notifications";

    fn round(&self) -> impl std::future::Future<Output = Result<Round, AppError>> + Send {
        NotificationWorker::round(self)
    }

    fn report(round: &Round) {
        if round.sent > 0 || round.settled_otherwise > 0 {
            tracing::info!(
                sent = round.sent,
                other = round.settled_otherwise,
                "notifications delivered"
            );
        }
    }
}
