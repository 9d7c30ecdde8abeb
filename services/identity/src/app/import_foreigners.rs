//! Bulk import of foreign nationals: a group of batches — each batch's new foreigners,
//! their accommodation declarations and one audit event — in one transaction.

use super::IdentityError;
use super::foreigners::{Declaration, Foreigner, declaration_to_row, to_row};
use super::import::{
    BatchOutcome, FOREIGNER_IMPORT_RESOURCE, Importer, RowError, Settled, outcomes,
};
use crate::store::ForeignerImportRow;
use dancu_domain::foreigner::is_late_declaration;
use dancu_kit::call::CallContext;

/// A decoded, valid foreigner row waiting for its batch.
#[derive(Debug, Clone)]
pub struct ForeignerCandidate {
    /// Line number in the caller's file.
    pub line: u64,
    /// The foreigner.
    pub foreigner: Foreigner,
    /// The declaration the source register received for them, with its receive time (and
    /// check-out, if any); `late` is judged here.
    pub declaration: Option<Declaration>,
}

/// One batch of the caller's stream of foreigners, decoded and waiting for its group's
/// commit.
pub type ForeignerBatch = dancu_kit::import_stream::Batch<ForeignerCandidate, RowError>;

impl Importer {
    /// Commits a group of batches of foreigners in one transaction: in each, the
    /// candidates whose nationality and passport number are not yet registered are
    /// registered, with their declarations (flagged late when received past the deadline
    /// after the arrival, as a declaration received now would be); `rejected` rows are
    /// reported. One audit event per batch (resource type `foreigner_import`, resource id
    /// `<import_id>:<first line>-<last line>`) commits with it. Returns one outcome per
    /// batch, in order; a foreigner repeated across the group counts as imported in its
    /// first row only.
    pub async fn commit_foreigners(
        &self,
        ctx: &CallContext,
        import_id: &str,
        batches: Vec<ForeignerBatch>,
    ) -> Result<Vec<BatchOutcome>, IdentityError> {
        let now = chrono::Utc::now().timestamp_micros();
        let actor = ctx.principal.id.as_str();
        let mut rows = Vec::new();
        let mut owners = Vec::new();
        let mut settled = Vec::with_capacity(batches.len());
        for (owner, mut batch) in batches.into_iter().enumerate() {
            settled.push(Settled::take(&mut batch));
            for candidate in batch.candidates {
                rows.push(import_row(candidate, actor, now));
                owners.push(owner);
            }
        }
        let offered: Vec<String> = rows.iter().map(|row| row.foreigner.id.clone()).collect();
        let store = self.journal.store();
        let txn = store.begin_write().await?;
        let inserted = store.import_foreigners(&txn, rows).await?;
        let events = self
            .stage_batch_events(
                &txn,
                ctx,
                FOREIGNER_IMPORT_RESOURCE,
                import_id,
                settled.iter().map(|batch| batch.lines),
            )
            .await?;
        self.journal.commit(txn, events, false).await?;
        let new = offered.iter().map(|id| inserted.contains(id));
        Ok(outcomes(settled, owners.into_iter().zip(new)))
    }
}

/// The store rows of a candidate: a fresh id for the foreigner and their declaration.
fn import_row(candidate: ForeignerCandidate, actor: &str, now: i64) -> ForeignerImportRow {
    let mut foreigner = candidate.foreigner;
    foreigner.id = uuid::Uuid::now_v7().to_string();
    foreigner.created_us = now;
    foreigner.version = 1;
    let declaration = candidate.declaration.map(|mut declaration| {
        declaration.id = uuid::Uuid::now_v7().to_string();
        declaration.foreigner_id = foreigner.id.clone();
        declaration.late = is_late_declaration(
            declaration.arrival_us,
            declaration.received_us,
            declaration.remote_area,
        );
        declaration_to_row(&declaration, actor)
    });
    ForeignerImportRow {
        foreigner: to_row(&foreigner, actor),
        declaration,
    }
}
