//! The reading side of the bulk-import RPCs (identity's `ImportCitizens`, records'
//! `ImportSubjects`): the client streams rows numbered by their line in its file, and the
//! first message may set the batch size; the rows are decoded into batches, which another
//! task commits while the next batch is read.

use crate::error::invalid_field;
use dancu_proto::common::v1 as common;
use futures::StreamExt;
use tokio::sync::mpsc;
use tonic::{Status, Streaming};

/// The batch size rule of an import RPC.
#[derive(Clone, Copy, Debug)]
pub struct BatchLimits {
    /// Rows per batch when the first message leaves `batch_size` at 0.
    pub default: u32,
    /// Largest batch a caller may ask for.
    pub max: u32,
}

/// Why one row was not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// Line number.
    pub line: u64,
    /// Offending field, or empty.
    pub field: String,
    /// Why (never the value).
    pub reason: String,
}

/// What one committed batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Rows newly imported.
    pub imported: u32,
    /// Rows already present (by the import's natural key), left unchanged.
    pub skipped: u32,
    /// Rows rejected.
    pub errors: Vec<RowError>,
}

impl BatchOutcome {
    /// The acknowledgement sent for this batch, whose last row is `last_line`.
    #[must_use]
    pub fn acknowledgement(self, last_line: u64) -> common::ImportBatchResult {
        common::ImportBatchResult {
            last_line,
            imported: self.imported,
            skipped: self.skipped,
            errors: self
                .errors
                .into_iter()
                .map(|e| common::ImportRowError {
                    line: e.line,
                    field: e.field,
                    reason: e.reason,
                })
                .collect(),
        }
    }
}

/// Rows read and decoded, waiting to be committed together.
#[derive(Debug)]
pub struct Batch<C, E> {
    /// Line of the first row.
    pub first_line: u64,
    /// Line of the last row.
    pub last_line: u64,
    /// Rows read, valid or not.
    pub rows: u32,
    /// The rows that decoded.
    pub candidates: Vec<C>,
    /// What was wrong with the others.
    pub rejected: Vec<E>,
}

impl<C, E> Default for Batch<C, E> {
    fn default() -> Self {
        Self {
            first_line: 0,
            last_line: 0,
            rows: 0,
            candidates: Vec::new(),
            rejected: Vec::new(),
        }
    }
}

/// Reads the client's rows into batches of the size its first message asks for, decoding
/// each with `decode`, and sends them to `batches`. `header` gives a row's line number and
/// requested batch size. A malformed stream (a batch size out of range or set after the
/// first message, line numbers that do not increase) ends with its `INVALID_ARGUMENT`; a
/// stream the client breaks ends without one (nothing more to commit).
pub async fn read_batches<R, C, E>(
    mut rows: Streaming<R>,
    limits: BatchLimits,
    header: impl Fn(&R) -> (u64, u32),
    mut decode: impl FnMut(R) -> Result<C, Vec<E>>,
    batches: mpsc::Sender<Result<Batch<C, E>, Status>>,
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
        let (line, requested) = header(&row);
        let problem = if batch_size == 0 {
            match requested {
                0 => {
                    batch_size = limits.default;
                    None
                }
                n if n <= limits.max => {
                    batch_size = n;
                    None
                }
                _ => Some(invalid_field(
                    "batch_size",
                    format!("must be 1 to {} (0 for {})", limits.max, limits.default),
                )),
            }
        } else if requested != 0 {
            Some(invalid_field(
                "batch_size",
                "may only be set in the first message",
            ))
        } else {
            None
        };
        let problem = problem.or_else(|| {
            (line <= previous_line).then(|| {
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
        previous_line = line;
        if batch.rows == 0 {
            batch.first_line = line;
        }
        batch.last_line = line;
        batch.rows += 1;
        match decode(row) {
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

/// Waits for the next batch of `batches`, then takes the batches already waiting while the
/// group holds fewer than `max_rows` rows (the last one taken may go beyond), so that they
/// can be committed together. A stream error ends the group and comes with it, after the
/// batches read before it. `None` once the stream is over and every batch was taken.
pub async fn next_group<C, E>(
    batches: &mut mpsc::Receiver<Result<Batch<C, E>, Status>>,
    max_rows: usize,
) -> Option<(Vec<Batch<C, E>>, Option<Status>)> {
    let mut group = Vec::new();
    let mut rows = 0;
    let mut next = batches.recv().await?;
    loop {
        match next {
            Ok(batch) => {
                rows += batch.rows as usize;
                group.push(batch);
            }
            Err(status) => return Some((group, Some(status))),
        }
        if rows >= max_rows {
            return Some((group, None));
        }
        match batches.try_recv() {
            Ok(waiting) => next = waiting,
            Err(_) => return Some((group, None)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(first_line: u64, rows: u32) -> Result<Batch<(), ()>, Status> {
        Ok(Batch {
            first_line,
            last_line: first_line + u64::from(rows) - 1,
            rows,
            ..Batch::default()
        })
    }

    fn firsts(group: &[Batch<(), ()>]) -> Vec<u64> {
        group.iter().map(|b| b.first_line).collect()
    }

    #[tokio::test]
    async fn groups_take_waiting_batches_up_to_the_row_bound_and_end_at_an_error() {
        let (tx, mut rx) = mpsc::channel(8);
        for b in [batch(1, 3), batch(4, 3), batch(7, 3), batch(10, 1)] {
            tx.send(b).await.unwrap();
        }
        tx.send(Err(Status::invalid_argument("line")))
            .await
            .unwrap();
        tx.send(batch(11, 1)).await.unwrap();

        let (group, failure) = next_group(&mut rx, 5).await.unwrap();
        assert_eq!(
            firsts(&group),
            [1, 4],
            "the second batch goes beyond the bound"
        );
        assert!(failure.is_none());
        let (group, failure) = next_group(&mut rx, 5).await.unwrap();
        assert_eq!(firsts(&group), [7, 10], "the error ends the group");
        assert_eq!(failure.unwrap().code(), tonic::Code::InvalidArgument);
        drop(tx);
        let (group, failure) = next_group(&mut rx, 5).await.unwrap();
        assert_eq!(firsts(&group), [11]);
        assert!(failure.is_none());
        assert!(next_group(&mut rx, 5).await.is_none(), "the stream is over");

        let (tx, mut rx) = mpsc::channel(8);
        tx.send(batch(1, 1)).await.unwrap();
        tx.send(batch(2, 1)).await.unwrap();
        let (group, _) = next_group(&mut rx, 1).await.unwrap();
        assert_eq!(
            firsts(&group),
            [1],
            "a bound of one row commits every batch alone"
        );
    }
}
