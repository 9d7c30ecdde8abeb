//! sea-orm entities of the records database.

/// Subject records.
pub mod subject_record {
    use sea_orm::entity::prelude::*;

    /// A row of `subject_records`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "subject_records")]
    pub struct Model {
        /// Record id (UUIDv7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// Subject's personal identification number.
        pub personal_id: String,
        /// Classification code, e.g. `post_rehabilitation`.
        pub classification: String,
        /// Source kind code, e.g. `investigation`.
        pub source_kind: String,
        /// Decision or case number of the source.
        pub source_reference: String,
        /// Unit that issued the source decision.
        pub source_issuing_unit: String,
        /// Full name as identity held it at creation.
        pub snapshot_full_name: String,
        /// Date of birth (`YYYY-MM-DD`) as identity held it at creation.
        pub snapshot_birth_date: String,
        /// Unit owning the record.
        pub owning_unit: String,
        /// Area code of the owning unit (empty for records from before areas were kept).
        pub owning_area: String,
        /// Officer who created the record.
        pub created_by: String,
        /// Creation time (Unix microseconds).
        pub created_us: i64,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
