//! The dancu identity service: the population register and officer login. It owns one
//! database (officers, signing keys, citizens, audit outbox) and reaches the audit service
//! only over gRPC.

mod api;
pub mod app;
pub mod store;

use app::{Accounts, Citizens, LocalKeySource, LocalTokenSource, TokenIssuer};
use dancu_audit_client::AuditOutbox;
use dancu_kit::auth::TokenVerifier;
use dancu_kit::config::{Config, ServiceKind};
use dancu_kit::server::{RunError, ServiceSpec, serve};
use dancu_proto::identity::v1::auth_service_server::AuthServiceServer;
use dancu_proto::identity::v1::identity_service_server::IdentityServiceServer;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Fully-qualified name of the register service.
pub const SERVICE_NAME: &str = "dancu.identity.v1.IdentityService";
/// Fully-qualified name of the login service.
pub const AUTH_SERVICE_NAME: &str = "dancu.identity.v1.AuthService";

/// Opens (and migrates) the identity database, creates the signing key and bootstrap
/// accounts on first start, then serves on `listener` until `shutdown`.
pub async fn run(
    config: &Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), RunError> {
    let settings = config.service(ServiceKind::Identity);
    let store = store::IdentityStore::open(
        &config.database_url(ServiceKind::Identity),
        settings.db_max_connections,
    )
    .await
    .map_err(RunError::store(ServiceKind::Identity))?;
    let bootstrap = |e: app::IdentityError| RunError::Bootstrap {
        service: "identity",
        reason: e.to_string(),
    };
    let issuer = Arc::new(
        TokenIssuer::open(store.clone(), config.token_ttl_secs)
            .await
            .map_err(bootstrap)?,
    );
    let accounts = Arc::new(Accounts::new(store.clone(), issuer.clone()));
    let service_secret = config.clone().resolve_service_secret()?;
    accounts
        .ensure_service_accounts(&service_secret)
        .await
        .map_err(bootstrap)?;
    if let Some(password) = accounts
        .bootstrap_admin(config.bootstrap_admin_password.as_deref())
        .await
        .map_err(bootstrap)?
    {
        // Shown once, on the console only: never through the logger.
        println!(
            "dancu identity: created administrator '{}' with generated password: {password}",
            app::BOOTSTRAP_ADMIN_USERNAME
        );
    }
    let outbox = AuditOutbox::with_config(
        store.connection().clone(),
        &config.audit.endpoint,
        Arc::new(LocalTokenSource::new(issuer.clone())),
        &config.audit_outbox,
    )?;
    let relay = outbox.spawn_relay();
    let citizens = Arc::new(Citizens::new(store, outbox));
    let verifier = Arc::new(TokenVerifier::new(Arc::new(LocalKeySource(issuer.clone()))));
    let routes =
        tonic::service::Routes::new(IdentityServiceServer::new(api::IdentityApi::new(citizens)))
            .add_service(AuthServiceServer::new(api::AuthApi::new(accounts, issuer)));
    let served = serve(
        ServiceSpec {
            kind: ServiceKind::Identity,
            grpc_services: vec![SERVICE_NAME, AUTH_SERVICE_NAME],
            routes,
            verifier,
            // Login and key publication are how a caller gets, and checks, a token.
            public_methods: vec![
                "/dancu.identity.v1.AuthService/Login",
                "/dancu.identity.v1.AuthService/ListPublicKeys",
            ],
        },
        listener,
        shutdown,
    )
    .await;
    relay.stop().await;
    served?;
    Ok(())
}
