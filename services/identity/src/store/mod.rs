//! The identity service's own database: officers, token signing keys, citizens and the
//! audit outbox. Nothing here knows about gRPC.

mod entity;
mod migration;

pub use entity::citizen::Model as CitizenRow;
pub use entity::officer::Model as OfficerRow;
pub use entity::signing_key::Model as SigningKeyRow;
pub use migration::Migrator;

use entity::{citizen, officer, signing_key};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, QueryFilter, QueryOrder, SqlErr, TransactionTrait,
};

/// Why an insert failed.
#[derive(Debug, thiserror::Error)]
pub enum InsertError {
    /// A row with the same key exists.
    #[error("duplicate key")]
    Duplicate,
    /// Any other database failure.
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl InsertError {
    fn classify(error: DbErr) -> Self {
        match error.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Self::Duplicate,
            _ => Self::Db(error),
        }
    }
}

/// The identity store.
#[derive(Clone)]
pub struct IdentityStore {
    db: DatabaseConnection,
}

impl IdentityStore {
    /// Connects to `url` and runs pending migrations.
    pub async fn open(url: &str, max_connections: u32) -> Result<Self, DbErr> {
        let db = dancu_kit::db::open_migrated::<Migrator>(url, max_connections).await?;
        Ok(Self { db })
    }

    /// The connection (shared with the audit outbox).
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Starts a transaction.
    pub async fn begin(&self) -> Result<DatabaseTransaction, DbErr> {
        self.db.begin().await
    }

    /// The officer with this username.
    pub async fn officer_by_username(&self, username: &str) -> Result<Option<OfficerRow>, DbErr> {
        officer::Entity::find()
            .filter(officer::Column::Username.eq(username))
            .one(&self.db)
            .await
    }

    /// Whether any enabled officer holds `role`.
    pub async fn any_officer_with_role(&self, role: &str) -> Result<bool, DbErr> {
        let officers = officer::Entity::find()
            .filter(officer::Column::Disabled.eq(false))
            .all(&self.db)
            .await?;
        Ok(officers
            .iter()
            .any(|o| o.roles.split(',').any(|r| r == role)))
    }

    /// Adds an officer.
    pub async fn insert_officer(&self, row: OfficerRow) -> Result<(), InsertError> {
        officer::Entity::insert(officer::ActiveModel {
            id: Set(row.id),
            username: Set(row.username),
            password_hash: Set(row.password_hash),
            unit: Set(row.unit),
            roles: Set(row.roles),
            disabled: Set(row.disabled),
            created_us: Set(row.created_us),
        })
        .exec_without_returning(&self.db)
        .await
        .map_err(InsertError::classify)?;
        Ok(())
    }

    /// Replaces an officer's password hash.
    pub async fn set_password_hash(&self, officer_id: &str, hash: String) -> Result<(), DbErr> {
        officer::Entity::update_many()
            .col_expr(officer::Column::PasswordHash, hash.into())
            .filter(officer::Column::Id.eq(officer_id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Every token signing key, newest first.
    pub async fn signing_keys(&self) -> Result<Vec<SigningKeyRow>, DbErr> {
        signing_key::Entity::find()
            .order_by_desc(signing_key::Column::CreatedUs)
            .all(&self.db)
            .await
    }

    /// Adds a signing key.
    pub async fn insert_signing_key(&self, row: SigningKeyRow) -> Result<(), DbErr> {
        signing_key::Entity::insert(signing_key::ActiveModel {
            kid: Set(row.kid),
            private_pkcs8: Set(row.private_pkcs8),
            public_key: Set(row.public_key),
            created_us: Set(row.created_us),
        })
        .exec_without_returning(&self.db)
        .await?;
        Ok(())
    }

    /// Adds a citizen through `conn` (a transaction, so the audit event commits with it).
    pub async fn insert_citizen<C: ConnectionTrait>(
        &self,
        conn: &C,
        row: CitizenRow,
    ) -> Result<(), InsertError> {
        citizen::Entity::insert(citizen::ActiveModel {
            personal_id: Set(row.personal_id),
            full_name: Set(row.full_name),
            name_key: Set(row.name_key),
            sex: Set(row.sex),
            birth_date: Set(row.birth_date),
            place_of_birth: Set(row.place_of_birth),
            created_by: Set(row.created_by),
            created_us: Set(row.created_us),
            version: Set(row.version),
        })
        .exec_without_returning(conn)
        .await
        .map_err(InsertError::classify)?;
        Ok(())
    }

    /// The citizen with this personal ID.
    pub async fn citizen(&self, personal_id: &str) -> Result<Option<CitizenRow>, DbErr> {
        citizen::Entity::find_by_id(personal_id).one(&self.db).await
    }
}
