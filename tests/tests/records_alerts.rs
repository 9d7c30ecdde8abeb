//! Movement alerts end to end: records follows identity's change feed; when a subject
//! under supervision moves commune, declares an absence or dies, the owning unit gets one
//! alert — listable and streamable — and the subject's snapshot is refreshed; a records
//! restart neither loses nor repeats alerts; unsupervised subjects raise none.

use dancu_e2e::Cluster;
use dancu_e2e::api::request;
use dancu_e2e::population::{date, person, violated_fields};
use dancu_e2e::records::{CASE, PURPOSE, day};
use dancu_kit::config::ServiceKind;
use dancu_proto::common::v1::Sex;
use dancu_proto::identity::v1::{DeclareResidenceRequest, ResidenceKind};
use dancu_proto::records::v1::{
    Classification, GetSubjectRequest, ListMovementAlertsRequest, MovementAlert, MovementKind,
    WatchMovementAlertsRequest,
};
use std::time::Duration;
use tokio_stream::StreamExt;
use tonic::Code;

const SUPERVISED: &str = "001085000401";
const FREE: &str = "001085000402";

/// Waits until the unit has `n` alerts (or 15 s pass); returns them.
async fn alerts_until(cluster: &Cluster, token: &str, n: usize) -> Vec<MovementAlert> {
    let mut alerts = Vec::new();
    for _ in 0..150 {
        alerts = cluster.movement_alerts(token).await.expect("list alerts");
        if alerts.len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    alerts
}

async fn move_to(cluster: &Cluster, token: &str, personal_id: &str, commune: &str) {
    cluster
        .declare(
            token,
            DeclareResidenceRequest {
                personal_id: personal_id.to_owned(),
                kind: ResidenceKind::Permanent as i32,
                commune_code: commune.to_owned(),
                address: "Số 5 Phố Hàng Bạc".to_owned(),
                start_date: Some(date(2026, 1, 1)),
                ..Default::default()
            },
        )
        .await
        .expect("move");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervised_subject_moving_alerts_the_owning_unit_exactly_once_across_restarts() {
    let mut cluster = Cluster::start().await;
    let (admin, _) = cluster.admin_login().await;
    for (id, name) in [(SUPERVISED, "Phạm Văn Dũng"), (FREE, "Hoàng Văn Em")] {
        cluster
            .register(&admin, person(id, name, Sex::Male, date(1985, 4, 5)))
            .await
            .expect("register");
        cluster.settle(&admin, id, "01001").await.expect("settle");
    }
    let owner = cluster
        .officer(&admin, "inv.badinh", "CAX-01001", &["investigator"], None)
        .await;
    let other = cluster
        .officer(&admin, "inv.hoankiem", "CAX-01002", &["investigator"], None)
        .await;
    let supervised = cluster
        .create_subject(owner.token(), SUPERVISED)
        .await
        .expect("subject");
    cluster
        .classify(
            owner.token(),
            &supervised.id,
            Classification::PostRehabilitation,
            day(2025, 1, 1),
            None,
        )
        .await
        .expect("post-rehabilitation");
    let free = cluster
        .create_subject(owner.token(), FREE)
        .await
        .expect("subject");
    cluster
        .classify(
            owner.token(),
            &free.id,
            Classification::PriorViolation,
            day(2025, 1, 1),
            None,
        )
        .await
        .expect("prior violation");

    // A watcher of the owning unit sees the alert as it is raised.
    let mut stream = cluster
        .records()
        .watch_movement_alerts(request(
            WatchMovementAlertsRequest::default(),
            owner.token(),
            Some(PURPOSE),
            Some(CASE),
        ))
        .await
        .expect("watch")
        .into_inner();

    // Both move; only the supervised one raises an alert.
    move_to(&cluster, &admin, FREE, "01002").await;
    move_to(&cluster, &admin, SUPERVISED, "01002").await;
    let streamed = tokio::time::timeout(Duration::from_secs(15), stream.next())
        .await
        .expect("an alert within 15 s")
        .expect("stream open")
        .expect("alert");
    assert_eq!(streamed.subject_id, supervised.id);
    assert_eq!(streamed.kind, MovementKind::Moved as i32);
    assert_eq!(streamed.owning_unit, "CAX-01001");
    assert_eq!(streamed.previous_commune, "01001");
    assert_eq!(streamed.commune, "01002");
    assert_eq!(
        streamed.supervision,
        [Classification::PostRehabilitation as i32]
    );
    let alerts = alerts_until(&cluster, owner.token(), 1).await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].id, streamed.id);
    // The other unit sees none of them.
    assert!(
        cluster
            .movement_alerts(other.token())
            .await
            .expect("list")
            .is_empty()
    );

    // The snapshot follows the move.
    let refreshed = cluster
        .records()
        .get_subject(request(
            GetSubjectRequest {
                id: supervised.id.clone(),
            },
            owner.token(),
            Some(PURPOSE),
            Some(CASE),
        ))
        .await
        .expect("get")
        .into_inner();
    assert_eq!(
        refreshed.snapshot.expect("snapshot").residence_commune,
        "01002"
    );

    // Records restarts: an open alert stream does not hold the shutdown up (it ends), and
    // the follower resumes from its stored cursor; nothing repeats.
    tokio::time::timeout(Duration::from_secs(10), cluster.stop(ServiceKind::Records))
        .await
        .expect("records stops with an alert stream open");
    let ended = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("the stream ends");
    assert!(!matches!(ended, Some(Ok(_))), "no alert after shutdown");
    // The follower's position is stored with the alert (not only derivable from the
    // snapshot times), so the restart below resumes from it.
    let store = dancu_records::store::RecordsStore::open(
        &cluster.config.database_url(ServiceKind::Records),
        1,
    )
    .await
    .expect("open the records store");
    assert!(
        !store
            .feed_cursor(dancu_records::store::IDENTITY_FEED)
            .await
            .expect("read the stored cursor")
            .is_empty(),
        "the feed cursor is persisted"
    );
    drop(store);
    cluster.restart(ServiceKind::Records).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let alerts = alerts_until(&cluster, owner.token(), 1).await;
    assert_eq!(alerts.len(), 1, "no repeat after restart: {alerts:?}");

    // A change committed while records is down is not lost.
    cluster.stop(ServiceKind::Records).await;
    move_to(&cluster, &admin, SUPERVISED, "01003").await;
    cluster.restart(ServiceKind::Records).await;
    let alerts = alerts_until(&cluster, owner.token(), 2).await;
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    assert_eq!(alerts[1].previous_commune, "01002");
    assert_eq!(alerts[1].commune, "01003");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        cluster
            .movement_alerts(owner.token())
            .await
            .expect("list")
            .len(),
        2
    );

    // Streams resume after an alert id; bad input is refused.
    let mut resumed = cluster
        .records()
        .watch_movement_alerts(request(
            WatchMovementAlertsRequest {
                after_alert_id: alerts[0].id.clone(),
            },
            owner.token(),
            Some(PURPOSE),
            Some(CASE),
        ))
        .await
        .expect("watch")
        .into_inner();
    let next = tokio::time::timeout(Duration::from_secs(10), resumed.next())
        .await
        .expect("resumed")
        .expect("open")
        .expect("alert");
    assert_eq!(next.id, alerts[1].id);
    drop(resumed);
    let bad = cluster
        .records()
        .list_movement_alerts(request(
            ListMovementAlertsRequest {
                page_size: -1,
                page_token: "zzz".to_owned(),
            },
            owner.token(),
            Some(PURPOSE),
            Some(CASE),
        ))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&bad), ["page_size", "page_token"]);
    let registrar = cluster
        .officer(&admin, "auditor.x", "CAX-01001", &["auditor"], None)
        .await;
    let refused = cluster
        .records()
        .list_movement_alerts(request(
            ListMovementAlertsRequest::default(),
            registrar.token(),
            Some("audit_review"),
            None,
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    cluster.shutdown().await;
}
