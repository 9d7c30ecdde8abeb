//! Running the `dancu` binary against an in-process cluster, shared by the CLI suites.

#![allow(dead_code)]

use dancu_e2e::Cluster;
use dancu_kit::config::ServiceKind;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// What a run of the binary did.
pub struct Run {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs `dancu args…` against `cluster` with the session kept in `config_dir`, feeding
/// `stdin`; extra environment in `env`.
pub async fn dancu(
    cluster: &Cluster,
    config_dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: &str,
) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dancu"));
    command
        .args(args)
        .env("DANCU_CONFIG_DIR", config_dir)
        .env(
            "DANCU_IDENTITY_ENDPOINT",
            cluster.endpoint(ServiceKind::Identity),
        )
        .env(
            "DANCU_RECORDS_ENDPOINT",
            cluster.endpoint(ServiceKind::Records),
        )
        .env("DANCU_AUDIT_ENDPOINT", cluster.endpoint(ServiceKind::Audit))
        .env_remove("DANCU_TOKEN")
        .env_remove("DANCU_PASSWORD")
        .env_remove("DANCU_ENDPOINT")
        .env_remove("DANCU_PURPOSE")
        .env_remove("DANCU_CASE")
        .env_remove("DANCU_OUTPUT")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let stdin = stdin.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut child = command.spawn().expect("start dancu");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("write stdin");
        let output = child.wait_with_output().expect("run dancu");
        Run {
            code: output.status.code().expect("exit code"),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    })
    .await
    .expect("join")
}

pub fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {} / {}", run.stdout, run.stderr))
}
