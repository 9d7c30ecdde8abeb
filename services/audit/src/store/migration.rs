//! Schema migrations of the audit database, run at start.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_pk_auto, string, string_uniq, text};

/// Runs the audit service's migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateEvents)]
    }
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Seq,
    EventId,
    OccurTimeUs,
    AcceptTimeUs,
    Service,
    ActorId,
    ActorUnit,
    Rpc,
    ResourceType,
    ResourceId,
    SubjectHash,
    Purpose,
    CaseReference,
    Outcome,
    TraceId,
}

#[derive(DeriveIden)]
enum AuditSettings {
    Table,
    Name,
    Value,
}

struct CreateEvents;

impl MigrationName for CreateEvents {
    fn name(&self) -> &str {
        "m0001_create_events"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateEvents {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(big_pk_auto(AuditEvents::Seq))
                    .col(string_uniq(AuditEvents::EventId))
                    .col(big_integer(AuditEvents::OccurTimeUs))
                    .col(big_integer(AuditEvents::AcceptTimeUs))
                    .col(string(AuditEvents::Service))
                    .col(string(AuditEvents::ActorId))
                    .col(string(AuditEvents::ActorUnit))
                    .col(string(AuditEvents::Rpc))
                    .col(string(AuditEvents::ResourceType))
                    .col(string(AuditEvents::ResourceId))
                    .col(string(AuditEvents::SubjectHash))
                    .col(string(AuditEvents::Purpose))
                    .col(string(AuditEvents::CaseReference))
                    .col(string(AuditEvents::Outcome))
                    .col(string(AuditEvents::TraceId))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_audit_events_actor", AuditEvents::ActorId),
            ("idx_audit_events_subject", AuditEvents::SubjectHash),
            ("idx_audit_events_occur", AuditEvents::OccurTimeUs),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(AuditEvents::Table)
                        .col(column)
                        .col(AuditEvents::Seq)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(AuditSettings::Table)
                    .col(string(AuditSettings::Name).primary_key())
                    .col(text(AuditSettings::Value))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditSettings::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AuditEvents::Table).to_owned())
            .await
    }
}
