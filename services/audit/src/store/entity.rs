//! sea-orm entities of the audit database.

/// One accepted audit event.
pub mod event {
    use sea_orm::entity::prelude::*;

    /// A row of `audit_events`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_events")]
    pub struct Model {
        /// Acceptance order.
        #[sea_orm(primary_key)]
        pub seq: i64,
        /// Sender-chosen unique id (idempotency key).
        #[sea_orm(unique)]
        pub event_id: String,
        /// When the audited call happened (Unix microseconds).
        pub occur_time_us: i64,
        /// When the event was accepted (Unix microseconds).
        pub accept_time_us: i64,
        /// Service that handled the call.
        pub service: String,
        /// Acting officer or service account.
        pub actor_id: String,
        /// The actor's unit.
        pub actor_unit: String,
        /// Full gRPC method.
        pub rpc: String,
        /// Type of resource touched.
        pub resource_type: String,
        /// Id of a non-person resource.
        pub resource_id: String,
        /// Keyed hash of the subject's personal ID, or empty.
        pub subject_hash: String,
        /// Declared purpose code.
        pub purpose: String,
        /// Case reference.
        pub case_reference: String,
        /// Outcome status code name.
        pub outcome: String,
        /// Trace id of the audited call.
        pub trace_id: String,
        /// Position in the verifiable log (set for every event accepted since the log
        /// exists; older rows are adopted into the log at start).
        #[sea_orm(unique)]
        pub leaf_index: Option<i64>,
        /// Break-glass justification, or empty.
        pub break_glass: String,
        /// Authorization decision: `allow`, `deny` or empty.
        pub decision: String,
        /// Ids of the deciding policies, one per line.
        pub policy_ids: String,
        /// The caller's network address.
        pub client_address: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Named settings the service generates once (e.g. the subject hashing key).
pub mod setting {
    use sea_orm::entity::prelude::*;

    /// A row of `audit_settings`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_settings")]
    pub struct Model {
        /// Setting name.
        #[sea_orm(primary_key, auto_increment = false)]
        pub name: String,
        /// Setting value.
        pub value: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One leaf of the verifiable log: kept when the event's body is archived.
pub mod leaf {
    use sea_orm::entity::prelude::*;

    /// A row of `audit_leaves`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_leaves")]
    pub struct Model {
        /// 0-based leaf index.
        #[sea_orm(primary_key, auto_increment = false)]
        pub leaf_index: i64,
        /// SHA-256(0x00 ‖ canonical entry), 32 bytes.
        pub leaf_hash: Vec<u8>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Alerts raised by accepted events.
pub mod alert {
    use sea_orm::entity::prelude::*;

    /// A row of `audit_alerts`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_alerts")]
    pub struct Model {
        /// Increasing id; the WatchAlerts cursor.
        #[sea_orm(primary_key, auto_increment = false)]
        pub alert_id: i64,
        /// Rule that fired (`many_subjects`, `break_glass`, ...).
        pub kind: String,
        /// When it was raised (Unix microseconds).
        pub create_time_us: i64,
        /// The event that raised it.
        pub event_id: String,
        /// That event's leaf index.
        pub leaf_index: i64,
        /// The acting officer or service account.
        pub actor_id: String,
        /// The actor's unit.
        pub actor_unit: String,
        /// Explanation without personal data.
        pub detail: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The deferred lookup index: which events have a given actor, subject, unit or purpose
/// (see `lookup.rs`).
pub mod lookup {
    use sea_orm::entity::prelude::*;

    /// A row of `audit_lookup`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_lookup")]
    pub struct Model {
        /// Which event column the key is from (`LookupKind`).
        #[sea_orm(primary_key, auto_increment = false)]
        pub kind: i32,
        /// The column's value.
        #[sea_orm(primary_key, auto_increment = false)]
        pub lookup_key: String,
        /// The event's acceptance order.
        #[sea_orm(primary_key, auto_increment = false)]
        pub seq: i64,
    }

    /// The event a row points to.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        /// The indexed event.
        #[sea_orm(
            belongs_to = "super::event::Entity",
            from = "Column::Seq",
            to = "super::event::Column::Seq"
        )]
        Event,
    }

    impl ActiveModelBehavior for ActiveModel {}
}
