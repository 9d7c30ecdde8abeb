//! Bulk import through `ImportService/ImportForeigners`: foreigners with their entry
//! documents and the declarations a source register received (late ones flagged, checked
//! out ones kept), bad rows reported by line and field, a repeated passport skipped, a
//! second run that imports nothing new, one audit event per batch, and refusals (role,
//! line order).

use dancu_e2e::Cluster;
use dancu_e2e::api::{acknowledgements, request};
use dancu_e2e::register::{
    list_foreigners, sample_declaration, sample_foreigner, stays, stays_in, time_from_now,
};
use dancu_kit::config::ServiceKind;
use dancu_proto::audit::v1::ListEventsRequest;
use dancu_proto::common::v1::ImportBatchResult;
use dancu_proto::identity::v1::import_service_client::ImportServiceClient;
use dancu_proto::identity::v1::{
    AccommodationDeclaration, ImportForeignerRow, ListForeignersRequest,
};
use std::collections::BTreeMap;
use tonic::Code;

fn passport(line: u64) -> String {
    format!("M{line:07}")
}

/// Line `line`: a Korean with passport `M<line>`, and when `received_after_hours` is
/// given, a declaration in Ba Đình: arrived 30 hours ago, leaving in 3 days, received that
/// many hours after the arrival.
fn row(line: u64, received_after_hours: Option<i64>) -> ImportForeignerRow {
    let declaration = received_after_hours.map(|hours| AccommodationDeclaration {
        receive_time: Some(time_from_now((hours - 30) * 3600)),
        ..sample_declaration("", 30)
    });
    ImportForeignerRow {
        line,
        foreigner: Some(sample_foreigner(&passport(line))),
        declaration,
        batch_size: 0,
    }
}

/// The test file: good rows, a repeated passport, and one bad row per way of being bad,
/// with the field each bad row is reported on.
fn rows() -> (Vec<ImportForeignerRow>, BTreeMap<u64, &'static str>) {
    let mut rows = vec![row(1, Some(2)), row(2, Some(20)), row(3, None)];
    let mut bad = BTreeMap::new();
    let mut no_document = row(4, Some(1));
    no_document.foreigner.as_mut().expect("set").entry_document = None;
    rows.push(no_document);
    bad.insert(4, "foreigner.entry_document");
    rows.push(row(5, Some(-2)));
    bad.insert(5, "declaration.receive_time");
    let mut named = row(6, Some(1));
    named.declaration.as_mut().expect("set").foreigner_id =
        "0190a0f0-0000-7000-8000-000000000000".to_owned();
    rows.push(named);
    bad.insert(6, "declaration.foreigner_id");
    let mut leaves_later = row(7, Some(1));
    leaves_later
        .declaration
        .as_mut()
        .expect("set")
        .check_out_time = Some(time_from_now(3600));
    rows.push(leaves_later);
    bad.insert(7, "declaration.check_out_time");
    let mut unreceived = row(8, Some(1));
    unreceived.declaration.as_mut().expect("set").receive_time = None;
    rows.push(unreceived);
    bad.insert(8, "declaration.receive_time");
    let mut again = row(9, Some(1));
    again.foreigner = Some(sample_foreigner(&passport(1)));
    rows.push(again);
    rows.push(ImportForeignerRow {
        foreigner: None,
        ..row(10, None)
    });
    bad.insert(10, "foreigner");
    let mut left = row(11, Some(1));
    left.declaration.as_mut().expect("set").check_out_time = Some(time_from_now(-3600));
    rows.push(left);
    (rows, bad)
}

fn client(cluster: &Cluster) -> ImportServiceClient<dancu_kit::client::TracedChannel> {
    ImportServiceClient::new(dancu_e2e::channel(&cluster.endpoint(ServiceKind::Identity)))
}

/// Streams `rows` (the first carrying `batch_size`); returns the acknowledgements, or the
/// status the stream ended with.
async fn import(
    cluster: &Cluster,
    token: &str,
    mut rows: Vec<ImportForeignerRow>,
    batch_size: u32,
) -> Result<Vec<ImportBatchResult>, tonic::Status> {
    if let Some(first) = rows.first_mut() {
        first.batch_size = batch_size;
    }
    acknowledgements(
        client(cluster)
            .import_foreigners(request(tokio_stream::iter(rows), token, None, None))
            .await,
    )
    .await
}

/// (last line, imported, skipped, rejected lines) of each acknowledgement.
fn summary(results: &[ImportBatchResult]) -> Vec<(u64, u32, u32, Vec<u64>)> {
    results
        .iter()
        .map(|r| {
            (
                r.last_line,
                r.imported,
                r.skipped,
                r.errors.iter().map(|e| e.line).collect(),
            )
        })
        .collect()
}

async fn korean_passports(cluster: &Cluster, token: &str) -> Vec<String> {
    let page = list_foreigners(
        cluster,
        token,
        ListForeignersRequest {
            nationality: "KOR".to_owned(),
            page_size: 100,
            ..Default::default()
        },
    )
    .await
    .expect("list foreigners");
    let mut passports: Vec<String> = page
        .foreigners
        .into_iter()
        .map(|f| f.passport_number)
        .collect();
    passports.sort();
    passports
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreigners_and_declarations_are_imported_bad_rows_reported_and_a_second_run_imports_nothing()
 {
    let cluster = Cluster::start().await;
    let (token, admin_id) = cluster.admin_login().await;
    let (rows, bad) = rows();

    let results = import(&cluster, &token, rows.clone(), 4)
        .await
        .expect("import");
    assert_eq!(
        summary(&results),
        vec![
            (4, 3, 0, vec![4]),
            (8, 0, 0, vec![5, 6, 7, 8]),
            (11, 1, 1, vec![10]),
        ]
    );
    let reported: BTreeMap<u64, &str> = results
        .iter()
        .flat_map(|r| r.errors.iter())
        .map(|e| (e.line, e.field.as_str()))
        .collect();
    assert_eq!(reported, bad, "each bad row by its line and field");
    for error in results.iter().flat_map(|r| r.errors.iter()) {
        assert!(
            !error.reason.contains("M00000") && !error.reason.is_empty(),
            "a reason, without the value: {}",
            error.reason
        );
    }
    assert_eq!(
        korean_passports(&cluster, &token).await,
        [1, 2, 3, 11].map(passport),
        "the good rows, the repeated passport once"
    );

    // Lines 1 and 2 are staying now, declared 2 and 20 hours after arriving: the second
    // past the 12-hour deadline. Line 11 has left.
    let page = stays(&cluster, &token, stays_in("01001", 50, ""))
        .await
        .expect("stays");
    let mut declared: Vec<(String, bool, i64)> = page
        .stays
        .iter()
        .map(|s| {
            let d = s.declaration.as_ref().expect("declaration");
            let arrival = d.arrival_time.as_ref().expect("arrival").seconds;
            let received = d.receive_time.as_ref().expect("receive time").seconds;
            (
                s.foreigner
                    .as_ref()
                    .expect("foreigner")
                    .passport_number
                    .clone(),
                d.late,
                (received - arrival) / 3600,
            )
        })
        .collect();
    declared.sort();
    assert_eq!(
        declared,
        vec![(passport(1), false, 2), (passport(2), true, 20)]
    );

    let again = import(&cluster, &token, rows, 4).await.expect("second run");
    assert_eq!(
        summary(&again),
        vec![
            (4, 0, 3, vec![4]),
            (8, 0, 0, vec![5, 6, 7, 8]),
            (11, 0, 2, vec![10]),
        ],
        "nothing new the second time"
    );
    assert_eq!(korean_passports(&cluster, &token).await.len(), 4);
    let page = stays(&cluster, &token, stays_in("01001", 50, ""))
        .await
        .expect("stays");
    assert_eq!(page.stays.len(), 2, "no declaration added the second time");

    let filter = ListEventsRequest {
        actor_id: admin_id.clone(),
        page_size: 1_000,
        ..Default::default()
    };
    let events = cluster
        .events_matching(&token, filter, |e| e.resource_type == "foreigner_import", 6)
        .await;
    assert_eq!(events.len(), 6, "one event per committed batch");
    assert!(events.iter().all(|e| e.outcome == "OK"));
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_importers_import_foreigners_and_malformed_streams_are_refused() {
    let cluster = Cluster::start().await;
    let (token, _) = cluster.admin_login().await;
    let registrar = cluster
        .officer(&token, "reg1", "CAX-01001", &["residence_registrar"], None)
        .await;
    let rows = vec![row(1, Some(1)), row(2, None)];
    let status = import(&cluster, registrar.token(), rows.clone(), 0)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(korean_passports(&cluster, &token).await.is_empty());

    let importer = cluster
        .officer(&token, "imp1", "BCA-C06", &["data_importer"], None)
        .await;
    let mut backwards = vec![row(5, None), row(4, None)];
    backwards[1].line = 3;
    let status = import(&cluster, importer.token(), backwards, 1)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("line"), "{}", status.message());
    assert_eq!(
        korean_passports(&cluster, &token).await,
        [passport(5)],
        "the batch before the bad line stays"
    );

    let results = import(&cluster, importer.token(), rows, 0)
        .await
        .expect("importer imports");
    assert_eq!(summary(&results), vec![(2, 2, 0, vec![])]);
    cluster.shutdown().await;
}
