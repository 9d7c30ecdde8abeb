//! Purposes for which register data may be accessed.
//!
//! Personal data may only be processed for a stated, lawful purpose
//! (Decree 13/2023/NĐ-CP on personal data protection, art. 3; Law on
//! Residence 68/2020/QH14 and Law on Identification 26/2023/QH15 on access
//! to the national population database). Every access to the register names
//! one [`Purpose`]; investigations and judgment enforcement must also cite
//! the case file they belong to, validated by [`validate_case_reference`].

use std::fmt;
use std::str::FromStr;

/// Longest accepted case reference, in characters.
pub const MAX_CASE_REFERENCE_CHARS: usize = 64;

/// The lawful purpose of an access to register data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Purpose {
    /// Routine residence registration and management.
    ResidenceManagement,
    /// Criminal investigation (requires a case reference).
    Investigation,
    /// Enforcement of a court judgment (requires a case reference).
    JudgmentEnforcement,
    /// Handling of an administrative violation.
    AdministrativeViolation,
    /// Operational reconnaissance by the competent police units.
    OperationalReconnaissance,
    /// Verifying a person's identity for a public service.
    IdentityVerification,
    /// Correcting or cleaning register data.
    DataQuality,
    /// Reviewing the audit trail.
    AuditReview,
    /// Technical administration of the system.
    SystemAdministration,
}

/// Comma-separated list of every purpose code, for error messages.
const VALID_CODES: &str = "residence_management, investigation, judgment_enforcement, \
     administrative_violation, operational_reconnaissance, identity_verification, \
     data_quality, audit_review, system_administration";

/// A string is not one of the purpose codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown purpose code; valid codes are: {VALID_CODES}")]
pub struct UnknownPurpose;

impl Purpose {
    /// Every purpose, in declaration order.
    pub const ALL: [Purpose; 9] = [
        Purpose::ResidenceManagement,
        Purpose::Investigation,
        Purpose::JudgmentEnforcement,
        Purpose::AdministrativeViolation,
        Purpose::OperationalReconnaissance,
        Purpose::IdentityVerification,
        Purpose::DataQuality,
        Purpose::AuditReview,
        Purpose::SystemAdministration,
    ];

    /// The stable snake_case code of this purpose, e.g. `"investigation"`.
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            Purpose::ResidenceManagement => "residence_management",
            Purpose::Investigation => "investigation",
            Purpose::JudgmentEnforcement => "judgment_enforcement",
            Purpose::AdministrativeViolation => "administrative_violation",
            Purpose::OperationalReconnaissance => "operational_reconnaissance",
            Purpose::IdentityVerification => "identity_verification",
            Purpose::DataQuality => "data_quality",
            Purpose::AuditReview => "audit_review",
            Purpose::SystemAdministration => "system_administration",
        }
    }

    /// Whether an access for this purpose must cite a case reference.
    #[must_use]
    pub fn requires_case_reference(&self) -> bool {
        matches!(self, Purpose::Investigation | Purpose::JudgmentEnforcement)
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Purpose {
    type Err = UnknownPurpose;

    /// Parses an exact snake_case code (case-sensitive, no trimming).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Purpose::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or(UnknownPurpose)
    }
}

/// Why a case reference is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CaseReferenceError {
    /// Nothing but whitespace.
    #[error("case reference is empty")]
    Empty,
    /// Longer than [`MAX_CASE_REFERENCE_CHARS`] characters after trimming.
    #[error("case reference is longer than 64 characters (got {len})")]
    TooLong {
        /// Length in characters after trimming.
        len: usize,
    },
    /// Contains a character outside the allowed ASCII set.
    #[error("case reference contains characters other than ASCII letters, digits and / - . _ :")]
    InvalidCharacter,
}

/// Validates a case reference and returns it trimmed.
///
/// Case references are ASCII codes: 1 to 64 characters drawn from ASCII
/// letters, digits and `/ - . _ :`. Vietnamese document numbers containing
/// `Đ` (e.g. `123/QĐ-CAP`) must be transliterated (`123/QD-CAP`) first.
///
/// # Errors
/// [`CaseReferenceError::Empty`], [`CaseReferenceError::TooLong`] or
/// [`CaseReferenceError::InvalidCharacter`].
pub fn validate_case_reference(s: &str) -> Result<String, CaseReferenceError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(CaseReferenceError::Empty);
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '.' | '_' | ':'))
    {
        return Err(CaseReferenceError::InvalidCharacter);
    }
    let len = s.chars().count();
    if len > MAX_CASE_REFERENCE_CHARS {
        return Err(CaseReferenceError::TooLong { len });
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for p in Purpose::ALL {
            assert_eq!(p.as_str().parse::<Purpose>(), Ok(p));
            assert_eq!(p.to_string(), p.as_str());
        }
    }

    #[test]
    fn codes_are_unique_and_listed_in_error() {
        let codes: Vec<_> = Purpose::ALL.iter().map(Purpose::as_str).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 9);
        assert_eq!(VALID_CODES, codes.join(", "));
        assert!(UnknownPurpose.to_string().contains("system_administration"));
    }

    #[test]
    fn unknown_codes_rejected() {
        for s in [
            "",
            "Investigation",
            " investigation",
            "investigation ",
            "snooping",
        ] {
            assert_eq!(s.parse::<Purpose>(), Err(UnknownPurpose), "{s:?}");
        }
    }

    #[test]
    fn case_reference_requirement() {
        let requiring: Vec<_> = Purpose::ALL
            .into_iter()
            .filter(Purpose::requires_case_reference)
            .collect();
        assert_eq!(
            requiring,
            [Purpose::Investigation, Purpose::JudgmentEnforcement]
        );
    }

    #[test]
    fn accepts_case_references() {
        assert_eq!(
            validate_case_reference("  123/QD-CAP ").as_deref(),
            Ok("123/QD-CAP")
        );
        assert_eq!(validate_case_reference("a_b.c:d").as_deref(), Ok("a_b.c:d"));
        let max = "A".repeat(MAX_CASE_REFERENCE_CHARS);
        assert_eq!(validate_case_reference(&max), Ok(max));
    }

    #[test]
    fn rejects_bad_case_references() {
        assert_eq!(validate_case_reference(""), Err(CaseReferenceError::Empty));
        assert_eq!(
            validate_case_reference(" \t "),
            Err(CaseReferenceError::Empty)
        );
        for s in ["123/QĐ-CAP", "a b", "a#b", "a\u{0}"] {
            assert_eq!(
                validate_case_reference(s),
                Err(CaseReferenceError::InvalidCharacter),
                "{s:?}"
            );
        }
        assert_eq!(
            validate_case_reference(&"A".repeat(65)),
            Err(CaseReferenceError::TooLong { len: 65 })
        );
    }

    #[test]
    fn messages() {
        assert_eq!(
            CaseReferenceError::Empty.to_string(),
            "case reference is empty"
        );
        assert_eq!(
            CaseReferenceError::TooLong { len: 65 }.to_string(),
            "case reference is longer than 64 characters (got 65)"
        );
        assert!(
            CaseReferenceError::InvalidCharacter
                .to_string()
                .contains("ASCII")
        );
    }
}
