//! sea-orm entities of the identity database.

/// Officers and service accounts that can log in.
pub mod officer {
    use sea_orm::entity::prelude::*;

    /// A row of `officers`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "officers")]
    pub struct Model {
        /// Stable id (UUID).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// Login name, unique.
        #[sea_orm(unique)]
        pub username: String,
        /// Argon2id PHC string.
        pub password_hash: String,
        /// Code of the officer's unit.
        pub unit: String,
        /// Roles, comma-separated.
        pub roles: String,
        /// Disabled accounts cannot log in.
        pub disabled: bool,
        /// When the account was disabled (Unix microseconds); tokens issued until then
        /// are revoked.
        pub disabled_us: Option<i64>,
        /// The officer's own personal ID, when recorded.
        pub personal_id: Option<String>,
        /// Creation time (Unix microseconds).
        pub created_us: i64,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Ed25519 keys that sign access tokens.
pub mod signing_key {
    use sea_orm::entity::prelude::*;

    /// A row of `signing_keys`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "signing_keys")]
    pub struct Model {
        /// Key id (`kid` header of tokens).
        #[sea_orm(primary_key, auto_increment = false)]
        pub kid: String,
        /// PKCS#8 DER private key.
        pub private_pkcs8: Vec<u8>,
        /// Raw 32-byte public key.
        pub public_key: Vec<u8>,
        /// From when the key signs (Unix microseconds); published before.
        pub active_us: i64,
        /// Creation time (Unix microseconds).
        pub created_us: i64,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
