//! Keeps the deferred lookup table (by actor, subject, unit, purpose; see
//! `store/lookup.rs`) close behind the appends. Listings stay complete whatever its lag:
//! they read the events above its watermark directly.

use super::{AuditError, AuditLog};
use std::sync::Arc;
use std::time::Duration;

/// Most events added to the lookup table per transaction (a few hundred milliseconds of
/// the writer's time, during which appends wait).
pub const LOOKUP_BATCH: i64 = 20_000;
/// How often the indexer looks for new events. Larger batches are cheaper per event (each
/// page rewritten once per batch), shorter lag keeps listings' unindexed tail short.
const LOOKUP_EVERY: Duration = Duration::from_millis(500);

impl AuditLog {
    /// Adds up to `max_events` appended events to the lookup table, in one transaction;
    /// returns how many (0: it was complete).
    pub async fn index_lookups(&self, max_events: i64) -> Result<i64, AuditError> {
        Ok(self.store.index_lookups(max_events).await?)
    }

    /// Indexes what was appended, every [`LOOKUP_EVERY`], until the task is aborted. A
    /// failure is logged and retried at the next tick; nothing is lost meanwhile.
    pub async fn run_lookup_indexer(self: Arc<Self>) {
        let mut every = tokio::time::interval(LOOKUP_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            loop {
                match self.index_lookups(LOOKUP_BATCH).await {
                    Ok(LOOKUP_BATCH) => continue,
                    Ok(_) => break,
                    Err(error) => {
                        tracing::warn!(
                            error = error.category(),
                            "audit lookup indexing failed; will retry"
                        );
                        break;
                    }
                }
            }
        }
    }
}
