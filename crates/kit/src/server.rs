//! The one way a dancu service serves gRPC: its own routes plus the standard health and
//! reflection (v1 and v1alpha) services, a request span adopting the caller's W3C trace
//! context, bearer-token authentication, a deadline, and graceful shutdown that drains
//! in-flight calls.

use crate::auth::{AuthLayer, TokenVerifier};
use crate::config::ServiceKind;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tonic::service::Routes;
use tonic::transport::Server;
use tonic_health::ServingStatus;

/// Longest time a handler may run before the call fails with `CANCELLED`/deadline.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest time in-flight calls get to finish after a shutdown signal (a little more than
/// the longest a handler may run).
const DRAIN_TIMEOUT: Duration = Duration::from_secs(35);

/// Why a service could not start, or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Its database could not be opened or migrated.
    #[error("{service} database: {source}")]
    Store {
        /// Which service.
        service: &'static str,
        /// The database error.
        source: sea_orm::DbErr,
    },
    /// First-start work (keys, accounts) failed.
    #[error("{service} bootstrap: {reason}")]
    Bootstrap {
        /// Which service.
        service: &'static str,
        /// What failed (no personal data).
        reason: String,
    },
    /// The configuration is incomplete.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// An endpoint of another service is malformed.
    #[error(transparent)]
    Client(#[from] crate::client::ClientError),
    /// Serving failed.
    #[error(transparent)]
    Serve(#[from] ServeError),
}

impl RunError {
    /// A store error of `kind`'s database.
    pub fn store(kind: ServiceKind) -> impl FnOnce(sea_orm::DbErr) -> Self {
        move |source| Self::Store {
            service: kind.name(),
            source,
        }
    }
}

/// What a service hands to [`serve`].
pub struct ServiceSpec {
    /// Which service this is (span attribute and health).
    pub kind: ServiceKind,
    /// Fully-qualified gRPC service names reported SERVING by the health service.
    pub grpc_services: Vec<&'static str>,
    /// The service's own gRPC routes.
    pub routes: Routes,
    /// Verifies bearer tokens of non-public calls.
    pub verifier: Arc<TokenVerifier>,
    /// Full paths of the service's own methods callable without a token (health and
    /// reflection always are).
    pub public_methods: Vec<&'static str>,
}

/// Why serving failed.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The reflection service could not be built from the descriptor sets.
    #[error("reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The transport failed.
    #[error("transport: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Serves `spec` on `listener` until `shutdown` completes, then stops accepting, reports
/// NOT_SERVING and drains in-flight calls. Call it only once the store is migrated and
/// ready: health reports SERVING from the start.
pub async fn serve(
    spec: ServiceSpec,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("", ServingStatus::Serving)
        .await;
    for name in &spec.grpc_services {
        reporter
            .set_service_status(*name, ServingStatus::Serving)
            .await;
    }
    let routes = with_reflection(spec.routes.add_service(health), &spec.grpc_services)?;

    let service_name = spec.kind.name();
    let names = spec.grpc_services.clone();
    let draining = std::sync::Arc::new(tokio::sync::Notify::new());
    let drain_started = draining.clone();
    let shutdown = async move {
        shutdown.await;
        drain_started.notify_one();
        tracing::info!(
            service = service_name,
            "shutting down: draining in-flight calls"
        );
        reporter
            .set_service_status("", ServingStatus::NotServing)
            .await;
        for name in names {
            reporter
                .set_service_status(name, ServingStatus::NotServing)
                .await;
        }
    };
    // Without TCP_NODELAY, a response written in several segments waits for the peer's
    // delayed ACK (about 40 ms on Linux); tonic sets it only on listeners it binds itself.
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    // Revoked tokens (disabled accounts, logouts) are refused within a poll interval.
    let _revocation_poll = spec
        .verifier
        .spawn_revocation_poll(crate::auth::REVOCATION_POLL_INTERVAL);
    let server = Server::builder()
        .timeout(REQUEST_TIMEOUT)
        .trace_fn(move |request| request_span(service_name, request))
        .layer(AuthLayer::new(spec.verifier, &spec.public_methods))
        .add_routes(routes)
        .serve_with_incoming_shutdown(incoming, shutdown);
    // Draining waits for clients to acknowledge the GOAWAY; a stuck client must not keep
    // the process alive forever, so the drain is bounded.
    let drain_deadline = async move {
        draining.notified().await;
        tokio::time::sleep(DRAIN_TIMEOUT).await;
    };
    tokio::select! {
        served = server => served?,
        () = drain_deadline => {
            tracing::warn!(service = service_name, "drain timed out; closing remaining connections");
        }
    }
    tracing::info!(service = service_name, "stopped");
    Ok(())
}

/// Adds reflection (v1 and v1alpha) advertising exactly the services this server runs,
/// with the descriptors of everything they use — including `google.rpc` error details, so
/// that grpcurl can decode field violations.
fn with_reflection(
    routes: Routes,
    services: &[&'static str],
) -> Result<Routes, tonic_reflection::server::Error> {
    let configure = || {
        let mut builder = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(dancu_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
            .with_service_name("grpc.health.v1.Health");
        for name in services {
            builder = builder.with_service_name(*name);
        }
        builder
    };
    Ok(routes
        .add_service(configure().build_v1()?)
        .add_service(configure().build_v1alpha()?))
}

/// The span of one inbound call: named after the gRPC method, child of the caller's trace.
/// Health and reflection calls get no span (they would drown the traces).
fn request_span(service: &'static str, request: &http::Request<()>) -> tracing::Span {
    let path = request.uri().path();
    if path.starts_with("/grpc.health.") || path.starts_with("/grpc.reflection.") {
        return tracing::Span::none();
    }
    let method = path.trim_start_matches('/');
    let (rpc_service, rpc_method) = method.split_once('/').unwrap_or((method, ""));
    let span = tracing::info_span!(
        "grpc.server",
        otel.name = method,
        otel.kind = "server",
        rpc.system = "grpc",
        rpc.service = rpc_service,
        rpc.method = rpc_method,
        dancu.service = service,
        trace_id = tracing::field::Empty,
    );
    crate::telemetry::adopt_remote_parent(&span, request.headers());
    span
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send {
    // The handlers are installed now, not when the future is first polled: a SIGTERM that
    // arrives between "SERVING" and that first poll must still drain, not kill.
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt()).ok();
        let terminate = signal(SignalKind::terminate()).ok();
        async move {
            let wait = |signal: Option<tokio::signal::unix::Signal>| async move {
                match signal {
                    Some(mut signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(interrupt) => {},
                () = wait(terminate) => {},
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
