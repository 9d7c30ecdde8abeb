//! The gRPC face of the identity service: decode and validate requests, call the use
//! cases, map results and the one error enum to gRPC. One file per gRPC service.

mod auth;
mod citizens;

pub use auth::AuthApi;
pub use citizens::IdentityApi;

use crate::app::IdentityError;
use dancu_kit::error::storage;
use tonic::Status;

impl From<IdentityError> for Status {
    fn from(error: IdentityError) -> Self {
        match error {
            IdentityError::NotFound => Status::not_found("no citizen with this personal ID"),
            IdentityError::AlreadyExists => {
                Status::already_exists("a citizen with this personal ID is already registered")
            }
            IdentityError::BadCredentials => {
                Status::unauthenticated("invalid username or password")
            }
            IdentityError::Storage(e) => storage(&e),
            IdentityError::AuditUnavailable => {
                Status::unavailable("auditing is unavailable (audit backlog full); retry later")
            }
            IdentityError::Corrupt(field) => {
                tracing::error!(field, "corrupt citizen row");
                Status::internal("internal error")
            }
            IdentityError::Signing(e) => {
                tracing::error!(error = %e, "token signing failed");
                Status::internal("internal error")
            }
        }
    }
}
