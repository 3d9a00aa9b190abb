//! The waitlist worker: turns freed times in the event log into openings, expires what went
//! unanswered, then offers each due opening to the first in line. Any number of replicas may
//! run it: the cursor and each opening are taken with `SKIP LOCKED`, so an opening is offered
//! once, and its emails are notifications delivered once.

use std::sync::Arc;

use crate::app::waitlist::{offers, openings};
use crate::clock::Clock;
use crate::db::DbPool;
use crate::error::AppError;

/// Everything the worker needs.
#[derive(Clone)]
pub struct WaitlistWorker {
    pub pool: DbPool,
    pub clock: Arc<dyn Clock>,
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    /// Events read from the log.
    pub events: usize,
    pub swept: offers::Swept,
    pub offered: offers::Offered,
}

impl WaitlistWorker {
    /// Reads the log, sweeps, and offers what is due.
    pub async fn round(&self) -> Result<Round, AppError> {
        let mut conn = self.pool.get().await?;
        let events = openings::collect(&mut conn, self.clock.now()).await?;
        let swept = offers::sweep(&mut conn, self.clock.now()).await?;
        let offered = offers::offer_due(&mut conn, self.clock.now()).await?;
        Ok(Round {
            events,
            swept,
            offered,
        })
    }
}

impl super::Rounds for WaitlistWorker {
    type Done = Round;
    const NAME: &'static str = "waitlist";

    fn round(&self) -> impl std::future::Future<Output = Result<Round, AppError>> + Send {
        WaitlistWorker::round(self)
    }

    fn report(round: &Round) {
        if round.offered.offers > 0 || round.swept != offers::Swept::default() {
            tracing::info!(
                offers = round.offered.offers,
                openings = round.offered.openings,
                offers_expired = round.swept.offers_expired,
                entries_expired = round.swept.entries_expired,
                "waitlist offered"
            );
        }
    }
}
