//! `dancu import FILE`: stream a population file (NDJSON, as `dancu gen` writes) to
//! identity's `ImportService/ImportCitizens` and `ImportForeigners` and records'
//! `ImportService/ImportSubjects`, with a progress bar, per-row errors by line number, a
//! checkpoint to resume after an interruption, and a summary.
//!
//! Three passes over the file: citizen lines go to identity first, then foreigner lines to
//! identity, then subject lines to records (records verifies each subject's person with
//! identity, so the citizens of the file must be registered before). Lines the client
//! cannot read (not JSON, unknown `kind`) are reported here with their line numbers. After
//! every batch a server acknowledges, the last settled line of the pass is written to the
//! checkpoint file (`FILE.checkpoint`), so a run that stops resumes after it; the servers
//! skip what is already there anyway, so resuming without the checkpoint is also safe, only
//! slower. The checkpoint is removed when every pass has reached the end of the file.

use crate::client::{Global, Service};
use crate::exit::CallError;
use crate::import_checkpoint::{Checkpoint, checkpoint_path, read_checkpoint, write_checkpoint};
use crate::import_reader::{Local, Pass, Row, read_rows};
use anyhow::{Context, anyhow};
use dancu_proto::common::v1::{ImportBatchResult, ImportRowError};
use dancu_proto::identity::v1::import_service_client::ImportServiceClient;
use dancu_proto::records::v1::import_service_client::ImportServiceClient as SubjectImportClient;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};
use tonic::transport::Channel;

/// Arguments of `dancu import`.
#[derive(clap::Args)]
pub struct ImportArgs {
    /// NDJSON population file (as written by `dancu gen`).
    pub file: PathBuf,
    /// Rows per committed batch (1 to 10000). Larger batches commit fewer times, and each
    /// commit rewrites the index pages it touched: 2000 imports about twice as fast as 500.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub batch: u32,
    /// Ignore (and overwrite) an existing checkpoint: start from the first line.
    #[arg(long)]
    pub restart: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Import into identity only (citizens and foreigners): subject lines are counted, not
    /// sent to records.
    #[arg(long)]
    pub skip_subjects: bool,
}

/// Where the rows go: identity for citizens, records for subjects (`None`: subjects are
/// not imported).
pub struct Targets {
    /// Identity.
    pub identity: Channel,
    /// Records, unless subjects are skipped.
    pub records: Option<Channel>,
}

/// What one pass did with the rows of its kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Rows newly imported.
    pub imported: u64,
    /// Rows already there (left unchanged).
    pub skipped: u64,
    /// Rows rejected by the server.
    pub rejected: u64,
}

impl Counts {
    /// Rows the server settled.
    pub fn settled(&self) -> u64 {
        self.imported + self.skipped + self.rejected
    }
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    /// Citizen rows (identity).
    pub citizens: Counts,
    /// Foreigner rows (identity).
    pub foreigners: Counts,
    /// Subject rows (records).
    pub subjects: Counts,
    /// Lines the client could not read.
    pub unreadable: u64,
    /// Subject lines not sent because subjects were skipped.
    pub subjects_not_sent: u64,
    /// Citizen lines up to this one were skipped: the checkpoint said they were settled.
    pub resumed_after: u64,
    /// Foreigner lines up to this one were skipped: the checkpoint said they were settled.
    pub foreigners_resumed_after: u64,
    /// Subject lines up to this one were skipped: the checkpoint said they were settled.
    pub subjects_resumed_after: u64,
    /// Wall time.
    pub elapsed: Duration,
}

impl ImportSummary {
    /// Rows settled by the servers per second.
    pub fn rows_per_sec(&self) -> f64 {
        let rows = self.citizens.settled() + self.foreigners.settled() + self.subjects.settled();
        rows as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Runs `dancu import`. Fails (after the summary, with exit code 3) when rows were
/// rejected or unreadable.
pub async fn run(args: &ImportArgs, global: &Global) -> anyhow::Result<()> {
    let targets = Targets {
        identity: connect(global.endpoint_of(Service::Identity))?,
        // `--endpoint` names the identity target only; records has its own.
        records: if args.skip_subjects {
            None
        } else {
            Some(connect(&global.records_endpoint)?)
        },
    };
    let token = global.credentials.token().await?;
    let summary = import_file(
        &targets,
        &token,
        &args.file,
        args.batch,
        args.restart,
        !args.quiet,
    )
    .await?;
    print_summary(&summary);
    let bad = summary.citizens.rejected
        + summary.foreigners.rejected
        + summary.subjects.rejected
        + summary.unreadable;
    if bad > 0 {
        return Err(crate::exit::RejectedRows(bad).into());
    }
    Ok(())
}

/// Prints the end-of-import summary.
pub fn print_summary(summary: &ImportSummary) {
    let (c, f, s) = (&summary.citizens, &summary.foreigners, &summary.subjects);
    let subjects = if summary.subjects_not_sent > 0 {
        format!("not sent (--skip-subjects) {}", summary.subjects_not_sent)
    } else {
        format!(
            "imported {}, already present {}, rejected {}",
            s.imported, s.skipped, s.rejected
        )
    };
    println!(
        "citizens: imported {}, already present {}, rejected {}; foreigners: imported {}, \
         already present {}, rejected {}; subjects: {subjects}; unreadable {}; {:.1} s, \
         {:.0} rows/s",
        c.imported,
        c.skipped,
        c.rejected,
        f.imported,
        f.skipped,
        f.rejected,
        summary.unreadable,
        summary.elapsed.as_secs_f64(),
        summary.rows_per_sec()
    );
    if summary.resumed_after > 0 {
        println!(
            "resumed after line {} (from the checkpoint)",
            summary.resumed_after
        );
    }
    if summary.foreigners_resumed_after > 0 {
        println!(
            "foreigners resumed after line {} (from the checkpoint)",
            summary.foreigners_resumed_after
        );
    }
    if summary.subjects_resumed_after > 0 {
        println!(
            "subjects resumed after line {} (from the checkpoint)",
            summary.subjects_resumed_after
        );
    }
}

/// A lazy channel to `endpoint`.
pub fn connect(endpoint: &str) -> anyhow::Result<Channel> {
    Ok(Channel::from_shared(endpoint.to_owned())
        .with_context(|| "invalid --endpoint")?
        .connect_lazy())
}

type Acks = Pin<Box<dyn Stream<Item = Result<ImportBatchResult, tonic::Status>> + Send>>;

/// Opens the import RPC `$method` of `$client` (the caller's `$bearer` token attached) over
/// the `$variant` rows of `$rows`; the acknowledgements, or the status it was refused with.
/// (A macro: the three clients and row types share no trait to be generic over.)
macro_rules! open_import {
    ($client:expr, $method:ident, $variant:path, $rows:expr, $bearer:expr) => {{
        let mut request = tonic::Request::new($rows.filter_map(|row| match row {
            $variant(row) => Some(row),
            _ => None,
        }));
        request
            .metadata_mut()
            .insert("authorization", $bearer.clone());
        $client
            .max_decoding_message_size(64 << 20)
            .$method(request)
            .await
            .map(|r| -> Acks { Box::pin(r.into_inner()) })
    }};
}

/// Imports `file` into `targets`; returns the summary. Per-row errors are printed as
/// they arrive.
pub async fn import_file(
    targets: &Targets,
    token: &str,
    file: &Path,
    batch: u32,
    restart: bool,
    progress: bool,
) -> anyhow::Result<ImportSummary> {
    let started = Instant::now();
    let checkpoint_file = checkpoint_path(file);
    let mut checkpoint = if restart {
        Checkpoint::default()
    } else {
        read_checkpoint(&checkpoint_file)
    };
    let bearer: tonic::metadata::MetadataValue<_> = format!("Bearer {token}")
        .parse()
        .map_err(|_| anyhow!("the token is not valid ASCII"))?;
    let mut summary = ImportSummary {
        resumed_after: checkpoint.citizens,
        foreigners_resumed_after: checkpoint.foreigners,
        subjects_resumed_after: checkpoint.subjects,
        ..ImportSummary::default()
    };
    let passes: &[Pass] = if targets.records.is_some() {
        &[Pass::Citizens, Pass::Foreigners, Pass::Subjects]
    } else {
        &[Pass::Citizens, Pass::Foreigners]
    };
    for (index, &pass) in passes.iter().enumerate() {
        let resume_after = *checkpoint.line_mut(pass);
        let mut reader =
            std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
        let total = reader.seek(SeekFrom::End(0))?;
        reader.seek(SeekFrom::Start(0))?;
        let bar = if progress {
            ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {prefix} {wide_bar} {bytes}/{total_bytes} {msg} (ETA {eta})",
            )
            .expect("static template"),
        );
        bar.set_prefix(match pass {
            Pass::Citizens => "citizens",
            Pass::Foreigners => "foreigners",
            Pass::Subjects => "subjects",
        });
        let (rows_tx, rows_rx) = mpsc::channel::<Row>(4 * batch as usize);
        let (local_tx, mut local_rx) = mpsc::unbounded_channel::<Local>();
        let reader_thread = std::thread::spawn(move || {
            read_rows(reader, resume_after, batch, pass, rows_tx, local_tx)
        });
        let rows = ReceiverStream::new(rows_rx);
        let (rpc, opened) = match pass {
            Pass::Citizens => (
                "ImportCitizens",
                open_import!(
                    ImportServiceClient::new(targets.identity.clone()),
                    import_citizens,
                    Row::Citizen,
                    rows,
                    bearer
                ),
            ),
            Pass::Foreigners => (
                "ImportForeigners",
                open_import!(
                    ImportServiceClient::new(targets.identity.clone()),
                    import_foreigners,
                    Row::Foreigner,
                    rows,
                    bearer
                ),
            ),
            Pass::Subjects => (
                "ImportSubjects",
                open_import!(
                    SubjectImportClient::new(targets.records.clone().expect("checked above")),
                    import_subjects,
                    Row::Subject,
                    rows,
                    bearer
                ),
            ),
        };
        let mut responses =
            opened.map_err(|status| anyhow::Error::new(CallError::new(rpc, status)))?;
        let mut counts = Counts::default();
        let mut settled_line = resume_after;
        let drain_local =
            |summary: &mut ImportSummary, local_rx: &mut mpsc::UnboundedReceiver<Local>| {
                while let Ok(event) = local_rx.try_recv() {
                    match event {
                        Local::Unreadable { line, reason } => {
                            summary.unreadable += 1;
                            bar.suspend(|| eprintln!("line {line}: {reason}"));
                        }
                        Local::Subject => {
                            if targets.records.is_none() {
                                summary.subjects_not_sent += 1;
                            }
                        }
                        Local::Bytes(n) => bar.set_position(n),
                    }
                }
            };
        loop {
            let next = tokio::select! {
                next = responses.next() => next,
                _ = tokio::time::sleep(Duration::from_millis(200)) => {
                    drain_local(&mut summary, &mut local_rx);
                    continue;
                }
            };
            let Some(result) = next else { break };
            let result = result.map_err(|status| {
                anyhow::Error::new(CallError::new(rpc, status)).context(format!(
                    "import stopped after line {settled_line} (run the same command again to \
                     resume)"
                ))
            })?;
            counts.imported += u64::from(result.imported);
            counts.skipped += u64::from(result.skipped);
            let mut rejected_lines: Vec<u64> = result.errors.iter().map(|e| e.line).collect();
            rejected_lines.dedup();
            counts.rejected += rejected_lines.len() as u64;
            for ImportRowError {
                line,
                field,
                reason,
            } in &result.errors
            {
                let field = if field.is_empty() {
                    String::new()
                } else {
                    format!("{field}: ")
                };
                bar.suspend(|| eprintln!("line {line}: {field}{reason}"));
            }
            settled_line = result.last_line;
            *checkpoint.line_mut(pass) = settled_line;
            write_checkpoint(&checkpoint_file, checkpoint)
                .with_context(|| format!("cannot write {}", checkpoint_file.display()))?;
            drain_local(&mut summary, &mut local_rx);
            bar.set_message(format!(
                "{} rows, {:.0} rows/s",
                counts.settled(),
                counts.settled() as f64 / started.elapsed().as_secs_f64().max(1e-9)
            ));
        }
        let lines = reader_thread
            .join()
            .map_err(|_| anyhow!("the file reader failed"))?
            .with_context(|| format!("cannot read {}", file.display()))?;
        drain_local(&mut summary, &mut local_rx);
        bar.finish_and_clear();
        match pass {
            Pass::Citizens => summary.citizens = counts,
            Pass::Foreigners => summary.foreigners = counts,
            Pass::Subjects => summary.subjects = counts,
        }
        // The whole file is settled for this pass: a later run resumes with the next one.
        let settled = checkpoint.line_mut(pass);
        *settled = lines.max(*settled);
        if index + 1 < passes.len() {
            write_checkpoint(&checkpoint_file, checkpoint)
                .with_context(|| format!("cannot write {}", checkpoint_file.display()))?;
        }
    }
    let _ = std::fs::remove_file(&checkpoint_file);
    summary.elapsed = started.elapsed();
    Ok(summary)
}
