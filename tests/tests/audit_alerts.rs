//! Alerts end to end: raised as events arrive, persisted, listed with pagination, and
//! streamed by WatchAlerts — from a cursor, with later alerts arriving live.

use dancu_e2e::Cluster;
use dancu_e2e::api::{request, sample_record};
use dancu_proto::audit::v1::{Alert, AlertKind, ListAlertsRequest, WatchAlertsRequest};
use dancu_proto::records::v1::Classification;
use std::time::Duration;
use tokio_stream::StreamExt;
use tonic::Code;

fn person(i: u32) -> String {
    format!("00109012{i:04}")
}

async fn alerts(cluster: &Cluster, token: &str, kind: AlertKind) -> Vec<Alert> {
    cluster
        .audit_alerts()
        .list_alerts(request(
            ListAlertsRequest {
                kind: kind as i32,
                ..Default::default()
            },
            token,
            None,
            None,
        ))
        .await
        .expect("list alerts")
        .into_inner()
        .alerts
}

async fn next_alert(stream: &mut tonic::Streaming<Alert>) -> Alert {
    tokio::time::timeout(Duration::from_secs(20), stream.next())
        .await
        .expect("an alert in time")
        .expect("stream open")
        .expect("alert")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_are_raised_listed_and_watched() {
    let cluster = Cluster::start_with(|config| {
        config.audit_alerts.max_subjects_per_hour = 2;
        // Working hours that never start: every personal-data access is "outside".
        config.audit_alerts.working_hours_start = 0;
        config.audit_alerts.working_hours_end = 0;
    })
    .await;
    let (token, admin_id) = cluster.admin_login().await;
    for i in 0..3 {
        cluster
            .register_sample(&token, &person(i))
            .await
            .expect("register");
    }
    cluster.wait_for_tree_size(&token, 3).await;

    let many = alerts(&cluster, &token, AlertKind::ManySubjects).await;
    assert_eq!(many.len(), 1, "one alert when the third person is read");
    assert_eq!(many[0].actor_id, admin_id);
    assert_eq!(many[0].leaf_index, 2);
    assert!(
        !many[0].detail.contains(&person(2)),
        "no personal data in details"
    );
    let night = alerts(&cluster, &token, AlertKind::OutsideHours).await;
    assert_eq!(night.len(), 3);

    // Pagination over all alerts.
    let first = cluster
        .audit_alerts()
        .list_alerts(request(
            ListAlertsRequest {
                page_size: 3,
                ..Default::default()
            },
            &token,
            None,
            None,
        ))
        .await
        .expect("page")
        .into_inner();
    assert_eq!(first.alerts.len(), 3);
    let rest = cluster
        .audit_alerts()
        .list_alerts(request(
            ListAlertsRequest {
                page_size: 3,
                page_token: first.next_page_token.clone(),
                ..Default::default()
            },
            &token,
            None,
            None,
        ))
        .await
        .expect("next page")
        .into_inner();
    assert_eq!(rest.alerts.len(), 1);
    assert!(rest.alerts[0].alert_id > first.alerts[2].alert_id);

    // Watch from the middle: the stored ones after the cursor, then live ones.
    let cursor = first.alerts[2].alert_id;
    let mut stream = cluster
        .audit_alerts()
        .watch_alerts(request(
            WatchAlertsRequest {
                after_alert_id: cursor,
            },
            &token,
            None,
            None,
        ))
        .await
        .expect("watch")
        .into_inner();
    let caught_up = next_alert(&mut stream).await;
    assert_eq!(caught_up.alert_id, rest.alerts[0].alert_id);

    // A record of the "suspicious signs" class: creating it reads the person at identity
    // (outside hours) and writes the record (outside hours, suspicious signs). Only
    // investigators and reconnaissance officers may record suspicious signs (access
    // policies); creating the officer touches no person, so it raises no alert.
    let investigator = cluster
        .officer(&token, "inv.alerts", "BCA-C06", &["investigator"], None)
        .await;
    let mut record = sample_record(&person(0));
    record.classification = Classification::SuspiciousSigns as i32;
    cluster
        .records()
        .create_subject_record(request(
            record,
            investigator.token(),
            Some("investigation"),
            Some("VKS-2026-0007"),
        ))
        .await
        .expect("create record");
    let mut live = Vec::new();
    while live.len() < 3 {
        live.push(next_alert(&mut stream).await);
    }
    let kinds: Vec<i32> = live.iter().map(|a| a.kind).collect();
    assert!(
        kinds.contains(&(AlertKind::SuspiciousSigns as i32)),
        "{kinds:?}"
    );
    assert!(live.windows(2).all(|w| w[0].alert_id < w[1].alert_id));
    assert!(live[0].alert_id > caught_up.alert_id);

    // Bad requests.
    let status = cluster
        .audit_alerts()
        .list_alerts(request(
            ListAlertsRequest {
                kind: 99,
                ..Default::default()
            },
            &token,
            None,
            None,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let status = cluster
        .audit_alerts()
        .list_alerts(request(
            ListAlertsRequest {
                page_token: "garbage".into(),
                ..Default::default()
            },
            &token,
            None,
            None,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    drop(stream);
    cluster.shutdown().await;
}
