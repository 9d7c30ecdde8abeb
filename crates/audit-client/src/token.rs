//! How a service obtains the token it ships audit events with.

use async_trait::async_trait;
use dancu_proto::identity::v1::LoginRequest;
use dancu_proto::identity::v1::auth_service_client::AuthServiceClient;
use std::future::Future;
use std::sync::Mutex;
use tonic::Status;

/// Supplies a valid bearer token for the service's own calls.
#[async_trait]
pub trait TokenSource: Send + Sync + 'static {
    /// A token valid for at least a few more seconds.
    async fn token(&self) -> Result<String, Status>;
}

/// Renew a cached token when fewer than this many seconds remain.
const RENEW_MARGIN_SECS: i64 = 30;

/// A token reused until shortly before it expires. Reuse matters: every service caches the
/// tokens it has verified, so a fresh token per shipment would defeat that cache.
#[derive(Default)]
pub struct CachedToken {
    /// The token and its expiry (Unix seconds).
    current: Mutex<Option<(String, i64)>>,
}

impl CachedToken {
    /// The cached token if it is still good for a while, else the one `renew` returns
    /// (token, expiry in Unix seconds), which is then cached.
    pub async fn get_or_renew<F, Fut>(&self, renew: F) -> Result<String, Status>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(String, i64), Status>>,
    {
        let now = chrono::Utc::now().timestamp();
        if let Some((token, expires_at)) = &*self.current.lock().unwrap_or_else(|e| e.into_inner())
            && expires_at - RENEW_MARGIN_SECS > now
        {
            return Ok(token.clone());
        }
        let (token, expires_at) = renew().await?;
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = Some((token.clone(), expires_at));
        Ok(token)
    }
}

/// Logs in to identity as a service account and reuses the token until shortly before
/// it expires.
pub struct ServiceAccountLogin {
    client: AuthServiceClient<dancu_kit::client::TracedChannel>,
    username: String,
    password: String,
    cached: CachedToken,
}

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
            cached: CachedToken::default(),
        })
    }
}

#[async_trait]
impl TokenSource for ServiceAccountLogin {
    async fn token(&self) -> Result<String, Status> {
        self.cached
            .get_or_renew(|| async {
                let response = self
                    .client
                    .clone()
                    .login(LoginRequest {
                        username: self.username.clone(),
                        password: self.password.clone(),
                    })
                    .await?
                    .into_inner();
                let expires_at = response.expire_time.map(|t| t.seconds).unwrap_or_default();
                Ok((response.access_token, expires_at))
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reuses_until_close_to_expiry() {
        let cache = CachedToken::default();
        let now = chrono::Utc::now().timestamp();
        let first = cache
            .get_or_renew(|| async move { Ok(("a".to_owned(), now + 600)) })
            .await
            .expect("renewed");
        let second = cache
            .get_or_renew(|| async move { Ok(("b".to_owned(), now + 600)) })
            .await
            .expect("cached");
        assert_eq!((first.as_str(), second.as_str()), ("a", "a"));

        let soon = CachedToken::default();
        soon.get_or_renew(|| async move { Ok(("old".to_owned(), now + 5)) })
            .await
            .expect("renewed");
        let renewed = soon
            .get_or_renew(|| async move { Ok(("new".to_owned(), now + 600)) })
            .await
            .expect("renewed again");
        assert_eq!(renewed, "new", "a token about to expire is replaced");

        let failing = CachedToken::default();
        let status = failing
            .get_or_renew(|| async { Err(Status::unavailable("identity down")) })
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unavailable);
    }
}
