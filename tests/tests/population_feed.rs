//! The change feed end to end: changes stream in commit order, a watcher that disconnects
//! resumes from its cursor — even across an identity restart — without losing, repeating
//! or reordering changes, and new commits reach an open stream without polling delay.

use dancu_e2e::Cluster;
use dancu_e2e::api::request;
use dancu_e2e::population::{PURPOSE, date, person, violated_fields};
use dancu_kit::config::ServiceKind;
use dancu_proto::common::v1::Sex;
use dancu_proto::identity::v1::{
    Change, ChangeKind, Citizen, LifeStatus, UpdateCitizenRequest, WatchChangesRequest,
};
use std::time::Duration;
use tokio_stream::StreamExt;
use tonic::Code;

const AN: &str = "001090000001";
const BICH: &str = "001192000002";

async fn watch(
    cluster: &Cluster,
    token: &str,
    after: &str,
) -> Result<tonic::Streaming<Change>, tonic::Status> {
    cluster
        .change_feed()
        .watch_changes(request(
            WatchChangesRequest {
                after_cursor: after.to_owned(),
            },
            token,
            Some("data_quality"),
            None,
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn take(stream: &mut tonic::Streaming<Change>, n: usize) -> Vec<Change> {
    let mut out = Vec::new();
    while out.len() < n {
        let next = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("a change within 10 s")
            .expect("stream open")
            .expect("change");
        out.push(next);
    }
    out
}

fn summary(changes: &[Change]) -> Vec<(String, i32)> {
    changes
        .iter()
        .map(|c| (c.personal_id.clone(), c.kind))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feed_resumes_from_a_cursor_across_reconnects_and_restarts() {
    let mut cluster = Cluster::start().await;
    let (token, _) = cluster.admin_login().await;
    cluster
        .register(
            &token,
            person(AN, "Nguyễn Văn An", Sex::Male, date(1990, 5, 17)),
        )
        .await
        .unwrap();
    cluster
        .register(
            &token,
            person(BICH, "Trần Thị Bích", Sex::Female, date(1992, 1, 1)),
        )
        .await
        .unwrap();
    cluster.settle(&token, AN, "01001").await.unwrap();

    let mut stream = watch(&cluster, &token, "").await.expect("watch");
    let first = take(&mut stream, 2).await;
    assert_eq!(
        summary(&first),
        [
            (AN.to_owned(), ChangeKind::Registered as i32),
            (BICH.to_owned(), ChangeKind::Registered as i32),
        ]
    );
    let cursor = first[1].cursor.clone();
    // The stream stays open across the restart below: shutting down ends it (the
    // watcher resumes from its cursor) instead of holding the drain up.

    // Changes made while nobody watches, and an identity restart.
    cluster.settle(&token, BICH, "48001").await.unwrap();
    cluster
        .identity()
        .update_citizen(request(
            UpdateCitizenRequest {
                citizen: Some(Citizen {
                    life_status: LifeStatus::Deceased as i32,
                    life_status_date: Some(date(2026, 1, 2)),
                    ..person(AN, "", Sex::Unspecified, date(1990, 1, 1))
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["life_status".to_owned()],
                }),
                etag: "\"1\"".to_owned(),
                reason: "giấy chứng tử".to_owned(),
            },
            &token,
            Some(PURPOSE),
            None,
        ))
        .await
        .expect("record death");
    cluster.stop(ServiceKind::Identity).await;
    cluster.restart(ServiceKind::Identity).await;
    let (token, _) = cluster.admin_login().await;

    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(_)) = stream.next().await {}
    })
    .await;
    assert!(ended.is_ok(), "the open stream ended at shutdown");
    let mut resumed = watch(&cluster, &token, &cursor).await.expect("resume");
    let rest = take(&mut resumed, 4).await;
    assert_eq!(
        summary(&rest),
        [
            (AN.to_owned(), ChangeKind::Residence as i32),
            (BICH.to_owned(), ChangeKind::Residence as i32),
            (AN.to_owned(), ChangeKind::Updated as i32),
            (AN.to_owned(), ChangeKind::Deceased as i32),
        ],
        "nothing lost, nothing repeated, in commit order"
    );
    assert_eq!(rest[0].residence_kind, "permanent");
    assert_eq!(rest[0].commune_code, "01001");
    assert_eq!(rest[2].fields, ["life_status"]);
    let cursors: Vec<i64> = rest.iter().map(|c| c.cursor.parse().unwrap()).collect();
    assert!(cursors.windows(2).all(|w| w[0] < w[1]));

    // A new commit reaches the open stream promptly.
    cluster.settle(&token, BICH, "01002").await.unwrap();
    let live = take(&mut resumed, 1).await;
    assert_eq!(
        summary(&live),
        [(BICH.to_owned(), ChangeKind::Residence as i32)]
    );
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_cursor_and_missing_token_are_refused() {
    let cluster = Cluster::start().await;
    let (token, _) = cluster.admin_login().await;
    let status = watch(&cluster, &token, "not-a-cursor")
        .await
        .expect_err("bad cursor");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["after_cursor"]);
    let status = watch(&cluster, "forged", "").await.expect_err("bad token");
    assert_eq!(status.code(), Code::Unauthenticated);
    cluster.shutdown().await;
}
