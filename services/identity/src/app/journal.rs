//! What every register use case does around its work: stage its audit events in the same
//! transaction as its writes, commit, wake change-feed watchers, and ship the events.

use super::IdentityError;
use crate::store::IdentityStore;
use dancu_audit_client::event::Authorization;
use dancu_audit_client::event::Touched;
use dancu_audit_client::{AuditOutbox, OutboxRow, new_event, new_event_with};
use dancu_kit::call::CallContext;
use dancu_proto::audit::v1::AuditEvent;
use sea_orm::DatabaseTransaction;
use std::sync::Arc;
use tokio::sync::Notify;
use tonic::Code;

/// Service name in audit events.
pub const SERVICE: &str = "identity";

/// Audit staging and change-feed wake-ups shared by the register's use cases.
pub struct Journal {
    store: IdentityStore,
    outbox: Arc<AuditOutbox>,
    feed: Arc<Notify>,
}

impl Journal {
    /// A journal writing through `outbox` and waking `feed` watchers after commits.
    pub fn new(store: IdentityStore, outbox: Arc<AuditOutbox>, feed: Arc<Notify>) -> Self {
        Self {
            store,
            outbox,
            feed,
        }
    }

    /// The store.
    pub fn store(&self) -> &IdentityStore {
        &self.store
    }

    /// The signal raised after every commit that appended to the change feed.
    pub fn feed_signal(&self) -> Arc<Notify> {
        self.feed.clone()
    }

    /// Stages the audit event of a call by `ctx` about each of `subjects` (or one event
    /// without a subject when there are none) in `txn`.
    pub async fn stage(
        &self,
        txn: &DatabaseTransaction,
        ctx: &CallContext,
        resource_type: &str,
        subjects: &[&str],
        resource_id: Option<&str>,
        outcome: Code,
    ) -> Result<Vec<AuditEvent>, IdentityError> {
        let events = events(ctx, resource_type, subjects, resource_id, outcome);
        self.stage_events(txn, &events).await?;
        Ok(events)
    }

    /// Stages already-built `events` in `txn`.
    pub async fn stage_events(
        &self,
        txn: &DatabaseTransaction,
        events: &[AuditEvent],
    ) -> Result<(), IdentityError> {
        for event in events {
            self.outbox.stage(txn, event).await?;
        }
        Ok(())
    }

    /// Commits `txn`, wakes feed watchers if `fed` (the transaction appended changes),
    /// then ships `events`.
    pub async fn commit(
        &self,
        txn: DatabaseTransaction,
        events: Vec<AuditEvent>,
        fed: bool,
    ) -> Result<(), IdentityError> {
        txn.commit().await?;
        self.committed(events, fed).await;
        Ok(())
    }

    /// The outbox rows of `events`, for a write that inserts them itself in its
    /// transaction (then [`Journal::committed`] once it committed).
    pub fn outbox_rows(&self, events: &[AuditEvent]) -> Result<Vec<OutboxRow>, IdentityError> {
        Ok(self.outbox.admit_rows(events)?)
    }

    /// After a commit that staged `events`: wakes feed watchers if `fed` (the transaction
    /// appended changes), then ships `events`.
    pub async fn committed(&self, events: Vec<AuditEvent>, fed: bool) {
        if fed {
            self.feed.notify_waiters();
        }
        self.outbox.ship(events).await;
    }

    /// Durably records the audit events of a read (or of a call that changed nothing)
    /// before its answer leaves: one event per subject, committed together.
    pub async fn record(
        &self,
        ctx: &CallContext,
        resource_type: &str,
        subjects: &[&str],
        resource_id: Option<&str>,
        outcome: Code,
    ) -> Result<(), IdentityError> {
        self.persist(events(ctx, resource_type, subjects, resource_id, outcome))
            .await
    }

    /// Durably records the audit events of a read whose every subject was decided by the
    /// policies: one event per subject, carrying its decision and deciding policies.
    pub async fn record_decided(
        &self,
        ctx: &CallContext,
        resource_type: &str,
        decided: &[(&str, Authorization)],
        outcome: Code,
    ) -> Result<(), IdentityError> {
        if decided.is_empty() {
            return self.record(ctx, resource_type, &[], None, outcome).await;
        }
        let events: Vec<AuditEvent> = decided
            .iter()
            .map(|(subject, authorization)| {
                let touched = Touched {
                    resource_type,
                    subject: Some(subject),
                    resource_id: None,
                };
                new_event_with(SERVICE, ctx, touched, outcome, authorization)
            })
            .collect();
        self.persist(events).await
    }

    /// Commits the events of a read before its answer leaves: one event through the
    /// outbox's group commit (shared with concurrent reads), several in one transaction.
    async fn persist(&self, mut events: Vec<AuditEvent>) -> Result<(), IdentityError> {
        if events.len() == 1 {
            self.outbox.record(events.remove(0)).await?;
            return Ok(());
        }
        let txn = self.store.begin_write().await?;
        for event in &events {
            self.outbox.stage(&txn, event).await?;
        }
        self.commit(txn, events, false).await
    }

    /// Records the rejection of a call about `subject` (if it named a valid one) that ended
    /// before reaching the register, e.g. for invalid input.
    pub async fn reject(
        &self,
        ctx: &CallContext,
        resource_type: &str,
        subject: Option<&str>,
        outcome: Code,
    ) -> Result<(), IdentityError> {
        let subjects: Vec<&str> = subject.into_iter().collect();
        self.record(ctx, resource_type, &subjects, None, outcome)
            .await
    }

    /// Records the failure of a call (rolling back `txn` if given) and returns the error.
    pub async fn fail(
        &self,
        txn: Option<DatabaseTransaction>,
        ctx: &CallContext,
        resource_type: &str,
        subjects: &[&str],
        error: IdentityError,
    ) -> IdentityError {
        if let Some(txn) = txn
            && let Err(e) = txn.rollback().await
        {
            return e.into();
        }
        match self
            .record(ctx, resource_type, subjects, None, error.code())
            .await
        {
            Ok(()) => error,
            Err(audit_failure) => audit_failure,
        }
    }
}

/// The events of a call by `ctx` about each of `subjects` (or one without a subject when
/// there are none), not yet staged; a refusal (`PERMISSION_DENIED`) carries a deny
/// decision.
pub(super) fn events(
    ctx: &CallContext,
    resource_type: &str,
    subjects: &[&str],
    resource_id: Option<&str>,
    outcome: Code,
) -> Vec<AuditEvent> {
    let touched = |subject| Touched {
        resource_type,
        subject,
        resource_id,
    };
    let event = |subject| {
        if outcome == Code::PermissionDenied {
            let denied = Authorization {
                decision: Some(false),
                ..Authorization::default()
            };
            new_event_with(SERVICE, ctx, touched(subject), outcome, &denied)
        } else {
            new_event(SERVICE, ctx, touched(subject), outcome)
        }
    };
    if subjects.is_empty() {
        vec![event(None)]
    } else {
        subjects.iter().map(|s| event(Some(s))).collect()
    }
}
