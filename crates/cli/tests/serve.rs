//! The `dancu` binary: `dancu serve` runs one service that answers health checks, and a
//! SIGTERM stops it gracefully with exit status 0.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_audit_answers_health_and_stops_on_sigterm() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_dancu"))
        .args(["serve", "audit"])
        .env("DANCU_DATA_DIR", data.path())
        .env("DANCU_AUDIT__LISTEN", "127.0.0.1:0")
        .env("DANCU_LOG_FORMAT", "json")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dancu");
    let mut banner = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut banner)
        .expect("banner");
    let address = banner
        .trim()
        .strip_prefix("dancu audit listening on ")
        .unwrap_or_else(|| panic!("unexpected banner {banner:?}"))
        .to_owned();

    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        let answer = async {
            let channel = tonic::transport::Endpoint::from_shared(format!("http://{address}"))
                .ok()?
                .connect()
                .await
                .ok()?;
            HealthClient::new(channel)
                .check(HealthCheckRequest {
                    service: "dancu.audit.v1.AuditService".to_owned(),
                })
                .await
                .ok()
        }
        .await;
        if let Some(answer) = answer {
            break answer.into_inner().status;
        }
        assert!(Instant::now() < deadline, "audit never answered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status, ServingStatus::Serving as i32);
    assert!(
        data.path().join("audit.db").exists(),
        "its own SQLite database"
    );

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    // Wait off the async workers: they must keep serving the client side of the
    // connection so it can acknowledge the server's GOAWAY.
    let (exit, mut child) = tokio::task::spawn_blocking(move || (child.wait(), child))
        .await
        .expect("waiter");
    let exit = exit.expect("exit");
    assert!(exit.success(), "graceful stop exits 0, got {exit:?}");
    let mut logs = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut logs)
        .expect("logs");
    assert!(logs.contains("draining in-flight calls"), "{logs}");
    for line in logs.lines() {
        assert!(line.starts_with('{'), "JSON log lines only: {line}");
    }
}
