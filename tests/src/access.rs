//! Officers, units and tokens for the access-control suites: create officers through
//! `AdminService`, log them in, call with break-glass, wait for revocations.

use crate::Cluster;
use crate::api::request;
use dancu_kit::client::TracedChannel;
use dancu_kit::config::ServiceKind;
use dancu_proto::identity::v1::admin_service_client::AdminServiceClient;
use dancu_proto::identity::v1::{CreateOfficerRequest, LoginRequest, LoginResponse, Officer};
use std::time::{Duration, Instant};

/// Initial password of every officer the suites create.
pub const OFFICER_PASSWORD: &str = "officer-password-123";
/// A break-glass justification long enough to be accepted.
pub const JUSTIFICATION: &str = "suspect of case 12 fled to this commune last night";

/// An officer created and logged in.
pub struct Session {
    /// The officer as created.
    pub officer: Officer,
    /// The login answer (access and refresh token).
    pub login: LoginResponse,
}

impl Session {
    /// The access token.
    pub fn token(&self) -> &str {
        &self.login.access_token
    }
}

impl Cluster {
    /// Client of identity's unit and officer administration.
    pub fn admin(&self) -> AdminServiceClient<TracedChannel> {
        AdminServiceClient::new(crate::channel(&self.endpoint(ServiceKind::Identity)))
    }

    /// Creates an officer (as `admin_token`) and logs them in.
    pub async fn officer(
        &self,
        admin_token: &str,
        username: &str,
        unit: &str,
        roles: &[&str],
        personal_id: Option<&str>,
    ) -> Session {
        let officer = self
            .admin()
            .create_officer(request(
                CreateOfficerRequest {
                    username: username.to_owned(),
                    initial_password: OFFICER_PASSWORD.to_owned(),
                    unit_code: unit.to_owned(),
                    roles: roles.iter().map(|r| (*r).to_owned()).collect(),
                    personal_id: personal_id.unwrap_or_default().to_owned(),
                },
                admin_token,
                None,
                None,
            ))
            .await
            .expect("create officer")
            .into_inner();
        Session {
            officer,
            login: self.login(username).await.expect("officer login"),
        }
    }

    /// Logs an officer in with [`OFFICER_PASSWORD`].
    pub async fn login(&self, username: &str) -> Result<LoginResponse, tonic::Status> {
        self.auth()
            .login(LoginRequest {
                username: username.to_owned(),
                password: OFFICER_PASSWORD.to_owned(),
            })
            .await
            .map(tonic::Response::into_inner)
    }
}

/// Adds the break-glass justification header to a request.
pub fn break_glass<T>(mut request: tonic::Request<T>, justification: &str) -> tonic::Request<T> {
    request.metadata_mut().insert(
        "x-dancu-break-glass",
        justification.parse().expect("ascii justification"),
    );
    request
}

/// Repeats `call` every 100 ms until it fails with `UNAUTHENTICATED`; returns how long
/// that took, or `None` if it still succeeded after `limit`.
pub async fn until_unauthenticated<F, Fut, T>(limit: Duration, mut call: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, tonic::Status>>,
{
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Err(status) = call().await
            && status.code() == tonic::Code::Unauthenticated
        {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}
