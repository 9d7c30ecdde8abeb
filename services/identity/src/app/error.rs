//! The identity service's one error enum.

/// What can go wrong in an identity use case.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// No such citizen.
    #[error("citizen not found")]
    NotFound,
    /// The personal ID is already registered.
    #[error("a citizen with this personal ID is already registered")]
    AlreadyExists,
    /// Wrong credentials or disabled account.
    #[error("invalid username or password")]
    BadCredentials,
    /// The database failed.
    #[error("storage: {0}")]
    Storage(#[from] sea_orm::DbErr),
    /// A stored row does not hold what the schema promises (a bug or tampering).
    #[error("corrupt stored record: {0}")]
    Corrupt(&'static str),
    /// Key handling failed (a bug or corrupted key material).
    #[error("token signing failed: {0}")]
    Signing(String),
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
