//! The records service's own database: subject records and the audit outbox. Nothing here
//! knows about gRPC.

mod analysis;
mod entity;
mod import;
mod migration;
mod migration_subjects;
mod migration_validations;
mod subjects;

pub use analysis::{GroupCount, Scope, ValidationRow};
pub use entity::subject_record::Model as SubjectRecordRow;
pub use import::ImportedSubject;
pub use migration::Migrator;
pub use subjects::{
    ClassificationRow, IDENTITY_FEED, MovementAlertRow, SubjectFilter, SubjectRow, TimelineEntryRow,
};

use entity::subject_record;
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    PaginatorTrait, TransactionTrait,
};

/// The records store.
#[derive(Clone)]
pub struct RecordsStore {
    db: DatabaseConnection,
}

impl RecordsStore {
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

    /// Adds a record through `conn` (a transaction, so the audit event commits with it).
    pub async fn insert<C: ConnectionTrait>(
        &self,
        conn: &C,
        row: SubjectRecordRow,
    ) -> Result<(), DbErr> {
        subject_record::Entity::insert(subject_record::ActiveModel {
            id: Set(row.id),
            personal_id: Set(row.personal_id),
            classification: Set(row.classification),
            source_kind: Set(row.source_kind),
            source_reference: Set(row.source_reference),
            source_issuing_unit: Set(row.source_issuing_unit),
            snapshot_full_name: Set(row.snapshot_full_name),
            snapshot_birth_date: Set(row.snapshot_birth_date),
            owning_unit: Set(row.owning_unit),
            owning_area: Set(row.owning_area),
            created_by: Set(row.created_by),
            created_us: Set(row.created_us),
        })
        .exec_without_returning(conn)
        .await?;
        Ok(())
    }

    /// The record with this id.
    pub async fn get(&self, id: &str) -> Result<Option<SubjectRecordRow>, DbErr> {
        subject_record::Entity::find_by_id(id).one(&self.db).await
    }

    /// Number of stored records (operators' check; tests use it to prove nothing was
    /// written by a failed call).
    pub async fn count(&self) -> Result<u64, DbErr> {
        subject_record::Entity::find().count(&self.db).await
    }
}
