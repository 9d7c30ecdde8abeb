//! Audit use cases: accept batches idempotently into the verifiable log, raise alerts,
//! answer listings, proofs, checkpoints and data-subject reports. Subjects are stored only
//! as a keyed hash (HMAC-SHA-256), so the event tables do not list personal IDs while
//! exact lookups by personal ID still work. The key is kept in the same database
//! (`audit_settings`): a full copy of that database, key included, lets an attacker test
//! candidate IDs (the ID space is small), so the hash protects against exposure of event
//! rows and exports, not against theft of the whole database.

pub mod alerts;
mod append;
mod log;
mod lookup_indexer;

use append::WriterState;
pub use log::{EntryView, LeafRef};
pub use lookup_indexer::LOOKUP_BATCH;

use crate::store::{AuditStore, EventFilter, NewEvent, StoredAlert, StoredEvent};
use alerts::{AlertKind, AlertRules, Observed};
use base64::Engine;
use dancu_domain::PersonalId;
use dancu_kit::config::Config;
use dancu_translog::{LogEntry, NoteSigner, Tree};
use hmac::{Hmac, Mac};
use sea_orm::DbErr;
use sha2::Sha256;
use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use tokio::sync::broadcast;

/// Name of the setting holding the subject hashing key.
const SUBJECT_KEY_SETTING: &str = "subject_hash_key";
/// Name of the setting holding the checkpoint signing key (base64 Ed25519 seed).
const SIGNING_SEED_SETTING: &str = "checkpoint_signing_seed";
/// Most recent events replayed into the alert windows at start (bounds start-up time and
/// memory on a busy log; older events of the hour are then not counted).
const ALERT_WARM_UP_LIMIT: u64 = 200_000;
/// Alerts buffered for slow watchers before they must catch up from the database.
const ALERT_BUFFER: usize = 1024;

/// What can go wrong in an audit use case.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The database failed.
    #[error("storage: {0}")]
    Storage(#[from] DbErr),
    /// A request field names something outside the log.
    #[error("{field}: {message}")]
    Invalid {
        /// The request field.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// No such event.
    #[error("{0}")]
    NotFound(&'static str),
    /// The batch was placed after one that failed to commit and was not stored; sending it
    /// again stores it.
    #[error("{0}")]
    Retry(&'static str),
    /// Stored log state contradicts itself (a bug or tampering).
    #[error("log state: {0}")]
    Corrupt(String),
}

impl AuditError {
    /// What kind of failure this is, for logs: a storage error's text may quote stored
    /// values (a PostgreSQL key conflict names the key), so background tasks log this
    /// instead of the error.
    pub fn category(&self) -> &'static str {
        match self {
            Self::Storage(DbErr::Conn(_) | DbErr::ConnectionAcquire(_)) => "storage unavailable",
            Self::Storage(_) => "storage error",
            Self::Invalid { .. } => "invalid request",
            Self::NotFound(_) => "not found",
            Self::Retry(_) => "retry",
            Self::Corrupt(_) => "log state corrupt",
        }
    }
}

/// An event as submitted: the subject still a personal ID.
#[derive(Clone, Debug)]
pub struct SubmittedEvent {
    /// The event, with `subject_hash` left empty.
    pub event: NewEvent,
    /// The subject's personal ID, if the call named a valid one.
    pub subject: Option<PersonalId>,
}

/// Result of an append.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppendOutcome {
    /// Newly stored events.
    pub accepted: u64,
    /// Events skipped because already stored (or repeated in the batch).
    pub duplicates: u64,
}

/// A signed checkpoint of the log.
#[derive(Clone, Debug)]
pub struct SignedCheckpoint {
    /// The C2SP signed note.
    pub note: String,
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: [u8; 32],
}

/// The audit log.
pub struct AuditLog {
    store: AuditStore,
    subject_key: Vec<u8>,
    /// Places batches one at a time (leaf indexes, alert ids, alert windows).
    writer: tokio::sync::Mutex<WriterState>,
    /// Commits placed batches one at a time, in placement order: a batch queues here
    /// before it lets go of `writer`, so leaf order equals commit order and a reader
    /// paginating by `seq` never skips an event committed late.
    /// Shared with the task that runs each commit (`append.rs`), which holds the turn.
    committer: Arc<tokio::sync::Mutex<()>>,
    /// Set when a placed batch failed to commit: the batches placed after it are refused,
    /// and the next placement first re-reads the stored state.
    broken: Arc<std::sync::atomic::AtomicBool>,
    /// Woken whenever the events of an in-flight batch settle (committed or refused).
    settled: tokio::sync::Notify,
    /// The Merkle tree of every committed leaf.
    tree: Arc<RwLock<Tree>>,
    signer: NoteSigner,
    origin: String,
    alerts_tx: broadcast::Sender<StoredAlert>,
}

impl AuditLog {
    /// Opens the log over `store`: creates the subject hashing key and the checkpoint
    /// signing key on first start, rebuilds the tree from the stored leaf hashes, places
    /// events stored before the log existed, and warms the alert windows.
    pub async fn open(store: AuditStore, config: &Config) -> Result<Self, AuditError> {
        let key = store
            .setting_or_init(SUBJECT_KEY_SETTING, dancu_kit::random_secret)
            .await?;
        let seed = store
            .setting_or_init(SIGNING_SEED_SETTING, || {
                base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>())
            })
            .await?;
        let seed: [u8; 32] = base64::engine::general_purpose::STANDARD
            .decode(seed)
            .ok()
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| AuditError::Corrupt("checkpoint signing key".to_owned()))?;
        let origin = config.audit_log.origin.clone();
        let signer = NoteSigner::from_seed(&origin, &seed)
            .map_err(|e| AuditError::Corrupt(format!("audit_log.origin: {e}")))?;
        let mut tree = Tree::new();
        for (i, leaf) in store.all_leaves().await?.into_iter().enumerate() {
            let hash: [u8; 32] = leaf.leaf_hash.try_into().map_err(|_| {
                AuditError::Corrupt(format!("leaf {} is not 32 bytes", leaf.leaf_index))
            })?;
            if leaf.leaf_index != i as i64 {
                return Err(AuditError::Corrupt(format!("leaf {i} is missing")));
            }
            tree.push(hash);
        }
        let mut placed = Vec::new();
        for mut event in store.unplaced_events().await? {
            let index = tree.size() as i64;
            event.leaf_index = Some(index);
            let hash = entry_of(&event).leaf_hash();
            tree.push(hash);
            placed.push((event.seq, index, hash));
        }
        if !placed.is_empty() {
            store.place_existing(placed).await?;
        }
        let mut rules = AlertRules::new(config.audit_alerts.clone());
        let hour_ago = chrono::Utc::now().timestamp_micros() - 3_600_000_000;
        for e in store.events_since(hour_ago, ALERT_WARM_UP_LIMIT).await? {
            rules.observe(observed(
                &e.actor_id,
                &e.subject_hash,
                &e.resource_type,
                &e.outcome,
                &e.decision,
                &e.break_glass,
                e.occur_time_us,
            ));
        }
        let next_alert_id = store.last_alert_id().await? + 1;
        let next_leaf = tree.size() as i64;
        let (alerts_tx, _) = broadcast::channel(ALERT_BUFFER);
        Ok(Self {
            store,
            subject_key: key.into_bytes(),
            writer: tokio::sync::Mutex::new(WriterState {
                rules,
                next_alert_id,
                next_leaf,
                in_flight: HashSet::new(),
            }),
            committer: Arc::new(tokio::sync::Mutex::new(())),
            broken: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            settled: tokio::sync::Notify::new(),
            tree: Arc::new(RwLock::new(tree)),
            signer,
            origin,
            alerts_tx,
        })
    }

    /// Keyed hash (hex) of a personal ID.
    pub fn subject_hash(&self, subject: &PersonalId) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.subject_key)
            .expect("HMAC accepts keys of any length");
        mac.update(subject.as_str().as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// One page of events; the cursor to continue from is the last event's `seq`.
    pub async fn list(
        &self,
        mut filter: EventFilter,
        subject: Option<&PersonalId>,
        page_size: u64,
    ) -> Result<(Vec<StoredEvent>, Option<i64>), AuditError> {
        filter.subject_hash = subject.map(|s| self.subject_hash(s));
        let mut events = self.store.list(&filter, page_size + 1).await?;
        let more = events.len() as u64 > page_size;
        events.truncate(page_size as usize);
        let next = more.then(|| events.last().map(|e| e.seq)).flatten();
        Ok((events, next))
    }

    /// One page of alerts after `after_id`, optionally of one kind; the cursor to continue
    /// from is the last alert's id.
    pub async fn alerts(
        &self,
        kind: Option<AlertKind>,
        after_id: i64,
        page_size: u64,
    ) -> Result<(Vec<StoredAlert>, Option<i64>), AuditError> {
        let mut alerts = self
            .store
            .alerts(kind.map(AlertKind::code), after_id, page_size + 1)
            .await?;
        let more = alerts.len() as u64 > page_size;
        alerts.truncate(page_size as usize);
        let next = more.then(|| alerts.last().map(|a| a.alert_id)).flatten();
        Ok((alerts, next))
    }

    /// Alerts as they are raised (subscribe before catching up from [`AuditLog::alerts`]).
    pub fn subscribe_alerts(&self) -> broadcast::Receiver<StoredAlert> {
        self.alerts_tx.subscribe()
    }

    /// Drops the bodies of events that occurred before `before_us`; their leaf hashes stay,
    /// so proofs and consistency still verify.
    pub async fn archive_before(&self, before_us: i64) -> Result<u64, AuditError> {
        let _writer = self.writer.lock().await;
        let _committer = self.committer.lock().await;
        Ok(self.store.archive_before(before_us).await?)
    }

    /// The origin line of checkpoints.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Current number of leaves.
    pub fn tree_size(&self) -> u64 {
        self.tree.read().unwrap_or_else(|e| e.into_inner()).size()
    }
}

fn observed<'a>(
    actor_id: &'a str,
    subject_hash: &'a str,
    resource_type: &'a str,
    outcome: &'a str,
    decision: &'a str,
    break_glass: &'a str,
    occur_time_us: i64,
) -> Observed<'a> {
    Observed {
        actor_id,
        occur_time_us,
        subject_hash,
        resource_type,
        outcome,
        decision,
        break_glass: !break_glass.is_empty(),
    }
}

/// The leaf entry of a stored event (see `docs/audit.md`).
pub fn entry_of(e: &StoredEvent) -> LogEntry {
    LogEntry {
        leaf_index: e.leaf_index.unwrap_or_default() as u64,
        event_id: e.event_id.clone(),
        occur_time_us: e.occur_time_us,
        accept_time_us: e.accept_time_us,
        service: e.service.clone(),
        actor_id: e.actor_id.clone(),
        actor_unit: e.actor_unit.clone(),
        rpc: e.rpc.clone(),
        resource_type: e.resource_type.clone(),
        resource_id: e.resource_id.clone(),
        subject_hash: e.subject_hash.clone(),
        purpose: e.purpose.clone(),
        case_reference: e.case_reference.clone(),
        break_glass: e.break_glass.clone(),
        decision: e.decision.clone(),
        policy_ids: split_policy_ids(&e.policy_ids),
        outcome: e.outcome.clone(),
        trace_id: e.trace_id.clone(),
        client_address: e.client_address.clone(),
    }
}

/// The stored policy id list, one id per line.
pub fn split_policy_ids(stored: &str) -> Vec<String> {
    if stored.is_empty() {
        Vec::new()
    } else {
        stored.split('\n').map(str::to_owned).collect()
    }
}

fn new_entry(e: &NewEvent, leaf_index: i64, accept_time_us: i64) -> LogEntry {
    LogEntry {
        leaf_index: leaf_index as u64,
        event_id: e.event_id.clone(),
        occur_time_us: e.occur_time_us,
        accept_time_us,
        service: e.service.clone(),
        actor_id: e.actor_id.clone(),
        actor_unit: e.actor_unit.clone(),
        rpc: e.rpc.clone(),
        resource_type: e.resource_type.clone(),
        resource_id: e.resource_id.clone(),
        subject_hash: e.subject_hash.clone(),
        purpose: e.purpose.clone(),
        case_reference: e.case_reference.clone(),
        break_glass: e.break_glass.clone(),
        decision: e.decision.clone(),
        policy_ids: e.policy_ids.clone(),
        outcome: e.outcome.clone(),
        trace_id: e.trace_id.clone(),
        client_address: e.client_address.clone(),
    }
}
