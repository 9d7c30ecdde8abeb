//! The outbox table, as a migration each service adds to its own migrator.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_pk_auto, blob, string_uniq};

/// Creates `audit_outbox`.
pub struct CreateOutbox;

#[derive(DeriveIden)]
pub(crate) enum AuditOutbox {
    Table,
    Seq,
    EventId,
    Payload,
    CreatedUs,
}

impl MigrationName for CreateOutbox {
    fn name(&self) -> &str {
        "m0100_create_audit_outbox"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateOutbox {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditOutbox::Table)
                    .col(big_pk_auto(AuditOutbox::Seq))
                    .col(string_uniq(AuditOutbox::EventId))
                    .col(blob(AuditOutbox::Payload))
                    .col(big_integer(AuditOutbox::CreatedUs))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditOutbox::Table).to_owned())
            .await
    }
}
