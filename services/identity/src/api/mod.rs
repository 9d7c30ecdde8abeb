//! The gRPC face of the identity service: decode and validate requests, call the use
//! cases, map results and the one error enum to gRPC. One file per gRPC service.

mod admin;
mod auth;
mod cards;
mod citizen_input;
mod citizens;
mod feed;
mod foreigner_input;
mod foreigners;
mod households;
mod import;
mod import_foreigners;
mod register_errors;
mod residence;

pub use admin::AdminApi;
pub use auth::AuthApi;
pub use cards::CardApi;
pub use citizens::IdentityApi;
pub use feed::ChangeFeedApi;
pub use foreigners::ForeignerApi;
pub use households::HouseholdApi;
pub use import::ImportApi;
pub use residence::ResidenceApi;

use crate::app::IdentityError;
use dancu_kit::error::{invalid_field, storage};
use tonic::Status;

impl From<IdentityError> for Status {
    fn from(error: IdentityError) -> Self {
        match error {
            IdentityError::NotFound => Status::not_found("no citizen with this personal ID"),
            IdentityError::HouseholdNotFound => Status::not_found("no household with this id"),
            IdentityError::AlreadyExists => {
                Status::already_exists("a citizen with this personal ID is already registered")
            }
            IdentityError::BadCredentials => {
                Status::unauthenticated("invalid username or password")
            }
            IdentityError::InvalidField { field, reason } => invalid_field(field, reason),
            IdentityError::Stale => Status::aborted(
                "the record changed since it was read; read it again and retry with the new etag",
            ),
            IdentityError::Precondition(reason) => Status::failed_precondition(reason),
            IdentityError::PermissionDenied(reason) => Status::permission_denied(reason),
            IdentityError::Storage(e) => storage(&e),
            IdentityError::Register(e) => e.into(),
            IdentityError::AuditUnavailable => {
                Status::unavailable("auditing is unavailable (audit backlog full); retry later")
            }
            IdentityError::Corrupt(field) => {
                tracing::error!(field, "corrupt stored row");
                Status::internal("internal error")
            }
            IdentityError::Signing(e) => {
                tracing::error!(error = %e, "token signing failed");
                Status::internal("internal error")
            }
            IdentityError::Access(e) => e.status(),
            IdentityError::Policy(e) => {
                tracing::error!(error = %e, "authorization policy failed");
                Status::internal("internal error")
            }
        }
    }
}

/// Maximum page size of every list call.
const MAX_PAGE_SIZE: u64 = 500;

/// Reads the page size and the key to continue after; violations go to `violations`.
fn paging(
    kind: &str,
    page_size: i32,
    default: u64,
    page_token: &str,
    violations: &mut dancu_kit::error::FieldViolations,
) -> (u64, Option<String>) {
    parsed_paging(kind, page_size, default, page_token, violations, |key| {
        Some(key.to_owned())
    })
}

/// Like [`paging`], for lists keyed by a number (a version or a sequence): the number to
/// continue after, 0 for the first page.
fn numeric_paging(
    kind: &str,
    page_size: i32,
    default: u64,
    page_token: &str,
    violations: &mut dancu_kit::error::FieldViolations,
) -> (u64, i64) {
    let (size, after) = parsed_paging(kind, page_size, default, page_token, violations, |key| {
        key.parse::<i64>().ok().filter(|n| *n >= 0)
    });
    (size, after.unwrap_or(0))
}

/// Like [`paging`], with the token's key read by `parse`: a key it cannot read is a
/// token this list did not issue.
fn parsed_paging<T>(
    kind: &str,
    page_size: i32,
    default: u64,
    page_token: &str,
    violations: &mut dancu_kit::error::FieldViolations,
    parse: impl FnOnce(&str) -> Option<T>,
) -> (u64, Option<T>) {
    let size = dancu_kit::paging::page_size(page_size, default, MAX_PAGE_SIZE)
        .map_err(|e| violations.add("page_size", e))
        .unwrap_or(default);
    let after = match dancu_kit::paging::decode_token(kind, page_token) {
        Ok(None) => None,
        Ok(Some(key)) => parse(&key),
        Err(()) => None,
    };
    if after.is_none() && !page_token.is_empty() {
        violations.add("page_token", "is not a token this list issued");
    }
    (size, after)
}

/// The next-page token: present only when the page came back full.
fn next_token(kind: &str, returned: usize, size: u64, last_key: Option<String>) -> String {
    match last_key {
        Some(key) if returned as u64 == size => dancu_kit::paging::encode_token(kind, &key),
        _ => String::new(),
    }
}

/// The etag of a record at `version`: `"N"`.
fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// Parses an etag as returned by [`etag`] (`"N"`, quotes optional).
fn parse_etag(etag: &str) -> Option<i64> {
    etag.trim()
        .trim_matches('"')
        .parse()
        .ok()
        .filter(|v| *v > 0)
}

#[cfg(test)]
mod tests {
    use super::parse_etag;

    #[test]
    fn etags() {
        assert_eq!(parse_etag("\"3\""), Some(3));
        assert_eq!(parse_etag("3"), Some(3));
        assert_eq!(parse_etag("W/\"3\""), None);
        assert_eq!(parse_etag("0"), None);
    }
}
