//! Identity use cases: login and tokens, bootstrap accounts, the citizen register. Each
//! personal-data use case stages its audit event in the same transaction as its write.

mod accounts;
mod citizens;
mod error;
mod tokens;

pub use accounts::{Accounts, BOOTSTRAP_ADMIN as BOOTSTRAP_ADMIN_USERNAME, LoginGrant};
pub use citizens::{Citizen, Citizens};
pub use error::IdentityError;
pub use tokens::{LocalKeySource, LocalTokenSource, TokenIssuer};
