//! Officer and service-account login, and the accounts created at first start.

use super::tokens::TokenSubject;
use super::units::{AccessError, UnitTree};
use super::{IdentityError, TokenIssuer};
use crate::store::{IdentityStore, InsertError, OfficerRow, RefreshTokenRow, RefreshUse};
use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use dancu_kit::auth::Principal;
use dancu_kit::auth::{ROLE_SERVICE, ROLE_SYSTEM_ADMIN};
use sha2::{Digest, Sha256};
use std::sync::{Arc, LazyLock};

/// Username of the bootstrap administrator.
pub const BOOTSTRAP_ADMIN: &str = "admin";
/// Service accounts the other dancu services log in with, using the shared service secret.
pub const SERVICE_ACCOUNTS: [&str; 1] = ["svc-records"];

/// A hash verified against when the username is unknown, so that a wrong username costs
/// the same time as a wrong password.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password("dancu-timing-equaliser").expect("hashing a constant works"));

/// What a successful login returns.
pub struct LoginGrant {
    /// The signed token.
    pub token: String,
    /// Expiry (Unix seconds).
    pub expires_at: i64,
    /// The account's id.
    pub officer_id: String,
    /// The account's unit.
    pub unit: String,
    /// The account's roles.
    pub roles: Vec<String>,
    /// Area code of the account's jurisdiction, empty if none.
    pub area: String,
    /// The single-use refresh token.
    pub refresh_token: String,
    /// Expiry of the refresh token (Unix seconds).
    pub refresh_expires_at: i64,
}

/// Login and account bootstrap.
pub struct Accounts {
    store: IdentityStore,
    issuer: Arc<TokenIssuer>,
    units: Arc<UnitTree>,
    refresh_ttl_secs: i64,
}

impl Accounts {
    /// Accounts over `store`, signing with `issuer`, placing officers in `units`; refresh
    /// tokens live `refresh_ttl_secs`.
    pub fn new(
        store: IdentityStore,
        issuer: Arc<TokenIssuer>,
        units: Arc<UnitTree>,
        refresh_ttl_secs: u64,
    ) -> Self {
        Self {
            store,
            issuer,
            units,
            refresh_ttl_secs: refresh_ttl_secs as i64,
        }
    }

    /// Creates the bootstrap administrator if no administrator exists, with `password` or
    /// a generated one; returns the generated password (to be shown once) if any.
    pub async fn bootstrap_admin(
        &self,
        password: Option<&str>,
    ) -> Result<Option<String>, IdentityError> {
        if self.store.any_officer_with_role(ROLE_SYSTEM_ADMIN).await? {
            return Ok(None);
        }
        let generated = password.is_none().then(dancu_kit::random_secret);
        let password = password.or(generated.as_deref()).unwrap_or_default();
        match self
            .create(
                BOOTSTRAP_ADMIN,
                password,
                super::units::MINISTRY,
                &[ROLE_SYSTEM_ADMIN],
            )
            .await
        {
            Ok(()) => Ok(generated),
            // Another instance created it first.
            Err(IdentityError::AlreadyExists) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Makes sure every service account exists and accepts `secret`.
    pub async fn ensure_service_accounts(&self, secret: &str) -> Result<(), IdentityError> {
        for username in SERVICE_ACCOUNTS {
            match self.store.officer_by_username(username).await? {
                None => match self
                    .create(username, secret, "dancu", &[ROLE_SERVICE])
                    .await
                {
                    Ok(()) | Err(IdentityError::AlreadyExists) => {}
                    Err(e) => return Err(e),
                },
                Some(account) if !verify_password(secret, &account.password_hash).await => {
                    let hash = hash_blocking(secret).await?;
                    self.store.set_password_hash(&account.id, hash).await?;
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    async fn create(
        &self,
        username: &str,
        password: &str,
        unit: &str,
        roles: &[&str],
    ) -> Result<(), IdentityError> {
        self.create_officer(username, password, unit, roles, None)
            .await
            .map(|_| ())
            .map_err(|e| match e {
                IdentityError::Access(AccessError::UsernameTaken) => IdentityError::AlreadyExists,
                e => e,
            })
    }

    /// Creates an officer; returns the stored row. A taken username →
    /// [`AccessError::UsernameTaken`].
    pub async fn create_officer(
        &self,
        username: &str,
        password: &str,
        unit: &str,
        roles: &[&str],
        personal_id: Option<String>,
    ) -> Result<OfficerRow, IdentityError> {
        let row = OfficerRow {
            id: uuid::Uuid::now_v7().to_string(),
            username: username.to_owned(),
            password_hash: hash_blocking(password).await?,
            unit: unit.to_owned(),
            roles: roles.join(","),
            disabled: false,
            disabled_us: None,
            personal_id,
            created_us: chrono::Utc::now().timestamp_micros(),
        };
        self.store
            .insert_officer(row.clone())
            .await
            .map_err(|e| match e {
                InsertError::Duplicate => AccessError::UsernameTaken.into(),
                InsertError::Db(e) => IdentityError::Storage(e),
            })?;
        Ok(row)
    }

    /// Exchanges a refresh token for new tokens (rotation: the old one is spent). A
    /// replayed token voids every refresh token of its account.
    pub async fn refresh(&self, refresh_token: &str) -> Result<LoginGrant, IdentityError> {
        let now_us = chrono::Utc::now().timestamp_micros();
        let officer_id = match self
            .store
            .use_refresh_token(&hash_refresh(refresh_token), now_us)
            .await?
        {
            RefreshUse::Exchanged(id) => id,
            RefreshUse::Replayed => {
                tracing::warn!(
                    "a spent refresh token was presented again; the account's refresh tokens are void"
                );
                return Err(AccessError::InvalidRefresh.into());
            }
            RefreshUse::Invalid => return Err(AccessError::InvalidRefresh.into()),
        };
        match self.store.officer_by_id(&officer_id).await? {
            Some(account) if !account.disabled => self.grant(account).await,
            _ => Err(AccessError::InvalidRefresh.into()),
        }
    }

    /// Revokes the caller's access token and voids `refresh_token` if given.
    pub async fn logout(
        &self,
        principal: &Principal,
        refresh_token: Option<&str>,
    ) -> Result<(), IdentityError> {
        let now_us = chrono::Utc::now().timestamp_micros();
        self.store
            .revoke_token(
                &principal.token_id,
                principal.expires_at.saturating_mul(1_000_000),
                now_us,
            )
            .await?;
        if let Some(token) = refresh_token {
            self.store.void_refresh_token(&hash_refresh(token)).await?;
        }
        Ok(())
    }

    /// Signs an access token and a refresh token for an account.
    async fn grant(&self, account: OfficerRow) -> Result<LoginGrant, IdentityError> {
        let roles: Vec<String> = account
            .roles
            .split(',')
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect();
        let area = self
            .units
            .unit(&account.unit)
            .map(|u| u.area_code)
            .unwrap_or_default();
        let signed = self.issuer.issue(TokenSubject {
            id: &account.id,
            username: &account.username,
            unit: &account.unit,
            area: &area,
            roles: roles.clone(),
        })?;
        let refresh_token = dancu_kit::random_secret();
        let now_us = chrono::Utc::now().timestamp_micros();
        let refresh_expires_at = now_us / 1_000_000 + self.refresh_ttl_secs;
        self.store
            .insert_refresh_token(RefreshTokenRow {
                token_hash: hash_refresh(&refresh_token),
                officer_id: account.id.clone(),
                expires_us: refresh_expires_at * 1_000_000,
                used: false,
                created_us: now_us,
            })
            .await?;
        Ok(LoginGrant {
            token: signed.token,
            expires_at: signed.expires_at,
            officer_id: account.id,
            unit: account.unit,
            roles,
            area,
            refresh_token,
            refresh_expires_at,
        })
    }

    /// Checks credentials and signs a token. Unknown user, wrong password and disabled
    /// account are indistinguishable to the caller.
    pub async fn login(&self, username: &str, password: &str) -> Result<LoginGrant, IdentityError> {
        let account = self.store.officer_by_username(username).await?;
        let hash = account
            .as_ref()
            .map(|a| a.password_hash.clone())
            .unwrap_or_else(|| DUMMY_HASH.clone());
        let valid = verify_password(password, &hash).await;
        match account {
            Some(account) if valid && !account.disabled => self.grant(account).await,
            _ => Err(IdentityError::BadCredentials),
        }
    }
}

/// Refresh tokens are stored as SHA-256 hashes: a leaked database holds no usable token.
fn hash_refresh(token: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Argon2id hashing is deliberately slow: keep it off the async workers.
async fn hash_blocking(password: &str) -> Result<String, IdentityError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| IdentityError::Signing(e.to_string()))?
        .map_err(|e| IdentityError::Signing(e.to_string()))
}

async fn verify_password(password: &str, hash: &str) -> bool {
    let password = password.to_owned();
    let hash = hash.to_owned();
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}
