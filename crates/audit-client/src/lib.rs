//! The durable audit outbox used by identity and records.
//!
//! The audit event of a call is committed to the calling service's own database (in the
//! same transaction as the write it describes) **before** the response leaves. It is then
//! shipped to the audit service right away, inside the call's trace; anything that could
//! not be shipped (audit down, network) stays in the outbox and a background relay retries
//! it with backoff. The audit service de-duplicates by event id, so shipping twice is safe.

pub mod event;
pub mod migration;
mod outbox;
pub mod token;

pub use event::{Authorization, code_name, new_event, new_event_with};
pub use outbox::{AuditOutbox, OUTBOX_TABLE, OutboxError, OutboxRow, RelayHandle};
pub use token::{CachedToken, ServiceAccountLogin, TokenSource};
