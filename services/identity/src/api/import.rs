//! `dancu.identity.v1.ImportService`: bulk import of citizens and of foreigners over
//! bidirectional streams.
//!
//! Two stages run side by side: one reads and decodes rows into batches, the other commits
//! each batch and acknowledges it, so decoding the next batch overlaps the database work of
//! the previous one.

use super::citizen_input::decode_citizen;
use super::import_foreigners::decode_foreigner_row;
use crate::app::{
    BatchOutcome, FOREIGNER_IMPORT_RESOURCE, ForeignerCandidate, IMPORT_RESOURCE, IdentityError,
    ImportCandidate, ImportResidence, Importer, PreparedCitizen, RowError, admin_context,
    check_consistency, today,
};
use dancu_domain::ResidenceKind;
use dancu_kit::auth::principal;
use dancu_kit::call::CallContext;
use dancu_kit::convert::date_from_proto;
use dancu_kit::error::FieldViolations;
use dancu_kit::import_stream::{self, Batch, BatchLimits, BatchReceiver};
use dancu_proto::common::v1::ImportBatchResult;
use dancu_proto::identity::v1 as pb;
use dancu_proto::identity::v1::import_service_server::ImportService;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

/// Rows per batch when the first message leaves `batch_size` at 0, and the largest batch a
/// caller may ask for.
const LIMITS: BatchLimits = BatchLimits {
    default: 500,
    max: 10_000,
};

/// The acknowledgements streamed back to the caller.
type Acks = Pin<Box<dyn Stream<Item = Result<ImportBatchResult, Status>> + Send>>;

/// One import of this service: its rows, how they decode and how a group of their batches
/// commits.
trait ImportKind: 'static {
    /// A row on the wire.
    type Row: Send + 'static;
    /// A decoded, valid row.
    type Candidate: Send + 'static;
    /// The full method name (audit events).
    const RPC: &'static str;
    /// The resource type of its audit events.
    const RESOURCE: &'static str;
    /// A row's line number and requested batch size.
    fn header(row: &Self::Row) -> (u64, u32);
    /// What decodes the rows of an import by `ctx`'s caller: one row into a candidate, or
    /// every problem found in it.
    fn decoder(
        importer: &Importer,
        ctx: &CallContext,
    ) -> impl FnMut(Self::Row) -> Result<Self::Candidate, Vec<RowError>> + Send + 'static;
    /// Commits a group of batches in one transaction; one outcome per batch.
    fn commit<'a>(
        importer: &'a Importer,
        ctx: &'a CallContext,
        import_id: &'a str,
        group: Vec<Batch<Self::Candidate, RowError>>,
    ) -> impl Future<Output = Result<Vec<BatchOutcome>, IdentityError>> + Send + 'a;
}

/// `ImportCitizens`.
struct CitizenImport;

impl ImportKind for CitizenImport {
    type Row = pb::ImportCitizenRow;
    type Candidate = PreparedCitizen;
    const RPC: &'static str = "/dancu.identity.v1.ImportService/ImportCitizens";
    const RESOURCE: &'static str = IMPORT_RESOURCE;

    fn header(row: &Self::Row) -> (u64, u32) {
        (row.line, row.batch_size)
    }

    fn decoder(
        importer: &Importer,
        ctx: &CallContext,
    ) -> impl FnMut(Self::Row) -> Result<Self::Candidate, Vec<RowError>> + Send + 'static {
        let prepare = importer.preparer(ctx);
        move |row| prepare(decode_row(&row)?).map_err(|error| vec![error])
    }

    fn commit<'a>(
        importer: &'a Importer,
        ctx: &'a CallContext,
        import_id: &'a str,
        group: Vec<Batch<Self::Candidate, RowError>>,
    ) -> impl Future<Output = Result<Vec<BatchOutcome>, IdentityError>> + Send + 'a {
        importer.commit_group(ctx, import_id, group)
    }
}

/// `ImportForeigners`.
struct ForeignerImport;

impl ImportKind for ForeignerImport {
    type Row = pb::ImportForeignerRow;
    type Candidate = ForeignerCandidate;
    const RPC: &'static str = "/dancu.identity.v1.ImportService/ImportForeigners";
    const RESOURCE: &'static str = FOREIGNER_IMPORT_RESOURCE;

    fn header(row: &Self::Row) -> (u64, u32) {
        (row.line, row.batch_size)
    }

    fn decoder(
        _: &Importer,
        _: &CallContext,
    ) -> impl FnMut(Self::Row) -> Result<Self::Candidate, Vec<RowError>> + Send + 'static {
        decode_foreigner_row
    }

    fn commit<'a>(
        importer: &'a Importer,
        ctx: &'a CallContext,
        import_id: &'a str,
        group: Vec<Batch<Self::Candidate, RowError>>,
    ) -> impl Future<Output = Result<Vec<BatchOutcome>, IdentityError>> + Send + 'a {
        importer.commit_foreigners(ctx, import_id, group)
    }
}

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

    /// Starts an import of kind `K`: authorizes the caller, then reads `request`'s rows
    /// into batches on one task while another commits them and acknowledges each.
    async fn start<K: ImportKind>(
        &self,
        request: Request<Streaming<K::Row>>,
    ) -> Result<Response<Acks>, Status> {
        let caller = principal(&request)?;
        let address = request.remote_addr().map(|a| a.to_string());
        let ctx = admin_context(caller, K::RPC, address);
        self.importer.authorize(&ctx, K::RESOURCE).await?;
        let rows = request.into_inner();
        // Rows decoded while a group commits wait for the next one: up to a group's worth
        // (`import_group_rows`), so that the next group can be full at any batch size. An
        // import stream holds at most two groups of rows (one waiting, one committing)
        // and the batch being read.
        let (batches_tx, batches_rx) = import_stream::waiting_batches(self.group_rows);
        let (results_tx, results_rx) = mpsc::channel(8);
        tokio::spawn(import_stream::read_batches(
            rows,
            LIMITS,
            K::header,
            K::decoder(&self.importer, &ctx),
            batches_tx,
        ));
        let committer = Committer {
            importer: self.importer.clone(),
            ctx,
            import_id: uuid::Uuid::now_v7().to_string(),
            results: results_tx,
        };
        tokio::spawn(committer.run::<K>(self.group_rows, batches_rx));
        Ok(Response::new(Box::pin(ReceiverStream::new(results_rx))))
    }
}

#[tonic::async_trait]
impl ImportService for ImportApi {
    type ImportCitizensStream = Acks;
    type ImportForeignersStream = Acks;

    async fn import_citizens(
        &self,
        request: Request<Streaming<pb::ImportCitizenRow>>,
    ) -> Result<Response<Acks>, Status> {
        self.start::<CitizenImport>(request).await
    }

    async fn import_foreigners(
        &self,
        request: Request<Streaming<pb::ImportForeignerRow>>,
    ) -> Result<Response<Acks>, Status> {
        self.start::<ForeignerImport>(request).await
    }
}

/// The committing side of one import stream.
struct Committer {
    importer: Arc<Importer>,
    ctx: CallContext,
    import_id: String,
    results: mpsc::Sender<Result<ImportBatchResult, Status>>,
}

impl Committer {
    /// Commits batches of kind `K` in order and acknowledges each; stops at the first
    /// failure. Batches that are already waiting when a commit starts join it while it
    /// holds fewer than `group_rows` rows ([`import_stream::next_group`]).
    async fn run<K: ImportKind>(
        self,
        group_rows: usize,
        mut batches: BatchReceiver<K::Candidate, RowError>,
    ) {
        while let Some((group, failure)) = import_stream::next_group(&mut batches, group_rows).await
        {
            if !group.is_empty() {
                let last_lines: Vec<u64> = group.iter().map(|b| b.last_line).collect();
                let committed = K::commit(&self.importer, &self.ctx, &self.import_id, group).await;
                if !self.acknowledge(last_lines, committed).await {
                    return;
                }
            }
            if let Some(status) = failure {
                let status = match self
                    .importer
                    .audit_failure(&self.ctx, K::RESOURCE, status.code())
                    .await
                {
                    Ok(()) => status,
                    Err(e) => e.into(),
                };
                let _ = self.results.send(Err(status)).await;
                return;
            }
        }
    }

    /// Acknowledges each batch of a committed group (their last lines, in order); false
    /// when the commit failed (its error was sent) or the caller is gone.
    async fn acknowledge(
        &self,
        last_lines: Vec<u64>,
        committed: Result<Vec<BatchOutcome>, IdentityError>,
    ) -> bool {
        let outcomes = match committed {
            Ok(outcomes) => outcomes,
            Err(e) => {
                let _ = self.results.send(Err(e.into())).await;
                return false;
            }
        };
        for (last_line, outcome) in last_lines.into_iter().zip(outcomes) {
            let message = outcome.acknowledgement(last_line);
            if self.results.send(Ok(message)).await.is_err() {
                return false;
            }
        }
        true
    }
}

/// Decodes one row, or every problem found in it.
fn decode_row(row: &pb::ImportCitizenRow) -> Result<ImportCandidate, Vec<RowError>> {
    let Some(input) = &row.citizen else {
        return Err(vec![RowError {
            line: row.line,
            field: "citizen".to_owned(),
            reason: "is required".to_owned(),
        }]);
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
        _ => Err(row_errors(row.line, &violations, "citizen")),
    }
}

/// The errors of a rejected row: one per violation, or `whole` "is invalid" when none
/// names a field.
pub(super) fn row_errors(line: u64, violations: &FieldViolations, whole: &str) -> Vec<RowError> {
    let error = |field: &str, reason: &str| RowError {
        line,
        field: field.to_owned(),
        reason: reason.to_owned(),
    };
    let mut errors: Vec<RowError> = violations
        .violations()
        .iter()
        .map(|(field, reason)| error(field, reason))
        .collect();
    if errors.is_empty() {
        errors.push(error(whole, "is invalid"));
    }
    errors
}
