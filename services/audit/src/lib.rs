//! The dancu audit service: accepts audit events from the other services (idempotent by
//! event id) and lets auditors list them. It owns one database; it reaches identity only
//! over gRPC, to fetch the keys that verify bearer tokens.

mod api;
pub mod app;
pub mod store;

use dancu_kit::auth::{RemoteKeySource, TokenVerifier};
use dancu_kit::config::{Config, ServiceKind};
use dancu_kit::server::{RunError, ServiceSpec, serve};
use dancu_proto::audit::v1::audit_service_server::AuditServiceServer;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Fully-qualified name of the gRPC service.
pub const SERVICE_NAME: &str = "dancu.audit.v1.AuditService";

/// Opens (and migrates) the audit database, then serves on `listener` until `shutdown`.
pub async fn run(
    config: &Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), RunError> {
    let settings = config.service(ServiceKind::Audit);
    let store = store::AuditStore::open(
        &config.database_url(ServiceKind::Audit),
        settings.db_max_connections,
    )
    .await
    .map_err(RunError::store(ServiceKind::Audit))?;
    let log = Arc::new(
        app::AuditLog::open(store)
            .await
            .map_err(RunError::store(ServiceKind::Audit))?,
    );
    let keys = Arc::new(RemoteKeySource::new(&config.identity.endpoint)?);
    let verifier = Arc::new(TokenVerifier::new(keys));
    let routes = tonic::service::Routes::new(AuditServiceServer::new(api::AuditApi::new(log)));
    serve(
        ServiceSpec {
            kind: ServiceKind::Audit,
            grpc_services: vec![SERVICE_NAME],
            routes,
            verifier,
            public_methods: Vec::new(),
        },
        listener,
        shutdown,
    )
    .await?;
    Ok(())
}
