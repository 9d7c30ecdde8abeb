//! An audit outage loses nothing: identity keeps serving, its audit events wait in its
//! outbox, and the relay delivers them once audit is back — exactly once.

use dancu_e2e::Cluster;
use dancu_e2e::api::{request, sample_citizen};
use dancu_kit::config::ServiceKind;
use dancu_proto::audit::v1::ListEventsRequest;
use dancu_proto::identity::v1::{GetCitizenRequest, RegisterCitizenRequest};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_survive_an_audit_outage() {
    let mut cluster = Cluster::start().await;
    let (token, _) = cluster.admin_login().await;
    cluster.stop(ServiceKind::Audit).await;

    let purpose = Some("residence_management");
    cluster
        .identity()
        .register_citizen(request(
            RegisterCitizenRequest {
                citizen: Some(sample_citizen("001090123456")),
            },
            &token,
            purpose,
            None,
        ))
        .await
        .expect("identity keeps serving while audit is down");
    cluster
        .identity()
        .get_citizen(request(
            GetCitizenRequest {
                personal_id: "001090123456".to_owned(),
            },
            &token,
            purpose,
            None,
        ))
        .await
        .expect("reads too");

    cluster.restart(ServiceKind::Audit).await;
    let mut rpcs = Vec::new();
    for _ in 0..300 {
        rpcs = cluster
            .audit()
            .list_events(request(
                ListEventsRequest {
                    subject: "001090123456".to_owned(),
                    ..Default::default()
                },
                &token,
                None,
                None,
            ))
            .await
            .expect("list")
            .into_inner()
            .events
            .into_iter()
            .map(|e| e.rpc)
            .collect();
        if rpcs.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Let the relay run a few more rounds: nothing may be delivered twice.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let events = cluster
        .audit()
        .list_events(request(
            ListEventsRequest {
                subject: "001090123456".to_owned(),
                ..Default::default()
            },
            &token,
            None,
            None,
        ))
        .await
        .expect("list")
        .into_inner()
        .events;
    let rpcs_after: Vec<&str> = events.iter().map(|e| e.rpc.as_str()).collect();
    assert_eq!(
        rpcs_after,
        [
            "/dancu.identity.v1.IdentityService/RegisterCitizen",
            "/dancu.identity.v1.IdentityService/GetCitizen",
        ],
        "delivered in order, exactly once (first seen: {rpcs:?})"
    );
    cluster.shutdown().await;
}
