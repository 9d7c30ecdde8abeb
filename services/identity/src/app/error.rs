//! The identity service's one error enum.

/// What can go wrong in an identity use case.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// No such citizen.
    #[error("citizen not found")]
    NotFound,
    /// No such household.
    #[error("household not found")]
    HouseholdNotFound,
    /// The personal ID is already registered.
    #[error("a citizen with this personal ID is already registered")]
    AlreadyExists,
    /// Wrong credentials or disabled account.
    #[error("invalid username or password")]
    BadCredentials,
    /// A field is invalid in the light of stored data (e.g. a death date before the stored
    /// birth date). The reason names no personal data.
    #[error("{field}: {reason}")]
    InvalidField {
        /// Field path, e.g. `citizen.life_status_date`.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The caller's etag is stale: the record changed since they read it.
    #[error("the record changed since it was read")]
    Stale,
    /// The request is valid but the register's state does not allow it. The reason names
    /// no personal data.
    #[error("{0}")]
    Precondition(String),
    /// The caller may not do this. The reason names no personal data.
    #[error("{0}")]
    PermissionDenied(String),
    /// The database failed.
    #[error("storage: {0}")]
    Storage(#[from] sea_orm::DbErr),
    /// A stored row does not hold what the schema promises (a bug or tampering).
    #[error("corrupt stored record: {0}")]
    Corrupt(&'static str),
    /// An identity-card, foreigner or accommodation-declaration rule refused the call.
    #[error(transparent)]
    Register(#[from] super::RegisterError),
    /// Key handling failed (a bug or corrupted key material).
    #[error("token signing failed: {0}")]
    Signing(String),
    /// Units, officers, tokens: see [`super::units::AccessError`].
    #[error(transparent)]
    Access(#[from] super::units::AccessError),
    /// The authorization policies failed (a bug in the policies or their inputs).
    #[error("policy: {0}")]
    Policy(#[from] dancu_policy::PolicyError),
    /// Too many audit events wait for the audit service: the call fails closed.
    #[error("audit backlog full")]
    AuditUnavailable,
}

impl From<dancu_audit_client::OutboxError> for IdentityError {
    fn from(error: dancu_audit_client::OutboxError) -> Self {
        match error {
            dancu_audit_client::OutboxError::BacklogFull => Self::AuditUnavailable,
            dancu_audit_client::OutboxError::Db(e) => Self::Storage(e),
        }
    }
}

impl IdentityError {
    /// A precondition failure with `reason`.
    pub fn precondition(reason: impl Into<String>) -> Self {
        Self::Precondition(reason.into())
    }

    /// An invalid `field` with `reason`.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidField {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The gRPC code this error ends a call with, for its audit event.
    pub fn code(&self) -> tonic::Code {
        use tonic::Code;
        match self {
            Self::NotFound | Self::HouseholdNotFound => Code::NotFound,
            Self::AlreadyExists => Code::AlreadyExists,
            Self::BadCredentials => Code::Unauthenticated,
            Self::InvalidField { .. } => Code::InvalidArgument,
            Self::Stale => Code::Aborted,
            Self::Precondition(_) => Code::FailedPrecondition,
            Self::PermissionDenied(_) => Code::PermissionDenied,
            Self::Register(e) => e.code(),
            Self::AuditUnavailable => Code::Unavailable,
            Self::Access(e) => e.status().code(),
            Self::Storage(_) | Self::Corrupt(_) | Self::Signing(_) | Self::Policy(_) => {
                Code::Internal
            }
        }
    }
}
