//! `dancu.identity.v1.AuthService`: login and token-verification keys.

use crate::app::{Accounts, TokenIssuer};
use dancu_kit::error::FieldViolations;
use dancu_proto::identity::v1 as pb;
use dancu_proto::identity::v1::auth_service_server::AuthService;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// Implements `dancu.identity.v1.AuthService`.
pub struct AuthApi {
    accounts: Arc<Accounts>,
    issuer: Arc<TokenIssuer>,
}

impl AuthApi {
    /// The API over accounts and keys.
    pub fn new(accounts: Arc<Accounts>, issuer: Arc<TokenIssuer>) -> Self {
        Self { accounts, issuer }
    }
}

#[tonic::async_trait]
impl AuthService for AuthApi {
    async fn login(
        &self,
        request: Request<pb::LoginRequest>,
    ) -> Result<Response<pb::LoginResponse>, Status> {
        let request = request.into_inner();
        let mut violations = FieldViolations::new();
        if request.username.trim().is_empty() {
            violations.add("username", "is required");
        }
        if request.password.is_empty() {
            violations.add("password", "is required");
        }
        violations.check()?;
        let grant = self
            .accounts
            .login(request.username.trim(), &request.password)
            .await?;
        Ok(Response::new(pb::LoginResponse {
            access_token: grant.token,
            expire_time: Some(prost_types::Timestamp {
                seconds: grant.expires_at,
                nanos: 0,
            }),
            officer_id: grant.officer_id,
            unit: grant.unit,
            roles: grant.roles,
        }))
    }

    async fn list_public_keys(
        &self,
        _request: Request<pb::ListPublicKeysRequest>,
    ) -> Result<Response<pb::ListPublicKeysResponse>, Status> {
        let keys = self.issuer.public_keys().await?;
        Ok(Response::new(pb::ListPublicKeysResponse {
            keys: keys
                .into_iter()
                .map(|k| pb::PublicKey {
                    kid: k.kid,
                    algorithm: "EdDSA".to_owned(),
                    public_key: k.public_key,
                })
                .collect(),
        }))
    }
}
