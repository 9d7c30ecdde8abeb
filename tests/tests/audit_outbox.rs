//! The durable outbox under failure: an audit outage loses nothing and duplicates nothing
//! (and the log stays consistent with the checkpoint taken before it); a full backlog
//! fails calls closed with UNAVAILABLE until it drains; a relay killed mid-batch loses
//! nothing and duplicates nothing.

use dancu_audit_client::{AuditOutbox, ServiceAccountLogin};
use dancu_e2e::Cluster;
use dancu_e2e::api::{request, sample_record};
use dancu_kit::config::ServiceKind;
use dancu_proto::audit::v1::{AuditEvent, GetConsistencyProofRequest, ListEventsRequest};
use dancu_proto::records::v1::GetSubjectRecordRequest;
use dancu_translog::merkle::{Hash, verify_consistency};
use futures::StreamExt;
use sea_orm_migration::MigratorTrait;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tonic::Code;

const PERSON: &str = "001090123456";

/// Every event id in the log (paging through ListEvents), with repeats kept.
async fn all_event_ids(cluster: &Cluster, token: &str, actor: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = cluster
            .list_events(
                token,
                ListEventsRequest {
                    actor_id: actor.to_owned(),
                    page_size: 1000,
                    page_token: page_token.clone(),
                    ..Default::default()
                },
            )
            .await
            .expect("list events");
        ids.extend(page.events.into_iter().map(|e| e.event_id));
        if page.next_page_token.is_empty() {
            return ids;
        }
        page_token = page.next_page_token;
    }
}

fn fast_relay(config: &mut dancu_kit::config::Config) {
    config.audit_outbox.relay_max_backoff_ms = 500;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_calls_during_an_outage_arrive_exactly_once() {
    let mut cluster = Cluster::start_with(fast_relay).await;
    let (token, admin_id) = cluster.admin_login().await;
    cluster
        .register_sample(&token, PERSON)
        .await
        .expect("register");
    let record = cluster
        .records()
        .create_subject_record(request(
            sample_record(PERSON),
            &token,
            Some("judgment_enforcement"),
            Some("THA-2026-0042"),
        ))
        .await
        .expect("create record")
        .into_inner();
    // register, the record's identity lookup, the record creation.
    let before = cluster.wait_for_tree_size(&token, 3).await;
    assert_eq!(before.size, 3);

    cluster.stop(ServiceKind::Audit).await;
    let calls: Vec<_> = (0..1000)
        .map(|i| {
            let identity = cluster.identity();
            let records = cluster.records();
            let token = token.clone();
            let record_id = record.id.clone();
            async move {
                if i % 2 == 0 {
                    let mut identity = identity;
                    identity
                        .get_citizen(request(
                            dancu_proto::identity::v1::GetCitizenRequest {
                                personal_id: PERSON.to_owned(),
                            },
                            &token,
                            Some("residence_management"),
                            None,
                        ))
                        .await
                        .map(|_| ())
                } else {
                    let mut records = records;
                    records
                        .get_subject_record(request(
                            GetSubjectRecordRequest { id: record_id },
                            &token,
                            Some("judgment_enforcement"),
                            Some("THA-2026-0042"),
                        ))
                        .await
                        .map(|_| ())
                }
            }
        })
        .collect();
    // 16 at a time, so concurrent reads share group commits.
    let results: Vec<Result<(), tonic::Status>> = futures::stream::iter(calls)
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(
        results.iter().all(Result::is_ok),
        "services keep serving while audit is down"
    );

    cluster.restart(ServiceKind::Audit).await;
    let after = cluster.wait_for_tree_size(&token, 1003).await;
    // Give the relays more rounds: nothing may arrive twice.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, settled) = cluster.checkpoint(&token).await;
    assert_eq!(settled.size, 1003, "exactly 1,000 new events");
    assert_eq!(after.size, 1003);
    let ids = all_event_ids(&cluster, &token, &admin_id).await;
    assert_eq!(ids.len(), 1003);
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        1003,
        "no duplicates"
    );

    let proof: Vec<Hash> = cluster
        .audit_log()
        .get_consistency_proof(request(
            GetConsistencyProofRequest {
                first_tree_size: before.size,
                second_tree_size: settled.size,
            },
            &token,
            None,
            None,
        ))
        .await
        .expect("consistency proof")
        .into_inner()
        .hashes
        .iter()
        .map(|h| h.as_slice().try_into().expect("32 bytes"))
        .collect();
    verify_consistency(
        before.size,
        settled.size,
        &before.root,
        &settled.root,
        &proof,
    )
    .expect("the log after the outage extends the one before it");
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_backlog_fails_closed_until_it_drains() {
    let mut cluster = Cluster::start_with(|config| {
        fast_relay(config);
        config.audit_outbox.max_backlog = 10;
    })
    .await;
    let (token, _) = cluster.admin_login().await;
    cluster
        .register_sample(&token, PERSON)
        .await
        .expect("register");
    cluster.wait_for_tree_size(&token, 1).await;
    cluster.stop(ServiceKind::Audit).await;

    let mut served: u64 = 0;
    let refused = loop {
        match cluster.get_citizen(&token, PERSON).await {
            Ok(_) => served += 1,
            Err(status) => break status,
        }
        assert!(served <= 10, "the bound must stop unaudited calls");
    };
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
    // The counter may count a call twice while the relay recounts (erring towards failing
    // closed), never less.
    assert!(
        (9..=10).contains(&served),
        "calls pass until the bound: {served}"
    );
    assert!(
        !refused.message().contains(PERSON),
        "no personal data in errors"
    );

    cluster.restart(ServiceKind::Audit).await;
    let mut passed = false;
    for _ in 0..200 {
        if cluster.get_citizen(&token, PERSON).await.is_ok() {
            passed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(passed, "calls pass again once the backlog drained");
    // The register, the served reads and the one after the drain; the refused call
    // answered nothing and is not in the log.
    let expected = 1 + served + 1;
    let settled = cluster.wait_for_tree_size(&token, expected).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let (_, settled_again) = cluster.checkpoint(&token).await;
    assert_eq!((settled.size, settled_again.size), (expected, expected));
    cluster.shutdown().await;
}

/// An event as records would send it, by an actor of its own.
fn event(actor: &str) -> AuditEvent {
    let now = chrono::Utc::now();
    AuditEvent {
        event_id: uuid::Uuid::now_v7().to_string(),
        occur_time: Some(prost_types::Timestamp {
            seconds: now.timestamp(),
            nanos: now.timestamp_subsec_nanos() as i32,
        }),
        service: "records".to_owned(),
        actor_id: actor.to_owned(),
        actor_unit: "CAHN".to_owned(),
        rpc: "/dancu.records.v1.RecordsService/GetSubjectRecord".to_owned(),
        resource_type: "subject_record".to_owned(),
        outcome: "OK".to_owned(),
        purpose: "investigation".to_owned(),
        ..Default::default()
    }
}

/// The outbox migration alone, for an outbox database of the test's own.
struct OutboxOnly;

impl MigratorTrait for OutboxOnly {
    fn migrations() -> Vec<Box<dyn sea_orm_migration::MigrationTrait>> {
        vec![Box::new(dancu_audit_client::migration::CreateOutbox)]
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_killed_mid_batch_loses_and_duplicates_nothing() {
    const EVENTS: u64 = 1200;
    let cluster = Cluster::start().await;
    let (token, _) = cluster.admin_login().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("outbox.db").display()
    );
    let db = dancu_kit::db::open_migrated::<OutboxOnly>(&url, 2)
        .await
        .expect("outbox database");
    let secret = cluster.config.service_secret.clone().expect("secret");
    let login = || {
        Arc::new(
            ServiceAccountLogin::new(
                &cluster.endpoint(ServiceKind::Identity),
                "svc-records",
                secret.clone(),
            )
            .expect("login client"),
        )
    };
    let audit = cluster.endpoint(ServiceKind::Audit);
    let outbox = AuditOutbox::new(db.clone(), &audit, login()).expect("outbox");
    let events: Vec<AuditEvent> = (0..EVENTS).map(|_| event("crash-test")).collect();
    for e in &events {
        outbox.stage(&db, e).await.expect("stage");
    }
    // A relay that shipped its first batch and died before clearing it: the same state.
    let token_source = login();
    let service_token = dancu_audit_client::TokenSource::token(token_source.as_ref())
        .await
        .expect("service token");
    cluster
        .audit()
        .append_events(request(
            dancu_proto::audit::v1::AppendEventsRequest {
                events: events[..500].to_vec(),
            },
            &service_token,
            None,
            None,
        ))
        .await
        .expect("first batch");

    // A relay killed while shipping the rest.
    let relay = outbox.spawn_relay();
    cluster.wait_for_tree_size(&token, 1000).await;
    relay.kill();

    // After the restart, a new relay on the same outbox finishes the job.
    let restarted = AuditOutbox::new(db.clone(), &audit, login()).expect("outbox");
    let relay = restarted.spawn_relay();
    cluster.wait_for_tree_size(&token, EVENTS).await;
    for _ in 0..200 {
        if restarted.backlog() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    relay.stop().await;
    let (_, checkpoint) = cluster.checkpoint(&token).await;
    assert_eq!(checkpoint.size, EVENTS, "nothing lost, nothing twice");
    let ids = all_event_ids(&cluster, &token, "crash-test").await;
    let expected: HashSet<String> = events.iter().map(|e| e.event_id.clone()).collect();
    assert_eq!(ids.len() as u64, EVENTS);
    assert_eq!(ids.into_iter().collect::<HashSet<_>>(), expected);
    cluster.shutdown().await;
}
