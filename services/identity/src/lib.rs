//! The dancu identity service: the population register and officer login. It owns one
//! database (officers, signing keys, citizens, audit outbox) and reaches the audit service
//! only over gRPC.

mod api;
pub mod app;
pub mod store;

use app::{
    Accounts, Administration, ChangeFeed, CitizenAccess, Citizens, Households, Journal,
    LocalKeySource, LocalTokenSource, PurposeGuard, Residences, TokenIssuer, UnitTree,
};
use dancu_audit_client::AuditOutbox;
use dancu_kit::auth::TokenVerifier;
use dancu_kit::config::{Config, ServiceKind};
use dancu_kit::server::{RunError, ServiceSpec, serve};
use dancu_proto::identity::v1::admin_service_server::AdminServiceServer;
use dancu_proto::identity::v1::auth_service_server::AuthServiceServer;
use dancu_proto::identity::v1::card_service_server::CardServiceServer;
use dancu_proto::identity::v1::change_feed_service_server::ChangeFeedServiceServer;
use dancu_proto::identity::v1::foreigner_service_server::ForeignerServiceServer;
use dancu_proto::identity::v1::household_service_server::HouseholdServiceServer;
use dancu_proto::identity::v1::identity_service_server::IdentityServiceServer;
use dancu_proto::identity::v1::import_service_server::ImportServiceServer;
use dancu_proto::identity::v1::residence_service_server::ResidenceServiceServer;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Fully-qualified name of the register service.
pub const SERVICE_NAME: &str = "dancu.identity.v1.IdentityService";
/// Fully-qualified name of the identity-card service.
pub const CARD_SERVICE_NAME: &str = "dancu.identity.v1.CardService";
/// Fully-qualified name of the foreigner service.
pub const FOREIGNER_SERVICE_NAME: &str = "dancu.identity.v1.ForeignerService";
/// Fully-qualified name of the login service.
pub const AUTH_SERVICE_NAME: &str = "dancu.identity.v1.AuthService";
/// Fully-qualified name of the unit and officer administration service.
pub const ADMIN_SERVICE_NAME: &str = "dancu.identity.v1.AdminService";
/// Fully-qualified name of the residence service.
pub const RESIDENCE_SERVICE_NAME: &str = "dancu.identity.v1.ResidenceService";
/// Fully-qualified name of the household service.
pub const HOUSEHOLD_SERVICE_NAME: &str = "dancu.identity.v1.HouseholdService";
/// Fully-qualified name of the bulk import service.
pub const IMPORT_SERVICE_NAME: &str = "dancu.identity.v1.ImportService";
/// Fully-qualified name of the change-feed service.
pub const CHANGE_FEED_SERVICE_NAME: &str = "dancu.identity.v1.ChangeFeedService";

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
        settings.db_writer_cache_mib,
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
    let policy = Arc::new(
        dancu_policy::Authorizer::new().map_err(|e| RunError::Bootstrap {
            service: "identity",
            reason: e.to_string(),
        })?,
    );
    let units = Arc::new(
        UnitTree::open(store.clone(), dancu_domain::AreaTable::builtin())
            .await
            .map_err(bootstrap)?,
    );
    let accounts = Arc::new(Accounts::new(
        store.clone(),
        issuer.clone(),
        units.clone(),
        config.refresh_token_ttl_secs,
    ));
    let store_for_access = store.clone();

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
        store.writer().clone(),
        &config.audit.endpoint,
        Arc::new(LocalTokenSource::new(issuer.clone())),
        &config.audit_outbox,
    )?;
    let relay = outbox.spawn_relay();
    let access = Arc::new(CitizenAccess::new(
        store_for_access.clone(),
        units.clone(),
        policy.clone(),
    ));
    let audited = app::Audited::new(outbox.clone());
    let cards = Arc::new(app::Cards::new(
        store.clone(),
        audited.clone(),
        access.clone(),
    ));
    let foreigners = Arc::new(app::Foreigners::new(store.clone(), audited));
    let (closing_tx, closing_rx) = tokio::sync::watch::channel(false);
    let areas = dancu_domain::AreaTable::builtin();
    let journal = Arc::new(Journal::new(
        store,
        outbox,
        Arc::new(tokio::sync::Notify::new()),
    ));
    let importer = Arc::new(app::Importer::new(
        journal.clone(),
        units.clone(),
        policy.clone(),
    ));
    let admin = Arc::new(Administration::new(
        store_for_access,
        units,
        accounts.clone(),
        policy,
        journal.clone(),
    ));
    let guard = Arc::new(PurposeGuard::new(access.clone(), journal.clone()));
    let citizens = Arc::new(Citizens::new(journal.clone(), access.clone()));
    let residences = Arc::new(Residences::new(journal.clone(), areas, access.clone()));
    let households = Arc::new(Households::new(journal.clone(), areas, access.clone()));
    let feed = Arc::new(ChangeFeed::new(journal));
    let verifier = Arc::new(TokenVerifier::new(Arc::new(LocalKeySource(issuer.clone()))));
    let routes = tonic::service::Routes::new(IdentityServiceServer::new(api::IdentityApi::new(
        citizens, access,
    )))
    .add_service(AuthServiceServer::new(api::AuthApi::new(accounts, issuer)))
    .add_service(ImportServiceServer::new(api::ImportApi::new(
        importer,
        config.import_group_rows,
    )))
    .add_service(AdminServiceServer::new(api::AdminApi::new(admin)))
    .add_service(CardServiceServer::new(api::CardApi::new(
        cards,
        guard.clone(),
    )))
    .add_service(ForeignerServiceServer::new(api::ForeignerApi::new(
        foreigners,
        guard.clone(),
    )))
    .add_service(ResidenceServiceServer::new(api::ResidenceApi::new(
        residences,
        guard.clone(),
    )))
    .add_service(HouseholdServiceServer::new(api::HouseholdApi::new(
        households,
        guard.clone(),
    )))
    .add_service(ChangeFeedServiceServer::new(api::ChangeFeedApi::new(
        feed, closing_rx, guard,
    )));
    let shutdown = async move {
        shutdown.await;
        let _ = closing_tx.send(true);
    };
    let served = serve(
        ServiceSpec {
            kind: ServiceKind::Identity,
            grpc_services: vec![
                SERVICE_NAME,
                AUTH_SERVICE_NAME,
                ADMIN_SERVICE_NAME,
                RESIDENCE_SERVICE_NAME,
                HOUSEHOLD_SERVICE_NAME,
                CHANGE_FEED_SERVICE_NAME,
                CARD_SERVICE_NAME,
                FOREIGNER_SERVICE_NAME,
                IMPORT_SERVICE_NAME,
            ],
            routes,
            verifier,
            // Login and refresh are how a caller gets a token; keys and revocations are
            // how every service checks one.
            public_methods: vec![
                "/dancu.identity.v1.AuthService/Login",
                "/dancu.identity.v1.AuthService/Refresh",
                "/dancu.identity.v1.AuthService/ListPublicKeys",
                "/dancu.identity.v1.AuthService/ListRevocations",
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
