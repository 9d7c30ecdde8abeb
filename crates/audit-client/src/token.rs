//! How a service obtains the token it ships audit events with.

use async_trait::async_trait;
use dancu_proto::identity::v1::LoginRequest;
use dancu_proto::identity::v1::auth_service_client::AuthServiceClient;
use std::sync::Mutex;
use tonic::Status;

/// Supplies a valid bearer token for the service's own calls.
#[async_trait]
pub trait TokenSource: Send + Sync + 'static {
    /// A token valid for at least a few more seconds.
    async fn token(&self) -> Result<String, Status>;
}

/// Logs in to identity as a service account and reuses the token until shortly before
/// it expires.
pub struct ServiceAccountLogin {
    client: AuthServiceClient<dancu_kit::client::TracedChannel>,
    username: String,
    password: String,
    cached: Mutex<Option<(String, i64)>>,
}

/// Renew the token when fewer than this many seconds remain.
const RENEW_MARGIN_SECS: i64 = 30;

impl ServiceAccountLogin {
    /// Logs in at identity's `endpoint` as `username` with `password`.
    pub fn new(
        endpoint: &str,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Result<Self, dancu_kit::client::ClientError> {
        Ok(Self {
            client: AuthServiceClient::new(dancu_kit::client::traced_channel(endpoint)?),
            username: username.into(),
            password: password.into(),
            cached: Mutex::new(None),
        })
    }
}

#[async_trait]
impl TokenSource for ServiceAccountLogin {
    async fn token(&self) -> Result<String, Status> {
        let now = chrono::Utc::now().timestamp();
        if let Some((token, exp)) = &*self.cached.lock().unwrap_or_else(|e| e.into_inner())
            && exp - RENEW_MARGIN_SECS > now
        {
            return Ok(token.clone());
        }
        let response = self
            .client
            .clone()
            .login(LoginRequest {
                username: self.username.clone(),
                password: self.password.clone(),
            })
            .await?
            .into_inner();
        let exp = response.expire_time.map(|t| t.seconds).unwrap_or(now);
        *self.cached.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((response.access_token.clone(), exp));
        Ok(response.access_token)
    }
}
