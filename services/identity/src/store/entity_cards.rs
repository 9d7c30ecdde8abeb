//! sea-orm entities of identity cards and their events.

/// Identity cards: one row per holder (the card number is the personal ID).
pub mod card {
    use sea_orm::entity::prelude::*;

    /// A row of `identity_cards`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "identity_cards")]
    pub struct Model {
        /// Card number: the holder's personal ID.
        #[sea_orm(primary_key, auto_increment = false)]
        pub personal_id: String,
        /// `active`, `lost` or `revoked` (expiry is computed from `expire_date`).
        pub status: String,
        /// Date of the current issue or renewal, `YYYY-MM-DD`.
        pub issue_date: String,
        /// First day no longer valid, `YYYY-MM-DD`; `None` when it never expires.
        pub expire_date: Option<String>,
        /// Time of the last change (Unix microseconds).
        pub updated_us: i64,
        /// Incremented on every change; the etag and the optimistic-concurrency check.
        pub version: i64,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The history of each card, append-only.
pub mod card_event {
    use sea_orm::entity::prelude::*;

    /// A row of `identity_card_events`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "identity_card_events")]
    pub struct Model {
        /// Event id (UUIDv7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The card (holder's personal ID).
        pub personal_id: String,
        /// Position in the card's history from 1 (equals the card's version after it).
        pub sequence: i64,
        /// `issued`, `renewed`, `reported_lost` or `revoked`.
        pub kind: String,
        /// When it was recorded (Unix microseconds).
        pub at_us: i64,
        /// Officer who recorded it.
        pub actor_id: String,
        /// Issue date after the event, `YYYY-MM-DD`.
        pub issue_date: String,
        /// Expiry after the event, `YYYY-MM-DD`, or `None`.
        pub expire_date: Option<String>,
        /// Reason given with the change.
        pub reason: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
