//! sea-orm entities of foreign nationals and accommodation declarations.

/// Foreign nationals, unique by (nationality, passport number).
pub mod foreigner {
    use sea_orm::entity::prelude::*;

    /// A row of `foreigners`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "foreigners")]
    pub struct Model {
        /// Id (UUIDv7, so ids sort in registration order).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// ISO 3166-1 alpha-3, upper-case.
        pub nationality: String,
        /// Passport number, upper-case.
        pub passport_number: String,
        /// Full name, NFC.
        pub full_name: String,
        /// Case- and diacritic-insensitive search key of the name.
        pub name_key: String,
        /// `male` or `female`.
        pub sex: String,
        /// Date of birth, `YYYY-MM-DD`.
        pub birth_date: String,
        /// `visa`, `temporary_residence_card` or `permanent_residence_card`.
        pub document_kind: String,
        /// Document number.
        pub document_number: String,
        /// First day of validity, `YYYY-MM-DD`.
        pub document_valid_from: String,
        /// Last day of validity, `YYYY-MM-DD`; `None` for an open-ended permanent card.
        pub document_valid_until: Option<String>,
        /// Officer who registered the foreigner.
        pub created_by: String,
        /// Registration time (Unix microseconds).
        pub created_us: i64,
        /// Incremented on every change; the etag.
        pub version: i64,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Hosts' declarations of foreign guests.
pub mod declaration {
    use sea_orm::entity::prelude::*;

    /// A row of `accommodation_declarations`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "accommodation_declarations")]
    pub struct Model {
        /// Id (UUIDv7, so ids sort in the order declarations were received).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The guest (`foreigners.id`).
        pub foreigner_id: String,
        /// Host or establishment name.
        pub host_name: String,
        /// Five-digit commune code.
        pub commune_code: String,
        /// Street address.
        pub address: String,
        /// Arrival (Unix microseconds).
        pub arrival_us: i64,
        /// Planned departure (Unix microseconds).
        pub planned_departure_us: i64,
        /// End of the stay: the check-out if any, else the planned departure.
        pub end_us: i64,
        /// Remote area (24 h to declare instead of 12).
        pub remote_area: bool,
        /// Server time of receipt (Unix microseconds).
        pub received_us: i64,
        /// Received after the deadline.
        pub late: bool,
        /// Check-out (Unix microseconds), `None` while staying.
        pub checked_out_us: Option<i64>,
        /// Officer (or host account) who filed it.
        pub declared_by: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
