//! `dancu audit verify` against a running cluster: a clean log verifies (and later runs
//! check consistency with the saved checkpoint); changing one stored event row directly in
//! the audit database makes it fail, naming the leaf and the event.

use dancu_e2e::Cluster;
use dancu_kit::config::ServiceKind;
use dancu_proto::audit::v1::ListEventsRequest;
use std::path::Path;
use std::process::Command;

/// Runs `dancu audit verify`; returns (success, stdout, stderr).
fn verify(cluster: &Cluster, token: &str, file: &Path) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_dancu"))
        .args(["audit", "verify", "--endpoint"])
        .arg(cluster.endpoint(ServiceKind::Audit))
        .arg("--checkpoint-file")
        .arg(file)
        .env("DANCU_TOKEN", token)
        .output()
        .expect("run dancu");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_passes_then_names_the_tampered_leaf() {
    let cluster = Cluster::start().await;
    let (token, _) = cluster.admin_login().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("checkpoint.txt");
    for i in 0..3 {
        let id = format!("00109012{i:04}");
        cluster
            .register_sample(&token, &id)
            .await
            .expect("register");
        cluster.get_citizen(&token, &id).await.expect("get");
    }
    cluster.wait_for_tree_size(&token, 6).await;

    let (ok, out, err) = verify(&cluster, &token, &file);
    assert!(ok, "clean log verifies: {out} {err}");
    assert!(out.contains("6 entries"), "{out}");
    assert!(file.exists(), "checkpoint saved");

    cluster
        .get_citizen(&token, "001090120000")
        .await
        .expect("get");
    cluster.wait_for_tree_size(&token, 7).await;
    let (ok, out, err) = verify(&cluster, &token, &file);
    assert!(ok, "grown log verifies: {out} {err}");
    assert!(
        out.contains("consistent with the saved checkpoint of size 6"),
        "{out}"
    );

    // An intruder edits one stored event (the purpose of leaf 3) directly in the database.
    let victim = cluster
        .list_events(&token, ListEventsRequest::default())
        .await
        .expect("list")
        .events
        .into_iter()
        .find(|e| e.leaf_index == 3)
        .expect("leaf 3");
    let changed = cluster
        .audit_sql("UPDATE audit_events SET purpose = 'investigation' WHERE leaf_index = 3")
        .await;
    assert_eq!(changed, 1);
    let (ok, out, err) = verify(&cluster, &token, &file);
    assert!(!ok, "tampering is caught: {out}");
    assert!(
        err.contains(&format!("leaf 3 (event {})", victim.event_id)),
        "names the leaf and event: {err}"
    );
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_catches_a_truncated_or_rewritten_history() {
    let mut cluster = Cluster::start().await;
    let (token, _) = cluster.admin_login().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("checkpoint.txt");
    for i in 0..3 {
        let id = format!("00109012{i:04}");
        cluster
            .register_sample(&token, &id)
            .await
            .expect("register");
    }
    cluster.wait_for_tree_size(&token, 3).await;
    let (ok, out, err) = verify(&cluster, &token, &file);
    assert!(ok, "{out} {err}");

    // An intruder removes the last event and its leaf, and restarts the service: the log
    // re-signs a smaller tree.
    cluster
        .audit_sql("DELETE FROM audit_events WHERE leaf_index = 2")
        .await;
    cluster
        .audit_sql("DELETE FROM audit_leaves WHERE leaf_index = 2")
        .await;
    cluster.stop(ServiceKind::Audit).await;
    cluster.restart(ServiceKind::Audit).await;
    let (ok, _, err) = verify(&cluster, &token, &file);
    assert!(!ok);
    assert!(err.contains("the log shrank"), "{err}");

    // A new event takes the removed one's place: same size, different history.
    cluster
        .get_citizen(&token, "001090120000")
        .await
        .expect("get");
    cluster.wait_for_tree_size(&token, 3).await;
    let (ok, _, err) = verify(&cluster, &token, &file);
    assert!(!ok);
    assert!(err.contains("history rewritten"), "{err}");
    cluster.shutdown().await;
}
