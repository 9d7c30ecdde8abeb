//! sea-orm entities of the population register: citizens, their history, residence
//! events, households and the change feed.

/// Citizens, with the derived current residence (kept in step with residence events in
/// the same transaction).
pub mod citizen {
    use sea_orm::entity::prelude::*;

    /// A row of `citizens`. Multi-valued fields are joined: `other_names` by newlines,
    /// `children_ids` by commas. Empty text means "not recorded".
    #[derive(Clone, Debug, PartialEq, Eq, Default, DeriveEntityModel)]
    #[sea_orm(table_name = "citizens")]
    pub struct Model {
        /// 12-digit personal identification number.
        #[sea_orm(primary_key, auto_increment = false)]
        pub personal_id: String,
        /// Full name, NFC.
        pub full_name: String,
        /// Case- and diacritic-insensitive search key of the name.
        pub name_key: String,
        /// `male` or `female`.
        pub sex: String,
        /// Date of birth, `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
        pub birth_date: String,
        /// Year of birth (indexed with the name key).
        pub birth_year: i32,
        /// Place of birth, free text.
        pub place_of_birth: String,
        /// Id of the officer who registered the citizen.
        pub created_by: String,
        /// Registration time (Unix microseconds).
        pub created_us: i64,
        /// Incremented on every change; the etag.
        pub version: i64,
        /// Other names, newline-separated.
        pub other_names: String,
        /// Place of birth registration.
        pub place_of_birth_registration: String,
        /// Home town.
        pub home_town: String,
        /// Ethnicity.
        pub ethnicity: String,
        /// Religion.
        pub religion: String,
        /// Nationality, ISO 3166-1 alpha-3.
        pub nationality: String,
        /// `a`, `b`, `ab`, `o` or empty.
        pub blood_type: String,
        /// Old 9-digit ID number.
        pub old_id_number: String,
        /// Father's personal ID.
        pub father_id: String,
        /// Mother's personal ID.
        pub mother_id: String,
        /// Spouse's personal ID.
        pub spouse_id: String,
        /// Children's personal IDs, comma-separated.
        pub children_ids: String,
        /// Legal representative's personal ID.
        pub legal_rep_id: String,
        /// `single`, `married`, `divorced`, `widowed` or empty.
        pub marital_status: String,
        /// Phone number.
        pub phone: String,
        /// E-mail address.
        pub email: String,
        /// `alive`, `deceased` or `missing`.
        pub life_status: String,
        /// Date of death or disappearance (partial-date storage form) or empty.
        pub life_status_date: String,
        /// Last change (Unix microseconds).
        pub updated_us: i64,
        /// Officer who made the last change.
        pub updated_by: String,
        /// Commune of permanent residence, or empty.
        pub perm_commune: String,
        /// Province of permanent residence, or empty.
        pub perm_province: String,
        /// Commune of the latest temporary residence, or empty.
        pub temp_commune: String,
        /// Province of the latest temporary residence, or empty.
        pub temp_province: String,
        /// Last day (`YYYY-MM-DD`) of the latest temporary residence, or empty.
        pub temp_until: String,
        /// Household id, or empty.
        pub household_id: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One change to a citizen record.
pub mod citizen_history {
    use sea_orm::entity::prelude::*;

    /// A row of `citizen_history`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "citizen_history")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// Personal ID.
        pub personal_id: String,
        /// Version the change produced.
        pub version: i64,
        /// When (Unix microseconds).
        pub changed_us: i64,
        /// Officer id.
        pub changed_by: String,
        /// Changed field names, comma-separated.
        pub fields: String,
        /// Why.
        pub reason: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Immutable residence events.
pub mod residence_event {
    use sea_orm::entity::prelude::*;

    /// A row of `residence_events`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "residence_events")]
    pub struct Model {
        /// Order of recording.
        #[sea_orm(primary_key)]
        pub seq: i64,
        /// Event id (UUID).
        #[sea_orm(unique)]
        pub event_id: String,
        /// Personal ID.
        pub personal_id: String,
        /// `permanent`, `temporary`, `stay` or `absence`.
        pub kind: String,
        /// Commune code.
        pub commune_code: String,
        /// Province code.
        pub province_code: String,
        /// Address in the commune.
        pub address: String,
        /// First day, `YYYY-MM-DD`.
        pub start_date: String,
        /// Last day, `YYYY-MM-DD`, or empty.
        pub end_date: String,
        /// Host, for stays.
        pub host_name: String,
        /// Supervision code, for absences.
        pub supervision: String,
        /// Destination, for absences.
        pub destination: String,
        /// Whether an absence declaration was mandatory.
        pub mandatory: bool,
        /// When recorded (Unix microseconds).
        pub recorded_us: i64,
        /// Officer id.
        pub recorded_by: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Households.
pub mod household {
    use sea_orm::entity::prelude::*;

    /// A row of `households`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "households")]
    pub struct Model {
        /// Household id (UUID).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// Commune code.
        pub commune_code: String,
        /// Address.
        pub address: String,
        /// Creation time (Unix microseconds).
        pub created_us: i64,
        /// Officer id.
        pub created_by: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Household membership: one row per person.
pub mod household_member {
    use sea_orm::entity::prelude::*;

    /// A row of `household_members`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "household_members")]
    pub struct Model {
        /// Personal ID.
        #[sea_orm(primary_key, auto_increment = false)]
        pub personal_id: String,
        /// Household id.
        pub household_id: String,
        /// Relation code.
        pub relation: String,
        /// When the person joined (Unix microseconds).
        pub joined_us: i64,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The change feed.
pub mod change_event {
    use sea_orm::entity::prelude::*;

    /// A row of `change_events`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "change_events")]
    pub struct Model {
        /// Commit order; the cursor.
        #[sea_orm(primary_key)]
        pub seq: i64,
        /// Personal ID.
        pub personal_id: String,
        /// `registered`, `updated`, `deceased`, `missing`, `residence`, `household`.
        pub kind: String,
        /// When (Unix microseconds).
        pub change_us: i64,
        /// Changed fields, comma-separated (updates).
        pub fields: String,
        /// Residence kind (residence changes).
        pub residence_kind: String,
        /// Commune concerned.
        pub commune_code: String,
        /// Residence event or household id.
        pub reference_id: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
