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

/// Subjects: people a unit keeps records on.
pub mod subject {
    use sea_orm::entity::prelude::*;

    /// A row of `subjects`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "subjects")]
    pub struct Model {
        /// Subject id (UUIDv7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// `citizen` or `foreigner`.
        pub kind: String,
        /// Who the person is, unique per owning unit: `c:<personal id>` or
        /// `f:<nationality>:<passport>`.
        pub person_key: String,
        /// Personal ID of a citizen; empty for foreigners.
        pub personal_id: String,
        /// Passport number of a foreigner (upper case); empty for citizens.
        pub passport_number: String,
        /// Nationality of a foreigner (ISO alpha-3); empty for citizens.
        pub nationality: String,
        /// Identity's id of the foreigner; empty for citizens.
        pub foreigner_id: String,
        /// Full name as identity held it when last looked at.
        pub snapshot_full_name: String,
        /// Date of birth (`YYYY-MM-DD`) as identity held it.
        pub snapshot_birth_date: String,
        /// Commune of current residence; empty when unknown.
        pub snapshot_commune: String,
        /// `alive`, `deceased`, `missing` or empty when unknown.
        pub snapshot_life_status: String,
        /// When the snapshot was last refreshed (Unix microseconds).
        pub snapshot_refreshed_us: i64,
        /// Owning unit.
        pub owning_unit: String,
        /// Area code (commune or province) of the owning unit.
        pub owning_area: String,
        /// Province code of the owning area (`VN` for national units).
        pub owning_province: String,
        /// Source kind code of the decision to manage the person.
        pub source_kind: String,
        /// Decision or case number.
        pub source_reference: String,
        /// Issuing unit of the source decision.
        pub source_issuing_unit: String,
        /// Officer who created the subject.
        pub created_by: String,
        /// Creation time (Unix microseconds).
        pub created_us: i64,
        /// Last change to the subject or its classifications, timeline or snapshot (Unix
        /// microseconds).
        pub updated_us: i64,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Classifications of subjects.
pub mod classification {
    use sea_orm::entity::prelude::*;

    /// A row of `subject_classifications`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "subject_classifications")]
    pub struct Model {
        /// Classification id (UUIDv7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The subject.
        pub subject_id: String,
        /// Class code, e.g. `post_rehabilitation`.
        pub classification: String,
        /// First day in force (`YYYY-MM-DD`).
        pub start_date: String,
        /// Last day in force (`YYYY-MM-DD`), if any.
        pub end_date: Option<String>,
        /// Legal basis.
        pub legal_basis: String,
        /// Owning unit.
        pub owning_unit: String,
        /// `active` or `ended` (an active row whose end date passed reads as ended).
        pub status: String,
        /// Source kind code.
        pub source_kind: String,
        /// Decision or case number.
        pub source_reference: String,
        /// Issuing unit.
        pub source_issuing_unit: String,
        /// Officer who recorded it.
        pub created_by: String,
        /// Creation time (Unix microseconds).
        pub created_us: i64,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Timeline entries (append-only).
pub mod timeline_entry {
    use sea_orm::entity::prelude::*;

    /// A row of `timeline_entries`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "timeline_entries")]
    pub struct Model {
        /// Entry id (UUIDv7, so ordered by creation).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The subject.
        pub subject_id: String,
        /// Kind code, e.g. `arrest`.
        pub kind: String,
        /// Day of the event (`YYYY-MM-DD`).
        pub occur_date: String,
        /// What happened.
        pub summary: String,
        /// Source kind code.
        pub source_kind: String,
        /// Decision or case number.
        pub source_reference: String,
        /// Issuing unit.
        pub source_issuing_unit: String,
        /// The entry this one corrects, if any.
        pub corrects_entry_id: Option<String>,
        /// Officer who recorded it.
        pub created_by: String,
        /// Creation time (Unix microseconds).
        pub created_us: i64,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Movement alerts raised from identity's change feed.
pub mod movement_alert {
    use sea_orm::entity::prelude::*;

    /// A row of `movement_alerts`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "movement_alerts")]
    pub struct Model {
        /// Alert id (UUIDv7, so ordered by creation).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The subject.
        pub subject_id: String,
        /// Unit alerted.
        pub owning_unit: String,
        /// `moved`, `absence`, `deceased` or `missing`.
        pub kind: String,
        /// Supervision class codes held, comma-separated.
        pub supervision: String,
        /// Commune before the change, as records knew it.
        pub previous_commune: String,
        /// Commune named by the change.
        pub commune: String,
        /// Residence event kind named by the change.
        pub residence_kind: String,
        /// Cursor of the feed change that raised it.
        pub feed_cursor: String,
        /// When identity committed the change (Unix microseconds).
        pub change_us: i64,
        /// When the alert was raised (Unix microseconds).
        pub created_us: i64,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Cursors of the feeds records follows.
pub mod feed_cursor {
    use sea_orm::entity::prelude::*;

    /// A row of `feed_cursors`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "feed_cursors")]
    pub struct Model {
        /// Feed name, e.g. `identity.changes`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub feed: String,
        /// Cursor of the last change fully processed.
        pub cursor: String,
        /// When it was last advanced (Unix microseconds).
        pub updated_us: i64,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
