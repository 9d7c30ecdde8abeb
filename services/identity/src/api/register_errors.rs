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
