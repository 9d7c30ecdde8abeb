//! `dancu.identity.v1.ImportService`: bulk import of citizens over a bidirectional stream.
//!
//! Two stages run side by side: one reads and decodes rows into batches, the other commits
//! each batch and acknowledges it, so decoding the next batch overlaps the database work of
//! the previous one.

use super::citizen_input::decode_citizen;
use crate::app::{
    ImportCandidate, ImportResidence, Importer, RowError, admin_context, check_consistency, today,
};
use dancu_domain::ResidenceKind;
use dancu_kit::auth::principal;
use dancu_kit::call::CallContext;
use dancu_kit::convert::date_from_proto;
use dancu_kit::error::{FieldViolations, invalid_field};
use dancu_proto::identity::v1 as pb;
use dancu_proto::identity::v1::import_service_server::ImportService;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

/// The full method name (audit events).
const RPC: &str = "/dancu.identity.v1.ImportService/ImportCitizens";
/// Rows per batch when the first message leaves `batch_size` at 0.
const DEFAULT_BATCH: u32 = 500;
/// Largest batch a caller may ask for.
const MAX_BATCH: u32 = 10_000;

/// Implements `dancu.identity.v1.ImportService`.
pub struct ImportApi {
    importer: Arc<Importer>,
}

impl ImportApi {
    /// The API over `importer`.
    pub fn new(importer: Arc<Importer>) -> Self {
        Self { importer }
    }
}

/// Rows read, decoded and waiting to be committed together.
#[derive(Default)]
struct Batch {
    first_line: u64,
    last_line: u64,
    candidates: Vec<ImportCandidate>,
    rejected: Vec<RowError>,
    rows: u32,
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
        let (batches_tx, batches_rx) = mpsc::channel::<Result<Batch, Status>>(2);
        let (results_tx, results_rx) = mpsc::channel(8);
        tokio::spawn(read_batches(rows, batches_tx));
        tokio::spawn(commit_batches(
            self.importer.clone(),
            ctx,
            batches_rx,
            results_tx,
        ));
        Ok(Response::new(Box::pin(ReceiverStream::new(results_rx))))
    }
}

/// Reads the client's rows into batches; a malformed stream ends with its error.
async fn read_batches(
    mut rows: Streaming<pb::ImportCitizenRow>,
    batches: mpsc::Sender<Result<Batch, Status>>,
) {
    let mut batch_size = 0u32;
    let mut previous_line = 0u64;
    let mut batch = Batch::default();
    loop {
        let row = match rows.next().await {
            None => break,
            Some(Ok(row)) => row,
            // The client went away or broke the stream: nothing more to commit.
            Some(Err(_)) => return,
        };
        let problem = if batch_size == 0 {
            match row.batch_size {
                0 => {
                    batch_size = DEFAULT_BATCH;
                    None
                }
                n if n <= MAX_BATCH => {
                    batch_size = n;
                    None
                }
                _ => Some(invalid_field(
                    "batch_size",
                    format!("must be 1 to {MAX_BATCH} (0 for {DEFAULT_BATCH})"),
                )),
            }
        } else if row.batch_size != 0 {
            Some(invalid_field(
                "batch_size",
                "may only be set in the first message",
            ))
        } else {
            None
        };
        let problem = problem.or_else(|| {
            (row.line <= previous_line).then(|| {
                invalid_field(
                    "line",
                    "must be positive and increase from one row to the next",
                )
            })
        });
        if let Some(status) = problem {
            let _ = batches.send(Err(status)).await;
            return;
        }
        previous_line = row.line;
        if batch.rows == 0 {
            batch.first_line = row.line;
        }
        batch.last_line = row.line;
        batch.rows += 1;
        match decode_row(&row) {
            Ok(candidate) => batch.candidates.push(candidate),
            Err(errors) => batch.rejected.extend(errors),
        }
        if batch.rows >= batch_size && batches.send(Ok(std::mem::take(&mut batch))).await.is_err() {
            return;
        }
    }
    if batch.rows > 0 {
        let _ = batches.send(Ok(batch)).await;
    }
}

/// Commits batches in order and acknowledges each; stops at the first failure.
async fn commit_batches(
    importer: Arc<Importer>,
    ctx: CallContext,
    mut batches: mpsc::Receiver<Result<Batch, Status>>,
    results: mpsc::Sender<Result<pb::ImportBatchResult, Status>>,
) {
    let import_id = uuid::Uuid::now_v7().to_string();
    while let Some(batch) = batches.recv().await {
        let batch = match batch {
            Ok(batch) => batch,
            Err(status) => {
                let status = match importer.audit_failure(&ctx, status.code()).await {
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
                &import_id,
                (batch.first_line, batch.last_line),
                batch.candidates,
                batch.rejected,
            )
            .await;
        let message = outcome
            .map_err(Status::from)
            .map(|o| pb::ImportBatchResult {
                last_line: batch.last_line,
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
            });
        let failed = message.is_err();
        if results.send(message).await.is_err() || failed {
            return;
        }
    }
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
