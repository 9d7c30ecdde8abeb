//! Audit use cases: accept batches idempotently, answer filtered listings. Subjects are
//! stored only as a keyed hash (HMAC-SHA-256 with a key the audit service keeps in its own
//! database), so the audit database alone does not reveal who was looked up while exact
//! lookups by personal ID still work.

use crate::store::{AuditStore, EventFilter, NewEvent, StoredEvent};
use dancu_domain::PersonalId;
use hmac::{Hmac, Mac};
use sea_orm::DbErr;
use sha2::Sha256;
use std::collections::HashSet;

/// Name of the setting holding the subject hashing key.
const SUBJECT_KEY_SETTING: &str = "subject_hash_key";

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

/// The audit log.
pub struct AuditLog {
    store: AuditStore,
    subject_key: Vec<u8>,
    /// One writer at a time, so acceptance order (`seq`) equals commit order and a reader
    /// paginating by `seq` never skips an event committed late.
    writer: tokio::sync::Mutex<()>,
}

impl AuditLog {
    /// Opens the log over `store`, creating the subject hashing key on first start.
    pub async fn open(store: AuditStore) -> Result<Self, DbErr> {
        let key = store
            .setting_or_init(SUBJECT_KEY_SETTING, dancu_kit::random_secret)
            .await?;
        Ok(Self {
            store,
            subject_key: key.into_bytes(),
            writer: tokio::sync::Mutex::new(()),
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

    /// Appends a batch; events whose id is already stored are skipped.
    pub async fn append(&self, batch: Vec<SubmittedEvent>) -> Result<AppendOutcome, DbErr> {
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
        let _writer = self.writer.lock().await;
        let now = chrono::Utc::now().timestamp_micros();
        let accepted = self.store.insert_new(events, now).await?;
        Ok(AppendOutcome {
            accepted,
            duplicates: total - accepted,
        })
    }

    /// One page of events; the cursor to continue from is the last event's `seq`.
    pub async fn list(
        &self,
        mut filter: EventFilter,
        subject: Option<&PersonalId>,
        page_size: u64,
    ) -> Result<(Vec<StoredEvent>, Option<i64>), DbErr> {
        filter.subject_hash = subject.map(|s| self.subject_hash(s));
        let mut events = self.store.list(&filter, page_size + 1).await?;
        let more = events.len() as u64 > page_size;
        events.truncate(page_size as usize);
        let next = more.then(|| events.last().map(|e| e.seq)).flatten();
        Ok((events, next))
    }
}
