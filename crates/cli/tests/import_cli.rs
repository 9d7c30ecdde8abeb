//! `dancu gen` and `dancu import` as an operator runs them, against the in-process suite:
//! the generator's bytes depend on the seed only; a file of 10,000 generated citizens with
//! 100 malformed lines among them imports the good ones (citizens and foreigners into
//! identity, subjects with their classifications and timelines into records, readable
//! through their APIs) and names every bad line; a second run imports nothing new; an
//! interrupted import resumes after its checkpoint, in any pass and from the checkpoints
//! of earlier releases; records unreachable exits "unavailable".

use assert_cmd::Command;
use dancu_e2e::Cluster;
use dancu_e2e::api::request;
use dancu_kit::config::ServiceKind;
use dancu_popgen::record::{ForeignerLine, Line, SubjectLine};
use dancu_proto::identity::v1::{EntryDocumentType, ListForeignersRequest};
use dancu_proto::records::v1::{
    GetSubjectRequest, ListSubjectsRequest, ListTimelineEntriesRequest,
};
use std::io::Write;
use std::path::Path;

fn dancu() -> Command {
    Command::cargo_bin("dancu").expect("the dancu binary")
}

fn gen_file(path: &Path, count: u64, seed: u64) {
    dancu()
        .args([
            "gen",
            "--count",
            &count.to_string(),
            "--seed",
            &seed.to_string(),
        ])
        .arg("--out")
        .arg(path)
        .assert()
        .success();
}

/// Runs `dancu import` (off the runtime's workers); returns (exit code, stdout, stderr).
async fn import(
    cluster: &Cluster,
    token: &str,
    file: &Path,
    extra: &[&str],
) -> (Option<i32>, String, String) {
    let mut command = dancu();
    command
        .arg("import")
        .arg(file)
        .args([
            "--endpoint",
            &cluster.endpoint(ServiceKind::Identity),
            "--quiet",
        ])
        .args(extra)
        .env(
            "DANCU_RECORDS_ENDPOINT",
            cluster.endpoint(ServiceKind::Records),
        )
        .env("DANCU_TOKEN", token);
    let output = tokio::task::spawn_blocking(move || command.output().expect("run dancu import"))
        .await
        .expect("join");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn gen_is_deterministic_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    gen_file(&a, 500, 9);
    gen_file(&b, 500, 9);
    gen_file(&c, 500, 10);
    let a = std::fs::read(a).unwrap();
    assert_eq!(a, std::fs::read(b).unwrap(), "same seed, same bytes");
    assert_ne!(a, std::fs::read(c).unwrap());
    let stdout = dancu()
        .args(["gen", "--count", "500", "--seed", "9"])
        .output()
        .unwrap()
        .stdout;
    assert_eq!(stdout, a, "standard output carries the same bytes");
}

/// The malformed lines: unreadable by the client, or rejected by the server.
const MALFORMED: [&str; 5] = [
    "{not json",
    r#"{"kind":"spaceship","id":"1"}"#,
    r#"{"kind":"citizen","full_name":"Lê Văn Tám","sex":"male","date_of_birth":"1990-01-01"}"#,
    r#"{"kind":"citizen","personal_id":"001090999999","full_name":"Lê Thị Ba","sex":"female","date_of_birth":"1990-01-01"}"#,
    r#"{"kind":"citizen","personal_id":"001090999998","full_name":"Lê Văn Bốn","sex":"male","date_of_birth":"1990-02-30"}"#,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_lines_are_reported_good_ones_imported_and_a_second_run_imports_nothing() {
    let cluster = Cluster::start().await;
    let (token, _) = cluster.admin_login().await;
    let dir = tempfile::tempdir().unwrap();
    let generated = dir.path().join("generated.ndjson");
    gen_file(&generated, 10_000, 3);
    let text = std::fs::read_to_string(&generated).unwrap();
    let file = dir.path().join("people.ndjson");
    let mut out = std::fs::File::create(&file).unwrap();
    let mut bad_lines = Vec::new();
    let mut line = 0u64;
    let mut citizens = 0;
    let mut foreigners: Vec<ForeignerLine> = Vec::new();
    let mut subjects: Vec<SubjectLine> = Vec::new();
    for (i, good) in text.lines().enumerate() {
        if i % 100 == 50 && bad_lines.len() < 100 {
            line += 1;
            writeln!(out, "{}", MALFORMED[bad_lines.len() % MALFORMED.len()]).unwrap();
            bad_lines.push(line);
        }
        line += 1;
        writeln!(out, "{good}").unwrap();
        match serde_json::from_str::<Line>(good).expect("generated line") {
            Line::Citizen(_) => citizens += 1,
            Line::Foreigner(foreigner) => foreigners.push(foreigner),
            Line::Subject(subject) => subjects.push(subject),
        }
    }
    drop(out);
    assert_eq!(citizens, 10_000);
    assert_eq!(bad_lines.len(), 100);
    assert!(!subjects.is_empty() && !foreigners.is_empty());

    // A refused token stops the import before any row, with the "denied" exit code.
    let (code, _, stderr) = import(&cluster, "not-a-token", &file, &[]).await;
    assert_eq!(code, Some(5), "{stderr}");
    assert!(
        stderr.contains("ImportCitizens failed: UNAUTHENTICATED"),
        "{stderr}"
    );

    let (code, stdout, stderr) = import(&cluster, &token, &file, &[]).await;
    assert_eq!(
        code,
        Some(3),
        "rejected rows make the run fail as invalid input: {stdout}"
    );
    for line in &bad_lines {
        assert!(
            stderr.contains(&format!("line {line}: ")),
            "line {line} reported: {stderr}"
        );
    }
    assert_eq!(stderr.matches("line ").count(), 100, "{stderr}");
    assert!(stderr.contains("not valid JSON"));
    assert!(stderr.contains("unknown kind"));
    assert!(stderr.contains("citizen.personal_id"));
    assert!(stderr.contains("citizen.date_of_birth"));
    assert!(
        !stderr.contains("001090999999"),
        "no personal data in errors"
    );
    assert!(
        stdout.contains(&format!(
            "citizens: imported 10000, already present 0, rejected 40; foreigners: imported {}, \
             already present 0, rejected 0; subjects: imported {}, already present 0, rejected \
             0; unreadable 60;",
            foreigners.len(),
            subjects.len()
        )),
        "{stdout}"
    );

    // The foreigners are in identity with their entry documents.
    let first_foreigner = &foreigners[0];
    let listed = cluster
        .foreigners()
        .list_foreigners(request(
            ListForeignersRequest {
                nationality: first_foreigner.nationality.clone(),
                passport_number: first_foreigner.passport_number.clone(),
                ..Default::default()
            },
            &token,
            Some("residence_management"),
            None,
        ))
        .await
        .expect("list foreigners")
        .into_inner()
        .foreigners;
    assert_eq!(listed.len(), 1);
    let document = listed[0].entry_document.as_ref().expect("entry document");
    assert_eq!(document.number, first_foreigner.document_number);
    assert_eq!(
        document.r#type,
        EntryDocumentType::from_str_name(&format!(
            "ENTRY_DOCUMENT_TYPE_{}",
            first_foreigner.document_type.to_uppercase()
        ))
        .expect("a known document type") as i32
    );

    // The subjects are in records, as the file says, for an officer of the owning unit.
    let first = &subjects[0];
    let owned_by_unit = subjects
        .iter()
        .filter(|s| s.owning_unit == first.owning_unit)
        .count();
    let officer = cluster
        .officer(
            &token,
            "inv.import",
            &first.owning_unit,
            &["investigator"],
            None,
        )
        .await;
    let listed = cluster
        .records()
        .list_subjects(request(
            ListSubjectsRequest {
                owning_unit: first.owning_unit.clone(),
                page_size: 500,
                ..Default::default()
            },
            officer.token(),
            Some("investigation"),
            Some("12/VKS-HS"),
        ))
        .await
        .expect("list subjects")
        .into_inner()
        .subjects;
    assert_eq!(listed.len(), owned_by_unit);
    let subject = listed
        .iter()
        .find(|s| s.personal_id == first.personal_id)
        .expect("the first subject of the file");
    let subject = cluster
        .records()
        .get_subject(request(
            GetSubjectRequest {
                id: subject.id.clone(),
            },
            officer.token(),
            Some("investigation"),
            Some("12/VKS-HS"),
        ))
        .await
        .expect("get subject")
        .into_inner();
    assert_eq!(subject.classifications.len(), 1);
    assert_eq!(subject.classifications[0].legal_basis, first.legal_basis);
    let entries = cluster
        .records()
        .list_timeline_entries(request(
            ListTimelineEntriesRequest {
                subject_id: subject.id.clone(),
                page_size: 50,
                page_token: String::new(),
            },
            officer.token(),
            Some("investigation"),
            Some("12/VKS-HS"),
        ))
        .await
        .expect("timeline")
        .into_inner()
        .entries;
    assert_eq!(
        entries
            .iter()
            .map(|e| e.summary.as_str())
            .collect::<Vec<_>>(),
        first
            .timeline
            .iter()
            .map(|t| t.summary.as_str())
            .collect::<Vec<_>>()
    );
    assert!(
        !dir.path().join("people.ndjson.checkpoint").exists(),
        "done"
    );

    let (_, stdout, _) = import(&cluster, &token, &file, &["--batch", "2000"]).await;
    assert!(
        stdout.contains(&format!(
            "citizens: imported 0, already present 10000, rejected 40; foreigners: imported 0, \
             already present {}, rejected 0; subjects: imported 0, already present {}, rejected \
             0;",
            foreigners.len(),
            subjects.len()
        )),
        "{stdout}"
    );

    // An interrupted run left a checkpoint (a single number: the citizen pass): the next
    // run starts after it. Subjects skipped on request are counted, not sent.
    let fresh = dir.path().join("fresh.ndjson");
    gen_file(&fresh, 1_000, 4);
    let fresh_text = std::fs::read_to_string(&fresh).unwrap();
    let fresh_foreigners = fresh_text
        .lines()
        .filter(|l| l.contains(r#""kind":"foreigner""#))
        .count();
    let fresh_subjects: Vec<u64> = fresh_text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(r#""kind":"subject""#))
        .map(|(i, _)| i as u64 + 1)
        .collect();
    assert!(fresh_subjects.len() >= 2);
    std::fs::write(dir.path().join("fresh.ndjson.checkpoint"), "600\n").unwrap();
    let (code, stdout, stderr) = import(&cluster, &token, &fresh, &["--skip-subjects"]).await;
    assert_eq!(code, Some(0), "{stdout} {stderr}");
    assert!(stdout.contains("resumed after line 600"), "{stdout}");
    let skipped_subjects = fresh_subjects.iter().filter(|l| **l > 600).count();
    assert!(
        stdout.contains(&format!(
            "subjects: not sent (--skip-subjects) {skipped_subjects};"
        )),
        "{stdout}"
    );
    let resumed: u64 = stdout
        .strip_prefix("citizens: imported ")
        .and_then(|s| s.split(',').next())
        .and_then(|n| n.parse().ok())
        .expect("summary");
    assert!(resumed > 0 && resumed < 1_000, "{stdout}");

    // Records unreachable: the citizens and foreigners are imported, then the subject pass
    // stops with the "unavailable" exit code, leaving the checkpoint for the next run.
    let (code, _, stderr) = import(
        &cluster,
        &token,
        &fresh,
        &["--restart", "--records-endpoint", "http://127.0.0.1:1"],
    )
    .await;
    assert_eq!(code, Some(6), "{stderr}");
    assert!(
        stderr.contains("ImportSubjects failed: UNAVAILABLE"),
        "{stderr}"
    );
    let left = std::fs::read_to_string(dir.path().join("fresh.ndjson.checkpoint")).unwrap();
    let lines = fresh_text.lines().count();
    assert_eq!(
        left,
        format!("{lines} 0 {lines}\n"),
        "the citizen and foreigner passes are done"
    );

    // The next run resumes with the subject pass only.
    let (code, stdout, stderr) = import(&cluster, &token, &fresh, &[]).await;
    assert_eq!(code, Some(0), "{stdout} {stderr}");
    assert!(
        stdout.contains(&format!(
            "citizens: imported 0, already present 0, rejected 0; foreigners: imported 0, \
             already present 0, rejected 0; subjects: imported {}, already present 0, rejected \
             0;",
            fresh_subjects.len()
        )),
        "{stdout}"
    );
    assert!(!dir.path().join("fresh.ndjson.checkpoint").exists(), "done");

    // Interrupted in the subject pass after its first subject, by a release without the
    // foreigner pass (two numbers): the next run starts the subject pass after it, and
    // the foreigner pass from the start, where it finds every foreigner already there.
    let after = fresh_subjects[0];
    std::fs::write(
        dir.path().join("fresh.ndjson.checkpoint"),
        format!("{lines} {after}\n"),
    )
    .unwrap();
    let (code, stdout, stderr) = import(&cluster, &token, &fresh, &[]).await;
    assert_eq!(code, Some(0), "{stdout} {stderr}");
    assert!(
        stdout.contains(&format!("subjects resumed after line {after}")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "foreigners: imported 0, already present {fresh_foreigners}, rejected 0; subjects: \
             imported 0, already present {}, rejected 0;",
            fresh_subjects.len() - 1
        )),
        "{stdout}"
    );
    cluster.shutdown().await;
}
