//! dancu's verifiable audit log format, shared by the audit service (which builds the log)
//! and `dancu audit verify` (which checks it):
//!
//! - [`merkle`]: RFC 9162 Merkle tree hashing, inclusion and consistency proofs and their
//!   verification, over a tree kept as the hashes of its complete subtrees;
//! - [`note`]: C2SP signed notes with Ed25519 keys, and C2SP checkpoints;
//! - [`entry`]: the canonical serialization of a stored audit event (the leaf entry).
//!
//! No I/O here: pure functions, tested against the RFC 6962 / transparency-dev and
//! golang.org/x/mod/sumdb/note known-answer vectors.

pub mod entry;
pub mod merkle;
pub mod note;

pub use entry::LogEntry;
pub use merkle::{Hash, ProofError, Tree};
pub use note::{Checkpoint, NoteError, NoteSigner, NoteVerifier};
