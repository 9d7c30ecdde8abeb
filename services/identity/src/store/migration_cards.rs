//! Migration creating the identity-card and foreigner tables.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, boolean, string, string_len, string_null,
};

#[derive(DeriveIden)]
enum IdentityCards {
    Table,
    PersonalId,
    Status,
    IssueDate,
    ExpireDate,
    UpdatedUs,
    Version,
}

#[derive(DeriveIden)]
enum IdentityCardEvents {
    Table,
    Id,
    PersonalId,
    Sequence,
    Kind,
    AtUs,
    ActorId,
    IssueDate,
    ExpireDate,
    Reason,
}

#[derive(DeriveIden)]
enum Foreigners {
    Table,
    Id,
    Nationality,
    PassportNumber,
    FullName,
    NameKey,
    Sex,
    BirthDate,
    DocumentKind,
    DocumentNumber,
    DocumentValidFrom,
    DocumentValidUntil,
    CreatedBy,
    CreatedUs,
    Version,
}

#[derive(DeriveIden)]
enum AccommodationDeclarations {
    Table,
    Id,
    ForeignerId,
    HostName,
    CommuneCode,
    Address,
    ArrivalUs,
    PlannedDepartureUs,
    EndUs,
    RemoteArea,
    ReceivedUs,
    Late,
    CheckedOutUs,
    DeclaredBy,
}

/// Creates `identity_cards`, `identity_card_events`, `foreigners` and
/// `accommodation_declarations` with their indexes.
pub struct CreateCardsAndForeigners;

impl MigrationName for CreateCardsAndForeigners {
    fn name(&self) -> &str {
        "m0100_create_cards_and_foreigners"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateCardsAndForeigners {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IdentityCards::Table)
                    .col(string_len(IdentityCards::PersonalId, 12).primary_key())
                    .col(string(IdentityCards::Status))
                    .col(string(IdentityCards::IssueDate))
                    .col(string_null(IdentityCards::ExpireDate))
                    .col(big_integer(IdentityCards::UpdatedUs))
                    .col(big_integer(IdentityCards::Version))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(IdentityCardEvents::Table)
                    .col(string(IdentityCardEvents::Id).primary_key())
                    .col(string_len(IdentityCardEvents::PersonalId, 12))
                    .col(big_integer(IdentityCardEvents::Sequence))
                    .col(string(IdentityCardEvents::Kind))
                    .col(big_integer(IdentityCardEvents::AtUs))
                    .col(string(IdentityCardEvents::ActorId))
                    .col(string(IdentityCardEvents::IssueDate))
                    .col(string_null(IdentityCardEvents::ExpireDate))
                    .col(string(IdentityCardEvents::Reason))
                    .to_owned(),
            )
            .await?;
        // One event per position: a concurrent writer that slipped past the version
        // check still cannot fork the history.
        manager
            .create_index(
                Index::create()
                    .name("idx_card_events_card_sequence")
                    .table(IdentityCardEvents::Table)
                    .col(IdentityCardEvents::PersonalId)
                    .col(IdentityCardEvents::Sequence)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Foreigners::Table)
                    .col(string(Foreigners::Id).primary_key())
                    .col(string_len(Foreigners::Nationality, 3))
                    .col(string_len(Foreigners::PassportNumber, 20))
                    .col(string(Foreigners::FullName))
                    .col(string(Foreigners::NameKey))
                    .col(string(Foreigners::Sex))
                    .col(string(Foreigners::BirthDate))
                    .col(string(Foreigners::DocumentKind))
                    .col(string(Foreigners::DocumentNumber))
                    .col(string(Foreigners::DocumentValidFrom))
                    .col(string_null(Foreigners::DocumentValidUntil))
                    .col(string(Foreigners::CreatedBy))
                    .col(big_integer(Foreigners::CreatedUs))
                    .col(big_integer(Foreigners::Version))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_foreigners_nationality_passport")
                    .table(Foreigners::Table)
                    .col(Foreigners::Nationality)
                    .col(Foreigners::PassportNumber)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Lookup by passport number alone (any nationality).
        manager
            .create_index(
                Index::create()
                    .name("idx_foreigners_passport")
                    .table(Foreigners::Table)
                    .col(Foreigners::PassportNumber)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AccommodationDeclarations::Table)
                    .col(string(AccommodationDeclarations::Id).primary_key())
                    .col(string(AccommodationDeclarations::ForeignerId))
                    .col(string(AccommodationDeclarations::HostName))
                    .col(string_len(AccommodationDeclarations::CommuneCode, 5))
                    .col(string(AccommodationDeclarations::Address))
                    .col(big_integer(AccommodationDeclarations::ArrivalUs))
                    .col(big_integer(AccommodationDeclarations::PlannedDepartureUs))
                    .col(big_integer(AccommodationDeclarations::EndUs))
                    .col(boolean(AccommodationDeclarations::RemoteArea))
                    .col(big_integer(AccommodationDeclarations::ReceivedUs))
                    .col(boolean(AccommodationDeclarations::Late))
                    .col(big_integer_null(AccommodationDeclarations::CheckedOutUs))
                    .col(string(AccommodationDeclarations::DeclaredBy))
                    .to_owned(),
            )
            .await?;
        // "Who is staying in this commune now": only stays not yet ended are read (not the
        // commune's whole history), then sorted by id for paging.
        manager
            .create_index(
                Index::create()
                    .name("idx_declarations_commune_end")
                    .table(AccommodationDeclarations::Table)
                    .col(AccommodationDeclarations::CommuneCode)
                    .col(AccommodationDeclarations::EndUs)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AccommodationDeclarations::Table.into_iden(),
            Foreigners::Table.into_iden(),
            IdentityCardEvents::Table.into_iden(),
            IdentityCards::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
