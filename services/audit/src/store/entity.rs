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
