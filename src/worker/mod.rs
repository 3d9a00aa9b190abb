//! Background work inside `serve`, over the event log: each worker reads events from its
//! cursor and acts on them, never called by a handler. Safe with any number of replicas: the
//! cursor and the rows to deliver are claimed in the database.

pub mod notifications;
pub mod waitlist;
pub mod webhooks;

use std::future::Future;
use std::time::Duration;

use crate::error::AppError;

/// A worker that runs in rounds.
pub trait Rounds: Send + Sync + 'static {
    /// What one round did.
    type Done: Send;
    /// The worker's name in its log lines.
    const NAME: &'static str;

    /// One round: read, claim, deliver.
    fn round(&self) -> impl Future<Output = Result<Self::Done, AppError>> + Send;

    /// Logs what a round did, when it did something.
    fn report(done: &Self::Done);
}

/// Runs `worker`'s rounds every `poll` until the process ends; a failed round is logged and
/// the next one tries again.
pub async fn run<W: Rounds>(worker: W, poll: Duration) {
    let mut every = tokio::time::interval(poll);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match worker.round().await {
            Ok(done) => W::report(&done),
            Err(error) => tracing::warn!(%error, worker = W::NAME, "a worker's round failed"),
        }
    }
}
