//! `dancu.identity.v1.ImportService`: bulk import of citizens over a bidirectional stream.
//!
//! Two stages run side by side: one reads and decodes rows into batches, the other commits
//! each batch and acknowledges it, so decoding the next batch overlaps the database work of
//! the previous one.

use super::citizen_input::decode_citizen;
use crate::app::{
    CitizenBatch as Batch, ImportCandidate, ImportResidence, Importer, RowError, admin_context,
    check_consistency, today,
};
use dancu_domain::ResidenceKind;
use dancu_kit::auth::principal;
use dancu_kit::call::CallContext;
use dancu_kit::convert::date_from_proto;
use dancu_kit::error::FieldViolations;
use dancu_kit::import_stream::{self, BatchLimits};
use dancu_proto::identity::v1 as pb;
use dancu_proto::identity::v1::import_service_server::ImportService;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

/// The full method name (audit events).
const RPC: &str = "/dancu.identity.v1.ImportService/ImportCitizens";
/// Rows per batch when the first message leaves `batch_size` at 0, and the largest batch a
/// caller may ask for.
const LIMITS: BatchLimits = BatchLimits {
    default: 500,
    max: 10_000,
};
/// Decoded batches that may wait for the committing task.
const WAITING_BATCHES: usize = 8;

/// Implements `dancu.identity.v1.ImportService`.
pub struct ImportApi {
    importer: Arc<Importer>,
    group_rows: usize,
}

impl ImportApi {
    /// The API over `importer`. A transaction takes no more waiting batches once it holds
    /// `group_rows` rows (the last batch taken may go beyond; 0 counts as 1). See
    /// [`Importer::commit_group`].
    pub fn new(importer: Arc<Importer>, group_rows: u32) -> Self {
        Self {
            importer,
            group_rows: usize::try_from(group_rows.max(1)).unwrap_or(usize::MAX),
        }
    }
}

#[tonic::async_trait]
impl ImportService for ImportApi {
    type ImportCitizensStream =
        Pin<Box<dyn Stream<Item = Result<pb::ImportBatchResult, Status>> + Send>>;

    async fn import_citizens(
        &self,
        request: Request<Streaming<pb::ImportCitizenRow>>,
    ) -> Result<Response<Self::ImportCitizensStream>, Status> {
        let caller = principal(&request)?;
        let address = request.remote_addr().map(|a| a.to_string());
        let ctx = admin_context(caller, RPC, address);
        self.importer.authorize(&ctx).await?;
        let rows = request.into_inner();
        let (batches_tx, batches_rx) = mpsc::channel::<Result<Batch, Status>>(WAITING_BATCHES);
        let (results_tx, results_rx) = mpsc::channel(8);
        tokio::spawn(import_stream::read_batches(
            rows,
            LIMITS,
            |row: &pb::ImportCitizenRow| (row.line, row.batch_size),
            |row| decode_row(&row),
            batches_tx,
        ));
        tokio::spawn(commit_batches(
            self.importer.clone(),
            ctx,
            self.group_rows,
            batches_rx,
            results_tx,
        ));
        Ok(Response::new(Box::pin(ReceiverStream::new(results_rx))))
    }
}

/// Commits batches in order and acknowledges each; stops at the first failure. Batches
/// that are already waiting when a commit starts join it while it holds fewer than
/// `group_rows` rows ([`import_stream::next_group`]).
async fn commit_batches(
    importer: Arc<Importer>,
    ctx: CallContext,
    group_rows: usize,
    mut batches: mpsc::Receiver<Result<Batch, Status>>,
    results: mpsc::Sender<Result<pb::ImportBatchResult, Status>>,
) {
    let import_id = uuid::Uuid::now_v7().to_string();
    while let Some((group, failure)) = import_stream::next_group(&mut batches, group_rows).await {
        if !group.is_empty() && !commit_group(&importer, &ctx, &import_id, group, &results).await {
            return;
        }
        if let Some(status) = failure {
            let status = match importer.audit_failure(&ctx, status.code()).await {
                Ok(()) => status,
                Err(e) => e.into(),
            };
            let _ = results.send(Err(status)).await;
            return;
        }
    }
}

/// Commits `group` and acknowledges each of its batches; false when the commit failed (its
/// error was sent) or the caller is gone.
async fn commit_group(
    importer: &Importer,
    ctx: &CallContext,
    import_id: &str,
    group: Vec<Batch>,
    results: &mpsc::Sender<Result<pb::ImportBatchResult, Status>>,
) -> bool {
    let last_lines: Vec<u64> = group.iter().map(|b| b.last_line).collect();
    let outcomes = match importer.commit_group(ctx, import_id, group).await {
        Ok(outcomes) => outcomes,
        Err(e) => {
            let _ = results.send(Err(e.into())).await;
            return false;
        }
    };
    for (last_line, o) in last_lines.into_iter().zip(outcomes) {
        let message = pb::ImportBatchResult {
            last_line,
            imported: o.imported,
            skipped: o.skipped,
            errors: o
                .errors
                .into_iter()
                .map(|e| pb::ImportRowError {
                    line: e.line,
                    field: e.field,
                    reason: e.reason,
                })
                .collect(),
        };
        if results.send(Ok(message)).await.is_err() {
            return false;
        }
    }
    true
}

/// Decodes one row, or every problem found in it.
fn decode_row(row: &pb::ImportCitizenRow) -> Result<ImportCandidate, Vec<RowError>> {
    let error = |field: &str, reason: &str| RowError {
        line: row.line,
        field: field.to_owned(),
        reason: reason.to_owned(),
    };
    let Some(input) = &row.citizen else {
        return Err(vec![error("citizen", "is required")]);
    };
    let mut violations = FieldViolations::new();
    let citizen = decode_citizen(input, "citizen.", |_| true, &mut violations);
    if let Some(citizen) = &citizen
        && let Err(crate::app::IdentityError::InvalidField { field, reason }) =
            check_consistency(citizen, today())
    {
        violations.add(field, reason);
    }
    let mut residences = Vec::with_capacity(row.residences.len());
    for (i, r) in row.residences.iter().enumerate() {
        let field = |name: &str| format!("residences[{i}].{name}");
        let kind = match pb::ResidenceKind::try_from(r.kind) {
            Ok(pb::ResidenceKind::Permanent) => Some(ResidenceKind::Permanent),
            Ok(pb::ResidenceKind::Temporary) => Some(ResidenceKind::Temporary),
            _ => {
                violations.add(
                    field("kind"),
                    "must be RESIDENCE_KIND_PERMANENT or RESIDENCE_KIND_TEMPORARY",
                );
                None
            }
        };
        let start = match r.start_date.as_ref().and_then(date_from_proto) {
            Some(day) => Some(day),
            None => {
                violations.add(field("start_date"), "is required (a full date)");
                None
            }
        };
        let end = match &r.end_date {
            None => None,
            Some(d) if d.year == 0 && d.month == 0 && d.day == 0 => None,
            Some(d) => match date_from_proto(d) {
                Some(day) => Some(day),
                None => {
                    violations.add(field("end_date"), "must be a full, existing date");
                    None
                }
            },
        };
        if r.address.chars().count() > 200 {
            violations.add(field("address"), "must be at most 200 characters");
        }
        if let (Some(kind), Some(start)) = (kind, start) {
            residences.push(ImportResidence {
                kind,
                commune: r.commune_code.trim().to_owned(),
                address: r.address.trim().to_owned(),
                start,
                end,
            });
        }
    }
    match (violations.is_empty(), citizen) {
        (true, Some(citizen)) => Ok(ImportCandidate {
            line: row.line,
            citizen,
            residences,
        }),
        _ => {
            let mut errors: Vec<RowError> = violations
                .violations()
                .iter()
                .map(|(field, reason)| error(field, reason))
                .collect();
            if errors.is_empty() {
                errors.push(error("citizen", "is invalid"));
            }
            Err(errors)
        }
    }
}
