//! Bulk import of subjects through records' `ImportService/ImportSubjects`: good rows are
//! imported with their classifications and timelines (readable through the records API),
//! each bad row is reported by line number and field while the good ones land, a second run
//! imports nothing new, one audit event per batch; refusals (no token, no import role,
//! batch size, line order) and identity down (UNAVAILABLE, nothing written).

use dancu_e2e::Cluster;
use dancu_e2e::api::{acknowledgements, request};
use dancu_e2e::population::{date, person, violated_fields};
use dancu_e2e::records::{CASE, PURPOSE, day};
use dancu_kit::config::ServiceKind;
use dancu_proto::audit::v1::{AuditEvent, ListEventsRequest};
use dancu_proto::common::v1::ImportBatchResult;
use dancu_proto::common::v1::Sex;
use dancu_proto::records::v1::import_service_client::ImportServiceClient;
use dancu_proto::records::v1::{
    Classification, GetSubjectRequest, ImportClassification, ImportSubjectRow, ImportTimelineEntry,
    ListSubjectsRequest, ListTimelineEntriesRequest, SourceKind, SourceReference, Subject,
    TimelineEntryKind,
};
use std::collections::BTreeMap;
use tonic::Code;

/// Registered citizens, by serial: `00109000050<n>`.
fn citizen(n: u32) -> String {
    format!("0010900005{n:02}")
}

/// A citizen nobody registered.
const UNKNOWN: &str = "001090000599";

fn cite(kind: SourceKind) -> SourceReference {
    SourceReference {
        kind: kind as i32,
        reference: "7/QD-CAT-01".to_owned(),
        issuing_unit: "CAT-01".to_owned(),
    }
}

/// A good row: `personal_id` owned by `unit`, drug-related since 2020 with two events.
fn good(line: u64, personal_id: &str, unit: &str) -> ImportSubjectRow {
    ImportSubjectRow {
        line,
        personal_id: personal_id.to_owned(),
        owning_unit: unit.to_owned(),
        source: Some(cite(SourceKind::Investigation)),
        classifications: vec![ImportClassification {
            classification: Classification::DrugRelated as i32,
            start_date: Some(day(2020, 3, 1)),
            end_date: None,
            legal_basis: "Luật Phòng, chống ma túy 2021".to_owned(),
            source: Some(cite(SourceKind::Investigation)),
        }],
        timeline: vec![
            ImportTimelineEntry {
                kind: TimelineEntryKind::Arrest as i32,
                occur_date: Some(day(2020, 3, 1)),
                summary: "Arrested after a report".to_owned(),
                source: Some(cite(SourceKind::Investigation)),
            },
            ImportTimelineEntry {
                kind: TimelineEntryKind::Charge as i32,
                occur_date: Some(day(2020, 4, 2)),
                summary: "Charged".to_owned(),
                source: Some(cite(SourceKind::Investigation)),
            },
        ],
        batch_size: 0,
    }
}

/// The test file: good rows, seven bad rows (each with the field it is reported on), a
/// person repeated in the same unit (skipped) and in another unit (imported).
fn file() -> (Vec<ImportSubjectRow>, BTreeMap<u64, &'static str>) {
    let mut rows = Vec::new();
    let mut bad = BTreeMap::new();
    for line in 1..=16u64 {
        let mut row = good(line, &citizen(line as u32), "CAT-01");
        let field = match line {
            3 => {
                row.personal_id = "12345".to_owned();
                Some("personal_id")
            }
            5 => {
                row.owning_unit = "BCA-C06".to_owned();
                Some("owning_unit")
            }
            7 => {
                row.classifications[0].classification = 0;
                Some("classifications[0].classification")
            }
            9 => {
                row.personal_id = UNKNOWN.to_owned();
                Some("personal_id")
            }
            11 => {
                row.timeline[1].kind = 0;
                Some("timeline[1].kind")
            }
            13 => {
                // Two supervision regimes at once.
                let mut second = row.classifications[0].clone();
                row.classifications[0].classification = Classification::Probation as i32;
                second.classification = Classification::CommunityEducation as i32;
                row.classifications.push(second);
                Some("classifications[1].classification")
            }
            15 => {
                row.timeline[0].occur_date = Some(day(2999, 1, 1));
                Some("timeline[0].occur_date")
            }
            _ => None,
        };
        if let Some(field) = field {
            bad.insert(line, field);
        }
        rows.push(row);
    }
    // Line 17: the person of line 1 again, same unit → already present.
    rows.push(good(17, &citizen(1), "CAT-01"));
    // Line 18: the person of line 1 in a commune unit → a subject of its own.
    rows.push(good(18, &citizen(1), "CAX-01001"));
    (rows, bad)
}

fn client(cluster: &Cluster) -> ImportServiceClient<dancu_kit::client::TracedChannel> {
    ImportServiceClient::new(dancu_e2e::channel(&cluster.endpoint(ServiceKind::Records)))
}

/// Streams `rows` (the first carrying `batch_size`) with `token` (none when `None`);
/// returns the acknowledgements, or the status the stream ended with.
async fn import(
    cluster: &Cluster,
    token: Option<&str>,
    mut rows: Vec<ImportSubjectRow>,
    batch_size: u32,
) -> Result<Vec<ImportBatchResult>, tonic::Status> {
    if let Some(first) = rows.first_mut() {
        first.batch_size = batch_size;
    }
    let stream = tokio_stream::iter(rows);
    let call = match token {
        Some(token) => request(stream, token, None, None),
        None => tonic::Request::new(stream),
    };
    acknowledgements(client(cluster).import_subjects(call).await).await
}

async fn records_store(cluster: &Cluster) -> dancu_records::store::RecordsStore {
    dancu_records::store::RecordsStore::open(&cluster.config.database_url(ServiceKind::Records), 1)
        .await
        .expect("open records store")
}

/// The audit events of resource type `subject_import`, waiting for at least `at_least`.
async fn import_events(cluster: &Cluster, token: &str, at_least: usize) -> Vec<AuditEvent> {
    let filter = ListEventsRequest {
        page_size: 500,
        ..Default::default()
    };
    cluster
        .events_matching(
            token,
            filter,
            |e| e.resource_type == "subject_import",
            at_least,
        )
        .await
}

async fn register_citizens(cluster: &Cluster, admin: &str, count: u32) {
    for n in 1..=count {
        cluster
            .register(
                admin,
                person(&citizen(n), "Phạm Văn Nam", Sex::Male, date(1990, 1, 2)),
            )
            .await
            .expect("register");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn good_subjects_are_imported_bad_rows_reported_and_a_second_run_imports_nothing() {
    let cluster = Cluster::start().await;
    let (admin, _) = cluster.admin_login().await;
    register_citizens(&cluster, &admin, 16).await;
    let (rows, bad) = file();
    let good_lines = 16 - bad.len() as u32 + 1; // and line 18
    let store = records_store(&cluster).await;

    let results = import(&cluster, Some(&admin), rows.clone(), 4)
        .await
        .expect("import");
    assert_eq!(results.len(), 5, "one answer per batch of 4 (18 rows)");
    assert_eq!(
        results.iter().map(|r| r.last_line).collect::<Vec<_>>(),
        [4, 8, 12, 16, 18]
    );
    assert_eq!(results.iter().map(|r| r.imported).sum::<u32>(), good_lines);
    assert_eq!(
        results.iter().map(|r| r.skipped).sum::<u32>(),
        1,
        "line 17 repeats line 1"
    );
    let mut reported = BTreeMap::new();
    for result in &results {
        for error in &result.errors {
            assert!(!error.reason.is_empty());
            assert!(
                !error.reason.contains("00109"),
                "reasons do not echo personal IDs"
            );
            assert!(
                error.line > result.last_line.saturating_sub(4) && error.line <= result.last_line,
                "errors come with their batch"
            );
            reported.insert(error.line, error.field.clone());
        }
    }
    assert_eq!(reported.len(), bad.len(), "{reported:?}");
    for (line, field) in &bad {
        assert_eq!(
            reported.get(line).map(String::as_str),
            Some(*field),
            "line {line}"
        );
    }
    // Subjects, their classification and both timeline entries each, nothing of bad rows.
    let good = u64::from(good_lines);
    assert_eq!(
        store.count_subject_facts().await.expect("count"),
        (good, good, 2 * good)
    );

    // Readable through the records API, inside the owning unit's jurisdiction.
    let investigator = cluster
        .officer(&admin, "inv.hanoi", "CAT-01", &["investigator"], None)
        .await;
    let listed = cluster
        .records()
        .list_subjects(request(
            ListSubjectsRequest {
                owning_unit: "CAT-01".to_owned(),
                page_size: 100,
                ..Default::default()
            },
            investigator.token(),
            Some(PURPOSE),
            Some(CASE),
        ))
        .await
        .expect("list")
        .into_inner()
        .subjects;
    assert_eq!(
        listed.len() as u64,
        good - 1,
        "line 18 is owned by CAX-01001"
    );
    let first: &Subject = listed
        .iter()
        .find(|s| s.personal_id == citizen(1))
        .expect("line 1 imported");
    assert_eq!(first.owning_area, "01");
    assert_eq!(
        first.snapshot.as_ref().expect("snapshot").full_name,
        "Phạm Văn Nam",
        "snapshot taken from identity"
    );
    let subject = cluster
        .records()
        .get_subject(request(
            GetSubjectRequest {
                id: first.id.clone(),
            },
            investigator.token(),
            Some(PURPOSE),
            Some(CASE),
        ))
        .await
        .expect("get")
        .into_inner();
    assert_eq!(subject.classifications.len(), 1);
    let class = &subject.classifications[0];
    assert_eq!(class.classification, Classification::DrugRelated as i32);
    assert_eq!(class.start_date, Some(day(2020, 3, 1)));
    assert_eq!(class.legal_basis, "Luật Phòng, chống ma túy 2021");
    assert_eq!(class.owning_unit, "CAT-01");
    let timeline = cluster
        .records()
        .list_timeline_entries(request(
            ListTimelineEntriesRequest {
                subject_id: first.id.clone(),
                page_size: 10,
                page_token: String::new(),
            },
            investigator.token(),
            Some(PURPOSE),
            Some(CASE),
        ))
        .await
        .expect("timeline")
        .into_inner()
        .entries;
    assert_eq!(
        timeline.iter().map(|e| e.kind).collect::<Vec<_>>(),
        [
            TimelineEntryKind::Arrest as i32,
            TimelineEntryKind::Charge as i32
        ],
        "in file order"
    );

    // The second run: everything already there, bad rows still reported.
    let again = import(&cluster, Some(&admin), rows, 500)
        .await
        .expect("again");
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].imported, 0);
    assert_eq!(again[0].skipped, good_lines + 1);
    let lines: Vec<u64> = again[0].errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, bad.keys().copied().collect::<Vec<_>>());
    assert_eq!(
        store.count_subject_facts().await.expect("count"),
        (good, good, 2 * good),
        "nothing duplicated"
    );

    // One audit event per committed batch, naming no person.
    let events = import_events(&cluster, &admin, results.len() + again.len()).await;
    assert_eq!(events.len(), results.len() + again.len());
    assert!(
        events
            .iter()
            .all(|e| e.outcome == "OK" && e.subject_hash.is_empty())
    );
    assert!(
        events.iter().any(|e| e.resource_id.ends_with(":1-4")),
        "the resource id names the import and its lines"
    );
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_importers_import_malformed_streams_are_refused_and_identity_down_writes_nothing() {
    let mut cluster = Cluster::start().await;
    let (admin, _) = cluster.admin_login().await;
    register_citizens(&cluster, &admin, 6).await;
    let store = records_store(&cluster).await;
    let rows = vec![
        good(1, &citizen(1), "CAT-01"),
        good(2, &citizen(2), "CAT-01"),
    ];

    let status = import(&cluster, None, rows.clone(), 0).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");

    // May create subjects, may not import them; the refusal is audited.
    let investigator = cluster
        .officer(&admin, "inv.hanoi", "CAT-01", &["investigator"], None)
        .await;
    let status = import(&cluster, Some(investigator.token()), rows.clone(), 0)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert_eq!(store.count_subject_facts().await.expect("count"), (0, 0, 0));
    let refused = import_events(&cluster, &admin, 1).await;
    assert!(
        refused.iter().any(|e| e.outcome == "PERMISSION_DENIED"),
        "{refused:?}"
    );

    let importer = cluster
        .officer(&admin, "imp1", "BCA-C06", &["data_importer"], None)
        .await;
    let status = import(&cluster, Some(importer.token()), rows.clone(), 20_000)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["batch_size"]);

    let backwards = vec![
        good(5, &citizen(5), "CAT-01"),
        good(3, &citizen(3), "CAT-01"),
    ];
    let status = import(&cluster, Some(importer.token()), backwards, 1)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["line"]);
    // The batch before the bad line was committed and stays.
    assert_eq!(store.count_subject_facts().await.expect("count"), (1, 1, 2));

    let results = import(&cluster, Some(importer.token()), rows, 0)
        .await
        .expect("importer imports");
    assert_eq!(results.iter().map(|r| r.imported).sum::<u32>(), 2);
    let before = store.count_subject_facts().await.expect("count");

    // Identity down: the batch is refused whole, nothing written.
    cluster.stop(ServiceKind::Identity).await;
    let status = import(
        &cluster,
        Some(importer.token()),
        vec![good(1, &citizen(6), "CAT-01")],
        0,
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_eq!(store.count_subject_facts().await.expect("count"), before);
    cluster.shutdown().await;
}
