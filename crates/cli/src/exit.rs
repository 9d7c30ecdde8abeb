//! Exit codes and error reporting: every failure prints one clear message on standard error
//! (with the field violations of an `INVALID_ARGUMENT`) and exits with a code that tells
//! scripts what kind of failure it was.

use std::fmt::Write as _;
use tonic::Code;
use tonic_types::StatusExt;

/// Success.
pub const OK: u8 = 0;
/// Any other failure (internal errors, local I/O, …).
pub const OTHER: u8 = 1;
/// Usage error: bad flags or arguments (clap's own code).
pub const USAGE: u8 = 2;
/// The server rejected an argument (`INVALID_ARGUMENT`, `OUT_OF_RANGE`).
pub const INVALID_ARGUMENT: u8 = 3;
/// What was asked for does not exist (`NOT_FOUND`).
pub const NOT_FOUND: u8 = 4;
/// Not logged in, token refused, or not allowed (`UNAUTHENTICATED`, `PERMISSION_DENIED`).
pub const DENIED: u8 = 5;
/// The service cannot be reached or did not answer in time (`UNAVAILABLE`,
/// `DEADLINE_EXCEEDED`).
pub const UNAVAILABLE: u8 = 6;
/// The change conflicts with the current state (`ALREADY_EXISTS`, `ABORTED`,
/// `FAILED_PRECONDITION`).
pub const CONFLICT: u8 = 7;

/// Text for `dancu --help`: the exit codes.
pub const HELP: &str = "\
Exit codes:
  0  success
  1  other failure
  2  usage error (bad flags or arguments)
  3  invalid argument (the server listed the fields it rejected; `import`: rows were
     rejected or unreadable)
  4  not found
  5  denied: not logged in, token refused, or not allowed
  6  unavailable: the service cannot be reached or did not answer in time
  7  conflict: already exists, stale etag, or failed precondition";

/// A gRPC call failed.
#[derive(Debug)]
pub struct CallError {
    /// Name of the RPC.
    pub rpc: &'static str,
    /// The status it returned.
    pub status: tonic::Status,
}

impl CallError {
    /// Wraps the status `rpc` returned.
    pub fn new(rpc: &'static str, status: tonic::Status) -> Self {
        CallError { rpc, status }
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} failed: {}: {}",
            self.rpc,
            code_name(self.status.code()),
            self.status.message()
        )?;
        if let Some(bad_request) = self.status.get_details_bad_request() {
            for violation in &bad_request.field_violations {
                write!(f, "\n  - {}: {}", violation.field, violation.description)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for CallError {}

/// No token, no saved session and no password.
#[derive(Debug)]
pub struct NotLoggedIn;

impl std::fmt::Display for NotLoggedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(
            "not logged in: run `dancu login`, or give --token (DANCU_TOKEN) or a password \
             (DANCU_PASSWORD)",
        )
    }
}

impl std::error::Error for NotLoggedIn {}

/// `dancu import` finished, but this many lines were rejected or unreadable (each one
/// was reported with its line number).
#[derive(Debug)]
pub struct RejectedRows(pub u64);

impl std::fmt::Display for RejectedRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} rows were not imported (see the errors above)",
            self.0
        )
    }
}

impl std::error::Error for RejectedRows {}

/// A usage error found after parsing (e.g. a malformed date).
#[derive(Debug)]
pub struct Usage(pub String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// The exit code for a gRPC status code.
pub fn code_for(code: Code) -> u8 {
    match code {
        Code::Ok => OK,
        Code::InvalidArgument | Code::OutOfRange => INVALID_ARGUMENT,
        Code::NotFound => NOT_FOUND,
        Code::PermissionDenied | Code::Unauthenticated => DENIED,
        Code::Unavailable | Code::DeadlineExceeded => UNAVAILABLE,
        Code::AlreadyExists | Code::Aborted | Code::FailedPrecondition => CONFLICT,
        _ => OTHER,
    }
}

/// The exit code for an error, from the first [`CallError`], [`NotLoggedIn`] or
/// [`Usage`] in its chain.
pub fn code_of(error: &anyhow::Error) -> u8 {
    for cause in error.chain() {
        if let Some(call) = cause.downcast_ref::<CallError>() {
            return code_for(call.status.code());
        }
        if let Some(status) = cause.downcast_ref::<tonic::Status>() {
            return code_for(status.code());
        }
        if cause.is::<NotLoggedIn>() {
            return DENIED;
        }
        if cause.is::<Usage>() {
            return USAGE;
        }
        if cause.is::<RejectedRows>() {
            return INVALID_ARGUMENT;
        }
        if cause.is::<tonic::transport::Error>() {
            return UNAVAILABLE;
        }
    }
    OTHER
}

/// The message printed for an error: its chain, outermost first.
pub fn message_of(error: &anyhow::Error) -> String {
    let mut message = String::new();
    for (i, cause) in error.chain().enumerate() {
        if i > 0 {
            message.push_str(": ");
        }
        let _ = write!(message, "{cause}");
    }
    message
}

/// The canonical upper-case name of a status code.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// Extension to wrap a call's status with the RPC name.
pub trait CallResult<T> {
    /// Maps the error to a [`CallError`] naming `rpc`, and the response to its message.
    fn call(self, rpc: &'static str) -> Result<T, CallError>;
}

impl<T> CallResult<T> for Result<tonic::Response<T>, tonic::Status> {
    fn call(self, rpc: &'static str) -> Result<T, CallError> {
        self.map(tonic::Response::into_inner)
            .map_err(|status| CallError::new(rpc, status))
    }
}
