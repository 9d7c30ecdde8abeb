//! Migration 3: the lookup indexes of the event table (actor, subject, unit, purpose)
//! become the deferred `audit_lookup` table (see `lookup.rs`), filled from the stored
//! events here and by the log's indexer afterwards.

use super::lookup::{LOOKUP_COLUMNS, WATERMARK_SETTING};
use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;

/// The event-table indexes the lookup table replaces: name and column.
const REPLACED_INDEXES: [(&str, &str); 4] = [
    ("idx_audit_events_actor", "actor_id"),
    ("idx_audit_events_subject", "subject_hash"),
    ("idx_audit_events_unit", "actor_unit"),
    ("idx_audit_events_purpose", "purpose"),
];

/// Creates and fills `audit_lookup`, then drops the indexes it replaces.
pub(super) struct CreateLookup;

impl MigrationName for CreateLookup {
    fn name(&self) -> &str {
        "m0003_create_lookup"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateLookup {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // Hand-written: sea-query cannot declare a WITHOUT ROWID table, and on SQLite the
        // rowid would be a second B-tree beside the primary key for every row.
        let without_rowid = match db.get_database_backend() {
            DbBackend::Sqlite => " WITHOUT ROWID",
            _ => "",
        };
        db.execute_unprepared(&format!(
            "CREATE TABLE audit_lookup (kind integer NOT NULL, lookup_key text NOT NULL, \
             seq bigint NOT NULL, PRIMARY KEY (kind, lookup_key, seq)){without_rowid}"
        ))
        .await?;
        for (kind, column) in LOOKUP_COLUMNS {
            db.execute_unprepared(&format!(
                "INSERT INTO audit_lookup (kind, lookup_key, seq) \
                 SELECT {kind}, {column}, seq FROM audit_events WHERE {column} <> ''"
            ))
            .await?;
        }
        db.execute_unprepared(&format!(
            "INSERT INTO audit_settings (name, value) \
             SELECT '{WATERMARK_SETTING}', CAST(COALESCE(MAX(seq), 0) AS TEXT) FROM audit_events"
        ))
        .await?;
        for (name, _) in REPLACED_INDEXES {
            db.execute_unprepared(&format!("DROP INDEX IF EXISTS {name}"))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, column) in REPLACED_INDEXES {
            db.execute_unprepared(&format!(
                "CREATE INDEX IF NOT EXISTS {name} ON audit_events ({column}, seq)"
            ))
            .await?;
        }
        db.execute_unprepared(&format!(
            "DELETE FROM audit_settings WHERE name = '{WATERMARK_SETTING}'"
        ))
        .await?;
        db.execute_unprepared("DROP TABLE audit_lookup").await?;
        Ok(())
    }
}
