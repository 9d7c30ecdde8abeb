//! The records service's one error enum.

/// What can go wrong in a records use case.
#[derive(Debug, thiserror::Error)]
pub enum RecordsError {
    /// No such record.
    #[error("subject record not found")]
    NotFound,
    /// No such subject, classification or timeline entry (names what was missing).
    #[error("{0} not found")]
    Missing(&'static str),
    /// The person is already a subject of the caller's unit.
    #[error("the person is already a subject of this unit")]
    AlreadySubject,
    /// The request contradicts stored facts (field, description).
    #[error("invalid request")]
    Invalid(Vec<(&'static str, String)>),
    /// The identity service does not know the person.
    #[error("person not in the population register")]
    PersonUnknown,
    /// The identity service could not be reached.
    #[error("identity service unavailable")]
    IdentityUnavailable,
    /// The identity service refused the lookup on the caller's behalf.
    #[error("identity refused the lookup")]
    IdentityDenied(tonic::Status),
    /// The policies refuse the call (roles, purpose, jurisdiction or classification).
    #[error("access denied")]
    Denied,
    /// The authorization policies failed (a bug).
    #[error("policy: {0}")]
    Policy(#[from] dancu_policy::PolicyError),
    /// The database failed.
    #[error("storage: {0}")]
    Storage(#[from] sea_orm::DbErr),
    /// A stored row does not hold what the schema promises.
    #[error("corrupt stored record: {0}")]
    Corrupt(&'static str),
    /// Too many audit events wait for the audit service: the call fails closed.
    #[error("audit backlog full")]
    AuditUnavailable,
}

impl RecordsError {
    /// The error's category, safe to log: database and identity errors may quote stored
    /// values (names, personal IDs), so background jobs log this instead of the error.
    pub fn category(&self) -> &'static str {
        match self {
            Self::NotFound | Self::Missing(_) => "not found",
            Self::AlreadySubject => "already a subject",
            Self::Invalid(_) => "invalid",
            Self::PersonUnknown => "person unknown",
            Self::IdentityUnavailable => "identity unavailable",
            Self::IdentityDenied(_) => "identity denied",
            Self::Denied => "denied",
            Self::Policy(_) => "policy",
            Self::Storage(_) => "storage",
            Self::Corrupt(_) => "corrupt",
            Self::AuditUnavailable => "audit unavailable",
        }
    }
}

impl From<dancu_audit_client::OutboxError> for RecordsError {
    fn from(error: dancu_audit_client::OutboxError) -> Self {
        match error {
            dancu_audit_client::OutboxError::BacklogFull => Self::AuditUnavailable,
            dancu_audit_client::OutboxError::Db(e) => Self::Storage(e),
        }
    }
}
