//! The outbox table and the relay that empties it into the audit service.

use crate::token::TokenSource;
use dancu_proto::audit::v1::audit_service_client::AuditServiceClient;
use dancu_proto::audit::v1::{AppendEventsRequest, AuditEvent};
use prost::Message;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tonic::Status;
use tracing::Instrument;

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
/// Relay poll interval when idle.
const IDLE_INTERVAL: Duration = Duration::from_secs(1);
/// Longest wait between retries while the audit service is failing.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Longest an in-call shipment may delay the call's answer (it may include a service-account
/// login, whose password check is deliberately slow).
const IN_CALL_TIMEOUT: Duration = Duration::from_secs(2);
/// After an in-call shipment fails, calls leave shipping to the relay for this long.
const IN_CALL_PAUSE: Duration = Duration::from_secs(5);

/// Stages audit events in the service's database and ships them to the audit service.
pub struct AuditOutbox {
    db: DatabaseConnection,
    client: AuditServiceClient<dancu_kit::client::TracedChannel>,
    tokens: Arc<dyn TokenSource>,
    wake: Notify,
    /// Unix milliseconds until which calls do not ship in-call (after a failure).
    in_call_paused_until: AtomicI64,
}

impl AuditOutbox {
    /// An outbox in `db` (which must have run [`crate::migration::CreateOutbox`]),
    /// shipping to the audit service at `audit_endpoint` with tokens from `tokens`.
    pub fn new(
        db: DatabaseConnection,
        audit_endpoint: &str,
        tokens: Arc<dyn TokenSource>,
    ) -> Result<Arc<Self>, dancu_kit::client::ClientError> {
        Ok(Arc::new(Self {
            db,
            client: AuditServiceClient::new(dancu_kit::client::traced_channel(audit_endpoint)?),
            tokens,
            wake: Notify::new(),
            in_call_paused_until: AtomicI64::new(0),
        }))
    }

    /// Writes `event` into the outbox through `conn`: pass the transaction of the write the
    /// event describes, so both commit or neither does.
    pub async fn stage<C: ConnectionTrait>(
        &self,
        conn: &C,
        event: &AuditEvent,
    ) -> Result<(), DbErr> {
        entity::Entity::insert(entity::ActiveModel {
            event_id: Set(event.event_id.clone()),
            payload: Set(event.encode_to_vec()),
            created_us: Set(chrono::Utc::now().timestamp_micros()),
            ..Default::default()
        })
        .exec_without_returning(conn)
        .await?;
        Ok(())
    }

    /// Stages `event` on its own (for calls that write nothing else), then ships it.
    pub async fn record(&self, event: AuditEvent) -> Result<(), DbErr> {
        self.stage(&self.db, &event).await?;
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

    /// Ships the oldest staged events (one batch); returns how many were shipped.
    pub async fn ship_backlog(&self) -> Result<usize, Status> {
        let rows = entity::Entity::find()
            .order_by_asc(entity::Column::Seq)
            .limit(RELAY_BATCH)
            .all(&self.db)
            .await
            .map_err(|e| dancu_kit::error::storage(&e))?;
        if rows.is_empty() {
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
        self.send(events).await?;
        self.remove(ids)
            .await
            .map_err(|e| dancu_kit::error::storage(&e))?;
        Ok(shipped)
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
        entity::Entity::delete_many()
            .filter(entity::Column::EventId.is_in(ids))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Starts the background relay; it ships the backlog until [`RelayHandle::stop`].
    pub fn spawn_relay(self: &Arc<Self>) -> RelayHandle {
        let (stop_tx, mut stop_rx) = watch::channel(false);
        let outbox = self.clone();
        let task = tokio::spawn(async move {
            // First round at once: ship what a previous run left, and fetch the token early.
            let mut delay = Duration::ZERO;
            loop {
                tokio::select! {
                    _ = stop_rx.changed() => break,
                    () = outbox.wake.notified() => {},
                    () = tokio::time::sleep(delay) => {},
                }
                let span = tracing::info_span!("audit.relay", otel.kind = "producer");
                match outbox.ship_backlog().instrument(span).await {
                    Ok(n) if n as u64 == RELAY_BATCH => delay = Duration::ZERO,
                    Ok(_) => delay = IDLE_INTERVAL,
                    Err(status) => {
                        tracing::warn!(code = ?status.code(), "audit relay: shipping failed, backing off");
                        delay = (delay * 2).clamp(IDLE_INTERVAL, MAX_BACKOFF);
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
