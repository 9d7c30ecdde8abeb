//! Officers, token signing keys, refresh tokens and revoked access tokens.

use super::entity::{officer, signing_key};
use super::entity_access::{refresh_token, revoked_token};
use super::{IdentityStore, InsertError, OfficerRow, RefreshTokenRow, SigningKeyRow};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};

/// What became of a refresh token presented for exchange.
#[derive(Debug, PartialEq, Eq)]
pub enum RefreshUse {
    /// Valid: now marked used; the account it refreshes.
    Exchanged(String),
    /// Unknown or expired.
    Invalid,
    /// Already used: replayed. Every refresh token of the account is now void.
    Replayed,
}

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
            disabled_us: Set(row.disabled_us),
            personal_id: Set(row.personal_id),
            created_us: Set(row.created_us),
        })
        .exec_without_returning(&self.writer)
        .await
        .map_err(InsertError::classify)?;
        Ok(())
    }

    /// Replaces an officer's password hash.
    pub async fn set_password_hash(&self, officer_id: &str, hash: String) -> Result<(), DbErr> {
        officer::Entity::update_many()
            .col_expr(officer::Column::PasswordHash, hash.into())
            .filter(officer::Column::Id.eq(officer_id))
            .exec(&self.writer)
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
            active_us: Set(row.active_us),
            created_us: Set(row.created_us),
        })
        .exec_without_returning(&self.writer)
        .await?;
        Ok(())
    }
}

impl IdentityStore {
    /// The officer with this id.
    pub async fn officer_by_id(&self, id: &str) -> Result<Option<OfficerRow>, DbErr> {
        officer::Entity::find_by_id(id).one(&self.db).await
    }

    /// Every officer whose unit is one of `units`, by username.
    pub async fn officers_in_units(&self, units: &[String]) -> Result<Vec<OfficerRow>, DbErr> {
        officer::Entity::find()
            .filter(officer::Column::Unit.is_in(units.iter().cloned()))
            .order_by_asc(officer::Column::Username)
            .all(&self.db)
            .await
    }

    /// Replaces an officer's roles (comma-separated).
    pub async fn set_roles(&self, officer_id: &str, roles: String) -> Result<(), DbErr> {
        officer::Entity::update_many()
            .col_expr(officer::Column::Roles, roles.into())
            .filter(officer::Column::Id.eq(officer_id))
            .exec(&self.writer)
            .await?;
        Ok(())
    }

    /// Disables an officer (keeping the first disable time) and deletes their refresh
    /// tokens, in one transaction.
    pub async fn disable_officer(&self, officer_id: &str, now_us: i64) -> Result<(), DbErr> {
        let txn = self.writer.begin().await?;
        officer::Entity::update_many()
            .col_expr(officer::Column::Disabled, true.into())
            .col_expr(officer::Column::DisabledUs, Some(now_us).into())
            .filter(officer::Column::Id.eq(officer_id))
            .filter(officer::Column::Disabled.eq(false))
            .exec(&txn)
            .await?;
        // Deleted, not marked used: a later attempt is an invalid token, not a replay.
        refresh_token::Entity::delete_many()
            .filter(refresh_token::Column::OfficerId.eq(officer_id))
            .exec(&txn)
            .await?;
        txn.commit().await
    }

    /// Disabled accounts and when they were disabled (Unix microseconds).
    pub async fn disabled_officers(&self) -> Result<Vec<(String, i64)>, DbErr> {
        Ok(officer::Entity::find()
            .filter(officer::Column::Disabled.eq(true))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|o| (o.id, o.disabled_us.unwrap_or(i64::MAX)))
            .collect())
    }

    /// Stores a refresh token (its hash).
    pub async fn insert_refresh_token(&self, row: RefreshTokenRow) -> Result<(), DbErr> {
        refresh_token::Entity::insert(refresh_token::ActiveModel {
            token_hash: Set(row.token_hash),
            officer_id: Set(row.officer_id),
            expires_us: Set(row.expires_us),
            used: Set(row.used),
            created_us: Set(row.created_us),
        })
        .exec_without_returning(&self.writer)
        .await?;
        Ok(())
    }

    /// Marks a refresh token used, exactly once (a conditional update, so two concurrent
    /// exchanges of one token cannot both succeed).
    pub async fn use_refresh_token(&self, hash: &str, now_us: i64) -> Result<RefreshUse, DbErr> {
        let Some(row) = refresh_token::Entity::find_by_id(hash)
            .one(&self.db)
            .await?
        else {
            return Ok(RefreshUse::Invalid);
        };
        if row.expires_us <= now_us {
            return Ok(RefreshUse::Invalid);
        }
        let updated = refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::Used, true.into())
            .filter(refresh_token::Column::TokenHash.eq(hash))
            .filter(refresh_token::Column::Used.eq(false))
            .exec(&self.writer)
            .await?;
        if updated.rows_affected == 1 {
            return Ok(RefreshUse::Exchanged(row.officer_id));
        }
        refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::Used, true.into())
            .filter(refresh_token::Column::OfficerId.eq(row.officer_id.as_str()))
            .exec(&self.writer)
            .await?;
        Ok(RefreshUse::Replayed)
    }

    /// Voids one refresh token (deleted: a later attempt is invalid, not a replay).
    pub async fn void_refresh_token(&self, hash: &str) -> Result<(), DbErr> {
        refresh_token::Entity::delete_by_id(hash)
            .exec(&self.writer)
            .await?;
        Ok(())
    }

    /// Revokes one access token until it expires; drops revocations of expired tokens.
    pub async fn revoke_token(
        &self,
        token_id: &str,
        expires_us: i64,
        now_us: i64,
    ) -> Result<(), DbErr> {
        revoked_token::Entity::delete_many()
            .filter(revoked_token::Column::ExpiresUs.lt(now_us))
            .exec(&self.writer)
            .await?;
        let insert = revoked_token::Entity::insert(revoked_token::ActiveModel {
            token_id: Set(token_id.to_owned()),
            expires_us: Set(expires_us),
        })
        .exec_without_returning(&self.writer)
        .await;
        match insert.map_err(InsertError::classify) {
            Ok(_) | Err(InsertError::Duplicate) => Ok(()),
            Err(InsertError::Db(e)) => Err(e),
        }
    }

    /// Ids of revoked access tokens that have not expired.
    pub async fn revoked_tokens(&self, now_us: i64) -> Result<Vec<String>, DbErr> {
        Ok(revoked_token::Entity::find()
            .filter(revoked_token::Column::ExpiresUs.gte(now_us))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|r| r.token_id)
            .collect())
    }

    /// Removes a signing key.
    pub async fn delete_signing_key(&self, kid: &str) -> Result<(), DbErr> {
        signing_key::Entity::delete_by_id(kid)
            .exec(&self.writer)
            .await?;
        Ok(())
    }
}
