//! The identity service's own database: officers, token signing keys, the population
//! register (citizens, history, residence events, households, change feed) and the audit
//! outbox. Nothing here knows about gRPC.

mod accounts;
mod cards;
mod citizens;
mod entity;
mod entity_access;
mod entity_cards;
mod entity_foreigners;
mod entity_register;
mod feed;
mod foreigners;
mod households;
mod import;
mod import_direct;
mod import_foreigners;
mod migration;
mod migration_access;
mod migration_cards;
mod migration_name_index;
mod migration_register;
mod migration_temporary_index;
mod residence;
mod units;

pub use accounts::RefreshUse;
pub use citizens::{CitizenSearch, CommuneResidents, SearchAfter};
pub use entity::officer::Model as OfficerRow;
pub use entity::signing_key::Model as SigningKeyRow;
pub use entity_access::refresh_token::Model as RefreshTokenRow;
pub use entity_access::unit::Model as UnitRow;
pub use entity_cards::card::Model as CardRow;
pub use entity_cards::card_event::Model as CardEventRow;
pub use entity_foreigners::declaration::Model as DeclarationRow;
pub use entity_foreigners::foreigner::Model as ForeignerRow;
pub use entity_register::change_event::Model as ChangeRow;
pub use entity_register::citizen::Model as CitizenRow;
pub use entity_register::citizen_history::Model as CitizenHistoryRow;
pub use entity_register::household::Model as HouseholdRow;
pub use entity_register::household_member::Model as HouseholdMemberRow;
pub use entity_register::residence_event::Model as ResidenceEventRow;
pub use foreigners::ForeignerFilter;
pub use import::ImportRow;
pub use import_foreigners::ForeignerImportRow;
pub use migration::Migrator;
pub use residence::ResidenceUpdate;

use dancu_kit::db::Checkpointer;
use sea_orm::{
    DatabaseConnection, DatabaseTransaction, DbErr, SqlErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};
use std::sync::Arc;

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
    /// The pool reads use.
    db: DatabaseConnection,
    /// Where write transactions run: on a SQLite file its dedicated writer connection
    /// ([`dancu_kit::db::connect_sqlite_writer`]), otherwise the pool.
    writer: DatabaseConnection,
    /// On a SQLite file, what copies the writer's WAL into the database file; bulk imports
    /// then run directly on the writer ([`IdentityStore::commit_citizen_import`]).
    checkpointer: Option<Arc<Checkpointer>>,
}

impl IdentityStore {
    /// Connects to `url` with a pool of `max_connections` (and, on a SQLite file, a writer
    /// connection with a page cache of `writer_cache_mib` MiB) and runs pending migrations.
    pub async fn open(
        url: &str,
        max_connections: u32,
        writer_cache_mib: u32,
    ) -> Result<Self, DbErr> {
        let db = dancu_kit::db::open_migrated::<Migrator>(url, max_connections).await?;
        let (writer, checkpointer) =
            match dancu_kit::db::connect_sqlite_writer(url, writer_cache_mib, &db).await? {
                Some((writer, checkpointer)) => (writer, Some(Arc::new(checkpointer))),
                None => (db.clone(), None),
            };
        Ok(Self {
            db,
            writer,
            checkpointer,
        })
    }

    /// The pool reads use.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The connection writes use (shared with the audit outbox, whose rows every audited
    /// call writes: on another connection they would cost the writer its page cache).
    pub fn writer(&self) -> &DatabaseConnection {
        &self.writer
    }

    /// Starts a transaction that reads, then writes. On SQLite it takes the write lock at
    /// `BEGIN` (`IMMEDIATE`): a deferred transaction that read an older snapshot could not
    /// upgrade to writing once another writer committed, and would fail with SQLITE_BUSY
    /// instead of waiting. PostgreSQL ignores the mode; version checks and unique keys
    /// serialise conflicting writers there.
    pub async fn begin_write(&self) -> Result<DatabaseTransaction, DbErr> {
        self.writer
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await
    }
}
