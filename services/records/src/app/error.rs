//! The records service's one error enum.

/// What can go wrong in a records use case.
#[derive(Debug, thiserror::Error)]
pub enum RecordsError {
    /// No such record.
    #[error("subject record not found")]
    NotFound,
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

impl From<dancu_audit_client::OutboxError> for RecordsError {
    fn from(error: dancu_audit_client::OutboxError) -> Self {
        match error {
            dancu_audit_client::OutboxError::BacklogFull => Self::AuditUnavailable,
            dancu_audit_client::OutboxError::Db(e) => Self::Storage(e),
        }
    }
}
