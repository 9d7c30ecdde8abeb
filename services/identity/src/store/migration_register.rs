//! Migration m0002: the full population register — the remaining citizen fields of the
//! Law on Identity 2023 (art. 9), change history, residence events with the derived
//! current residence, households, and the change feed.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_pk_auto, boolean, string, string_uniq};

/// Creates the register tables and extends `citizens`.
pub struct PopulationRegister;

impl MigrationName for PopulationRegister {
    fn name(&self) -> &str {
        "m0002_population_register"
    }
}

#[derive(DeriveIden)]
enum Citizens {
    Table,
    PersonalId,
    NameKey,
    BirthYear,
    PermCommune,
    TempCommune,
}

/// Text columns added to `citizens`, each `NOT NULL DEFAULT ''` unless listed otherwise.
const CITIZEN_TEXT_COLUMNS: [&str; 23] = [
    "other_names",
    "place_of_birth_registration",
    "home_town",
    "ethnicity",
    "religion",
    "nationality",
    "blood_type",
    "old_id_number",
    "father_id",
    "mother_id",
    "spouse_id",
    "children_ids",
    "legal_rep_id",
    "marital_status",
    "phone",
    "email",
    "life_status",
    "life_status_date",
    "updated_by",
    "perm_commune",
    "perm_province",
    "temp_commune",
    "temp_province",
];

#[derive(DeriveIden)]
enum CitizenHistory {
    Table,
    Id,
    PersonalId,
    Version,
    ChangedUs,
    ChangedBy,
    Fields,
    Reason,
}

#[derive(DeriveIden)]
enum ResidenceEvents {
    Table,
    Seq,
    EventId,
    PersonalId,
    Kind,
    CommuneCode,
    ProvinceCode,
    Address,
    StartDate,
    EndDate,
    HostName,
    Supervision,
    Destination,
    Mandatory,
    RecordedUs,
    RecordedBy,
}

#[derive(DeriveIden)]
enum Households {
    Table,
    Id,
    CommuneCode,
    Address,
    CreatedUs,
    CreatedBy,
}

#[derive(DeriveIden)]
enum HouseholdMembers {
    Table,
    PersonalId,
    HouseholdId,
    Relation,
    JoinedUs,
}

#[derive(DeriveIden)]
enum ChangeEvents {
    Table,
    Seq,
    PersonalId,
    Kind,
    ChangeUs,
    Fields,
    ResidenceKind,
    CommuneCode,
    ReferenceId,
}

#[async_trait::async_trait]
impl MigrationTrait for PopulationRegister {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        for column in CITIZEN_TEXT_COLUMNS {
            let default = match column {
                "nationality" => "VNM",
                "life_status" => "alive",
                _ => "",
            };
            manager
                .alter_table(
                    Table::alter()
                        .table(Citizens::Table)
                        .add_column(
                            ColumnDef::new(Alias::new(column))
                                .string()
                                .not_null()
                                .default(default),
                        )
                        .to_owned(),
                )
                .await?;
        }
        for column in ["temp_until", "household_id"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Citizens::Table)
                        .add_column(
                            ColumnDef::new(Alias::new(column))
                                .string()
                                .not_null()
                                .default(""),
                        )
                        .to_owned(),
                )
                .await?;
        }
        for (column, ty) in [("birth_year", "int"), ("updated_us", "big")] {
            let mut def = ColumnDef::new(Alias::new(column));
            if ty == "int" {
                def.integer();
            } else {
                def.big_integer();
            }
            manager
                .alter_table(
                    Table::alter()
                        .table(Citizens::Table)
                        .add_column(def.not_null().default(0))
                        .to_owned(),
                )
                .await?;
        }
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE citizens SET birth_year = CAST(substr(birth_date, 1, 4) AS INTEGER), \
             updated_us = created_us, updated_by = created_by",
        )
        .await?;
        for (name, columns) in [
            (
                "idx_citizens_name_year",
                vec![Citizens::NameKey, Citizens::BirthYear, Citizens::PersonalId],
            ),
            (
                "idx_citizens_name_id",
                vec![Citizens::NameKey, Citizens::PersonalId],
            ),
            (
                "idx_citizens_perm_commune",
                vec![Citizens::PermCommune, Citizens::PersonalId],
            ),
            (
                "idx_citizens_temp_commune",
                vec![Citizens::TempCommune, Citizens::PersonalId],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Citizens::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        // The name-only index of m0001 gives way to (name_key, personal_id), which also
        // returns a name-only search already in personal-ID order.
        manager
            .drop_index(
                Index::drop()
                    .name("idx_citizens_name_key")
                    .table(Citizens::Table)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CitizenHistory::Table)
                    .col(big_pk_auto(CitizenHistory::Id))
                    .col(string(CitizenHistory::PersonalId))
                    .col(big_integer(CitizenHistory::Version))
                    .col(big_integer(CitizenHistory::ChangedUs))
                    .col(string(CitizenHistory::ChangedBy))
                    .col(string(CitizenHistory::Fields))
                    .col(string(CitizenHistory::Reason))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_citizen_history_person")
                    .table(CitizenHistory::Table)
                    .col(CitizenHistory::PersonalId)
                    .col(CitizenHistory::Version)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Registrations made before this migration start their history.
        db.execute_unprepared(
            "INSERT INTO citizen_history (personal_id, version, changed_us, changed_by, fields, reason) \
             SELECT personal_id, version, created_us, created_by, '', 'registration' FROM citizens",
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ResidenceEvents::Table)
                    .col(big_pk_auto(ResidenceEvents::Seq))
                    .col(string_uniq(ResidenceEvents::EventId))
                    .col(string(ResidenceEvents::PersonalId))
                    .col(string(ResidenceEvents::Kind))
                    .col(string(ResidenceEvents::CommuneCode))
                    .col(string(ResidenceEvents::ProvinceCode))
                    .col(string(ResidenceEvents::Address))
                    .col(string(ResidenceEvents::StartDate))
                    .col(string(ResidenceEvents::EndDate))
                    .col(string(ResidenceEvents::HostName))
                    .col(string(ResidenceEvents::Supervision))
                    .col(string(ResidenceEvents::Destination))
                    .col(boolean(ResidenceEvents::Mandatory))
                    .col(big_integer(ResidenceEvents::RecordedUs))
                    .col(string(ResidenceEvents::RecordedBy))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_residence_events_person")
                    .table(ResidenceEvents::Table)
                    .col(ResidenceEvents::PersonalId)
                    .col(ResidenceEvents::Seq)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Households::Table)
                    .col(string(Households::Id).primary_key())
                    .col(string(Households::CommuneCode))
                    .col(string(Households::Address))
                    .col(big_integer(Households::CreatedUs))
                    .col(string(Households::CreatedBy))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(HouseholdMembers::Table)
                    .col(string(HouseholdMembers::PersonalId).primary_key())
                    .col(string(HouseholdMembers::HouseholdId))
                    .col(string(HouseholdMembers::Relation))
                    .col(big_integer(HouseholdMembers::JoinedUs))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_household_members_household")
                    .table(HouseholdMembers::Table)
                    .col(HouseholdMembers::HouseholdId)
                    .to_owned(),
            )
            .await?;
        // One head per household, enforced by the database as well as by the use case.
        // Partial indexes are written the same way in SQLite and PostgreSQL.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX idx_household_one_head ON household_members (household_id) \
             WHERE relation = 'head'",
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ChangeEvents::Table)
                    .col(big_pk_auto(ChangeEvents::Seq))
                    .col(string(ChangeEvents::PersonalId))
                    .col(string(ChangeEvents::Kind))
                    .col(big_integer(ChangeEvents::ChangeUs))
                    .col(string(ChangeEvents::Fields))
                    .col(string(ChangeEvents::ResidenceKind))
                    .col(string(ChangeEvents::CommuneCode))
                    .col(string(ChangeEvents::ReferenceId))
                    .to_owned(),
            )
            .await?;
        // Every citizen registered before this migration enters the feed once.
        db.execute_unprepared(
            "INSERT INTO change_events (personal_id, kind, change_us, fields, residence_kind, \
             commune_code, reference_id) SELECT personal_id, 'registered', created_us, '', '', '', '' \
             FROM citizens ORDER BY created_us",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ChangeEvents::Table.into_iden(),
            HouseholdMembers::Table.into_iden(),
            Households::Table.into_iden(),
            ResidenceEvents::Table.into_iden(),
            CitizenHistory::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
