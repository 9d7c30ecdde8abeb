//! Token signing keys and access tokens. Keys are Ed25519, generated on first start and kept
//! in identity's database; tokens are JWTs signed with EdDSA.

use super::IdentityError;
use crate::store::{IdentityStore, SigningKeyRow};
use async_trait::async_trait;
use dancu_kit::auth::{AUDIENCE, Claims, ISSUER, KeySource, ROLE_SERVICE, VerificationKey};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use std::sync::Arc;
use tonic::Status;

/// Signs access tokens with the newest key.
pub struct TokenIssuer {
    store: IdentityStore,
    kid: String,
    key: EncodingKey,
    ttl_secs: i64,
}

/// A freshly signed token.
pub struct SignedToken {
    /// The JWT.
    pub token: String,
    /// Expiry (Unix seconds).
    pub expires_at: i64,
}

impl TokenIssuer {
    /// Loads the newest signing key, generating one if there is none.
    pub async fn open(store: IdentityStore, ttl_secs: u64) -> Result<Self, IdentityError> {
        let row = match store.signing_keys().await?.into_iter().next() {
            Some(row) => row,
            None => {
                let seed: [u8; 32] = rand::random();
                let signing = SigningKey::from_bytes(&seed);
                let pkcs8 = signing
                    .to_pkcs8_der()
                    .map_err(|e| IdentityError::Signing(e.to_string()))?;
                let row = SigningKeyRow {
                    kid: uuid::Uuid::now_v7().simple().to_string(),
                    private_pkcs8: pkcs8.as_bytes().to_vec(),
                    public_key: signing.verifying_key().to_bytes().to_vec(),
                    created_us: chrono::Utc::now().timestamp_micros(),
                };
                store.insert_signing_key(row.clone()).await?;
                // Another instance may have raced us: use whichever key is newest.
                store
                    .signing_keys()
                    .await?
                    .into_iter()
                    .next()
                    .unwrap_or(row)
            }
        };
        Ok(Self {
            store,
            kid: row.kid,
            key: EncodingKey::from_ed_der(&row.private_pkcs8),
            ttl_secs: ttl_secs as i64,
        })
    }

    /// Signs a token for an account.
    pub fn issue(
        &self,
        id: &str,
        username: &str,
        unit: &str,
        roles: Vec<String>,
    ) -> Result<SignedToken, IdentityError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: id.to_owned(),
            username: username.to_owned(),
            unit: unit.to_owned(),
            roles,
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat: now,
            exp: now + self.ttl_secs,
            jti: uuid::Uuid::now_v7().to_string(),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|e| IdentityError::Signing(e.to_string()))?;
        Ok(SignedToken {
            token,
            expires_at: claims.exp,
        })
    }

    /// Every public key that may have signed a valid token.
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
}

/// Identity verifies tokens with its own keys, without a network hop.
pub struct LocalKeySource(pub Arc<TokenIssuer>);

#[async_trait]
impl KeySource for LocalKeySource {
    async fn keys(&self) -> Result<Vec<VerificationKey>, Status> {
        self.0.public_keys().await.map_err(|e| {
            tracing::error!(error = %e, "reading token keys failed");
            Status::unavailable("token keys unavailable")
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
                    .issue(
                        IDENTITY_SERVICE_ACCOUNT,
                        IDENTITY_SERVICE_ACCOUNT,
                        "dancu",
                        vec![ROLE_SERVICE.to_owned()],
                    )
                    .map_err(|e| {
                        tracing::error!(error = %e, "signing the service token failed");
                        Status::internal("service token unavailable")
                    })?;
                Ok((signed.token, signed.expires_at))
            })
            .await
    }
}
