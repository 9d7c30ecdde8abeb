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
    /// An identity-card, foreigner or accommodation-declaration rule refused the call.
    #[error(transparent)]
    Register(#[from] super::RegisterError),
    /// Key handling failed (a bug or corrupted key material).
    #[error("token signing failed: {0}")]
    Signing(String),
}
