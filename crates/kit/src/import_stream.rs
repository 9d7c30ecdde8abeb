//! The reading side of the bulk-import RPCs (identity's `ImportCitizens`, records'
//! `ImportSubjects`): the client streams rows numbered by their line in its file, and the
//! first message may set the batch size; the rows are decoded into batches, which another
//! task commits while the next batch is read.

use crate::error::invalid_field;
use dancu_proto::common::v1 as common;
use futures::StreamExt;
use std::sync::Arc;
use tokio::sync::{Semaphore, mpsc};
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

/// A batch read from the stream, or the error that ended it.
pub type ReadBatch<C, E> = Result<Batch<C, E>, Status>;

/// The queue of batches read but not yet taken for a commit, bounded by rows, not by
/// batches: while `max_rows` rows wait, the reader waits too. A bound in rows keeps the
/// memory of an import stream the same whatever batch size the client asks for, and lets
/// a group of commits reach `max_rows` rows at any batch size (a bound of 16 batches had
/// capped groups at 16 batches, whatever `import_group_rows` said). A batch larger than
/// the bound waits for an empty queue.
pub fn waiting_batches<C, E>(max_rows: usize) -> (BatchSender<C, E>, BatchReceiver<C, E>) {
    let max_rows = u32::try_from(max_rows.max(1)).unwrap_or(u32::MAX);
    let room = Arc::new(Semaphore::new(max_rows as usize));
    // Unbounded as a channel: the semaphore bounds it.
    let (tx, rx) = mpsc::unbounded_channel();
    (
        BatchSender {
            tx,
            room: room.clone(),
            max_rows,
        },
        BatchReceiver { rx, room },
    )
}

/// The reading side of [`waiting_batches`].
pub struct BatchSender<C, E> {
    tx: mpsc::UnboundedSender<(ReadBatch<C, E>, u32)>,
    room: Arc<Semaphore>,
    max_rows: u32,
}

impl<C, E> BatchSender<C, E> {
    /// Queues `batch` once there is room for its rows; `false` if the committing side is
    /// gone.
    pub async fn send(&self, batch: ReadBatch<C, E>) -> bool {
        let rows = batch.as_ref().map_or(0, |b| b.rows.min(self.max_rows));
        match self.room.acquire_many(rows).await {
            // The room comes back when the batch is taken (`BatchReceiver::recv`).
            Ok(permit) => permit.forget(),
            Err(_) => return false,
        }
        self.tx.send((batch, rows)).is_ok()
    }
}

/// The committing side of [`waiting_batches`].
pub struct BatchReceiver<C, E> {
    rx: mpsc::UnboundedReceiver<(ReadBatch<C, E>, u32)>,
    room: Arc<Semaphore>,
}

impl<C, E> BatchReceiver<C, E> {
    /// The next batch, once one waits; `None` once the reader is done and every batch was
    /// taken.
    pub async fn recv(&mut self) -> Option<ReadBatch<C, E>> {
        let taken = self.rx.recv().await;
        self.made_room(taken)
    }

    /// The next batch if one is waiting now.
    pub fn try_recv(&mut self) -> Option<ReadBatch<C, E>> {
        let taken = self.rx.try_recv().ok();
        self.made_room(taken)
    }

    /// Gives the rows of a batch taken back to the reader.
    fn made_room(&self, taken: Option<(ReadBatch<C, E>, u32)>) -> Option<ReadBatch<C, E>> {
        let (batch, rows) = taken?;
        self.room.add_permits(rows as usize);
        Some(batch)
    }
}

impl<C, E> Drop for BatchReceiver<C, E> {
    /// Wakes a reader waiting for room: nothing will be taken any more.
    fn drop(&mut self) {
        self.room.close();
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
    batches: BatchSender<C, E>,
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
        if batch.rows >= batch_size && !batches.send(Ok(std::mem::take(&mut batch))).await {
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
    batches: &mut BatchReceiver<C, E>,
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
            Some(waiting) => next = waiting,
            None => return Some((group, None)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(first_line: u64, rows: u32) -> ReadBatch<(), ()> {
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
        let (tx, mut rx) = waiting_batches(100);
        for b in [batch(1, 3), batch(4, 3), batch(7, 3), batch(10, 1)] {
            assert!(tx.send(b).await);
        }
        assert!(tx.send(Err(Status::invalid_argument("line"))).await);
        assert!(tx.send(batch(11, 1)).await);

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

        let (tx, mut rx) = waiting_batches(100);
        assert!(tx.send(batch(1, 1)).await);
        assert!(tx.send(batch(2, 1)).await);
        let (group, _) = next_group(&mut rx, 1).await.unwrap();
        assert_eq!(
            firsts(&group),
            [1],
            "a bound of one row commits every batch alone"
        );
    }

    /// Whether `send` finishes within 50 ms (it waits for room otherwise).
    async fn sent(tx: &BatchSender<(), ()>, batch: ReadBatch<(), ()>) -> bool {
        let sending = tx.send(batch);
        tokio::time::timeout(std::time::Duration::from_millis(50), sending)
            .await
            .is_ok_and(|queued| queued)
    }

    #[tokio::test]
    async fn the_reader_waits_while_the_bound_in_rows_is_waiting() {
        let (tx, mut rx) = waiting_batches(10);
        assert!(sent(&tx, batch(1, 4)).await);
        assert!(sent(&tx, batch(5, 6)).await);
        assert!(!sent(&tx, batch(11, 1)).await, "ten rows wait: no room");
        // Taking the first batch gives its four rows back.
        assert_eq!(rx.recv().await.unwrap().unwrap().first_line, 1);
        assert!(sent(&tx, batch(11, 4)).await);
        assert!(!sent(&tx, batch(15, 1)).await);

        // Any batch size: fifty batches of one row wait where ten rows may.
        let (tx, mut rx) = waiting_batches(50);
        for line in 1..=50 {
            assert!(sent(&tx, batch(line, 1)).await);
        }
        let (group, _) = next_group(&mut rx, 50).await.unwrap();
        assert_eq!(group.len(), 50, "one group takes them all");

        // A batch beyond the bound waits for an empty queue, then goes.
        let (tx, mut rx) = waiting_batches(10);
        assert!(sent(&tx, batch(1, 25)).await);
        assert!(!sent(&tx, batch(26, 25)).await);
        assert_eq!(rx.recv().await.unwrap().unwrap().rows, 25);
        assert!(sent(&tx, batch(26, 25)).await);

        // A reader waiting for room stops when the committing side is gone.
        let (tx, rx) = waiting_batches(10);
        assert!(sent(&tx, batch(1, 10)).await);
        let waiting = tokio::spawn(async move { tx.send(batch(11, 1)).await });
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        drop(rx);
        assert!(!waiting.await.unwrap(), "nothing will commit it");
    }
}
