//! Identity use cases: login and tokens, bootstrap accounts, the citizen register. Each
//! personal-data use case stages its audit event in the same transaction as its write.

mod accounts;
mod audited;
mod cards;
mod citizens;
mod error;
mod foreigners;
mod register_error;
mod tokens;

pub use accounts::{Accounts, BOOTSTRAP_ADMIN as BOOTSTRAP_ADMIN_USERNAME, LoginGrant};
pub use audited::Audited;
pub use cards::{Card, CardChange, CardEvent, Cards};
pub use citizens::{Citizen, Citizens};
pub use error::IdentityError;
pub use foreigners::{Declaration, EntryDocument, Foreigner, Foreigners, Page, ResourceKind};
pub use register_error::RegisterError;
pub use tokens::{LocalKeySource, LocalTokenSource, TokenIssuer};
