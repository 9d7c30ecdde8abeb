//! sea-orm entities of access control: units, refresh tokens, revoked access tokens.

/// Police units.
pub mod unit {
    use sea_orm::entity::prelude::*;

    /// A row of `units`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "units")]
    pub struct Model {
        /// Unit code, e.g. `CAT-01`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub code: String,
        /// Name.
        pub name: String,
        /// Parent unit code; `None` for the Ministry.
        pub parent_code: Option<String>,
        /// Area covered: `VN`, a province or a commune code.
        pub area_code: String,
        /// Creation time (Unix microseconds).
        pub created_us: i64,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Refresh tokens, stored as SHA-256 hashes.
pub mod refresh_token {
    use sea_orm::entity::prelude::*;

    /// A row of `refresh_tokens`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "refresh_tokens")]
    pub struct Model {
        /// Hex SHA-256 of the token.
        #[sea_orm(primary_key, auto_increment = false)]
        pub token_hash: String,
        /// Account the token refreshes.
        pub officer_id: String,
        /// Expiry (Unix microseconds).
        pub expires_us: i64,
        /// Already exchanged (single use).
        pub used: bool,
        /// Creation time (Unix microseconds).
        pub created_us: i64,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Access tokens revoked by logout, until they expire.
pub mod revoked_token {
    use sea_orm::entity::prelude::*;

    /// A row of `revoked_tokens`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "revoked_tokens")]
    pub struct Model {
        /// The token's `jti`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub token_id: String,
        /// The token's expiry (Unix microseconds); the row is useless after it.
        pub expires_us: i64,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
