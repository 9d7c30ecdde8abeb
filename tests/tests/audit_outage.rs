//! An audit outage loses nothing: identity keeps serving, its audit events wait in its
//! outbox, and the relay delivers them once audit is back — exactly once.

use dancu_e2e::Cluster;
use dancu_kit::config::ServiceKind;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_survive_an_audit_outage() {
    let mut cluster = Cluster::start().await;
    let (token, _) = cluster.admin_login().await;
    cluster.stop(ServiceKind::Audit).await;

    cluster
        .register_sample(&token, "001090123456")
        .await
        .expect("identity keeps serving while audit is down");
    cluster
        .get_citizen(&token, "001090123456")
        .await
        .expect("reads too");

    cluster.restart(ServiceKind::Audit).await;
    let first_seen: Vec<String> = cluster
        .events_about(&token, "001090123456", 2)
        .await
        .into_iter()
        .map(|e| e.rpc)
        .collect();
    // Let the relay run a few more rounds: nothing may be delivered twice.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let events = cluster.events_about(&token, "001090123456", 2).await;
    let rpcs_after: Vec<&str> = events.iter().map(|e| e.rpc.as_str()).collect();
    assert_eq!(
        rpcs_after,
        [
            "/dancu.identity.v1.IdentityService/RegisterCitizen",
            "/dancu.identity.v1.IdentityService/GetCitizen",
        ],
        "delivered in order, exactly once (first seen: {first_seen:?})"
    );
    cluster.shutdown().await;
}
