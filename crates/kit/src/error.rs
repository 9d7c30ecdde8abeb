//! Building gRPC errors that tell the client precisely what was wrong, and nothing more.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// Collects field violations while validating a request; turns into one
/// `INVALID_ARGUMENT` status with a `google.rpc.BadRequest` detail.
#[derive(Debug, Default)]
pub struct FieldViolations {
    violations: Vec<(String, String)>,
}

impl FieldViolations {
    /// No violations yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `field` (a request field path, e.g. `citizen.personal_id`) is wrong
    /// because of `description`. The description must not repeat the field's value.
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.violations.push((field.into(), description.into()));
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.violations.is_empty()
    }

    /// The violations recorded so far, as (field, description) pairs.
    pub fn violations(&self) -> &[(String, String)] {
        &self.violations
    }

    /// `Ok(())` when empty, else the `INVALID_ARGUMENT` status.
    pub fn check(self) -> Result<(), Status> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.into_status())
        }
    }

    /// The `INVALID_ARGUMENT` status describing every violation.
    pub fn into_status(self) -> Status {
        let fields: Vec<&str> = self.violations.iter().map(|(f, _)| f.as_str()).collect();
        let message = format!("invalid request: {}", fields.join(", "));
        let mut details = ErrorDetails::new();
        for (field, description) in &self.violations {
            details.add_bad_request_violation(field.clone(), description.clone());
        }
        Status::with_error_details(Code::InvalidArgument, message, details)
    }
}

/// A one-field `INVALID_ARGUMENT`.
pub fn invalid_field(field: impl Into<String>, description: impl Into<String>) -> Status {
    let mut violations = FieldViolations::new();
    violations.add(field, description);
    violations.into_status()
}

/// Maps a storage failure to `UNAVAILABLE`/`INTERNAL` without leaking SQL or driver text
/// to the client; the detail goes to the log (it never contains request values).
pub fn storage(error: &sea_orm::DbErr) -> Status {
    use sea_orm::DbErr;
    match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => {
            tracing::warn!(%error, "database unavailable");
            Status::unavailable("storage temporarily unavailable")
        }
        _ => {
            tracing::error!(%error, "database error");
            Status::internal("internal storage error")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_become_bad_request_details() {
        let mut violations = FieldViolations::new();
        violations.add("citizen.personal_id", "must be exactly 12 digits (got 3)");
        violations.add("citizen.sex", "is required");
        let status = violations.check().expect_err("has violations");
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = status.get_error_details();
        let bad_request = details.bad_request().expect("bad request detail");
        let fields: Vec<_> = bad_request
            .field_violations
            .iter()
            .map(|v| v.field.as_str())
            .collect();
        assert_eq!(fields, ["citizen.personal_id", "citizen.sex"]);
    }

    #[test]
    fn no_violations_is_ok() {
        assert!(FieldViolations::new().check().is_ok());
    }
}
