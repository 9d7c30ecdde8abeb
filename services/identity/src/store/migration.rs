//! Schema migrations of the identity database, run at start.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, binary, boolean, string, string_len, string_uniq};

/// Runs the identity service's migrations (including the audit outbox).
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(CreateTables),
            Box::new(dancu_audit_client::migration::CreateOutbox),
            // Later migrations go below, in order; applied ones never move.
            Box::new(super::migration_register::PopulationRegister),
            Box::new(super::migration_cards::CreateCardsAndForeigners),
            Box::new(super::migration_access::AccessControl),
            Box::new(super::migration_temporary_index::TemporaryResidentsIndex),
            Box::new(super::migration_name_index::OneNameIndex),
        ]
    }
}

#[derive(DeriveIden)]
enum Officers {
    Table,
    Id,
    Username,
    PasswordHash,
    Unit,
    Roles,
    Disabled,
    CreatedUs,
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    Kid,
    PrivatePkcs8,
    PublicKey,
    CreatedUs,
}

#[derive(DeriveIden)]
enum Citizens {
    Table,
    PersonalId,
    FullName,
    NameKey,
    Sex,
    BirthDate,
    PlaceOfBirth,
    CreatedBy,
    CreatedUs,
    Version,
}

struct CreateTables;

impl MigrationName for CreateTables {
    fn name(&self) -> &str {
        "m0001_create_officers_keys_citizens"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Officers::Table)
                    .col(string(Officers::Id).primary_key())
                    .col(string_uniq(Officers::Username))
                    .col(string(Officers::PasswordHash))
                    .col(string(Officers::Unit))
                    .col(string(Officers::Roles))
                    .col(boolean(Officers::Disabled))
                    .col(big_integer(Officers::CreatedUs))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SigningKeys::Table)
                    .col(string(SigningKeys::Kid).primary_key())
                    .col(binary(SigningKeys::PrivatePkcs8))
                    .col(binary(SigningKeys::PublicKey))
                    .col(big_integer(SigningKeys::CreatedUs))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Citizens::Table)
                    .col(string_len(Citizens::PersonalId, 12).primary_key())
                    .col(string(Citizens::FullName))
                    .col(string(Citizens::NameKey))
                    .col(string(Citizens::Sex))
                    .col(string(Citizens::BirthDate))
                    .col(string(Citizens::PlaceOfBirth))
                    .col(string(Citizens::CreatedBy))
                    .col(big_integer(Citizens::CreatedUs))
                    .col(big_integer(Citizens::Version))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_citizens_name_key")
                    .table(Citizens::Table)
                    .col(Citizens::NameKey)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Citizens::Table.into_iden(),
            SigningKeys::Table.into_iden(),
            Officers::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
