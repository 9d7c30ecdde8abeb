//! The dancu audit service: accepts audit events from the other services (idempotent by
//! event id) into a verifiable log (RFC 9162 Merkle tree, C2SP signed checkpoints), raises
//! alerts as events arrive, and lets auditors list events, fetch proofs and watch alerts.
//! It owns one database; it reaches identity only over gRPC, to fetch the keys that verify
//! bearer tokens.

mod api;
pub mod app;
pub mod store;

use dancu_kit::auth::{RemoteKeySource, TokenVerifier};
use dancu_kit::config::{Config, ServiceKind};
use dancu_kit::server::{RunError, ServiceSpec, serve};
use dancu_proto::audit::v1::audit_alert_service_server::AuditAlertServiceServer;
use dancu_proto::audit::v1::audit_log_service_server::AuditLogServiceServer;
use dancu_proto::audit::v1::audit_service_server::AuditServiceServer;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Fully-qualified name of the gRPC service.
pub const SERVICE_NAME: &str = "dancu.audit.v1.AuditService";
/// Fully-qualified name of the verifiable-log service.
pub const LOG_SERVICE_NAME: &str = "dancu.audit.v1.AuditLogService";
/// Fully-qualified name of the alert service.
pub const ALERT_SERVICE_NAME: &str = "dancu.audit.v1.AuditAlertService";
/// How often the retention task archives expired event bodies.
const RETENTION_INTERVAL: std::time::Duration = std::time::Duration::from_secs(3600);

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
        app::AuditLog::open(store, config)
            .await
            .map_err(|e| match e {
                app::AuditError::Storage(db) => RunError::store(ServiceKind::Audit)(db),
                other => {
                    RunError::store(ServiceKind::Audit)(sea_orm::DbErr::Custom(other.to_string()))
                }
            })?,
    );
    let keys = Arc::new(RemoteKeySource::new(&config.identity.endpoint)?);
    let verifier = Arc::new(TokenVerifier::new(keys));
    let (closing_tx, closing) = tokio::sync::watch::channel(false);
    let routes =
        tonic::service::Routes::new(AuditServiceServer::new(api::AuditApi::new(log.clone())))
            .add_service(AuditLogServiceServer::new(api::LogApi::new(log.clone())))
            .add_service(AuditAlertServiceServer::new(api::AlertsApi::new(
                log.clone(),
                closing,
            )));
    let indexer = tokio::spawn(log.clone().run_lookup_indexer());
    let retention = (config.audit_log.retention_days > 0)
        .then(|| tokio::spawn(retain(log, config.audit_log.retention_days)));
    let shutdown = async move {
        shutdown.await;
        // End open alert watches, so the server's drain does not wait for them.
        let _ = closing_tx.send(true);
    };
    let served = serve(
        ServiceSpec {
            kind: ServiceKind::Audit,
            grpc_services: vec![SERVICE_NAME, LOG_SERVICE_NAME, ALERT_SERVICE_NAME],
            routes,
            verifier,
            public_methods: Vec::new(),
        },
        listener,
        shutdown,
    )
    .await;
    indexer.abort();
    if let Some(task) = retention {
        task.abort();
    }
    served?;
    Ok(())
}

/// Archives the bodies of events older than `days` days, hourly (leaf hashes stay).
async fn retain(log: Arc<app::AuditLog>, days: u32) {
    let mut every = tokio::time::interval(RETENTION_INTERVAL);
    loop {
        every.tick().await;
        let cutoff = chrono::Utc::now() - chrono::Duration::days(i64::from(days));
        match log.archive_before(cutoff.timestamp_micros()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(archived = n, "audit retention archived event bodies"),
            Err(error) => tracing::warn!(
                error = error.category(),
                "audit retention failed; will retry"
            ),
        }
    }
}
