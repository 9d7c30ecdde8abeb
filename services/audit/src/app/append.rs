//! Appending batches to the log, pipelined: a batch is *placed* (de-duplicated, given its
//! leaf indexes, hashed, run through the alert rules) under the writer lock, then
//! *committed* under the committer lock, which it takes before letting go of the writer.
//! So the next batch is placed while this one commits, and batches still commit in
//! placement order.
//!
//! A batch whose commit fails marks the log broken: the batches placed after it (on top
//! of leaf indexes that were never stored) are refused without writing, and the next
//! placement first re-reads the stored state. Events of a batch being committed are
//! "in flight": a batch naming one of them (a retry that overtook its first attempt) waits
//! for that outcome instead of calling it a duplicate of something not yet stored.

use super::alerts::AlertRules;
use super::{AppendOutcome, AuditError, AuditLog, SubmittedEvent, new_entry, observed};
use crate::store::{AuditStore, NewEvent, PlacedEvent, PreparedAppend, StoredAlert};
use std::collections::HashSet;
use std::sync::atomic::Ordering;

/// What placing needs to remember from one batch to the next.
pub(super) struct WriterState {
    /// The alert windows.
    pub(super) rules: AlertRules,
    /// Id of the next alert raised.
    pub(super) next_alert_id: i64,
    /// Leaf index of the next event placed (committed leaves plus those in flight).
    pub(super) next_leaf: i64,
    /// Ids of events placed in batches not yet settled.
    pub(super) in_flight: HashSet<String>,
}

/// A placed batch, ready to commit.
struct Placed {
    /// Its statements.
    prepared: PreparedAppend,
    /// Its leaf hashes, in order.
    hashes: Vec<[u8; 32]>,
    /// The alerts it raised.
    alerts: Vec<StoredAlert>,
    /// Its number of events.
    accepted: u64,
}

impl AuditLog {
    /// Appends a batch: events whose id is already stored are skipped; the new ones become
    /// leaves of the log, in order, and the alerts they raise are stored with them in the
    /// same transaction. Returns once the batch is committed (or refused).
    pub async fn append(&self, batch: Vec<SubmittedEvent>) -> Result<AppendOutcome, AuditError> {
        let total = batch.len() as u64;
        let mut seen = HashSet::new();
        let mut events: Vec<NewEvent> = batch
            .into_iter()
            .filter(|e| seen.insert(e.event.event_id.clone()))
            .map(|submitted| {
                let mut event = submitted.event;
                event.subject_hash = submitted
                    .subject
                    .map(|s| self.subject_hash(&s))
                    .unwrap_or_default();
                event
            })
            .collect();
        let (placed, ids, turn, mut unsettled) = loop {
            let mut writer = self.writer.lock().await;
            if self.broken.load(Ordering::Acquire) {
                self.recover(&mut writer).await?;
            }
            if events
                .iter()
                .any(|e| writer.in_flight.contains(&e.event_id))
            {
                let settled = self.settled.notified();
                drop(writer);
                settled.await;
                continue;
            }
            let ids: Vec<String> = events.iter().map(|e| e.event_id.clone()).collect();
            let stored = self.store.existing_ids(&ids).await?;
            events.retain(|e| !stored.contains(&e.event_id));
            if events.is_empty() {
                return Ok(AppendOutcome {
                    accepted: 0,
                    duplicates: total,
                });
            }
            let ids: Vec<String> = events.iter().map(|e| e.event_id.clone()).collect();
            let placed = place(&self.store, &mut writer, std::mem::take(&mut events));
            writer.in_flight.extend(ids.iter().cloned());
            let unsettled = Unsettled {
                log: self,
                armed: true,
            };
            // Queue for the commit before the next batch may be placed.
            let turn = self.committer.clone().lock_owned().await;
            break (placed, ids, turn, unsettled);
        };
        let Placed {
            prepared,
            hashes,
            alerts,
            accepted,
        } = placed;
        // The commit runs as a task of its own, which holds the committer's turn until the
        // outcome is recorded. A caller that goes away mid-commit (a cancelled request)
        // therefore cannot leave a commit running unseen: the recovery its departure
        // triggers takes the same turn, so it reads the stored state only after that
        // commit has ended. (Cancelled with the caller, a PostgreSQL `COMMIT` already sent
        // could land after the recovery had read the log, which then reused its leaf
        // indexes.)
        let store = self.store.clone();
        let tree = self.tree.clone();
        let broken = self.broken.clone();
        let commit = tokio::spawn(async move {
            let committed = if broken.load(Ordering::Acquire) {
                Err(AuditError::Retry(
                    "an earlier batch failed to commit; send this one again",
                ))
            } else {
                store
                    .commit_append(prepared)
                    .await
                    .map_err(AuditError::from)
            };
            match &committed {
                Ok(()) => {
                    let mut tree = tree.write().unwrap_or_else(|e| e.into_inner());
                    for hash in hashes {
                        tree.push(hash);
                    }
                }
                Err(_) => broken.store(true, Ordering::Release),
            }
            drop(turn);
            committed
        });
        let committed = match commit.await {
            Ok(committed) => committed,
            // The task panicked: nothing says whether the batch was stored.
            Err(_) => {
                self.broken.store(true, Ordering::Release);
                Err(AuditError::Retry(
                    "the commit did not finish; send this batch again",
                ))
            }
        };
        {
            let mut writer = self.writer.lock().await;
            for id in &ids {
                writer.in_flight.remove(id);
            }
        }
        unsettled.armed = false;
        self.settled.notify_waiters();
        committed?;
        for alert in alerts {
            let _ = self.alerts_tx.send(alert);
        }
        Ok(AppendOutcome {
            accepted,
            duplicates: total - accepted,
        })
    }

    /// After a failed commit: waits until every batch placed before has settled, then
    /// takes the stored state as the truth (a commit reported failed may have gone
    /// through after all).
    async fn recover(&self, writer: &mut WriterState) -> Result<(), AuditError> {
        let _turn = self.committer.lock().await;
        self.resync_tree().await?;
        writer.next_leaf = self.tree_size() as i64;
        writer.next_alert_id = self.store.last_alert_id().await? + 1;
        // Every placed batch has settled (or was abandoned): nothing is in flight.
        writer.in_flight.clear();
        self.broken.store(false, Ordering::Release);
        self.settled.notify_waiters();
        Ok(())
    }

    /// Appends to the in-memory tree any stored leaves it lacks.
    async fn resync_tree(&self) -> Result<(), AuditError> {
        let size = self.tree_size() as i64;
        let stored = self.store.leaves(size, i64::MAX).await?;
        let mut tree = self.tree.write().unwrap_or_else(|e| e.into_inner());
        for leaf in stored {
            let hash: [u8; 32] = leaf.leaf_hash.try_into().map_err(|_| {
                AuditError::Corrupt(format!("leaf {} is not 32 bytes", leaf.leaf_index))
            })?;
            if leaf.leaf_index as u64 == tree.size() {
                tree.push(hash);
            }
        }
        Ok(())
    }
}

/// Armed while a placed batch has not settled. Dropped armed — the caller went away in
/// the middle (an append is cancelled when its request is) — it marks the log broken, so
/// the next placement re-reads the stored state rather than build on leaf indexes that
/// may never be stored, and wakes the batches waiting for its events.
struct Unsettled<'a> {
    log: &'a AuditLog,
    armed: bool,
}

impl Drop for Unsettled<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        self.log.broken.store(true, Ordering::Release);
        self.log.settled.notify_waiters();
    }
}

/// Gives `events` the next leaf indexes, hashes them and runs them through the alert
/// rules; the alerts they raise get the next alert ids. The statements that store them are
/// built here too, so that committing is only the database's work.
fn place(store: &AuditStore, writer: &mut WriterState, events: Vec<NewEvent>) -> Placed {
    let accept_time_us = chrono::Utc::now().timestamp_micros();
    let start = writer.next_leaf;
    let mut alerts = Vec::new();
    let events: Vec<PlacedEvent> = events
        .into_iter()
        .enumerate()
        .map(|(i, event)| {
            let leaf_index = start + i as i64;
            let leaf_hash = new_entry(&event, leaf_index, accept_time_us).leaf_hash();
            let raised = writer.rules.observe(observed(
                &event.actor_id,
                &event.subject_hash,
                &event.resource_type,
                &event.outcome,
                &event.decision,
                &event.break_glass,
                event.occur_time_us,
            ));
            for (kind, detail) in raised {
                alerts.push(StoredAlert {
                    alert_id: 0,
                    kind: kind.code().to_owned(),
                    create_time_us: accept_time_us,
                    event_id: event.event_id.clone(),
                    leaf_index,
                    actor_id: event.actor_id.clone(),
                    actor_unit: event.actor_unit.clone(),
                    detail,
                });
            }
            PlacedEvent {
                event,
                leaf_index,
                leaf_hash,
            }
        })
        .collect();
    writer.next_leaf = start + events.len() as i64;
    for alert in &mut alerts {
        alert.alert_id = writer.next_alert_id;
        writer.next_alert_id += 1;
    }
    Placed {
        accepted: events.len() as u64,
        hashes: events.iter().map(|p| p.leaf_hash).collect(),
        prepared: store.prepare_append(events, accept_time_us, alerts.clone()),
        alerts,
    }
}
