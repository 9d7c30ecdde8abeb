//! Migration m0004: access control — police units, officers' disable time and personal
//! ID (self/family lookups are flagged), refresh
//! tokens, revoked access tokens, and the activation time of signing keys.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, boolean, string, string_null};

/// Creates the access-control tables and columns.
pub struct AccessControl;

impl MigrationName for AccessControl {
    fn name(&self) -> &str {
        "m0004_access_control"
    }
}

#[derive(DeriveIden)]
enum Units {
    Table,
    Code,
    Name,
    ParentCode,
    AreaCode,
    CreatedUs,
}

#[derive(DeriveIden)]
enum Officers {
    Table,
    DisabledUs,
    PersonalId,
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    ActiveUs,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    TokenHash,
    OfficerId,
    ExpiresUs,
    Used,
    CreatedUs,
}

#[derive(DeriveIden)]
enum RevokedTokens {
    Table,
    TokenId,
    ExpiresUs,
}

#[async_trait::async_trait]
impl MigrationTrait for AccessControl {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Units::Table)
                    .col(string(Units::Code).primary_key())
                    .col(string(Units::Name))
                    .col(string_null(Units::ParentCode))
                    .col(string(Units::AreaCode))
                    .col(big_integer(Units::CreatedUs))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_units_parent")
                    .table(Units::Table)
                    .col(Units::ParentCode)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Officers::Table)
                    .add_column(ColumnDef::new(Officers::DisabledUs).big_integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Officers::Table)
                    .add_column(ColumnDef::new(Officers::PersonalId).string().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(SigningKeys::Table)
                    .add_column(
                        ColumnDef::new(SigningKeys::ActiveUs)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(string(RefreshTokens::TokenHash).primary_key())
                    .col(string(RefreshTokens::OfficerId))
                    .col(big_integer(RefreshTokens::ExpiresUs))
                    .col(boolean(RefreshTokens::Used))
                    .col(big_integer(RefreshTokens::CreatedUs))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_refresh_tokens_officer")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::OfficerId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RevokedTokens::Table)
                    .col(string(RevokedTokens::TokenId).primary_key())
                    .col(big_integer(RevokedTokens::ExpiresUs))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            RevokedTokens::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            Units::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
