//! Officers and token signing keys.

use super::entity::{officer, signing_key};
use super::{IdentityStore, InsertError, OfficerRow, SigningKeyRow};
use sea_orm::{ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

impl IdentityStore {
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
}
