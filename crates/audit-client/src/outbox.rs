//! The outbox table and the relay that empties it into the audit service.

use crate::token::TokenSource;
use dancu_kit::config::AuditOutboxConfig;
use dancu_proto::audit::v1::audit_service_client::AuditServiceClient;
use dancu_proto::audit::v1::{AppendEventsRequest, AuditEvent};
use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
use prost::Message;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, mpsc, oneshot, watch};
use tonic::Status;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;
mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_outbox")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub seq: i64,
        #[sea_orm(unique)]
        pub event_id: String,
        pub payload: Vec<u8>,
        pub created_us: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Most events the relay ships per AppendEvents call.
const RELAY_BATCH: u64 = 500;
/// Most read events committed in one group-commit transaction.
const GROUP_COMMIT_MAX: usize = 512;
/// Most span links a relay span carries (the OpenTelemetry SDK's default link limit).
const MAX_LINKS: usize = 128;
/// Relay poll interval when idle.
const IDLE_INTERVAL: Duration = Duration::from_secs(1);
/// Longest an in-call shipment may delay the call's answer (it may include a service-account
/// login, whose password check is deliberately slow).
const IN_CALL_TIMEOUT: Duration = Duration::from_secs(2);
/// After an in-call shipment fails, calls leave shipping to the relay for this long.
const IN_CALL_PAUSE: Duration = Duration::from_secs(5);

/// Why an audit event could not be made durable.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// More events wait for the audit service than the configured bound: the call must
    /// fail closed (`UNAVAILABLE`) rather than go unaudited.
    #[error("audit backlog is full")]
    BacklogFull,
    /// The service's own database failed.
    #[error("storage: {0}")]
    Db(#[from] DbErr),
}

/// A read event waiting for the next group commit, and who to tell when it is durable.
type PendingCommit = (AuditEvent, oneshot::Sender<Result<(), String>>);

/// Stages audit events in the service's database and ships them to the audit service.
pub struct AuditOutbox {
    db: DatabaseConnection,
    client: AuditServiceClient<dancu_kit::client::TracedChannel>,
    tokens: Arc<dyn TokenSource>,
    wake: Notify,
    /// Unix milliseconds until which calls do not ship in-call (after a failure).
    in_call_paused_until: AtomicI64,
    /// Events staged and not yet shipped (recounted from the table by the relay).
    backlog: AtomicU64,
    max_backlog: u64,
    max_backoff: Duration,
    commits: mpsc::UnboundedSender<PendingCommit>,
}

impl AuditOutbox {
    /// An outbox in `db` (which must have run [`crate::migration::CreateOutbox`]),
    /// shipping to the audit service at `audit_endpoint` with tokens from `tokens`, with the
    /// default bounds. Must be called inside a tokio runtime (it starts the group
    /// committer).
    pub fn new(
        db: DatabaseConnection,
        audit_endpoint: &str,
        tokens: Arc<dyn TokenSource>,
    ) -> Result<Arc<Self>, dancu_kit::client::ClientError> {
        Self::with_config(db, audit_endpoint, tokens, &AuditOutboxConfig::default())
    }

    /// Like [`AuditOutbox::new`], with the bounds of `config`.
    pub fn with_config(
        db: DatabaseConnection,
        audit_endpoint: &str,
        tokens: Arc<dyn TokenSource>,
        config: &AuditOutboxConfig,
    ) -> Result<Arc<Self>, dancu_kit::client::ClientError> {
        let (commits, pending) = mpsc::unbounded_channel();
        tokio::spawn(group_commit(db.clone(), pending));
        Ok(Arc::new(Self {
            db,
            client: AuditServiceClient::new(dancu_kit::client::traced_channel(audit_endpoint)?),
            tokens,
            wake: Notify::new(),
            in_call_paused_until: AtomicI64::new(0),
            backlog: AtomicU64::new(0),
            max_backlog: config.max_backlog.max(1),
            max_backoff: Duration::from_millis(config.relay_max_backoff_ms.max(1)),
            commits,
        }))
    }

    /// Events staged and not yet shipped, as last counted.
    pub fn backlog(&self) -> u64 {
        self.backlog.load(Ordering::Relaxed)
    }

    /// Fails closed when the backlog has reached its bound.
    fn admit(&self) -> Result<(), OutboxError> {
        if self.backlog.load(Ordering::Relaxed) >= self.max_backlog {
            self.wake.notify_one();
            return Err(OutboxError::BacklogFull);
        }
        Ok(())
    }

    /// Writes `event` into the outbox through `conn`: pass the transaction of the write the
    /// event describes, so both commit or neither does. Fails with
    /// [`OutboxError::BacklogFull`] when too many events wait for the audit service.
    pub async fn stage<C: ConnectionTrait>(
        &self,
        conn: &C,
        event: &AuditEvent,
    ) -> Result<(), OutboxError> {
        self.admit()?;
        entity::Entity::insert(row(event))
            .exec_without_returning(conn)
            .await?;
        self.backlog.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Admits `events` as [`AuditOutbox::stage`] does and returns their outbox rows, for a
    /// write that inserts them itself, with its own SQL, into [`OUTBOX_TABLE`] in its
    /// transaction (a bulk import running on SQLite's handle directly).
    pub fn admit_rows(&self, events: &[AuditEvent]) -> Result<Vec<OutboxRow>, OutboxError> {
        self.admit()?;
        let created_us = chrono::Utc::now().timestamp_micros();
        let rows = events
            .iter()
            .map(|event| OutboxRow {
                event_id: event.event_id.clone(),
                payload: event.encode_to_vec(),
                created_us,
            })
            .collect::<Vec<_>>();
        self.backlog.fetch_add(rows.len() as u64, Ordering::Relaxed);
        Ok(rows)
    }

    /// Makes `event` durable on its own (for calls that write nothing else), then ships
    /// it. Concurrent calls' events are committed together in one transaction (group
    /// commit); this returns once `event` is committed.
    pub async fn record(&self, event: AuditEvent) -> Result<(), OutboxError> {
        self.admit()?;
        let (done, committed) = oneshot::channel();
        self.commits
            .send((event.clone(), done))
            .map_err(|_| DbErr::Custom("audit group committer stopped".to_owned()))?;
        committed
            .await
            .map_err(|_| DbErr::Custom("audit group committer stopped".to_owned()))?
            .map_err(DbErr::Custom)?;
        self.backlog.fetch_add(1, Ordering::Relaxed);
        self.ship(vec![event]).await;
        Ok(())
    }

    /// Tries once to ship already-staged events from within the current call (so the
    /// append joins the call's trace). On failure the relay will retry; nothing is lost.
    /// The attempt is bounded, and after a failure calls stop trying for a while and leave
    /// shipping to the relay, so an audit outage does not slow every call down.
    pub async fn ship(&self, events: Vec<AuditEvent>) {
        let now = chrono::Utc::now().timestamp_millis();
        if self.in_call_paused_until.load(Ordering::Relaxed) > now {
            self.wake.notify_one();
            return;
        }
        let ids: Vec<String> = events.iter().map(|e| e.event_id.clone()).collect();
        let sent = match tokio::time::timeout(IN_CALL_TIMEOUT, self.send(events)).await {
            Ok(sent) => sent,
            Err(_) => Err(Status::deadline_exceeded("audit service too slow")),
        };
        match sent {
            Ok(()) => {
                if let Err(error) = self.remove(ids).await {
                    tracing::warn!(%error, "could not clear shipped audit events; they will be re-sent");
                }
            }
            Err(status) => {
                tracing::warn!(code = ?status.code(), "audit service unreachable; event kept in the outbox");
                let pause = IN_CALL_PAUSE.as_millis() as i64;
                self.in_call_paused_until
                    .store(now + pause, Ordering::Relaxed);
                self.wake.notify_one();
            }
        }
    }

    /// Ships the oldest staged events (one batch) under a relay span linked to the
    /// audited calls' spans; returns how many were shipped.
    pub async fn ship_backlog(&self) -> Result<usize, Status> {
        let rows = entity::Entity::find()
            .order_by_asc(entity::Column::Seq)
            .limit(RELAY_BATCH)
            .all(&self.db)
            .await
            .map_err(|e| dancu_kit::error::storage(&e))?;
        if rows.is_empty() {
            self.recount().await;
            return Ok(0);
        }
        let mut events = Vec::with_capacity(rows.len());
        let mut ids = Vec::with_capacity(rows.len());
        for row in rows {
            match AuditEvent::decode(row.payload.as_slice()) {
                Ok(event) => events.push(event),
                // Written by this crate; undecodable means a bug, never silently dropped.
                Err(error) => {
                    tracing::error!(%error, seq = row.seq, "undecodable audit outbox row")
                }
            }
            ids.push(row.event_id);
        }
        let shipped = events.len();
        let span = tracing::info_span!(
            "audit.relay",
            otel.kind = "producer",
            dancu.events = shipped
        );
        for link in events.iter().filter_map(caller_span).take(MAX_LINKS) {
            span.add_link(link);
        }
        self.send(events).instrument(span).await?;
        self.remove(ids)
            .await
            .map_err(|e| dancu_kit::error::storage(&e))?;
        Ok(shipped)
    }

    /// Sets the backlog counter from the table — unless calls changed it meanwhile (then
    /// the next recount will). A call that committed before the count but counts itself
    /// after it is counted twice until then: the bound errs on the side of failing closed.
    async fn recount(&self) {
        let before = self.backlog.load(Ordering::Relaxed);
        if let Ok(n) = entity::Entity::find().count(&self.db).await {
            let _ = self
                .backlog
                .compare_exchange(before, n, Ordering::Relaxed, Ordering::Relaxed);
        }
    }

    async fn send(&self, events: Vec<AuditEvent>) -> Result<(), Status> {
        if events.is_empty() {
            return Ok(());
        }
        let token = self.tokens.token().await?;
        let mut request = tonic::Request::new(AppendEventsRequest { events });
        let value = format!("Bearer {token}")
            .parse()
            .map_err(|_| Status::internal("service token is not valid metadata"))?;
        request.metadata_mut().insert("authorization", value);
        self.client.clone().append_events(request).await?;
        Ok(())
    }

    async fn remove(&self, ids: Vec<String>) -> Result<(), DbErr> {
        let removed = entity::Entity::delete_many()
            .filter(entity::Column::EventId.is_in(ids))
            .exec(&self.db)
            .await?
            .rows_affected;
        let _ = self
            .backlog
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| {
                Some(b.saturating_sub(removed))
            });
        Ok(())
    }

    /// Starts the background relay; it ships the backlog until [`RelayHandle::stop`].
    pub fn spawn_relay(self: &Arc<Self>) -> RelayHandle {
        let (stop_tx, mut stop_rx) = watch::channel(false);
        let outbox = self.clone();
        let task = tokio::spawn(async move {
            outbox.recount().await;
            // First round at once: ship what a previous run left, and fetch the token early.
            let mut delay = Duration::ZERO;
            let mut failing = false;
            loop {
                // While failing, calls' wake-ups are ignored: the backoff holds.
                tokio::select! {
                    _ = stop_rx.changed() => break,
                    () = outbox.wake.notified(), if !failing => {},
                    () = tokio::time::sleep(delay) => {},
                }
                let shipped = outbox.ship_backlog().await;
                failing = shipped.is_err();
                match shipped {
                    Ok(n) if n as u64 == RELAY_BATCH => delay = Duration::ZERO,
                    Ok(_) => delay = IDLE_INTERVAL,
                    Err(status) => {
                        tracing::warn!(code = ?status.code(), "audit relay: shipping failed, backing off");
                        delay = (delay * 2)
                            .clamp(IDLE_INTERVAL.min(outbox.max_backoff), outbox.max_backoff);
                    }
                }
            }
            // Last attempt on the way out; what fails stays for the next start.
            let _ = outbox.ship_backlog().await;
        });
        RelayHandle {
            stop: stop_tx,
            task,
        }
    }
}

/// The outbox table.
pub const OUTBOX_TABLE: &str = "audit_outbox";

/// The columns of an outbox row that a write inserting it itself provides (the sequence
/// number is assigned by the database).
#[derive(Debug, Clone)]
pub struct OutboxRow {
    /// The event's id (unique).
    pub event_id: String,
    /// The event, protobuf-encoded.
    pub payload: Vec<u8>,
    /// When it was staged, in microseconds since the Unix epoch.
    pub created_us: i64,
}

fn row(event: &AuditEvent) -> entity::ActiveModel {
    entity::ActiveModel {
        event_id: Set(event.event_id.clone()),
        payload: Set(event.encode_to_vec()),
        created_us: Set(chrono::Utc::now().timestamp_micros()),
        ..Default::default()
    }
}

/// Commits queued read events, all that are waiting at once in one transaction, and tells
/// each caller when its event is durable.
async fn group_commit(db: DatabaseConnection, mut pending: mpsc::UnboundedReceiver<PendingCommit>) {
    while let Some(first) = pending.recv().await {
        let mut batch = vec![first];
        while batch.len() < GROUP_COMMIT_MAX {
            match pending.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let result = insert_all(&db, batch.iter().map(|(event, _)| row(event)))
            .await
            .map_err(|e| e.to_string());
        for (_, done) in batch {
            let _ = done.send(result.clone());
        }
    }
}

async fn insert_all(
    db: &DatabaseConnection,
    rows: impl Iterator<Item = entity::ActiveModel>,
) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    entity::Entity::insert_many(rows)
        .exec_without_returning(&txn)
        .await?;
    txn.commit().await
}

/// The span context of the call that produced `event`, for a span link.
fn caller_span(event: &AuditEvent) -> Option<SpanContext> {
    let trace_id = TraceId::from_hex(&event.trace_id).ok()?;
    let span_id = SpanId::from_hex(&event.span_id).ok()?;
    let context = SpanContext::new(
        trace_id,
        span_id,
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    context.is_valid().then_some(context)
}

/// Stops the relay started by [`AuditOutbox::spawn_relay`].
pub struct RelayHandle {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl RelayHandle {
    /// Asks the relay to make a last shipping attempt and stop; waits for it.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

impl RelayHandle {
    /// Stops the relay at once, wherever it is — mid-batch included — as a crash would.
    /// What was not yet removed from the outbox is shipped again by the next relay; the
    /// audit service de-duplicates by event id.
    pub fn kill(self) {
        self.task.abort();
    }
}
