//! `dancu.records.v1.ImportService`: bulk import of subjects over a bidirectional stream.
//!
//! As identity's citizen import: one stage reads and decodes rows into batches, the other
//! commits each batch and acknowledges it, so decoding the next batch overlaps the identity
//! lookups and database work of the previous one.

use super::classification_from_proto;
use super::subjects::{
    MAX_LEGAL_BASIS_CHARS, MAX_SUMMARY_CHARS, date, not_future, source, text, timeline_kind,
};
use crate::app::{
    ImportClass, ImportEntry, RowError, SubjectCandidate, SubjectImporter, unit_area,
};
use dancu_audit_client::event::Authorization;
use dancu_domain::{AreaTable, PersonalId, Purpose};
use dancu_kit::auth::principal;
use dancu_kit::call::CallContext;
use dancu_kit::error::FieldViolations;
use dancu_kit::import_stream::{self, BatchLimits};
use dancu_proto::common::v1::ImportBatchResult;
use dancu_proto::records::v1 as pb;
use dancu_proto::records::v1::import_service_server::ImportService;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

/// The full method name (audit events).
const RPC: &str = "/dancu.records.v1.ImportService/ImportSubjects";
/// Rows per batch when the first message leaves `batch_size` at 0, and the largest batch a
/// caller may ask for.
const LIMITS: BatchLimits = BatchLimits {
    default: 500,
    max: 10_000,
};
/// Most classifications in one row.
const MAX_CLASSES: usize = 20;
/// Most timeline entries in one row.
const MAX_ENTRIES: usize = 200;

/// Implements `dancu.records.v1.ImportService`.
pub struct ImportApi {
    importer: Arc<SubjectImporter>,
}

impl ImportApi {
    /// The API over `importer`.
    pub fn new(importer: Arc<SubjectImporter>) -> Self {
        Self { importer }
    }
}

/// Batches read and decoded, waiting for their commit.
type WaitingBatches = import_stream::BatchReceiver<SubjectCandidate, RowError>;

#[tonic::async_trait]
impl ImportService for ImportApi {
    type ImportSubjectsStream =
        Pin<Box<dyn Stream<Item = Result<ImportBatchResult, Status>> + Send>>;

    async fn import_subjects(
        &self,
        request: Request<Streaming<pb::ImportSubjectRow>>,
    ) -> Result<Response<Self::ImportSubjectsStream>, Status> {
        let ctx = CallContext {
            principal: principal(&request)?,
            client_address: request.remote_addr().map(|a| a.to_string()),
            // An import reads nobody: the importer declares no purpose.
            purpose: Purpose::SystemAdministration,
            case_reference: None,
            break_glass_justification: None,
            rpc: RPC,
            trace_id: dancu_kit::telemetry::current_trace_id(),
        };
        let granted = self.importer.authorize(&ctx).await?;
        let rows = request.into_inner();
        // Batches commit one by one: two of the largest may wait.
        let (batches_tx, batches_rx) = import_stream::waiting_batches(2 * LIMITS.max as usize);
        let (results_tx, results_rx) = mpsc::channel(8);
        tokio::spawn(import_stream::read_batches(
            rows,
            LIMITS,
            |row: &pb::ImportSubjectRow| (row.line, row.batch_size),
            decode_row,
            batches_tx,
        ));
        tokio::spawn(commit_batches(
            self.importer.clone(),
            ctx,
            granted,
            batches_rx,
            results_tx,
        ));
        Ok(Response::new(Box::pin(ReceiverStream::new(results_rx))))
    }
}

/// Commits batches in order and acknowledges each; stops at the first failure.
async fn commit_batches(
    importer: Arc<SubjectImporter>,
    ctx: CallContext,
    granted: Authorization,
    mut batches: WaitingBatches,
    results: mpsc::Sender<Result<ImportBatchResult, Status>>,
) {
    let import_id = uuid::Uuid::now_v7().to_string();
    while let Some(batch) = batches.recv().await {
        let batch = match batch {
            Ok(batch) => batch,
            Err(status) => {
                let status = match importer.audit_failure(&ctx, &granted, status.code()).await {
                    Ok(()) => status,
                    Err(e) => e.into(),
                };
                let _ = results.send(Err(status)).await;
                return;
            }
        };
        let outcome = importer
            .commit_batch(
                &ctx,
                &granted,
                &import_id,
                (batch.first_line, batch.last_line),
                batch.candidates,
                batch.rejected,
            )
            .await;
        let outcome = match outcome {
            Ok(outcome) => Ok(outcome),
            Err(error) => {
                // The failed batch wrote nothing; its failure is audited.
                let status = Status::from(error);
                match importer.audit_failure(&ctx, &granted, status.code()).await {
                    Ok(()) => Err(status),
                    Err(e) => Err(e.into()),
                }
            }
        };
        let message = outcome.map(|o| o.acknowledgement(batch.last_line));
        let failed = message.is_err();
        if results.send(message).await.is_err() || failed {
            return;
        }
    }
}

/// Adds the violations of `nested` to `violations`, their fields under `prefix`.
fn merge(violations: &mut FieldViolations, prefix: &str, nested: FieldViolations) {
    for (field, reason) in nested.violations() {
        violations.add(format!("{prefix}{field}"), reason.clone());
    }
}

/// Decodes one classification (fields as in `AddClassification`).
fn decode_class(class: pb::ImportClassification, v: &mut FieldViolations) -> Option<ImportClass> {
    let classification = classification_from_proto(class.classification);
    if classification.is_none() {
        v.add(
            "classification",
            "is required and must be a known classification",
        );
    }
    let start = date("start_date", class.start_date.as_ref(), true, v);
    not_future("start_date", start, v);
    let end = date("end_date", class.end_date.as_ref(), false, v);
    if let (Some(start), Some(end)) = (start, end)
        && end < start
    {
        v.add("end_date", "must not be before start_date");
    }
    let legal_basis = text("legal_basis", &class.legal_basis, MAX_LEGAL_BASIS_CHARS, v);
    let source = source(class.source, v);
    Some(ImportClass {
        classification: classification?,
        start: start?,
        end,
        legal_basis,
        source: source?,
    })
}

/// Decodes one timeline entry (fields as in `AppendTimelineEntry`).
fn decode_entry(entry: pb::ImportTimelineEntry, v: &mut FieldViolations) -> Option<ImportEntry> {
    let kind = timeline_kind(entry.kind);
    if kind.is_none() {
        v.add("kind", "is required and must be a known entry kind");
    }
    let occurred = date("occur_date", entry.occur_date.as_ref(), true, v);
    not_future("occur_date", occurred, v);
    let summary = text("summary", &entry.summary, MAX_SUMMARY_CHARS, v);
    let source = source(entry.source, v);
    Some(ImportEntry {
        kind: kind?,
        occurred: occurred?,
        summary,
        source: source?,
    })
}

/// Decodes one row, or every problem found in it (fields named, values never repeated).
fn decode_row(row: pb::ImportSubjectRow) -> Result<SubjectCandidate, Vec<RowError>> {
    let line = row.line;
    let mut violations = FieldViolations::new();
    let personal_id = PersonalId::parse(row.personal_id.trim())
        .map_err(|e| violations.add("personal_id", e.to_string()))
        .ok();
    let owning_unit = row.owning_unit.trim().to_owned();
    if unit_area(&owning_unit, AreaTable::builtin()).is_none() {
        violations.add(
            "owning_unit",
            "must be a provincial (CAT-<province>) or commune (CAX-<commune>) police unit of a \
             known area",
        );
    }
    let source = source(row.source, &mut violations);
    if row.classifications.len() > MAX_CLASSES {
        violations.add("classifications", format!("at most {MAX_CLASSES} per row"));
    }
    if row.timeline.len() > MAX_ENTRIES {
        violations.add("timeline", format!("at most {MAX_ENTRIES} per row"));
    }
    let mut classes = Vec::with_capacity(row.classifications.len());
    for (i, class) in row
        .classifications
        .into_iter()
        .take(MAX_CLASSES)
        .enumerate()
    {
        let mut nested = FieldViolations::new();
        let decoded = decode_class(class, &mut nested);
        merge(&mut violations, &format!("classifications[{i}]."), nested);
        classes.extend(decoded);
    }
    let mut timeline = Vec::with_capacity(row.timeline.len());
    for (i, entry) in row.timeline.into_iter().take(MAX_ENTRIES).enumerate() {
        let mut nested = FieldViolations::new();
        let decoded = decode_entry(entry, &mut nested);
        merge(&mut violations, &format!("timeline[{i}]."), nested);
        timeline.extend(decoded);
    }
    match (violations.is_empty(), personal_id, source) {
        (true, Some(personal_id), Some(source)) => Ok(SubjectCandidate {
            line,
            personal_id,
            owning_unit,
            source,
            classes,
            timeline,
        }),
        _ => {
            let mut errors: Vec<RowError> = violations
                .violations()
                .iter()
                .map(|(field, reason)| RowError {
                    line,
                    field: field.clone(),
                    reason: reason.clone(),
                })
                .collect();
            if errors.is_empty() {
                errors.push(RowError {
                    line,
                    field: String::new(),
                    reason: "is invalid".to_owned(),
                });
            }
            Err(errors)
        }
    }
}
