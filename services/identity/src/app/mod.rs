//! Identity use cases: login and tokens, bootstrap accounts, and the population register
//! (citizens, residence, households, change feed). Each personal-data use case stages its
//! audit event in the same transaction as its write.

mod accounts;
mod audited;
mod cards;
mod citizen_access;
mod citizen_record;
mod citizens;
mod error;
mod feed;
mod foreigners;
mod guard;
mod households;
mod import;
mod import_foreigners;
mod journal;
mod officers;
mod register_error;
mod residence;
mod tokens;
mod units;

pub use accounts::{Accounts, BOOTSTRAP_ADMIN as BOOTSTRAP_ADMIN_USERNAME, LoginGrant};
pub use audited::Audited;
pub use cards::{Card, CardChange, CardEvent, Cards};
pub use citizen_access::CitizenAccess;
pub use citizen_record::{Citizen, CurrentResidence, FamilyLinks, LifeStatus, today};
pub use citizens::{CitizenUpdate, Citizens, HistoryEntry, check_consistency};
pub use error::IdentityError;
pub use feed::ChangeFeed;
pub use foreigners::{
    Declaration as Accommodation, EntryDocument, Foreigner, Foreigners, Page, ResourceKind,
};
pub use guard::PurposeGuard;
pub use households::{HouseholdView, Households, NewMember};
pub use import::{
    BatchOutcome, CitizenBatch, FOREIGNER_IMPORT_RESOURCE, IMPORT_RESOURCE, ImportCandidate,
    ImportResidence, Importer, PreparedCitizen, RowError,
};
pub use import_foreigners::{ForeignerBatch, ForeignerCandidate};
pub use journal::Journal;
pub use officers::{Administration, NewOfficer, NewUnit, actor, admin_context};
pub use register_error::RegisterError;
pub use residence::{Declaration, ResidenceNow, Residences};
pub use tokens::{LocalKeySource, LocalTokenSource, TokenIssuer};
pub use units::{AccessError, C06, MINISTRY, UnitTree};
