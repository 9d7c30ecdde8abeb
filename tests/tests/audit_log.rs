//! The verifiable log end to end: every audited call becomes a leaf; checkpoints are
//! signed; inclusion and consistency proofs verify against them; the tree survives a
//! restart; archiving drops bodies but proofs still verify; bad requests get clear errors.

use dancu_e2e::Cluster;
use dancu_e2e::api::request;
use dancu_kit::config::ServiceKind;
use dancu_proto::audit::v1::get_inclusion_proof_request::Leaf;
use dancu_proto::audit::v1::{
    ArchiveEventsRequest, AuditEvent, GetConsistencyProofRequest, GetEntriesRequest,
    GetInclusionProofRequest, GetSubjectAccessReportRequest, ListEventsRequest,
};
use dancu_translog::merkle::{Hash, verify_consistency, verify_inclusion};
use tonic::Code;

fn person(i: u32) -> String {
    format!("00109012{i:04}")
}

fn hashes(raw: &[Vec<u8>]) -> Vec<Hash> {
    raw.iter()
        .map(|h| h.as_slice().try_into().expect("32-byte hash"))
        .collect()
}

async fn all_events(cluster: &Cluster, token: &str) -> Vec<AuditEvent> {
    cluster
        .list_events(
            token,
            ListEventsRequest {
                page_size: 1000,
                ..Default::default()
            },
        )
        .await
        .expect("list events")
        .events
}

async fn inclusion(
    cluster: &Cluster,
    token: &str,
    leaf: Leaf,
    tree_size: u64,
) -> Result<dancu_proto::audit::v1::GetInclusionProofResponse, tonic::Status> {
    cluster
        .audit_log()
        .get_inclusion_proof(request(
            GetInclusionProofRequest {
                leaf: Some(leaf),
                tree_size,
            },
            token,
            None,
            None,
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn consistency(
    cluster: &Cluster,
    token: &str,
    first: u64,
    second: u64,
) -> Result<Vec<Hash>, tonic::Status> {
    cluster
        .audit_log()
        .get_consistency_proof(request(
            GetConsistencyProofRequest {
                first_tree_size: first,
                second_tree_size: second,
            },
            token,
            None,
            None,
        ))
        .await
        .map(|r| hashes(&r.into_inner().hashes))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proofs_verify_against_signed_checkpoints_across_restarts() {
    let mut cluster = Cluster::start().await;
    let (token, _) = cluster.admin_login().await;
    for i in 0..3 {
        cluster
            .register_sample(&token, &person(i))
            .await
            .expect("register");
    }
    let first = cluster.wait_for_tree_size(&token, 3).await;
    assert_eq!(first.size, 3);
    assert_eq!(first.origin, "dancu.audit/log");
    for i in 0..3 {
        cluster.get_citizen(&token, &person(i)).await.expect("get");
    }
    let second = cluster.wait_for_tree_size(&token, 6).await;
    assert_eq!(second.size, 6);

    // Every event is a leaf whose inclusion proof verifies against the signed root.
    let events = all_events(&cluster, &token).await;
    assert_eq!(events.len(), 6);
    for event in &events {
        let proof = inclusion(&cluster, &token, Leaf::EventId(event.event_id.clone()), 0)
            .await
            .expect("inclusion proof");
        assert_eq!((proof.leaf_index, proof.tree_size), (event.leaf_index, 6));
        let leaf: Hash = proof.leaf_hash.as_slice().try_into().expect("32 bytes");
        verify_inclusion(
            proof.leaf_index,
            6,
            &leaf,
            &hashes(&proof.hashes),
            &second.root,
        )
        .expect("inclusion verifies");
    }
    // In an older tree too.
    let old = inclusion(&cluster, &token, Leaf::LeafIndex(1), 3)
        .await
        .expect("old proof");
    let leaf: Hash = old.leaf_hash.as_slice().try_into().expect("32 bytes");
    verify_inclusion(1, 3, &leaf, &hashes(&old.hashes), &first.root).expect("verifies at size 3");

    let proof = consistency(&cluster, &token, 3, 6)
        .await
        .expect("consistency");
    verify_consistency(3, 6, &first.root, &second.root, &proof).expect("consistent");

    // The tree is rebuilt from the database after a restart: same root, same proofs.
    cluster.stop(ServiceKind::Audit).await;
    cluster.restart(ServiceKind::Audit).await;
    let (_, after) = cluster.checkpoint(&token).await;
    assert_eq!((after.size, after.root), (second.size, second.root));
    cluster.get_citizen(&token, &person(0)).await.expect("get");
    let third = cluster.wait_for_tree_size(&token, 7).await;
    let proof = consistency(&cluster, &token, 6, 7)
        .await
        .expect("consistency");
    verify_consistency(6, 7, &second.root, &third.root, &proof).expect("still consistent");

    // Bad requests: clear errors, never INTERNAL.
    let status = inclusion(&cluster, &token, Leaf::LeafIndex(99), 0)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let status = inclusion(&cluster, &token, Leaf::LeafIndex(0), 99)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let unknown = uuid::Uuid::now_v7().to_string();
    let status = inclusion(&cluster, &token, Leaf::EventId(unknown), 0)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let status = inclusion(&cluster, &token, Leaf::EventId("nope".into()), 0)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let status = consistency(&cluster, &token, 5, 3).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let status = consistency(&cluster, &token, 3, 99).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    for (start, end) in [(0, 99), (3, 3), (0, 2000)] {
        let status = cluster
            .audit_log()
            .get_entries(request(
                GetEntriesRequest { start, end },
                &token,
                None,
                None,
            ))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{start}..{end}");
    }
    let status = cluster
        .audit_log()
        .get_checkpoint(tonic::Request::new(Default::default()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archived_ranges_keep_proofs_and_consistency() {
    let cluster = Cluster::start().await;
    let (token, _) = cluster.admin_login().await;
    for i in 0..4 {
        cluster
            .register_sample(&token, &person(i))
            .await
            .expect("register");
    }
    let before = cluster.wait_for_tree_size(&token, 4).await;
    let cutoff = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    cluster.get_citizen(&token, &person(0)).await.expect("get");
    let grown = cluster.wait_for_tree_size(&token, 5).await;

    let status = cluster
        .audit_log()
        .archive_events(request(
            ArchiveEventsRequest { before_time: None },
            &token,
            None,
            None,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let archived = cluster
        .audit_log()
        .archive_events(request(
            ArchiveEventsRequest {
                before_time: Some(prost_types::Timestamp {
                    seconds: cutoff.timestamp(),
                    nanos: cutoff.timestamp_subsec_nanos() as i32,
                }),
            },
            &token,
            None,
            None,
        ))
        .await
        .expect("archive")
        .into_inner()
        .archived;
    assert_eq!(archived, 4);

    // Bodies are gone from listings; leaves and proofs remain.
    let events = all_events(&cluster, &token).await;
    assert_eq!(events.len(), 1);
    let entries = cluster
        .audit_log()
        .get_entries(request(
            GetEntriesRequest { start: 0, end: 5 },
            &token,
            None,
            None,
        ))
        .await
        .expect("entries")
        .into_inner()
        .entries;
    let flags: Vec<bool> = entries.iter().map(|e| e.archived).collect();
    assert_eq!(flags, [true, true, true, true, false]);
    assert!(
        entries[..4]
            .iter()
            .all(|e| e.event.is_none() && e.leaf_hash.len() == 32)
    );
    let (_, now) = cluster.checkpoint(&token).await;
    assert_eq!(now.root, grown.root, "archiving does not change the tree");
    let proof = inclusion(&cluster, &token, Leaf::LeafIndex(2), 0)
        .await
        .expect("proof");
    let leaf: Hash = entries[2]
        .leaf_hash
        .as_slice()
        .try_into()
        .expect("32 bytes");
    verify_inclusion(2, 5, &leaf, &hashes(&proof.hashes), &now.root).expect("archived leaf proven");
    let proof = consistency(&cluster, &token, 4, 5)
        .await
        .expect("consistency");
    verify_consistency(4, 5, &before.root, &now.root, &proof).expect("consistent");
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_and_the_data_subject_report() {
    let cluster = Cluster::start().await;
    let (token, admin_id) = cluster.admin_login().await;
    cluster
        .register_sample(&token, &person(1))
        .await
        .expect("register");
    cluster
        .register_sample(&token, &person(2))
        .await
        .expect("register");
    cluster.get_citizen(&token, &person(1)).await.expect("get");
    cluster.wait_for_tree_size(&token, 3).await;

    let by = |filter: ListEventsRequest| {
        let cluster = &cluster;
        let token = token.clone();
        async move { cluster.list_events(&token, filter).await }
    };
    let unit = by(ListEventsRequest {
        actor_unit: "BCA".into(),
        ..Default::default()
    })
    .await
    .expect("by unit");
    assert_eq!(unit.events.len(), 3);
    assert!(unit.events.iter().all(|e| e.actor_id == admin_id));
    assert!(
        unit.events.iter().all(|e| !e.client_address.is_empty()),
        "client address recorded"
    );
    let none = by(ListEventsRequest {
        actor_unit: "CAHN".into(),
        ..Default::default()
    })
    .await
    .expect("other unit");
    assert!(none.events.is_empty());
    let purpose = by(ListEventsRequest {
        purpose: "residence_management".into(),
        subject: person(1),
        ..Default::default()
    })
    .await
    .expect("by purpose and subject");
    assert_eq!(purpose.events.len(), 2);
    let paged = by(ListEventsRequest {
        page_size: 2,
        ..Default::default()
    })
    .await
    .expect("page");
    assert_eq!(paged.events.len(), 2);
    let rest = by(ListEventsRequest {
        page_size: 2,
        page_token: paged.next_page_token.clone(),
        ..Default::default()
    })
    .await
    .expect("next page");
    assert_eq!(rest.events.len(), 1);
    assert!(rest.next_page_token.is_empty());
    let status = by(ListEventsRequest {
        purpose: "curiosity".into(),
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);

    let report = cluster
        .audit()
        .get_subject_access_report(request(
            GetSubjectAccessReportRequest {
                subject: person(1),
                ..Default::default()
            },
            &token,
            None,
            None,
        ))
        .await
        .expect("report")
        .into_inner();
    let rows: Vec<(&str, &str, &str)> = report
        .accesses
        .iter()
        .map(|a| {
            (
                a.unit.as_str(),
                a.purpose.as_str(),
                a.resource_type.as_str(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("BCA", "residence_management", "citizen"),
            ("BCA", "residence_management", "citizen")
        ]
    );
    assert!(report.accesses.iter().all(|a| a.occur_time.is_some()));
    let status = cluster
        .audit()
        .get_subject_access_report(request(
            GetSubjectAccessReportRequest {
                subject: "12345".into(),
                ..Default::default()
            },
            &token,
            None,
            None,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_auditors_and_administrators_read_the_log() {
    let cluster = Cluster::start().await;
    let secret = cluster.config.service_secret.clone().expect("secret");
    let login = dancu_audit_client::ServiceAccountLogin::new(
        &cluster.endpoint(ServiceKind::Identity),
        "svc-records",
        secret,
    )
    .expect("login client");
    let service = dancu_audit_client::TokenSource::token(&login)
        .await
        .expect("service token");
    let denied = |status: tonic::Status| assert_eq!(status.code(), Code::PermissionDenied);
    denied(
        cluster
            .audit_log()
            .get_checkpoint(request(Default::default(), &service, None, None))
            .await
            .unwrap_err(),
    );
    denied(
        cluster
            .audit_log()
            .get_entries(request(
                GetEntriesRequest { start: 0, end: 1 },
                &service,
                None,
                None,
            ))
            .await
            .unwrap_err(),
    );
    denied(
        cluster
            .audit_log()
            .archive_events(request(Default::default(), &service, None, None))
            .await
            .unwrap_err(),
    );
    denied(
        cluster
            .audit()
            .get_subject_access_report(request(
                GetSubjectAccessReportRequest {
                    subject: "001090123456".into(),
                    ..Default::default()
                },
                &service,
                None,
                None,
            ))
            .await
            .unwrap_err(),
    );
    denied(
        cluster
            .audit_alerts()
            .list_alerts(request(Default::default(), &service, None, None))
            .await
            .unwrap_err(),
    );
    denied(
        cluster
            .audit_alerts()
            .watch_alerts(request(Default::default(), &service, None, None))
            .await
            .unwrap_err(),
    );
    cluster.shutdown().await;
}
