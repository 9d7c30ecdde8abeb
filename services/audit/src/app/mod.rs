//! Audit use cases: accept batches idempotently into the verifiable log, raise alerts,
//! answer listings, proofs, checkpoints and data-subject reports. Subjects are stored only
//! as a keyed hash (HMAC-SHA-256), so the event tables do not list personal IDs while
//! exact lookups by personal ID still work. The key is kept in the same database
//! (`audit_settings`): a full copy of that database, key included, lets an attacker test
//! candidate IDs (the ID space is small), so the hash protects against exposure of event
//! rows and exports, not against theft of the whole database.

pub mod alerts;
mod log;

pub use log::{EntryView, LeafRef};

use crate::store::{AuditStore, EventFilter, NewEvent, PlacedEvent, StoredAlert, StoredEvent};
use alerts::{AlertKind, AlertRules, Observed};
use base64::Engine;
use dancu_domain::PersonalId;
use dancu_kit::config::Config;
use dancu_translog::{LogEntry, NoteSigner, Tree};
use hmac::{Hmac, Mac};
use sea_orm::DbErr;
use sha2::Sha256;
use std::collections::HashSet;
use std::sync::RwLock;
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
    /// Stored log state contradicts itself (a bug or tampering).
    #[error("log state: {0}")]
    Corrupt(String),
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
    /// One writer at a time, so leaf order equals commit order and a reader paginating by
    /// `seq` never skips an event committed late.
    writer: tokio::sync::Mutex<WriterState>,
    /// The Merkle tree of every committed leaf.
    tree: RwLock<Tree>,
    signer: NoteSigner,
    origin: String,
    alerts_tx: broadcast::Sender<StoredAlert>,
}

struct WriterState {
    rules: AlertRules,
    next_alert_id: i64,
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
        let (alerts_tx, _) = broadcast::channel(ALERT_BUFFER);
        Ok(Self {
            store,
            subject_key: key.into_bytes(),
            writer: tokio::sync::Mutex::new(WriterState {
                rules,
                next_alert_id,
            }),
            tree: RwLock::new(tree),
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
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Appends a batch: events whose id is already stored are skipped; the new ones become
    /// leaves of the log, in order, and the alerts they raise are stored with them in the
    /// same transaction.
    pub async fn append(&self, batch: Vec<SubmittedEvent>) -> Result<AppendOutcome, AuditError> {
        let total = batch.len() as u64;
        let mut seen = HashSet::new();
        let events: Vec<NewEvent> = batch
            .into_iter()
            .filter(|e| seen.insert(e.event.event_id.clone()))
            .map(|submitted| {
                let mut event = submitted.event;
                event.subject_hash = submitted
                    .subject
                    .map(|s| self.subject_hash(&s))
                    .unwrap_or_default();
                event
            })
            .collect();
        let mut writer = self.writer.lock().await;
        let ids: Vec<String> = events.iter().map(|e| e.event_id.clone()).collect();
        let stored = self.store.existing_ids(&ids).await?;
        let events: Vec<NewEvent> = events
            .into_iter()
            .filter(|e| !stored.contains(&e.event_id))
            .collect();
        let accepted = events.len() as u64;
        if events.is_empty() {
            return Ok(AppendOutcome {
                accepted,
                duplicates: total,
            });
        }
        let accept_time_us = chrono::Utc::now().timestamp_micros();
        let start = self.tree_size() as i64;
        let mut alerts = Vec::new();
        let placed: Vec<PlacedEvent> = events
            .into_iter()
            .enumerate()
            .map(|(i, event)| {
                let leaf_index = start + i as i64;
                let leaf_hash = new_entry(&event, leaf_index, accept_time_us).leaf_hash();
                let raised = writer.rules.observe(observed(
                    &event.actor_id,
                    &event.subject_hash,
                    &event.resource_type,
                    &event.outcome,
                    &event.decision,
                    &event.break_glass,
                    event.occur_time_us,
                ));
                for (kind, detail) in raised {
                    alerts.push(StoredAlert {
                        alert_id: 0,
                        kind: kind.code().to_owned(),
                        create_time_us: accept_time_us,
                        event_id: event.event_id.clone(),
                        leaf_index,
                        actor_id: event.actor_id.clone(),
                        actor_unit: event.actor_unit.clone(),
                        detail,
                    });
                }
                PlacedEvent {
                    event,
                    leaf_index,
                    leaf_hash,
                }
            })
            .collect();
        for alert in &mut alerts {
            alert.alert_id = writer.next_alert_id;
            writer.next_alert_id += 1;
        }
        let hashes: Vec<[u8; 32]> = placed.iter().map(|p| p.leaf_hash).collect();
        if let Err(error) = self
            .store
            .append(placed, accept_time_us, alerts.clone())
            .await
        {
            // The commit may have happened anyway (a connection lost while committing):
            // take the stored state as the truth before the next append.
            if let Ok(last) = self.store.last_alert_id().await {
                writer.next_alert_id = last + 1;
            }
            let _ = self.resync_tree().await;
            return Err(error.into());
        }
        {
            let mut tree = self.tree.write().unwrap_or_else(|e| e.into_inner());
            for hash in hashes {
                tree.push(hash);
            }
        }
        drop(writer);
        for alert in alerts {
            let _ = self.alerts_tx.send(alert);
        }
        Ok(AppendOutcome {
            accepted,
            duplicates: total - accepted,
        })
    }

    /// Appends to the in-memory tree any stored leaves it lacks (after a failed append
    /// whose commit went through after all).
    async fn resync_tree(&self) -> Result<(), AuditError> {
        let size = self.tree_size() as i64;
        let stored = self.store.leaves(size, i64::MAX).await?;
        let mut tree = self.tree.write().unwrap_or_else(|e| e.into_inner());
        for leaf in stored {
            let hash: [u8; 32] = leaf.leaf_hash.try_into().map_err(|_| {
                AuditError::Corrupt(format!("leaf {} is not 32 bytes", leaf.leaf_index))
            })?;
            if leaf.leaf_index as u64 == tree.size() {
                tree.push(hash);
            }
        }
        Ok(())
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
