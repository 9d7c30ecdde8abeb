//! The audit log's independent verifier (`dancu audit verify`); the other audit commands
//! are in [`crate::commands::audit`].

mod verify;

/// Credentials now live in [`crate::session`]; re-exported for existing callers (the
/// import command).
#[allow(unused_imports)]
pub use crate::session::Credentials;
pub use verify::{VerifyArgs, run as verify};
