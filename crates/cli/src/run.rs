//! Starting services: all three in one process, or one alone. Services started together
//! still talk to each other only over gRPC, each on its own port with its own database.

use anyhow::Context;
use dancu_kit::config::{Config, ServiceKind};
use dancu_kit::telemetry::{self, SpanExport};
use std::path::Path;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// A service `dancu serve` can run.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Service {
    /// The population register and login (port 50051).
    Identity,
    /// Subject records (port 50052).
    Records,
    /// The audit log (port 50053).
    Audit,
}

impl From<Service> for ServiceKind {
    fn from(service: Service) -> Self {
        match service {
            Service::Identity => ServiceKind::Identity,
            Service::Records => ServiceKind::Records,
            Service::Audit => ServiceKind::Audit,
        }
    }
}

fn load(config_file: Option<&Path>) -> anyhow::Result<Config> {
    let mut config = Config::load(config_file)?;
    // Fixed once here so that services started together share it.
    config.resolve_service_secret()?;
    Ok(config)
}

async fn bind(config: &Config, kind: ServiceKind) -> anyhow::Result<TcpListener> {
    let address = config.service(kind).listen;
    TcpListener::bind(address)
        .await
        .with_context(|| format!("{} cannot listen on {address}", kind.name()))
}

/// Runs one service until its shutdown future completes.
pub async fn run_service(
    config: &Config,
    kind: ServiceKind,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    match kind {
        ServiceKind::Identity => dancu_identity::run(config, listener, shutdown).await?,
        ServiceKind::Records => dancu_records::run(config, listener, shutdown).await?,
        ServiceKind::Audit => dancu_audit::run(config, listener, shutdown).await?,
    }
    Ok(())
}

/// `dancu up`.
pub async fn up(config_file: Option<&Path>) -> anyhow::Result<()> {
    let config = load(config_file)?;
    let telemetry = telemetry::init(
        "dancu",
        config.log_format,
        &config.log_level,
        SpanExport::FromEnv,
    )
    .map_err(|e| anyhow::anyhow!("telemetry: {e}"))?;
    // Signal handlers first: a signal during start-up must drain, not kill.
    let signal = dancu_kit::server::shutdown_signal();
    let mut listeners = Vec::new();
    for kind in ServiceKind::ALL {
        listeners.push((kind, bind(&config, kind).await?));
    }
    // Audit stops last, so that the others' relays can ship what is left in their outboxes.
    let (stop_front, front_stopped) = watch::channel(false);
    let (stop_audit, audit_stopped) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    for (kind, listener) in listeners {
        let config = config.clone();
        let mut stop = match kind {
            ServiceKind::Audit => audit_stopped.clone(),
            _ => front_stopped.clone(),
        };
        tasks.spawn(async move {
            let shutdown = async move {
                let _ = stop.wait_for(|stopped| *stopped).await;
            };
            (kind, run_service(&config, kind, listener, shutdown).await)
        });
    }
    println!("dancu is up (data in {}):", config.data_dir.display());
    for kind in [
        ServiceKind::Identity,
        ServiceKind::Records,
        ServiceKind::Audit,
    ] {
        println!("  {:<9} {}", kind.name(), config.service(kind).endpoint);
    }
    println!(
        "log in: grpcurl -plaintext -d '{{\"username\":\"admin\",\"password\":\"<password>\"}}' {} dancu.identity.v1.AuthService/Login",
        config.identity.endpoint.trim_start_matches("http://")
    );
    println!("stop with Ctrl-C");

    let mut failure = None;
    let mut running = 3;
    tokio::select! {
        () = signal => {}
        Some(joined) = tasks.join_next() => {
            running -= 1;
            failure = Some(describe(joined));
        }
    }
    let _ = stop_front.send(true);
    while running > 0 {
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        running -= 1;
        let audit_finished = matches!(&joined, Ok((ServiceKind::Audit, _)));
        if let Err(e) = describe(joined)
            && failure.is_none()
        {
            failure = Some(Err(e));
        }
        // Once identity and records are down (or audit itself ended), stop audit.
        if running == 1 || audit_finished {
            let _ = stop_audit.send(true);
        }
    }
    let _ = tokio::task::spawn_blocking(move || telemetry.shutdown()).await;
    match failure {
        Some(Err(e)) => Err(e),
        Some(Ok(())) => anyhow::bail!("a service stopped unexpectedly"),
        None => Ok(()),
    }
}

fn describe(
    joined: Result<(ServiceKind, anyhow::Result<()>), tokio::task::JoinError>,
) -> anyhow::Result<()> {
    match joined {
        Ok((_, Ok(()))) => Ok(()),
        Ok((kind, Err(e))) => Err(e.context(format!("{} failed", kind.name()))),
        Err(e) => Err(anyhow::anyhow!("a service task panicked: {e}")),
    }
}

/// `dancu serve <service>`.
pub async fn serve(config_file: Option<&Path>, service: Service) -> anyhow::Result<()> {
    let config = load(config_file)?;
    let kind = ServiceKind::from(service);
    let telemetry = telemetry::init(
        kind.name(),
        config.log_format,
        &config.log_level,
        SpanExport::FromEnv,
    )
    .map_err(|e| anyhow::anyhow!("telemetry: {e}"))?;
    let listener = bind(&config, kind).await?;
    println!(
        "dancu {} listening on {}",
        kind.name(),
        listener.local_addr()?
    );
    let result = run_service(
        &config,
        kind,
        listener,
        dancu_kit::server::shutdown_signal(),
    )
    .await;
    let _ = tokio::task::spawn_blocking(move || telemetry.shutdown()).await;
    result
}
