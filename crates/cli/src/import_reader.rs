//! The reading side of `dancu import`: one pass over the population file on a thread of its
//! own, turning the lines of the pass's kind into request rows and reporting what else it
//! finds (unreadable lines, subject lines not sent, progress in bytes).

use crate::import_rows::{citizen_row, foreigner_row, subject_row};
use dancu_popgen::record::Line;
use dancu_proto::identity::v1 as pb;
use dancu_proto::records::v1 as records;
use memchr::memmem;
use std::io::{BufRead, BufReader, Read};
use tokio::sync::mpsc;

/// Which lines a pass sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Citizen lines, to identity; this pass also reports unreadable lines and counts the
    /// subject lines not sent.
    Citizens,
    /// Foreigner lines, to identity.
    Foreigners,
    /// Subject lines, to records.
    Subjects,
}

/// A row for one of the three imports.
#[allow(clippy::large_enum_variant)] // nearly every row is a citizen: boxing would allocate
pub enum Row {
    /// For identity's `ImportCitizens`.
    Citizen(pb::ImportCitizenRow),
    /// For identity's `ImportForeigners`.
    Foreigner(pb::ImportForeignerRow),
    /// For records' `ImportSubjects`.
    Subject(records::ImportSubjectRow),
}

/// What the reader thread found besides rows to send.
pub enum Local {
    /// A line the client cannot read (reported by the citizen pass only).
    Unreadable {
        /// Its line number.
        line: u64,
        /// Why, naming no value.
        reason: String,
    },
    /// A subject line seen by the citizen pass (counted when subjects are not sent).
    Subject,
    /// Bytes of the file read so far.
    Bytes(u64),
}

/// Reads `file` line by line (on a thread of its own), sending the rows of `pass` after
/// `resume_after`; the first row carries the batch size. Returns the number of lines.
pub fn read_rows(
    file: std::fs::File,
    resume_after: u64,
    batch: u32,
    pass: Pass,
    rows: mpsc::Sender<Row>,
    local: mpsc::UnboundedSender<Local>,
) -> std::io::Result<u64> {
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
        // The later passes parse only lines that may be of their kind; unreadable lines
        // were reported by the citizen pass.
        match pass {
            Pass::Citizens => {}
            Pass::Foreigners if memmem::find(text, b"foreigner").is_none() => continue,
            Pass::Subjects if memmem::find(text, b"subject").is_none() => continue,
            Pass::Foreigners | Pass::Subjects => {}
        }
        let mut row = match (pass, Line::from_json(text)) {
            (Pass::Citizens, Ok(Line::Citizen(citizen))) => {
                Row::Citizen(citizen_row(line_number, citizen))
            }
            (Pass::Foreigners, Ok(Line::Foreigner(foreigner))) => {
                Row::Foreigner(foreigner_row(line_number, foreigner))
            }
            (Pass::Subjects, Ok(Line::Subject(subject))) => {
                Row::Subject(subject_row(line_number, subject))
            }
            (Pass::Citizens, Ok(Line::Foreigner(_))) => continue,
            (Pass::Citizens, Ok(Line::Subject(_))) => {
                let _ = local.send(Local::Subject);
                continue;
            }
            (Pass::Citizens, Err(error)) => {
                let reason = unreadable_reason(&error);
                let _ = local.send(Local::Unreadable {
                    line: line_number,
                    reason,
                });
                continue;
            }
            (Pass::Foreigners | Pass::Subjects, _) => continue,
        };
        if first {
            match &mut row {
                Row::Citizen(row) => row.batch_size = batch,
                Row::Foreigner(row) => row.batch_size = batch,
                Row::Subject(row) => row.batch_size = batch,
            }
            first = false;
        }
        if rows.blocking_send(row).is_err() {
            // The server ended the stream; its status says why.
            return Ok(line_number);
        }
    }
    let _ = local.send(Local::Bytes(offset));
    Ok(line_number)
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
