//! The identity service's own database: officers, token signing keys, the population
//! register (citizens, history, residence events, households, change feed) and the audit
//! outbox. Nothing here knows about gRPC.

mod accounts;
mod citizens;
mod entity;
mod entity_access;
mod entity_register;
mod feed;
mod households;
mod migration;
mod migration_access;
mod migration_register;
mod residence;
mod units;

pub use accounts::RefreshUse;
pub use citizens::{CitizenSearch, CommuneResidents};
pub use entity::officer::Model as OfficerRow;
pub use entity::signing_key::Model as SigningKeyRow;
pub use entity_access::refresh_token::Model as RefreshTokenRow;
pub use entity_access::unit::Model as UnitRow;
pub use entity_register::change_event::Model as ChangeRow;
pub use entity_register::citizen::Model as CitizenRow;
pub use entity_register::citizen_history::Model as CitizenHistoryRow;
pub use entity_register::household::Model as HouseholdRow;
pub use entity_register::household_member::Model as HouseholdMemberRow;
pub use entity_register::residence_event::Model as ResidenceEventRow;
pub use migration::Migrator;
pub use residence::ResidenceUpdate;

use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr, SqlErr, TransactionTrait};

/// Why an insert failed.
#[derive(Debug, thiserror::Error)]
pub enum InsertError {
    /// A row with the same key exists.
    #[error("duplicate key")]
    Duplicate,
    /// Any other database failure.
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl InsertError {
    fn classify(error: DbErr) -> Self {
        match error.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Self::Duplicate,
            _ => Self::Db(error),
        }
    }
}

/// The identity store.
#[derive(Clone)]
pub struct IdentityStore {
    db: DatabaseConnection,
}

impl IdentityStore {
    /// Connects to `url` and runs pending migrations.
    pub async fn open(url: &str, max_connections: u32) -> Result<Self, DbErr> {
        let db = dancu_kit::db::open_migrated::<Migrator>(url, max_connections).await?;
        Ok(Self { db })
    }

    /// The connection (shared with the audit outbox).
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Starts a transaction.
    pub async fn begin(&self) -> Result<DatabaseTransaction, DbErr> {
        self.db.begin().await
    }
}
