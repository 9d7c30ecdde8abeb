//! Schema migrations of the records database, run at start.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, string, string_len};

/// Runs the records service's migrations (including the audit outbox).
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(CreateSubjectRecords),
            Box::new(dancu_audit_client::migration::CreateOutbox),
            Box::new(AddOwningArea),
            Box::new(super::migration_subjects::CreateSubjects),
            Box::new(super::migration_validations::CreateSubjectValidations),
        ]
    }
}

#[derive(DeriveIden)]
enum SubjectRecords {
    Table,
    Id,
    PersonalId,
    Classification,
    SourceKind,
    SourceReference,
    SourceIssuingUnit,
    SnapshotFullName,
    SnapshotBirthDate,
    OwningUnit,
    CreatedBy,
    CreatedUs,
}

struct CreateSubjectRecords;

impl MigrationName for CreateSubjectRecords {
    fn name(&self) -> &str {
        "m0001_create_subject_records"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateSubjectRecords {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SubjectRecords::Table)
                    .col(string(SubjectRecords::Id).primary_key())
                    .col(string_len(SubjectRecords::PersonalId, 12))
                    .col(string(SubjectRecords::Classification))
                    .col(string(SubjectRecords::SourceKind))
                    .col(string(SubjectRecords::SourceReference))
                    .col(string(SubjectRecords::SourceIssuingUnit))
                    .col(string(SubjectRecords::SnapshotFullName))
                    .col(string(SubjectRecords::SnapshotBirthDate))
                    .col(string(SubjectRecords::OwningUnit))
                    .col(string(SubjectRecords::CreatedBy))
                    .col(big_integer(SubjectRecords::CreatedUs))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_subject_records_personal_id")
                    .table(SubjectRecords::Table)
                    .col(SubjectRecords::PersonalId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SubjectRecords::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum OwningArea {
    OwningArea,
}

/// m0003: the area of the owning unit, which decides who may read a record.
struct AddOwningArea;

impl MigrationName for AddOwningArea {
    fn name(&self) -> &str {
        "m0003_subject_records_owning_area"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AddOwningArea {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SubjectRecords::Table)
                    .add_column(
                        ColumnDef::new(OwningArea::OwningArea)
                            .string()
                            .not_null()
                            .default(""),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SubjectRecords::Table)
                    .drop_column(OwningArea::OwningArea)
                    .to_owned(),
            )
            .await
    }
}
