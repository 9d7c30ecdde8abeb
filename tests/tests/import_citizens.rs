//! Bulk import through `ImportService/ImportCitizens`: 10,000 good rows with 100 bad ones
//! among them (each reported by line number and reason, the good ones registered), a
//! second run that imports nothing new, residences derived from the history, one audit
//! event per batch, and refusals (role, batch size, line order).

use dancu_e2e::Cluster;
use dancu_e2e::api::{acknowledgements, request};
use dancu_e2e::population::{PURPOSE, date};
use dancu_kit::config::ServiceKind;
use dancu_proto::audit::v1::{AuditEvent, ListEventsRequest};
use dancu_proto::common::v1::ImportBatchResult;
use dancu_proto::common::v1::Sex;
use dancu_proto::identity::v1::import_service_client::ImportServiceClient;
use dancu_proto::identity::v1::{
    Citizen, GetResidenceRequest, ImportCitizenRow, ImportResidence, ResidenceKind,
};
use std::collections::BTreeMap;
use tonic::Code;

const GOOD: u64 = 10_000;
const BAD: u64 = 100;

/// Line `line` of the test file: every 101st line is bad (in one of five ways), the others
/// are distinct valid citizens living in Ba Đình since 2010.
fn row(line: u64) -> (ImportCitizenRow, Option<&'static str>) {
    let serial = line;
    let male = line.is_multiple_of(2);
    let year = 1940 + (line % 60) as i32;
    let digit4 = if male { 0 } else { 1 };
    let personal_id = format!("001{digit4}{:02}{serial:06}", year % 100);
    let mut citizen = Citizen {
        personal_id,
        full_name: format!(
            "Nguyễn Văn {}",
            ["An", "Bình", "Cường", "Dũng"][(line % 4) as usize]
        ),
        sex: if male { Sex::Male } else { Sex::Female } as i32,
        date_of_birth: Some(date(year, 3, 14)),
        ..Citizen::default()
    };
    let mut residences = vec![ImportResidence {
        kind: ResidenceKind::Permanent as i32,
        commune_code: "01001".to_owned(),
        address: "Số 1 Lê Lợi".to_owned(),
        start_date: Some(date(2010, 1, 1)),
        end_date: None,
    }];
    let bad = if line.is_multiple_of(101) {
        Some(match (line / 101) % 5 {
            0 => {
                citizen.personal_id = "12345".to_owned();
                "citizen.personal_id"
            }
            1 => {
                citizen.sex = if male { Sex::Female } else { Sex::Male } as i32;
                "citizen.personal_id"
            }
            2 => {
                citizen.full_name = String::new();
                "citizen.full_name"
            }
            3 => {
                residences[0].commune_code = "99999".to_owned();
                "residences.commune_code"
            }
            _ => {
                residences[0].start_date = None;
                "residences[0].start_date"
            }
        })
    } else {
        None
    };
    (
        ImportCitizenRow {
            line,
            citizen: Some(citizen),
            residences,
            batch_size: 0,
        },
        bad,
    )
}

fn client(cluster: &Cluster) -> ImportServiceClient<dancu_kit::client::TracedChannel> {
    ImportServiceClient::new(dancu_e2e::channel(&cluster.endpoint(ServiceKind::Identity)))
}

/// Streams `rows` (the first carrying `batch_size`); returns the acknowledgements, or the
/// status the stream ended with.
async fn import(
    cluster: &Cluster,
    token: &str,
    mut rows: Vec<ImportCitizenRow>,
    batch_size: u32,
) -> Result<Vec<ImportBatchResult>, tonic::Status> {
    if let Some(first) = rows.first_mut() {
        first.batch_size = batch_size;
    }
    let stream = tokio_stream::iter(rows);
    acknowledgements(
        client(cluster)
            .import_citizens(request(stream, token, None, None))
            .await,
    )
    .await
}

/// The `citizen_import` audit events of `actor`, once at least `count` have been shipped
/// (or after 20 s, with those there are).
async fn import_events(
    cluster: &Cluster,
    token: &str,
    actor: &str,
    count: usize,
) -> Vec<AuditEvent> {
    let filter = ListEventsRequest {
        actor_id: actor.to_owned(),
        page_size: 1_000,
        ..Default::default()
    };
    cluster
        .events_matching(
            token,
            filter,
            |e| e.resource_type == "citizen_import",
            count,
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn good_rows_are_imported_bad_rows_reported_and_a_second_run_imports_nothing() {
    let cluster = Cluster::start().await;
    let (token, admin_id) = cluster.admin_login().await;
    let total = GOOD + BAD;
    let mut expected_bad = BTreeMap::new();
    let rows: Vec<ImportCitizenRow> = (1..=total)
        .map(|line| {
            let (row, bad) = row(line);
            if let Some(field) = bad {
                expected_bad.insert(line, field);
            }
            row
        })
        .collect();
    assert_eq!(expected_bad.len() as u64, BAD);

    let results = import(&cluster, &token, rows.clone(), 500)
        .await
        .expect("import");
    assert_eq!(
        results.len(),
        (total as usize).div_ceil(500),
        "one answer per batch"
    );
    assert_eq!(results.last().unwrap().last_line, total);
    let imported: u32 = results.iter().map(|r| r.imported).sum();
    let skipped: u32 = results.iter().map(|r| r.skipped).sum();
    assert_eq!(u64::from(imported), GOOD);
    assert_eq!(skipped, 0);
    let mut reported = BTreeMap::new();
    for result in &results {
        for error in &result.errors {
            assert!(!error.reason.is_empty());
            assert!(
                !error.reason.contains("001"),
                "reasons do not echo personal IDs"
            );
            reported.entry(error.line).or_insert(error.field.clone());
        }
    }
    assert_eq!(
        reported.len() as u64,
        BAD,
        "each bad row reported once by line"
    );
    for (line, field) in &expected_bad {
        assert_eq!(
            reported.get(line).map(String::as_str),
            Some(*field),
            "line {line}"
        );
    }

    // Imported people are in the register, with their residence derived.
    let (good_row, _) = row(2);
    let id = good_row.citizen.unwrap().personal_id;
    let citizen = cluster.get_citizen(&token, &id).await.expect("imported");
    assert_eq!(citizen.full_name, "Nguyễn Văn Cường");
    let residence = cluster
        .residence()
        .get_residence(request(
            GetResidenceRequest {
                personal_id: id.clone(),
            },
            &token,
            Some(PURPOSE),
            None,
        ))
        .await
        .expect("residence")
        .into_inner();
    let permanent = residence.permanent.expect("permanent residence");
    assert_eq!(permanent.commune_code, "01001");
    // A bad row left nothing behind.
    let (bad_row, _) = row(202);
    let bad_id = bad_row.citizen.unwrap().personal_id;
    let status = cluster.get_citizen(&token, &bad_id).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);

    // The second run: everything already there.
    let again = import(&cluster, &token, rows, 2_000).await.expect("again");
    assert_eq!(again.len(), (total as usize).div_ceil(2_000));
    assert_eq!(again.iter().map(|r| r.imported).sum::<u32>(), 0);
    assert_eq!(
        u64::from(again.iter().map(|r| r.skipped).sum::<u32>()),
        GOOD
    );
    let errors: usize = again.iter().map(|r| r.errors.len()).sum();
    assert!(errors as u64 >= BAD);

    // One audit event per committed batch, without a subject.
    let events = import_events(&cluster, &token, &admin_id, results.len() + again.len()).await;
    assert_eq!(events.len(), results.len() + again.len());
    assert!(
        events
            .iter()
            .all(|e| e.outcome == "OK" && e.subject_hash.is_empty())
    );
    assert!(
        events.iter().any(|e| e.resource_id.ends_with(":1-500")),
        "the resource id names the import and its lines"
    );
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_importers_import_and_malformed_streams_are_refused() {
    let cluster = Cluster::start().await;
    let (token, _) = cluster.admin_login().await;
    let registrar = cluster
        .officer(&token, "reg1", "CAX-01001", &["residence_registrar"], None)
        .await;
    let rows = vec![row(1).0, row(2).0];
    let status = import(&cluster, registrar.token(), rows.clone(), 0)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let (id, _) = (rows[0].citizen.clone().unwrap().personal_id, ());
    assert_eq!(
        cluster.get_citizen(&token, &id).await.unwrap_err().code(),
        Code::NotFound,
        "nothing imported"
    );

    let importer = cluster
        .officer(&token, "imp1", "BCA-C06", &["data_importer"], None)
        .await;
    let status = import(&cluster, importer.token(), rows.clone(), 20_000)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("batch_size"),
        "{}",
        status.message()
    );

    let mut backwards = vec![row(5).0, row(4).0];
    backwards[1].line = 3;
    let status = import(&cluster, importer.token(), backwards, 1)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("line"));
    // The batch before the bad line was committed and stays.
    let first = row(5).0.citizen.unwrap().personal_id;
    cluster.get_citizen(&token, &first).await.expect("kept");

    let results = import(&cluster, importer.token(), rows, 0)
        .await
        .expect("importer imports");
    assert_eq!(results.iter().map(|r| r.imported).sum::<u32>(), 2);
    cluster.shutdown().await;
}

/// Acknowledgements until the stream ends, and the status it ended with, if any.
async fn import_until_error(
    cluster: &Cluster,
    token: &str,
    rows: Vec<ImportCitizenRow>,
) -> (Vec<ImportBatchResult>, Option<tonic::Status>) {
    let mut responses = client(cluster)
        .import_citizens(request(tokio_stream::iter(rows), token, None, None))
        .await
        .expect("stream opened")
        .into_inner();
    let mut results = Vec::new();
    loop {
        match responses.message().await {
            Ok(Some(result)) => results.push(result),
            Ok(None) => return (results, None),
            Err(status) => return (results, Some(status)),
        }
    }
}

/// Batches of one row arrive faster than they commit, so the service commits several
/// together: each is still acknowledged on its own, in order, with its own counts, and a
/// personal ID offered again in a later batch counts as imported once, in its first batch.
/// A stream that breaks after many batches keeps every batch before the break.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_committed_together_are_acknowledged_one_by_one() {
    let cluster = Cluster::start().await;
    let (token, admin_id) = cluster.admin_login().await;
    // Lines 1..=200 are new people; lines 201..=300 offer the people of lines 101..=200
    // again (the bad row 101 and its repeat are left out); line 301 goes back to line 150.
    let mut rows = Vec::new();
    for (line, source) in (1..=300u64).zip((1..=200u64).chain(101..=200)) {
        let (mut r, bad) = row(source);
        if bad.is_none() {
            r.line = line;
            rows.push(r);
        }
    }
    let offered: Vec<u64> = rows.iter().map(|r| r.line).collect();
    rows[0].batch_size = 1;
    let mut backwards = row(1).0;
    backwards.line = 150;
    rows.push(backwards);

    let (results, status) = import_until_error(&cluster, &token, rows).await;
    let status = status.expect("the line going backwards ends the stream");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        results.iter().map(|r| r.last_line).collect::<Vec<_>>(),
        offered,
        "one acknowledgement per batch, in order"
    );
    for result in &results {
        let again = result.last_line > 200;
        assert_eq!(
            (result.imported, result.skipped),
            if again { (0, 1) } else { (1, 0) },
            "line {}",
            result.last_line
        );
        assert!(result.errors.is_empty());
    }
    let last_new = row(*offered.iter().rfind(|l| **l <= 200).unwrap()).0;
    cluster
        .get_citizen(&token, &last_new.citizen.unwrap().personal_id)
        .await
        .expect("every batch before the break is kept");

    // One audit event per batch, committed groups included, and the refusal.
    let expected = offered.len();
    let events = import_events(&cluster, &token, &admin_id, expected + 1).await;
    let ok = events.iter().filter(|e| e.outcome == "OK").count();
    assert_eq!(ok, expected);
    assert_eq!(events.len(), expected + 1, "and one for the refused stream");
    cluster.shutdown().await;
}
