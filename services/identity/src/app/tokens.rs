//! Token signing keys and access tokens. Keys are Ed25519, kept in identity's database;
//! tokens are JWTs signed with EdDSA by the newest key that is active.
//!
//! Rotation without downtime: a new key is published (ListPublicKeys) at once but signs
//! only from [`PUBLISH_DELAY_SECS`] later, so every verifier has fetched it before the first
//! token it signed arrives (verifiers also refetch on an unknown key id). A replaced key
//! stays published until every token it signed has expired, then it is deleted.

use super::IdentityError;
use crate::store::{IdentityStore, SigningKeyRow};
use async_trait::async_trait;
use dancu_kit::auth::{
    AUDIENCE, Claims, ISSUER, KeySource, ROLE_SERVICE, Revocations, VerificationKey,
};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use std::sync::{Arc, RwLock};
use tonic::Status;

/// Seconds between a new key's publication and its first signature.
pub const PUBLISH_DELAY_SECS: i64 = 3;

struct LoadedKey {
    kid: String,
    key: EncodingKey,
    active_us: i64,
}

/// Signs access tokens with the newest active key.
pub struct TokenIssuer {
    store: IdentityStore,
    keys: RwLock<Vec<LoadedKey>>,
    ttl_secs: i64,
}

/// A freshly signed token.
pub struct SignedToken {
    /// The JWT.
    pub token: String,
    /// Expiry (Unix seconds).
    pub expires_at: i64,
}

/// Who a token is issued to.
pub struct TokenSubject<'a> {
    /// Account id.
    pub id: &'a str,
    /// Username.
    pub username: &'a str,
    /// Unit code.
    pub unit: &'a str,
    /// Area code of the unit's jurisdiction, empty if none.
    pub area: &'a str,
    /// Roles.
    pub roles: Vec<String>,
}

fn new_key_row(active_us: i64) -> Result<SigningKeyRow, IdentityError> {
    let seed: [u8; 32] = rand::random();
    let signing = SigningKey::from_bytes(&seed);
    let pkcs8 = signing
        .to_pkcs8_der()
        .map_err(|e| IdentityError::Signing(e.to_string()))?;
    Ok(SigningKeyRow {
        kid: uuid::Uuid::now_v7().simple().to_string(),
        private_pkcs8: pkcs8.as_bytes().to_vec(),
        public_key: signing.verifying_key().to_bytes().to_vec(),
        active_us,
        created_us: chrono::Utc::now().timestamp_micros(),
    })
}

impl TokenIssuer {
    /// Loads the signing keys, generating one if there is none.
    pub async fn open(store: IdentityStore, ttl_secs: u64) -> Result<Self, IdentityError> {
        if store.signing_keys().await?.is_empty() {
            store.insert_signing_key(new_key_row(0)?).await?;
        }
        let issuer = Self {
            store,
            keys: RwLock::new(Vec::new()),
            ttl_secs: ttl_secs as i64,
        };
        issuer.reload().await?;
        Ok(issuer)
    }

    async fn reload(&self) -> Result<(), IdentityError> {
        let mut keys: Vec<LoadedKey> = self
            .store
            .signing_keys()
            .await?
            .into_iter()
            .map(|row| LoadedKey {
                kid: row.kid,
                key: EncodingKey::from_ed_der(&row.private_pkcs8),
                active_us: row.active_us,
            })
            .collect();
        keys.sort_by_key(|k| std::cmp::Reverse(k.active_us));
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = keys;
        Ok(())
    }

    /// Lifetime of access tokens, in seconds.
    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    /// Signs a token.
    pub fn issue(&self, subject: TokenSubject<'_>) -> Result<SignedToken, IdentityError> {
        let now = chrono::Utc::now();
        let now_us = now.timestamp_micros();
        let claims = Claims {
            sub: subject.id.to_owned(),
            username: subject.username.to_owned(),
            unit: subject.unit.to_owned(),
            roles: subject.roles,
            area: subject.area.to_owned(),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat: now.timestamp(),
            exp: now.timestamp() + self.ttl_secs,
            jti: uuid::Uuid::now_v7().to_string(),
        };
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        let key = keys
            .iter()
            .find(|k| k.active_us <= now_us)
            .ok_or_else(|| IdentityError::Signing("no active signing key".to_owned()))?;
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key.kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &key.key)
            .map_err(|e| IdentityError::Signing(e.to_string()))?;
        Ok(SignedToken {
            token,
            expires_at: claims.exp,
        })
    }

    /// Creates a key that signs from [`PUBLISH_DELAY_SECS`] on, and deletes keys whose
    /// tokens have all expired. Returns the new key id and its activation (Unix µs).
    pub async fn rotate(&self) -> Result<(String, i64), IdentityError> {
        let now_us = chrono::Utc::now().timestamp_micros();
        let row = new_key_row(now_us + PUBLISH_DELAY_SECS * 1_000_000)?;
        let created = (row.kid.clone(), row.active_us);
        self.store.insert_signing_key(row).await?;
        // A key stops signing when the next one activates; its last token expires a TTL
        // later. Keep a minute of margin for clock skew.
        let mut rows = self.store.signing_keys().await?;
        rows.sort_by_key(|r| r.active_us);
        let retire_after_us = (self.ttl_secs + 60) * 1_000_000;
        for pair in rows.windows(2) {
            if pair[1].active_us + retire_after_us < now_us {
                self.store.delete_signing_key(&pair[0].kid).await?;
            }
        }
        self.reload().await?;
        Ok(created)
    }

    /// Every public key that may have signed, or is about to sign, a valid token.
    pub async fn public_keys(&self) -> Result<Vec<VerificationKey>, IdentityError> {
        Ok(self
            .store
            .signing_keys()
            .await?
            .into_iter()
            .map(|row| VerificationKey {
                kid: row.kid,
                public_key: row.public_key,
            })
            .collect())
    }

    /// Disabled accounts and revoked tokens.
    pub async fn revocations(&self) -> Result<Revocations, IdentityError> {
        let now_us = chrono::Utc::now().timestamp_micros();
        Ok(Revocations {
            subjects: self
                .store
                .disabled_officers()
                .await?
                .into_iter()
                .map(|(id, at_us)| (id, at_us.div_euclid(1_000_000)))
                .collect(),
            token_ids: self
                .store
                .revoked_tokens(now_us)
                .await?
                .into_iter()
                .collect(),
        })
    }
}

/// Identity verifies tokens with its own keys and revocations, without a network hop.
pub struct LocalKeySource(pub Arc<TokenIssuer>);

#[async_trait]
impl KeySource for LocalKeySource {
    async fn keys(&self) -> Result<Vec<VerificationKey>, Status> {
        self.0.public_keys().await.map_err(|e| {
            tracing::error!(error = %e, "reading token keys failed");
            Status::unavailable("token keys unavailable")
        })
    }

    async fn revocations(&self) -> Result<Revocations, Status> {
        self.0.revocations().await.map_err(|e| {
            tracing::error!(error = %e, "reading revocations failed");
            Status::unavailable("revocations unavailable")
        })
    }
}

/// Id of identity's own account in audit events it ships.
pub const IDENTITY_SERVICE_ACCOUNT: &str = "svc-identity";

/// Identity ships its audit events with tokens it signs for itself, reused until shortly
/// before they expire (the audit service caches verified tokens, so fresh tokens per batch
/// would defeat its cache).
pub struct LocalTokenSource {
    issuer: Arc<TokenIssuer>,
    cached: dancu_audit_client::CachedToken,
}

impl LocalTokenSource {
    /// A source signing with `issuer`.
    pub fn new(issuer: Arc<TokenIssuer>) -> Self {
        Self {
            issuer,
            cached: dancu_audit_client::CachedToken::default(),
        }
    }
}

#[async_trait]
impl dancu_audit_client::TokenSource for LocalTokenSource {
    async fn token(&self) -> Result<String, Status> {
        self.cached
            .get_or_renew(|| async {
                let signed = self
                    .issuer
                    .issue(TokenSubject {
                        id: IDENTITY_SERVICE_ACCOUNT,
                        username: IDENTITY_SERVICE_ACCOUNT,
                        unit: "dancu",
                        area: "",
                        roles: vec![ROLE_SERVICE.to_owned()],
                    })
                    .map_err(|e| {
                        tracing::error!(error = %e, "signing the service token failed");
                        Status::internal("service token unavailable")
                    })?;
                Ok((signed.token, signed.expires_at))
            })
            .await
    }
}
