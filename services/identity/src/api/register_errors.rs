//! gRPC statuses of the identity-card and foreigner errors.

use crate::app::RegisterError;
use dancu_kit::error::invalid_field;
use tonic::Status;

impl From<RegisterError> for Status {
    fn from(error: RegisterError) -> Self {
        let message = error.to_string();
        match error {
            RegisterError::InvalidField { field, reason } => invalid_field(field, reason),
            other => Status::new(other.code(), message),
        }
    }
}

/// Shared request checks of the card and foreigner APIs.
pub(super) mod check {
    use dancu_kit::error::FieldViolations;

    /// Default page size of listings.
    pub const DEFAULT_PAGE_SIZE: u64 = 50;
    /// Largest page size; larger requests are served this many.
    pub const MAX_PAGE_SIZE: u64 = 500;

    /// A page size: 0 means the default, above the maximum means the maximum, negative
    /// is a violation.
    pub fn page_size(value: i32, violations: &mut FieldViolations) -> u64 {
        match value {
            0 => DEFAULT_PAGE_SIZE,
            n if n < 0 => {
                violations.add("page_size", "must not be negative");
                DEFAULT_PAGE_SIZE
            }
            n => (n as u64).min(MAX_PAGE_SIZE),
        }
    }

    /// A page token: empty, or the id a previous page ended with.
    pub fn page_token(token: &str, violations: &mut FieldViolations) -> Option<String> {
        if token.is_empty() {
            return None;
        }
        match uuid::Uuid::parse_str(token) {
            Ok(id) => Some(id.to_string()),
            Err(_) => {
                violations.add("page_token", "is not a token returned by this method");
                None
            }
        }
    }

    /// A resource id (UUID) in canonical form.
    pub fn id(field: &str, value: &str, violations: &mut FieldViolations) -> Option<String> {
        if value.trim().is_empty() {
            violations.add(field, "is required");
            return None;
        }
        match uuid::Uuid::parse_str(value.trim()) {
            Ok(id) => Some(id.to_string()),
            Err(_) => {
                violations.add(field, "must be an id returned by this service (a UUID)");
                None
            }
        }
    }

    /// Free text: trimmed, at most `max` characters, no control characters; `required`
    /// refuses empty text.
    pub fn text(
        field: &str,
        value: &str,
        max: usize,
        required: bool,
        violations: &mut FieldViolations,
    ) -> String {
        let value = value.trim();
        if required && value.is_empty() {
            violations.add(field, "is required");
        } else if value.chars().count() > max {
            violations.add(field, format!("must be at most {max} characters"));
        } else if value.chars().any(char::is_control) {
            violations.add(field, "must not contain control characters");
        }
        value.to_owned()
    }
}
