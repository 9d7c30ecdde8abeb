//! The vertical slice end to end: login → register a citizen → create a subject record →
//! the audit log shows all three personal-data calls with the right actor and purpose.

use dancu_e2e::Cluster;
use dancu_e2e::api::{request, sample_record};
use dancu_proto::audit::v1::ListEventsRequest;
use dancu_proto::records::v1::GetSubjectRecordRequest;

const PERSON: &str = "001090123456";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_record_and_audit() {
    let cluster = Cluster::start().await;
    let (token, admin_id) = cluster.admin_login().await;

    let registered = cluster
        .register_sample(&token, PERSON)
        .await
        .expect("register");
    assert_eq!(registered.personal_id, PERSON);
    assert_eq!(registered.full_name, "Nguyễn Văn An");
    assert!(registered.create_time.is_some());
    assert!(!registered.etag.is_empty());

    let fetched = cluster
        .get_citizen(&token, PERSON)
        .await
        .expect("get citizen");
    assert_eq!(fetched, registered);

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
    assert_eq!(record.snapshot_full_name, "Nguyễn Văn An");
    assert_eq!(record.snapshot_date_of_birth, registered.date_of_birth);
    assert_eq!(record.owning_unit, "BCA");
    assert_eq!(record.created_by, admin_id);

    let again = cluster
        .records()
        .get_subject_record(request(
            GetSubjectRecordRequest {
                id: record.id.clone(),
            },
            &token,
            Some("judgment_enforcement"),
            Some("THA-2026-0042"),
        ))
        .await
        .expect("get record")
        .into_inner();
    assert_eq!(again, record);

    let events = cluster.events_about(&token, PERSON, 5).await;
    let summary: Vec<(&str, &str, &str, &str)> = events
        .iter()
        .map(|e| {
            (
                e.service.as_str(),
                e.rpc.as_str(),
                e.purpose.as_str(),
                e.outcome.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "identity",
                "/dancu.identity.v1.IdentityService/RegisterCitizen",
                "residence_management",
                "OK"
            ),
            (
                "identity",
                "/dancu.identity.v1.IdentityService/GetCitizen",
                "residence_management",
                "OK"
            ),
            // The lookup records made on the officer's behalf.
            (
                "identity",
                "/dancu.identity.v1.IdentityService/GetCitizen",
                "judgment_enforcement",
                "OK"
            ),
            (
                "records",
                "/dancu.records.v1.RecordsService/CreateSubjectRecord",
                "judgment_enforcement",
                "OK"
            ),
            (
                "records",
                "/dancu.records.v1.RecordsService/GetSubjectRecord",
                "judgment_enforcement",
                "OK"
            ),
        ]
    );
    for event in &events {
        assert_eq!(event.actor_id, admin_id, "every event names the officer");
        assert_eq!(event.actor_unit, "BCA");
        assert!(
            event.subject.is_empty(),
            "the personal ID is never returned"
        );
        assert_eq!(event.subject_hash.len(), 64, "keyed SHA-256 hex");
        assert_eq!(event.trace_id.len(), 32, "every call is traced");
    }
    assert_eq!(events[2].case_reference, "THA-2026-0042");
    assert_eq!(events[3].resource_id, record.id);
    assert_eq!(
        events[2].trace_id, events[3].trace_id,
        "records' lookup and its creation share one trace"
    );

    // Filtering by actor and pagination walk the same events.
    let mut walked = Vec::new();
    let mut page_token = String::new();
    loop {
        let filter = ListEventsRequest {
            actor_id: admin_id.clone(),
            page_size: 2,
            page_token: page_token.clone(),
            ..Default::default()
        };
        let page = cluster.list_events(&token, filter).await.expect("page");
        assert!(page.events.len() <= 2);
        walked.extend(page.events.into_iter().map(|e| e.event_id));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    let ids: Vec<String> = events.iter().map(|e| e.event_id.clone()).collect();
    assert_eq!(walked, ids);

    cluster.shutdown().await;
}
