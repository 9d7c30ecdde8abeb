//! `dancu.identity.v1.AuthService`: login, refresh, logout, token-verification keys,
//! revocations and key rotation.

use crate::app::{Accounts, LoginGrant, TokenIssuer};
use dancu_kit::auth::{ROLE_SYSTEM_ADMIN, principal};
use dancu_kit::error::{FieldViolations, invalid_field};
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

fn timestamp(seconds: i64) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp { seconds, nanos: 0 })
}

fn login_response(grant: LoginGrant) -> pb::LoginResponse {
    pb::LoginResponse {
        access_token: grant.token,
        expire_time: timestamp(grant.expires_at),
        officer_id: grant.officer_id,
        unit: grant.unit,
        roles: grant.roles,
        refresh_token: grant.refresh_token,
        refresh_expire_time: timestamp(grant.refresh_expires_at),
        area: grant.area,
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
        Ok(Response::new(login_response(grant)))
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

    async fn refresh(
        &self,
        request: Request<pb::RefreshRequest>,
    ) -> Result<Response<pb::LoginResponse>, Status> {
        let token = request.into_inner().refresh_token;
        if token.trim().is_empty() {
            return Err(invalid_field("refresh_token", "is required"));
        }
        let grant = self.accounts.refresh(token.trim()).await?;
        Ok(Response::new(login_response(grant)))
    }

    async fn logout(
        &self,
        request: Request<pb::LogoutRequest>,
    ) -> Result<Response<pb::LogoutResponse>, Status> {
        let caller = principal(&request)?;
        let refresh = request.into_inner().refresh_token;
        let refresh = Some(refresh.trim()).filter(|t| !t.is_empty());
        self.accounts.logout(&caller, refresh).await?;
        Ok(Response::new(pb::LogoutResponse {}))
    }

    async fn list_revocations(
        &self,
        _request: Request<pb::ListRevocationsRequest>,
    ) -> Result<Response<pb::ListRevocationsResponse>, Status> {
        let revocations = self.issuer.revocations().await?;
        let mut disabled: Vec<pb::DisabledAccount> = revocations
            .subjects
            .into_iter()
            .map(|(account_id, at)| pb::DisabledAccount {
                account_id,
                disabled_at: timestamp(at),
            })
            .collect();
        disabled.sort_by(|a, b| a.account_id.cmp(&b.account_id));
        let mut revoked: Vec<String> = revocations.token_ids.into_iter().collect();
        revoked.sort();
        Ok(Response::new(pb::ListRevocationsResponse {
            disabled_accounts: disabled,
            revoked_token_ids: revoked,
        }))
    }

    async fn rotate_signing_key(
        &self,
        request: Request<pb::RotateSigningKeyRequest>,
    ) -> Result<Response<pb::RotateSigningKeyResponse>, Status> {
        principal(&request)?.require_any_role(&[ROLE_SYSTEM_ADMIN])?;
        let (kid, active_us) = self.issuer.rotate().await?;
        Ok(Response::new(pb::RotateSigningKeyResponse {
            kid,
            active_time: Some(dancu_kit::convert::timestamp_from_us(active_us)),
        }))
    }
}
