//! m0004: subjects, their classifications and timelines, movement alerts and the cursor
//! of identity's change feed.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, string, string_null, text, text_null};

#[derive(DeriveIden)]
enum Subjects {
    Table,
    Id,
    Kind,
    PersonKey,
    PersonalId,
    PassportNumber,
    Nationality,
    ForeignerId,
    SnapshotFullName,
    SnapshotBirthDate,
    SnapshotCommune,
    SnapshotLifeStatus,
    SnapshotRefreshedUs,
    OwningUnit,
    OwningArea,
    OwningProvince,
    SourceKind,
    SourceReference,
    SourceIssuingUnit,
    CreatedBy,
    CreatedUs,
    UpdatedUs,
}

#[derive(DeriveIden)]
enum SubjectClassifications {
    Table,
    Id,
    SubjectId,
    Classification,
    StartDate,
    EndDate,
    LegalBasis,
    OwningUnit,
    Status,
    SourceKind,
    SourceReference,
    SourceIssuingUnit,
    CreatedBy,
    CreatedUs,
}

#[derive(DeriveIden)]
enum TimelineEntries {
    Table,
    Id,
    SubjectId,
    Kind,
    OccurDate,
    Summary,
    SourceKind,
    SourceReference,
    SourceIssuingUnit,
    CorrectsEntryId,
    CreatedBy,
    CreatedUs,
}

#[derive(DeriveIden)]
enum MovementAlerts {
    Table,
    Id,
    SubjectId,
    OwningUnit,
    Kind,
    Supervision,
    PreviousCommune,
    Commune,
    ResidenceKind,
    FeedCursor,
    ChangeUs,
    CreatedUs,
}

#[derive(DeriveIden)]
enum FeedCursors {
    Table,
    Feed,
    Cursor,
    UpdatedUs,
}

/// m0004: the subject-management tables.
pub struct CreateSubjects;

impl MigrationName for CreateSubjects {
    fn name(&self) -> &str {
        "m0004_subjects"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateSubjects {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Subjects::Table)
                    .col(string(Subjects::Id).primary_key())
                    .col(string(Subjects::Kind))
                    .col(string(Subjects::PersonKey))
                    .col(string(Subjects::PersonalId))
                    .col(string(Subjects::PassportNumber))
                    .col(string(Subjects::Nationality))
                    .col(string(Subjects::ForeignerId))
                    .col(string(Subjects::SnapshotFullName))
                    .col(string(Subjects::SnapshotBirthDate))
                    .col(string(Subjects::SnapshotCommune))
                    .col(string(Subjects::SnapshotLifeStatus))
                    .col(big_integer(Subjects::SnapshotRefreshedUs))
                    .col(string(Subjects::OwningUnit))
                    .col(string(Subjects::OwningArea))
                    .col(string(Subjects::OwningProvince))
                    .col(string(Subjects::SourceKind))
                    .col(string(Subjects::SourceReference))
                    .col(string(Subjects::SourceIssuingUnit))
                    .col(string(Subjects::CreatedBy))
                    .col(big_integer(Subjects::CreatedUs))
                    .col(big_integer(Subjects::UpdatedUs))
                    .to_owned(),
            )
            .await?;
        // One subject per person per owning unit; the same person in two units is what
        // the data-quality scorecard reports as a duplicate.
        manager
            .create_index(
                Index::create()
                    .name("idx_subjects_person_unit")
                    .table(Subjects::Table)
                    .col(Subjects::PersonKey)
                    .col(Subjects::OwningUnit)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_subjects_personal_id")
                    .table(Subjects::Table)
                    .col(Subjects::PersonalId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SubjectClassifications::Table)
                    .col(string(SubjectClassifications::Id).primary_key())
                    .col(string(SubjectClassifications::SubjectId))
                    .col(string(SubjectClassifications::Classification))
                    .col(string(SubjectClassifications::StartDate))
                    .col(string_null(SubjectClassifications::EndDate))
                    .col(text(SubjectClassifications::LegalBasis))
                    .col(string(SubjectClassifications::OwningUnit))
                    .col(string(SubjectClassifications::Status))
                    .col(string(SubjectClassifications::SourceKind))
                    .col(string(SubjectClassifications::SourceReference))
                    .col(string(SubjectClassifications::SourceIssuingUnit))
                    .col(string(SubjectClassifications::CreatedBy))
                    .col(big_integer(SubjectClassifications::CreatedUs))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_subject_classifications_subject")
                    .table(SubjectClassifications::Table)
                    .col(SubjectClassifications::SubjectId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TimelineEntries::Table)
                    .col(string(TimelineEntries::Id).primary_key())
                    .col(string(TimelineEntries::SubjectId))
                    .col(string(TimelineEntries::Kind))
                    .col(string(TimelineEntries::OccurDate))
                    .col(text(TimelineEntries::Summary))
                    .col(string(TimelineEntries::SourceKind))
                    .col(string(TimelineEntries::SourceReference))
                    .col(string(TimelineEntries::SourceIssuingUnit))
                    .col(text_null(TimelineEntries::CorrectsEntryId))
                    .col(string(TimelineEntries::CreatedBy))
                    .col(big_integer(TimelineEntries::CreatedUs))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_timeline_entries_subject")
                    .table(TimelineEntries::Table)
                    .col(TimelineEntries::SubjectId)
                    .col(TimelineEntries::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MovementAlerts::Table)
                    .col(string(MovementAlerts::Id).primary_key())
                    .col(string(MovementAlerts::SubjectId))
                    .col(string(MovementAlerts::OwningUnit))
                    .col(string(MovementAlerts::Kind))
                    .col(string(MovementAlerts::Supervision))
                    .col(string(MovementAlerts::PreviousCommune))
                    .col(string(MovementAlerts::Commune))
                    .col(string(MovementAlerts::ResidenceKind))
                    .col(string(MovementAlerts::FeedCursor))
                    .col(big_integer(MovementAlerts::ChangeUs))
                    .col(big_integer(MovementAlerts::CreatedUs))
                    .to_owned(),
            )
            .await?;
        // A change raises at most one alert per subject, whatever happens to the follower.
        manager
            .create_index(
                Index::create()
                    .name("idx_movement_alerts_change")
                    .table(MovementAlerts::Table)
                    .col(MovementAlerts::SubjectId)
                    .col(MovementAlerts::FeedCursor)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_movement_alerts_unit")
                    .table(MovementAlerts::Table)
                    .col(MovementAlerts::OwningUnit)
                    .col(MovementAlerts::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(FeedCursors::Table)
                    .col(string(FeedCursors::Feed).primary_key())
                    .col(string(FeedCursors::Cursor))
                    .col(big_integer(FeedCursors::UpdatedUs))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            FeedCursors::Table.into_iden(),
            MovementAlerts::Table.into_iden(),
            TimelineEntries::Table.into_iden(),
            SubjectClassifications::Table.into_iden(),
            Subjects::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
