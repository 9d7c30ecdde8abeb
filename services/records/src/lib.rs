//! The dancu records service: subject records. It owns one database (records and the audit
//! outbox) and reaches identity and audit only over gRPC.

mod api;
pub mod app;
pub mod store;

use app::analysis::{Analysis, ResidentCounts, Revalidator};
use app::{Follower, IdentityDirectory, SubjectCases, SubjectImporter, SubjectRecords};
use dancu_audit_client::{AuditOutbox, ServiceAccountLogin};
use dancu_kit::auth::{RemoteKeySource, TokenVerifier};
use dancu_kit::config::{Config, ServiceKind};
use dancu_kit::server::{RunError, ServiceSpec, serve};
use dancu_proto::records::v1::analysis_service_server::AnalysisServiceServer;
use dancu_proto::records::v1::import_service_server::ImportServiceServer;
use dancu_proto::records::v1::records_service_server::RecordsServiceServer;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Fully-qualified name of the gRPC service.
pub const SERVICE_NAME: &str = "dancu.records.v1.RecordsService";
/// Fully-qualified name of the analysis gRPC service.
pub const ANALYSIS_SERVICE_NAME: &str = "dancu.records.v1.AnalysisService";
/// Fully-qualified name of the bulk import gRPC service.
pub const IMPORT_SERVICE_NAME: &str = "dancu.records.v1.ImportService";
/// The account records ships audit events with.
pub const SERVICE_ACCOUNT: &str = "svc-records";

/// Opens (and migrates) the records database, then serves on `listener` until `shutdown`.
pub async fn run(
    config: &Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), RunError> {
    let settings = config.service(ServiceKind::Records);
    let store = store::RecordsStore::open(
        &config.database_url(ServiceKind::Records),
        settings.db_max_connections,
    )
    .await
    .map_err(RunError::store(ServiceKind::Records))?;
    let service_secret = config.clone().resolve_service_secret()?;
    let login = Arc::new(ServiceAccountLogin::new(
        &config.identity.endpoint,
        SERVICE_ACCOUNT,
        service_secret,
    )?);
    let outbox = AuditOutbox::with_config(
        store.connection().clone(),
        &config.audit.endpoint,
        login.clone(),
        &config.audit_outbox,
    )?;
    let relay = outbox.spawn_relay();
    let identity = IdentityDirectory::new(&config.identity.endpoint)?;
    let policy = Arc::new(
        dancu_policy::Authorizer::new().map_err(|e| RunError::Bootstrap {
            service: "records",
            reason: e.to_string(),
        })?,
    );
    let alerts = Arc::new(tokio::sync::Notify::new());
    // Open alert streams end when shutdown starts, so they do not hold it up (watchers
    // resume after the last alert they received).
    let (closing_tx, closing_rx) = tokio::sync::watch::channel(false);
    let follower = Follower::new(
        store.clone(),
        identity.clone(),
        login.clone(),
        &config.identity.endpoint,
        alerts.clone(),
    )?
    .spawn();
    let subjects = Arc::new(SubjectCases::new(
        store.clone(),
        identity.clone(),
        outbox.clone(),
        policy.clone(),
        alerts,
        closing_rx,
    ));
    let revalidator = Arc::new(Revalidator::new(
        store.clone(),
        identity.clone(),
        login.clone(),
    ));
    let quality = &config.records_quality;
    let revalidation = (quality.revalidate_every_secs > 0).then(|| {
        revalidator.clone().spawn(std::time::Duration::from_secs(
            quality.revalidate_every_secs,
        ))
    });
    let analysis = Arc::new(Analysis::new(
        subjects.clone(),
        ResidentCounts::new(&config.identity.endpoint)?,
        revalidator,
        quality.live_period_days,
    ));
    let importer = Arc::new(SubjectImporter::new(
        store.clone(),
        identity.clone(),
        outbox.clone(),
        policy.clone(),
        login.clone(),
    ));
    let records = Arc::new(SubjectRecords::new(store, identity, outbox, policy));
    let verifier = Arc::new(TokenVerifier::new(Arc::new(RemoteKeySource::new(
        &config.identity.endpoint,
    )?)));
    let routes = tonic::service::Routes::new(RecordsServiceServer::new(api::RecordsApi::new(
        records, subjects,
    )))
    .add_service(AnalysisServiceServer::new(api::AnalysisApi::new(analysis)))
    .add_service(ImportServiceServer::new(api::ImportApi::new(importer)));
    let shutdown = async move {
        shutdown.await;
        let _ = closing_tx.send(true);
    };
    let served = serve(
        ServiceSpec {
            kind: ServiceKind::Records,
            grpc_services: vec![SERVICE_NAME, ANALYSIS_SERVICE_NAME, IMPORT_SERVICE_NAME],
            routes,
            verifier,
            public_methods: Vec::new(),
        },
        listener,
        shutdown,
    )
    .await;
    follower.stop().await;
    if let Some(job) = revalidation {
        job.stop().await;
    }
    relay.stop().await;
    served?;
    Ok(())
}
