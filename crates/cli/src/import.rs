//! `dancu import FILE`: stream a population file (NDJSON, as `dancu gen` writes) to
//! identity's `ImportService/ImportCitizens`, with a progress bar, per-row errors by line
//! number, a checkpoint to resume after an interruption, and a summary.
//!
//! Citizen lines are sent; lines the client cannot read (not JSON, unknown `kind`) are
//! reported here with their line numbers; foreigner and subject lines are counted and left
//! for their own imports (not yet available). After every batch the server acknowledges,
//! the last settled line is written to the checkpoint file (`FILE.checkpoint`), so a run
//! that stops resumes after it; the server skips citizens already registered anyway, so
//! resuming without the checkpoint is also safe, only slower. The checkpoint is removed
//! when the file has been imported to the end.

use crate::client::{Global, Service};
use crate::exit::CallError;
use anyhow::{Context, anyhow};
use dancu_popgen::record::{CitizenLine, Line};
use dancu_proto::common::v1 as common;
use dancu_proto::identity::v1 as pb;
use dancu_proto::identity::v1::import_service_client::ImportServiceClient;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;

/// The import RPC, as named in error messages.
const RPC: &str = "ImportCitizens";

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
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    /// Citizens newly registered.
    pub imported: u64,
    /// Citizens already registered (left unchanged).
    pub skipped: u64,
    /// Rows rejected by the server.
    pub rejected: u64,
    /// Lines the client could not read.
    pub unreadable: u64,
    /// Foreigner and subject lines not imported (left for later).
    pub other_kinds: u64,
    /// Lines skipped because the checkpoint said they were settled.
    pub resumed_after: u64,
    /// Wall time.
    pub elapsed: Duration,
}

impl ImportSummary {
    /// Citizen rows settled by the server per second.
    pub fn rows_per_sec(&self) -> f64 {
        let rows = self.imported + self.skipped + self.rejected;
        rows as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Runs `dancu import`. Fails (after the summary, with exit code 3) when rows were
/// rejected or unreadable.
pub async fn run(args: &ImportArgs, global: &Global) -> anyhow::Result<()> {
    let channel = connect(global.endpoint_of(Service::Identity))?;
    let token = global.credentials.token().await?;
    let summary = import_file(
        &channel,
        &token,
        &args.file,
        args.batch,
        args.restart,
        !args.quiet,
    )
    .await?;
    print_summary(&summary);
    let bad = summary.rejected + summary.unreadable;
    if bad > 0 {
        return Err(crate::exit::RejectedRows(bad).into());
    }
    Ok(())
}

/// Prints the end-of-import summary.
pub fn print_summary(summary: &ImportSummary) {
    println!(
        "imported {}, already present {}, rejected {}, unreadable {}, not imported (foreigners \
         and subjects, left for later) {}; {:.1} s, {:.0} rows/s",
        summary.imported,
        summary.skipped,
        summary.rejected,
        summary.unreadable,
        summary.other_kinds,
        summary.elapsed.as_secs_f64(),
        summary.rows_per_sec()
    );
    if summary.resumed_after > 0 {
        println!(
            "resumed after line {} (from the checkpoint)",
            summary.resumed_after
        );
    }
}

/// A lazy channel to `endpoint`.
pub fn connect(endpoint: &str) -> anyhow::Result<Channel> {
    Ok(Channel::from_shared(endpoint.to_owned())
        .with_context(|| "invalid --endpoint")?
        .connect_lazy())
}

/// The checkpoint file of `file`.
fn checkpoint_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".checkpoint");
    PathBuf::from(name)
}

/// The last settled line recorded for `file` (0 when none).
fn read_checkpoint(path: &Path) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(0)
}

/// Records `line` as settled (write to a temporary file, then rename: never half-written).
fn write_checkpoint(path: &Path, line: u64) -> std::io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    std::fs::write(&temporary, format!("{line}\n"))?;
    std::fs::rename(&temporary, path)
}

/// What the reader thread found besides rows to send.
enum Local {
    Unreadable { line: u64, reason: String },
    OtherKind,
    Bytes(u64),
}

/// Imports `file` through `channel`; returns the summary. Per-row errors are printed as
/// they arrive.
pub async fn import_file(
    channel: &Channel,
    token: &str,
    file: &Path,
    batch: u32,
    restart: bool,
    progress: bool,
) -> anyhow::Result<ImportSummary> {
    let started = Instant::now();
    let checkpoint = checkpoint_path(file);
    let resume_after = if restart {
        0
    } else {
        read_checkpoint(&checkpoint)
    };
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
            "{spinner} {wide_bar} {bytes}/{total_bytes} {msg} (ETA {eta})",
        )
        .expect("static template"),
    );
    let (rows_tx, rows_rx) = mpsc::channel::<pb::ImportCitizenRow>(4 * batch as usize);
    let (local_tx, mut local_rx) = mpsc::unbounded_channel::<Local>();
    let reader_thread =
        std::thread::spawn(move || read_rows(reader, resume_after, batch, rows_tx, local_tx));

    let mut request = tonic::Request::new(ReceiverStream::new(rows_rx));
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}")
            .parse()
            .map_err(|_| anyhow!("the token is not valid ASCII"))?,
    );
    let mut responses = ImportServiceClient::new(channel.clone())
        .max_decoding_message_size(64 << 20)
        .import_citizens(request)
        .await
        .map_err(|status| anyhow::Error::new(CallError::new(RPC, status)))?
        .into_inner();
    let mut summary = ImportSummary {
        resumed_after: resume_after,
        ..ImportSummary::default()
    };
    let mut settled_line = resume_after;
    let drain_local = |summary: &mut ImportSummary,
                       local_rx: &mut mpsc::UnboundedReceiver<Local>| {
        while let Ok(event) = local_rx.try_recv() {
            match event {
                Local::Unreadable { line, reason } => {
                    summary.unreadable += 1;
                    bar.suspend(|| eprintln!("line {line}: {reason}"));
                }
                Local::OtherKind => summary.other_kinds += 1,
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
            anyhow::Error::new(CallError::new(RPC, status)).context(format!(
                "import stopped after line {settled_line} (run the same command again to resume)"
            ))
        })?;
        summary.imported += u64::from(result.imported);
        summary.skipped += u64::from(result.skipped);
        let mut rejected_lines: Vec<u64> = result.errors.iter().map(|e| e.line).collect();
        rejected_lines.dedup();
        summary.rejected += rejected_lines.len() as u64;
        for error in &result.errors {
            let field = if error.field.is_empty() {
                String::new()
            } else {
                format!("{}: ", error.field)
            };
            bar.suspend(|| eprintln!("line {}: {field}{}", error.line, error.reason));
        }
        settled_line = result.last_line;
        write_checkpoint(&checkpoint, settled_line)
            .with_context(|| format!("cannot write {}", checkpoint.display()))?;
        drain_local(&mut summary, &mut local_rx);
        let rows = summary.imported + summary.skipped + summary.rejected;
        bar.set_message(format!(
            "{rows} rows, {:.0} rows/s",
            rows as f64 / started.elapsed().as_secs_f64().max(1e-9)
        ));
    }
    reader_thread
        .join()
        .map_err(|_| anyhow!("the file reader failed"))?
        .with_context(|| format!("cannot read {}", file.display()))?;
    drain_local(&mut summary, &mut local_rx);
    bar.finish_and_clear();
    let _ = std::fs::remove_file(&checkpoint);
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Reads `file` line by line (on a thread of its own), sending citizen rows after
/// `resume_after`; the first row carries the batch size.
fn read_rows(
    file: std::fs::File,
    resume_after: u64,
    batch: u32,
    rows: mpsc::Sender<pb::ImportCitizenRow>,
    local: mpsc::UnboundedSender<Local>,
) -> std::io::Result<()> {
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut buffer = Vec::with_capacity(4096);
    let mut line_number = 0u64;
    let mut offset = 0u64;
    let mut first = true;
    loop {
        buffer.clear();
        let read = reader.by_ref().read_until(b'\n', &mut buffer)?;
        if read == 0 {
            break;
        }
        line_number += 1;
        offset += read as u64;
        if line_number.is_multiple_of(8_192) {
            let _ = local.send(Local::Bytes(offset));
        }
        if line_number <= resume_after {
            continue;
        }
        let text = buffer.trim_ascii();
        if text.is_empty() {
            continue;
        }
        let row = match serde_json::from_slice::<Line>(text) {
            Ok(Line::Citizen(citizen)) => citizen_row(line_number, citizen),
            Ok(Line::Foreigner(_) | Line::Subject(_)) => {
                let _ = local.send(Local::OtherKind);
                continue;
            }
            Err(error) => {
                let reason = unreadable_reason(&error);
                let _ = local.send(Local::Unreadable {
                    line: line_number,
                    reason,
                });
                continue;
            }
        };
        let mut row = row;
        if first {
            row.batch_size = batch;
            first = false;
        }
        if rows.blocking_send(row).is_err() {
            // The server ended the stream; its status says why.
            return Ok(());
        }
    }
    let _ = local.send(Local::Bytes(offset));
    Ok(())
}

/// Why a line could not be read, naming at most a field (never a value: serde's
/// messages for wrong types quote the value, which may be personal data).
fn unreadable_reason(error: &serde_json::Error) -> String {
    if !error.is_data() {
        return "not valid JSON".to_owned();
    }
    let message = error.to_string();
    if let Some(rest) = message.strip_prefix("missing field `")
        && let Some((field, _)) = rest.split_once('`')
    {
        return format!("missing field {field}");
    }
    if message.starts_with("unknown variant") {
        return "unknown kind (expected citizen, foreigner or subject)".to_owned();
    }
    if message.starts_with("missing field") || message.contains("tag") {
        return "missing kind".to_owned();
    }
    "a field has the wrong type (all fields are strings, residence a list)".to_owned()
}

/// A `YYYY`, `YYYY-MM` or `YYYY-MM-DD` date (zeros for what is missing); an unreadable
/// text gives an empty date, which the server rejects.
fn date(text: &str) -> Option<common::Date> {
    if text.is_empty() {
        return None;
    }
    let mut parts = text.split('-').map(|p| p.parse::<i32>());
    let year = parts.next().and_then(Result::ok).unwrap_or(0);
    let month = parts.next().and_then(Result::ok).unwrap_or(0);
    let day = parts.next().and_then(Result::ok).unwrap_or(0);
    Some(common::Date { year, month, day })
}

/// The request row of a citizen line.
pub fn citizen_row(line: u64, c: CitizenLine) -> pb::ImportCitizenRow {
    let sex = match c.sex.as_str() {
        "male" => common::Sex::Male,
        "female" => common::Sex::Female,
        _ => common::Sex::Unspecified,
    };
    let blood_type = match c.blood_type.as_str() {
        "a" => pb::BloodType::A,
        "b" => pb::BloodType::B,
        "ab" => pb::BloodType::Ab,
        "o" => pb::BloodType::O,
        _ => pb::BloodType::Unspecified,
    };
    let marital_status = match c.marital_status.as_str() {
        "single" => pb::MaritalStatus::Single,
        "married" => pb::MaritalStatus::Married,
        "divorced" => pb::MaritalStatus::Divorced,
        "widowed" => pb::MaritalStatus::Widowed,
        _ => pb::MaritalStatus::Unspecified,
    };
    let life_status = match c.life_status.as_str() {
        "deceased" => pb::LifeStatus::Deceased,
        "missing" => pb::LifeStatus::Missing,
        _ => pb::LifeStatus::Alive,
    };
    let residences = c
        .residence
        .into_iter()
        .map(|r| pb::ImportResidence {
            kind: match r.kind.as_str() {
                "permanent" => pb::ResidenceKind::Permanent,
                "temporary" => pb::ResidenceKind::Temporary,
                _ => pb::ResidenceKind::Unspecified,
            } as i32,
            commune_code: r.commune,
            address: r.address,
            start_date: date(&r.from),
            end_date: date(&r.until),
        })
        .collect();
    pb::ImportCitizenRow {
        line,
        citizen: Some(pb::Citizen {
            personal_id: c.personal_id,
            full_name: c.full_name,
            sex: sex as i32,
            date_of_birth: date(&c.date_of_birth),
            place_of_birth: c.place_of_birth,
            home_town: c.home_town,
            ethnicity: c.ethnicity,
            religion: c.religion,
            nationality: c.nationality,
            blood_type: blood_type as i32,
            marital_status: marital_status as i32,
            phone: c.phone,
            email: c.email,
            family: Some(pb::FamilyLinks {
                father_id: c.father_id,
                mother_id: c.mother_id,
                spouse_id: c.spouse_id,
                ..pb::FamilyLinks::default()
            }),
            life_status: life_status as i32,
            life_status_date: date(&c.life_status_date),
            ..pb::Citizen::default()
        }),
        residences,
        batch_size: 0,
    }
}
