//! Schema migrations of the audit database, run at start.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, blob, string, string_uniq, text,
};

/// Runs the audit service's migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(CreateEvents),
            Box::new(CreateLog),
            Box::new(super::migration_lookup::CreateLookup),
        ]
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
    LeafIndex,
    BreakGlass,
    Decision,
    PolicyIds,
    ClientAddress,
}

#[derive(DeriveIden)]
enum AuditLeaves {
    Table,
    LeafIndex,
    LeafHash,
}

#[derive(DeriveIden)]
enum AuditAlerts {
    Table,
    AlertId,
    Kind,
    CreateTimeUs,
    EventId,
    LeafIndex,
    ActorId,
    ActorUnit,
    Detail,
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

/// The verifiable log: leaf index and the new event columns, leaf hashes, alerts.
struct CreateLog;

impl MigrationName for CreateLog {
    fn name(&self) -> &str {
        "m0002_create_log"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateLog {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per ALTER: SQLite accepts only one.
        manager
            .alter_table(
                Table::alter()
                    .table(AuditEvents::Table)
                    .add_column(big_integer_null(AuditEvents::LeafIndex))
                    .to_owned(),
            )
            .await?;
        for column in [
            AuditEvents::BreakGlass,
            AuditEvents::Decision,
            AuditEvents::PolicyIds,
            AuditEvents::ClientAddress,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(AuditEvents::Table)
                        .add_column(text(column).default(""))
                        .to_owned(),
                )
                .await?;
        }
        for (name, columns) in [
            ("idx_audit_events_leaf", vec![AuditEvents::LeafIndex]),
            (
                "idx_audit_events_unit",
                vec![AuditEvents::ActorUnit, AuditEvents::Seq],
            ),
            (
                "idx_audit_events_purpose",
                vec![AuditEvents::Purpose, AuditEvents::Seq],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(AuditEvents::Table);
            if name == "idx_audit_events_leaf" {
                index.unique();
            }
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(AuditLeaves::Table)
                    .col(big_integer(AuditLeaves::LeafIndex).primary_key())
                    .col(blob(AuditLeaves::LeafHash))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditAlerts::Table)
                    .col(big_integer(AuditAlerts::AlertId).primary_key())
                    .col(string(AuditAlerts::Kind))
                    .col(big_integer(AuditAlerts::CreateTimeUs))
                    .col(string(AuditAlerts::EventId))
                    .col(big_integer(AuditAlerts::LeafIndex))
                    .col(string(AuditAlerts::ActorId))
                    .col(string(AuditAlerts::ActorUnit))
                    .col(text(AuditAlerts::Detail))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditAlerts::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AuditLeaves::Table).to_owned())
            .await
    }
}
