//! Bulk import throughput: `dancu import` of N generated citizens (default 1,000,000) into
//! a fresh identity database, through gRPC, as an operator runs it.
//!
//! Run: `cargo bench -p dancu --bench import` (SQLite in a temporary directory), or with
//! `DANCU_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres` for PostgreSQL (a
//! fresh database is created and dropped). `DANCU_BENCH_CITIZENS` changes the population,
//! `DANCU_BENCH_BATCH` the rows per batch (default 2000, as `dancu import`),
//! `DANCU_BENCH_GROUP_ROWS` identity's `import_group_rows` (default as configured),
//! `DANCU_BENCH_WRITER_CACHE_MIB` identity's `db_writer_cache_mib` (the same).
//!
//! The file is generated first (`dancu_popgen`, seed 7) and not timed; identity and audit
//! run in this process; the timed part is the `dancu import --skip-subjects` process (its
//! citizen pass; subject lines are left out, records does not run) from start to summary
//! (reading, decoding, streaming, validation, batched commits with history, change feed,
//! residence events and one audit event per batch).

use dancu_kit::config::{Config, LogFormat, ServiceKind};
use sea_orm::ConnectionTrait;
use std::time::Instant;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// The allocator of the bench, as in the `dancu` binary (see `mimalloc` in the workspace manifest).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ADMIN_PASSWORD: &str = "bench-admin-password";

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let count = env_number("DANCU_BENCH_CITIZENS", 1_000_000);
    let batch = env_number("DANCU_BENCH_BATCH", 2000);
    let data_dir = tempfile::tempdir()?;
    let postgres = std::env::var("DANCU_BENCH_POSTGRES_URL").ok();
    let mut config = Config {
        data_dir: data_dir.path().to_path_buf(),
        bootstrap_admin_password: Some(ADMIN_PASSWORD.to_owned()),
        service_secret: Some(dancu_kit::random_secret()),
        log_format: LogFormat::Pretty,
        log_level: "error".to_owned(),
        ..Config::default()
    };
    if let Ok(mib) = std::env::var("DANCU_BENCH_WRITER_CACHE_MIB") {
        config.identity.db_writer_cache_mib = mib.parse()?;
    }
    if let Ok(rows) = std::env::var("DANCU_BENCH_GROUP_ROWS") {
        config.import_group_rows = rows.parse()?;
    }
    let mut dropped_database = None;
    if let Some(server) = &postgres {
        let admin = sea_orm::Database::connect(server.as_str()).await?;
        let name = format!("dancu_bench_import_{}", std::process::id());
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await?;
        let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
        config.identity.database_url = Some(format!("{base}/{name}"));
        dropped_database = Some((admin, name));
    }

    let file = data_dir.path().join("population.ndjson");
    let started = Instant::now();
    let mut sink = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&file)?);
    let generated =
        dancu_popgen::generate(dancu_popgen::Settings::new(count, 7), &mut sink, |_| {})?;
    drop(sink);
    println!(
        "backend: {}; generated {} citizens ({} lines, {:.0} MB) in {:.1} s",
        if postgres.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        generated.citizens,
        generated.lines(),
        std::fs::metadata(&file)?.len() as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    let mut listeners = Vec::new();
    for kind in [ServiceKind::Identity, ServiceKind::Audit] {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let settings = match kind {
            ServiceKind::Identity => &mut config.identity,
            _ => &mut config.audit,
        };
        settings.listen = address;
        settings.endpoint = format!("http://{address}");
        listeners.push((kind, listener));
    }
    let (stop, stopped) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    for (kind, listener) in listeners {
        let config = config.clone();
        let mut stopped = stopped.clone();
        tasks.spawn(async move {
            let shutdown = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            match kind {
                ServiceKind::Identity => dancu_identity::run(&config, listener, shutdown).await,
                _ => dancu_audit::run(&config, listener, shutdown).await,
            }
        });
    }
    // Wait until identity answers.
    let channel =
        tonic::transport::Channel::from_shared(config.identity.endpoint.clone())?.connect_lazy();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    for _ in 0..400 {
        if health
            .check(tonic_health::pb::HealthCheckRequest::default())
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }

    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let endpoint = config.identity.endpoint.clone();
    let started = Instant::now();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_dancu"))
            .arg("import")
            .arg(&file)
            .args([
                "--identity-endpoint",
                &endpoint,
                "--batch",
                &batch.to_string(),
                // Citizens only: records is not started here, and the figure is the
                // citizen import's.
                "--skip-subjects",
            ])
            .env("DANCU_USER", "admin")
            .env("DANCU_PASSWORD", ADMIN_PASSWORD)
            .stderr(std::process::Stdio::inherit())
            .output()
    })
    .await??;
    let elapsed = started.elapsed();
    let load_after = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    print!("{}", String::from_utf8_lossy(&output.stdout));
    println!(
        "dancu import: {count} citizens in {:.1} s = {:.0} citizens/s (batch {batch}); \
         load average before: {} after: {}",
        elapsed.as_secs_f64(),
        count as f64 / elapsed.as_secs_f64(),
        load_before.trim(),
        load_after.trim()
    );
    if !output.status.success() {
        anyhow::bail!("dancu import failed");
    }

    let _ = stop.send(true);
    while tasks.join_next().await.is_some() {}
    if let Some((admin, name)) = dropped_database {
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await?;
    }
    Ok(())
}
