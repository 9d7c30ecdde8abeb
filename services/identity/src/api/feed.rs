//! `dancu.identity.v1.ChangeFeedService`: the change feed.

use crate::app::ChangeFeed;
use crate::app::PurposeGuard;
use crate::store::ChangeRow;
use dancu_kit::call::CallContext;
use dancu_kit::convert::timestamp_from_us;
use dancu_kit::error::invalid_field;
use dancu_proto::identity::v1 as pb;
use dancu_proto::identity::v1::change_feed_service_server::ChangeFeedService;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

/// Changes read from the database per round.
const BATCH: u64 = 500;
/// Changes buffered per stream before the reader waits for the client.
const BUFFER: usize = 1_000;
/// Longest wait before looking for changes again when no wake-up came (changes committed
/// by another process sharing the database wake nobody here).
const POLL: Duration = Duration::from_secs(1);

/// Implements `dancu.identity.v1.ChangeFeedService`.
pub struct ChangeFeedApi {
    feed: Arc<ChangeFeed>,
    closing: watch::Receiver<bool>,
    guard: Arc<PurposeGuard>,
}

impl ChangeFeedApi {
    /// The API over the change feed. Open streams end when `closing` turns true, so that a
    /// graceful shutdown is not held up by watchers (they resume from their cursor).
    pub fn new(
        feed: Arc<ChangeFeed>,
        closing: watch::Receiver<bool>,
        guard: Arc<PurposeGuard>,
    ) -> Self {
        Self {
            feed,
            closing,
            guard,
        }
    }
}

/// Cursors are the decimal sequence number; documented as opaque.
fn parse_cursor(cursor: &str) -> Option<i64> {
    if cursor.is_empty() {
        return Some(0);
    }
    cursor.parse().ok().filter(|seq: &i64| *seq >= 0)
}

fn encode(row: ChangeRow) -> pb::Change {
    let kind = match row.kind.as_str() {
        "registered" => pb::ChangeKind::Registered,
        "updated" => pb::ChangeKind::Updated,
        "deceased" => pb::ChangeKind::Deceased,
        "missing" => pb::ChangeKind::Missing,
        "residence" => pb::ChangeKind::Residence,
        "household" => pb::ChangeKind::Household,
        _ => pb::ChangeKind::Unspecified,
    };
    pb::Change {
        cursor: row.seq.to_string(),
        personal_id: row.personal_id,
        kind: kind as i32,
        change_time: Some(timestamp_from_us(row.change_us)),
        fields: row
            .fields
            .split(',')
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect(),
        residence_kind: row.residence_kind,
        commune_code: row.commune_code,
        reference_id: row.reference_id,
    }
}

#[tonic::async_trait]
impl ChangeFeedService for ChangeFeedApi {
    type WatchChangesStream = Pin<Box<dyn Stream<Item = Result<pb::Change, Status>> + Send>>;

    async fn watch_changes(
        &self,
        request: Request<pb::WatchChangesRequest>,
    ) -> Result<Response<Self::WatchChangesStream>, Status> {
        let ctx = CallContext::from_request(
            &request,
            "/dancu.identity.v1.ChangeFeedService/WatchChanges",
        )?;
        self.guard.check(&ctx, "change_feed").await?;
        let Some(mut after) = parse_cursor(request.get_ref().after_cursor.trim()) else {
            return Err(invalid_field(
                "after_cursor",
                "is not a cursor this feed issued",
            ));
        };
        self.feed.open(&ctx).await?;
        let (tx, rx) = mpsc::channel(BUFFER);
        let feed = self.feed.clone();
        let signal = feed.signal();
        let mut closing = self.closing.clone();
        tokio::spawn(async move {
            loop {
                // Register interest before reading, so a commit between the read and the
                // wait is not missed.
                let woken = signal.notified();
                tokio::pin!(woken);
                woken.as_mut().enable();
                let batch = match feed.after(after, BATCH).await {
                    Ok(batch) => batch,
                    Err(e) => {
                        let _ = tx.send(Err(Status::from(e))).await;
                        return;
                    }
                };
                let full = batch.len() as u64 == BATCH;
                for row in batch {
                    after = row.seq;
                    if tx.send(Ok(encode(row))).await.is_err() {
                        return;
                    }
                }
                if full {
                    continue;
                }
                tokio::select! {
                    () = &mut woken => {}
                    () = tokio::time::sleep(POLL) => {}
                    () = tx.closed() => return,
                    _ = closing.wait_for(|closing| *closing) => return,
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}
