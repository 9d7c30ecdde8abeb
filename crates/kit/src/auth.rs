//! Bearer-token authentication shared by every service.
//!
//! Identity signs access tokens (JWT, EdDSA/Ed25519) and publishes the public keys; every
//! service verifies tokens locally with those keys. Verified tokens are cached until they
//! expire, since an Ed25519 check on every call would cap throughput.
//!
//! Revocation: identity publishes the accounts disabled (with the time) and the token ids
//! revoked by logout; every verifier polls that list every [`REVOCATION_POLL_INTERVAL`]
//! (started by the server builder) and refuses a revoked token even when it is cached, so
//! a disabled officer's tokens stop working everywhere within a few seconds.

use async_trait::async_trait;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tonic::Status;

/// Issuer written into and required of every access token.
pub const ISSUER: &str = "dancu-identity";
/// Audience written into and required of every access token.
pub const AUDIENCE: &str = "dancu";

/// Role of the system administrator (full access, including audit reading).
pub const ROLE_SYSTEM_ADMIN: &str = "system_admin";
/// Role of auditors (read the audit log).
pub const ROLE_AUDITOR: &str = "auditor";
/// Role of dancu's own services (append audit events).
pub const ROLE_SERVICE: &str = "service";

/// The claims of a dancu access token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    /// Officer or service-account id.
    pub sub: String,
    /// Login name.
    pub username: String,
    /// Code of the officer's unit.
    pub unit: String,
    /// Granted roles.
    pub roles: Vec<String>,
    /// Code of the area the unit covers (the officer's jurisdiction): `VN`, a province or
    /// a commune code; empty for accounts without a jurisdiction.
    #[serde(default)]
    pub area: String,
    /// Issuer, always [`ISSUER`].
    pub iss: String,
    /// Audience, always [`AUDIENCE`].
    pub aud: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// Unique token id.
    pub jti: String,
}

/// Who is calling: the verified content of the bearer token.
#[derive(Clone)]
pub struct Principal {
    /// Officer or service-account id.
    pub id: String,
    /// Login name.
    pub username: String,
    /// Code of the officer's unit.
    pub unit: String,
    /// Granted roles.
    pub roles: Vec<String>,
    /// Code of the area of the officer's jurisdiction, if any.
    pub area: Option<String>,
    /// Token issue time (Unix seconds).
    pub issued_at: i64,
    /// Token id.
    pub token_id: String,
    /// Token expiry (Unix seconds).
    pub expires_at: i64,
    /// The raw bearer token, to act on the caller's behalf towards other services.
    pub token: Arc<str>,
}

impl std::fmt::Debug for Principal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Principal")
            .field("id", &self.id)
            .field("unit", &self.unit)
            .field("roles", &self.roles)
            .field("area", &self.area)
            .finish_non_exhaustive()
    }
}

impl Principal {
    /// Whether the principal holds `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// `PERMISSION_DENIED` unless the principal holds one of `roles`.
    pub fn require_any_role(&self, roles: &[&str]) -> Result<(), Status> {
        if roles.iter().any(|role| self.has_role(role)) {
            Ok(())
        } else {
            Err(Status::permission_denied(
                "your roles do not allow this operation",
            ))
        }
    }
}

/// Reads the principal that [`AuthLayer`] attached to a request.
pub fn principal<T>(request: &tonic::Request<T>) -> Result<Principal, Status> {
    request
        .extensions()
        .get::<Principal>()
        .cloned()
        .ok_or_else(|| Status::unauthenticated("missing bearer token"))
}

/// A public key that verifies tokens.
#[derive(Clone, Debug)]
pub struct VerificationKey {
    /// Key id (the token header's `kid`).
    pub kid: String,
    /// Raw 32-byte Ed25519 public key.
    pub public_key: Vec<u8>,
}

/// Tokens that must no longer be accepted, though signed and unexpired.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Revocations {
    /// Account id → Unix second from which on its tokens are void: every token issued at
    /// or before it is refused (a disabled account).
    pub subjects: HashMap<String, i64>,
    /// Ids (`jti`) of single revoked tokens (logout).
    pub token_ids: HashSet<String>,
}

impl Revocations {
    /// Whether this principal's token is revoked.
    pub fn revokes(&self, principal: &Principal) -> bool {
        self.subjects
            .get(&principal.id)
            .is_some_and(|at| principal.issued_at <= *at)
            || self.token_ids.contains(&principal.token_id)
    }
}

/// Where verification keys and revocations come from: identity's own store, or identity
/// over gRPC.
#[async_trait]
pub trait KeySource: Send + Sync + 'static {
    /// Every currently valid key. Errors are gRPC statuses (`UNAVAILABLE` when identity
    /// cannot be reached).
    async fn keys(&self) -> Result<Vec<VerificationKey>, Status>;

    /// The current revocations. Sources that know none return an empty list.
    async fn revocations(&self) -> Result<Revocations, Status> {
        Ok(Revocations::default())
    }
}

/// Fetches keys from identity's `AuthService.ListPublicKeys`.
pub struct RemoteKeySource {
    client: dancu_proto::identity::v1::auth_service_client::AuthServiceClient<
        crate::client::TracedChannel,
    >,
}

impl RemoteKeySource {
    /// A source reading from the identity service at `endpoint`.
    pub fn new(endpoint: &str) -> Result<Self, crate::client::ClientError> {
        let channel = crate::client::traced_channel(endpoint)?;
        Ok(Self {
            client: dancu_proto::identity::v1::auth_service_client::AuthServiceClient::new(channel),
        })
    }
}

#[async_trait]
impl KeySource for RemoteKeySource {
    async fn keys(&self) -> Result<Vec<VerificationKey>, Status> {
        let response = self
            .client
            .clone()
            .list_public_keys(dancu_proto::identity::v1::ListPublicKeysRequest {})
            .await
            .map_err(|status| {
                tracing::warn!(code = ?status.code(), "fetching token keys from identity failed");
                Status::unavailable("token keys unavailable: identity service unreachable")
            })?;
        Ok(response
            .into_inner()
            .keys
            .into_iter()
            .map(|key| VerificationKey {
                kid: key.kid,
                public_key: key.public_key,
            })
            .collect())
    }

    async fn revocations(&self) -> Result<Revocations, Status> {
        let response = self
            .client
            .clone()
            .list_revocations(dancu_proto::identity::v1::ListRevocationsRequest {})
            .await
            // Polled every second: the poller reports failures (at debug level).
            .map_err(|_| {
                Status::unavailable("revocations unavailable: identity service unreachable")
            })?
            .into_inner();
        Ok(Revocations {
            subjects: response
                .disabled_accounts
                .into_iter()
                .map(|d| {
                    (
                        d.account_id,
                        d.disabled_at.map(|t| t.seconds).unwrap_or(i64::MAX),
                    )
                })
                .collect(),
            token_ids: response.revoked_token_ids.into_iter().collect(),
        })
    }
}

/// How often every verifier polls the revocation list.
pub const REVOCATION_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Most tokens cached at once; beyond it expired entries are pruned, then all.
const CACHE_CAPACITY: usize = 50_000;
/// Unknown key ids trigger at most one key refresh per this interval.
const REFRESH_INTERVAL: Duration = Duration::from_secs(2);

/// Verifies bearer tokens against keys from a [`KeySource`], caching keys and verified
/// tokens.
pub struct TokenVerifier {
    source: Arc<dyn KeySource>,
    keys: RwLock<HashMap<String, DecodingKey>>,
    last_refresh: Mutex<Option<Instant>>,
    refresh_lock: tokio::sync::Mutex<()>,
    verified: Mutex<HashMap<Arc<str>, Principal>>,
    revocations: RwLock<Revocations>,
}

impl TokenVerifier {
    /// A verifier with no keys yet; keys are fetched on first use.
    pub fn new(source: Arc<dyn KeySource>) -> Self {
        Self {
            source,
            keys: RwLock::new(HashMap::new()),
            last_refresh: Mutex::new(None),
            refresh_lock: tokio::sync::Mutex::new(()),
            verified: Mutex::new(HashMap::new()),
            revocations: RwLock::new(Revocations::default()),
        }
    }

    /// Fetches the revocation list once and applies it to every later verification
    /// (cached tokens included).
    pub async fn refresh_revocations(&self) -> Result<(), Status> {
        let revocations = self.source.revocations().await?;
        *self.revocations.write().unwrap_or_else(|e| e.into_inner()) = revocations;
        Ok(())
    }

    /// Polls the revocation list every `every` until the returned guard is dropped.
    pub fn spawn_revocation_poll(self: &Arc<Self>, every: Duration) -> RevocationPoll {
        let verifier = Arc::downgrade(self);
        let task = tokio::spawn(async move {
            let mut ticker = tokio::time::interval(every);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                let Some(verifier) = verifier.upgrade() else {
                    return;
                };
                if let Err(status) = verifier.refresh_revocations().await {
                    tracing::debug!(code = ?status.code(), "revocation poll failed; keeping the last list");
                }
            }
        });
        RevocationPoll(task)
    }

    fn check_revoked(&self, principal: Principal) -> Result<Principal, Status> {
        let revoked = self
            .revocations
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .revokes(&principal);
        if revoked {
            Err(Status::unauthenticated("token revoked"))
        } else {
            Ok(principal)
        }
    }

    /// Verifies a token: signature, issuer, audience, expiry. `UNAUTHENTICATED` when it is
    /// not acceptable, `UNAVAILABLE` when keys cannot be fetched.
    pub async fn verify(&self, token: &str) -> Result<Principal, Status> {
        let now = chrono::Utc::now().timestamp();
        if let Some(principal) = self.cached(token, now) {
            return self.check_revoked(principal);
        }
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| Status::unauthenticated("malformed bearer token"))?;
        if header.alg != Algorithm::EdDSA {
            return Err(Status::unauthenticated("unsupported token algorithm"));
        }
        let kid = header
            .kid
            .ok_or_else(|| Status::unauthenticated("token has no key id"))?;
        let key = match self.key(&kid) {
            Some(key) => key,
            None => {
                self.refresh().await?;
                self.key(&kid)
                    .ok_or_else(|| Status::unauthenticated("token signed by an unknown key"))?
            }
        };
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.leeway = 0;
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    Status::unauthenticated("token expired")
                }
                _ => Status::unauthenticated("invalid bearer token"),
            })?
            .claims;
        let token: Arc<str> = Arc::from(token);
        let principal = Principal {
            id: claims.sub,
            username: claims.username,
            unit: claims.unit,
            roles: claims.roles,
            area: Some(claims.area).filter(|a| !a.is_empty()),
            issued_at: claims.iat,
            token_id: claims.jti,
            expires_at: claims.exp,
            token: token.clone(),
        };
        self.remember(token, principal.clone(), now);
        self.check_revoked(principal)
    }

    fn cached(&self, token: &str, now: i64) -> Option<Principal> {
        let cache = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(token)
            .filter(|principal| principal.expires_at > now)
            .cloned()
    }

    fn remember(&self, token: Arc<str>, principal: Principal, now: i64) {
        let mut cache = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= CACHE_CAPACITY {
            cache.retain(|_, p| p.expires_at > now);
            if cache.len() >= CACHE_CAPACITY {
                cache.clear();
            }
        }
        cache.insert(token, principal);
    }

    fn key(&self, kid: &str) -> Option<DecodingKey> {
        self.keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(kid)
            .cloned()
    }

    async fn refresh(&self) -> Result<(), Status> {
        let _guard = self.refresh_lock.lock().await;
        {
            let last = self.last_refresh.lock().unwrap_or_else(|e| e.into_inner());
            if last.is_some_and(|at| at.elapsed() < REFRESH_INTERVAL) {
                return Ok(());
            }
        }
        let fetched = self.source.keys().await?;
        let keys = fetched
            .into_iter()
            .map(|key| (key.kid, DecodingKey::from_ed_der(&key.public_key)))
            .collect();
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = keys;
        *self.last_refresh.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        Ok(())
    }
}

/// Stops the revocation poll when dropped.
pub struct RevocationPoll(tokio::task::JoinHandle<()>);

impl Drop for RevocationPoll {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Whether a gRPC path needs no token: the standard health and reflection services, and
/// the methods the service itself declares public (identity's login, say).
fn is_public(path: &str, public_methods: &[&str]) -> bool {
    path.starts_with("/grpc.health.v1.")
        || path.starts_with("/grpc.reflection.")
        || public_methods.contains(&path)
}

/// Extracts the token from an `authorization: Bearer <token>` header.
fn bearer(headers: &http::HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Tower layer that verifies the bearer token of every non-public call and attaches the
/// [`Principal`] to the request; failures answer `UNAUTHENTICATED` (or `UNAVAILABLE`)
/// without reaching the handler.
#[derive(Clone)]
pub struct AuthLayer {
    verifier: Arc<TokenVerifier>,
    public_methods: Arc<[&'static str]>,
}

impl AuthLayer {
    /// A layer verifying with `verifier`, letting through without a token health,
    /// reflection and `public_methods` (full paths, e.g.
    /// `/dancu.identity.v1.AuthService/Login`).
    pub fn new(verifier: Arc<TokenVerifier>, public_methods: &[&'static str]) -> Self {
        Self {
            verifier,
            public_methods: public_methods.into(),
        }
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            verifier: self.verifier.clone(),
            public_methods: self.public_methods.clone(),
        }
    }
}

/// The service produced by [`AuthLayer`].
#[derive(Clone)]
pub struct AuthService<S> {
    inner: S,
    verifier: Arc<TokenVerifier>,
    public_methods: Arc<[&'static str]>,
}

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for AuthService<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
    ReqBody: Send + 'static,
    ResBody: Default,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = futures::future::BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<ReqBody>) -> Self::Future {
        // The ready service is the one we were polled for; leave a fresh clone behind.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let verifier = self.verifier.clone();
        let public = is_public(request.uri().path(), &self.public_methods);
        Box::pin(async move {
            if !public {
                let Some(token) = bearer(request.headers()) else {
                    return Ok(Status::unauthenticated("missing bearer token").into_http());
                };
                match verifier.verify(token).await {
                    Ok(principal) => {
                        request.extensions_mut().insert(principal);
                    }
                    Err(status) => return Ok(status.into_http()),
                }
            }
            inner.call(request).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_parsing() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        headers.insert("authorization", "Bearer abc.def".parse().unwrap());
        assert_eq!(bearer(&headers), Some("abc.def"));
        headers.insert("authorization", "bearer   xyz ".parse().unwrap());
        assert_eq!(bearer(&headers), Some("xyz"));
        headers.insert("authorization", "Basic abc".parse().unwrap());
        assert_eq!(bearer(&headers), None);
        headers.insert("authorization", "Bearer ".parse().unwrap());
        assert_eq!(bearer(&headers), None);
    }

    #[test]
    fn public_paths() {
        let login = ["/dancu.identity.v1.AuthService/Login"];
        assert!(is_public("/grpc.health.v1.Health/Check", &[]));
        assert!(is_public(
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
            &[]
        ));
        assert!(is_public("/dancu.identity.v1.AuthService/Login", &login));
        assert!(!is_public("/dancu.identity.v1.AuthService/Login", &[]));
        assert!(!is_public(
            "/dancu.identity.v1.IdentityService/GetCitizen",
            &login
        ));
    }
}
