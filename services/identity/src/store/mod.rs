//! The identity service's own database: officers, token signing keys, citizens and the
//! audit outbox. Nothing here knows about gRPC.

mod accounts;
mod cards;
mod citizens;
mod entity;
mod entity_cards;
mod entity_foreigners;
mod foreigners;
mod migration;
mod migration_cards;

pub use entity::citizen::Model as CitizenRow;
pub use entity::officer::Model as OfficerRow;
pub use entity::signing_key::Model as SigningKeyRow;
pub use entity_cards::card::Model as CardRow;
pub use entity_cards::card_event::Model as CardEventRow;
pub use entity_foreigners::declaration::Model as DeclarationRow;
pub use entity_foreigners::foreigner::Model as ForeignerRow;
pub use foreigners::ForeignerFilter;
pub use migration::Migrator;

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
