//! Committing a register write together with its audit event, and auditing reads and
//! failures, for the card and foreigner use cases.

use super::IdentityError;
use dancu_audit_client::event::Touched;
use dancu_audit_client::{AuditOutbox, new_event};
use dancu_kit::call::CallContext;
use sea_orm::DatabaseTransaction;
use std::sync::Arc;
use tonic::Code;

/// Service name in audit events.
const SERVICE: &str = "identity";

/// The outcome to audit for a failed use case; `None` for failures that are bugs or
/// outages (storage), which are logged instead.
pub fn audit_outcome(error: &IdentityError) -> Option<Code> {
    match error.code() {
        Code::Internal => None,
        code => Some(code),
    }
}

/// Audits through the outbox.
#[derive(Clone)]
pub struct Audited {
    outbox: Arc<AuditOutbox>,
}

impl Audited {
    /// Audits through `outbox`.
    pub fn new(outbox: Arc<AuditOutbox>) -> Self {
        Self { outbox }
    }

    /// Ends a write: on success, stages the audit event in `txn` and commits both; on
    /// failure, rolls back and records the failure's audit event on its own.
    pub async fn finish<T>(
        &self,
        ctx: &CallContext,
        touched: Touched<'_>,
        txn: DatabaseTransaction,
        result: Result<T, IdentityError>,
    ) -> Result<T, IdentityError> {
        match result {
            Ok(value) => {
                let event = new_event(SERVICE, ctx, touched, Code::Ok);
                self.outbox.stage(&txn, &event).await?;
                txn.commit().await?;
                self.outbox.ship(vec![event]).await;
                Ok(value)
            }
            Err(error) => {
                txn.rollback().await?;
                if let Some(code) = audit_outcome(&error) {
                    self.record(ctx, touched, code).await?;
                }
                Err(error)
            }
        }
    }

    /// Audits a read (or a rejected call) before its answer leaves.
    pub async fn record(
        &self,
        ctx: &CallContext,
        touched: Touched<'_>,
        outcome: Code,
    ) -> Result<(), IdentityError> {
        self.outbox
            .record(new_event(SERVICE, ctx, touched, outcome))
            .await?;
        Ok(())
    }

    /// Audits a read that produced `result`, then returns it.
    pub async fn read<T>(
        &self,
        ctx: &CallContext,
        touched: Touched<'_>,
        result: Result<T, IdentityError>,
    ) -> Result<T, IdentityError> {
        let outcome = match &result {
            Ok(_) => Some(Code::Ok),
            Err(error) => audit_outcome(error),
        };
        if let Some(outcome) = outcome {
            self.record(ctx, touched, outcome).await?;
        }
        result
    }
}
