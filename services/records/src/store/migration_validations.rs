//! m0005: the result of the last re-validation of each subject against identity, kept apart
//! from `subjects` so the job never rewrites the subject rows officers maintain.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, string};

#[derive(DeriveIden)]
enum SubjectValidations {
    Table,
    SubjectId,
    Verification,
    CheckedUs,
}

/// Creates `subject_validations`.
pub struct CreateSubjectValidations;

impl MigrationName for CreateSubjectValidations {
    fn name(&self) -> &str {
        "m0005_create_subject_validations"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateSubjectValidations {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SubjectValidations::Table)
                    .col(string(SubjectValidations::SubjectId).primary_key())
                    .col(string(SubjectValidations::Verification))
                    .col(big_integer(SubjectValidations::CheckedUs))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SubjectValidations::Table).to_owned())
            .await
    }
}
