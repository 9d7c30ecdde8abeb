//! `dancu gen` and `dancu import` as an operator runs them, against the in-process suite:
//! the generator's bytes depend on the seed only; a file of 10,000 generated citizens with
//! 100 malformed lines among them imports the good ones and names every bad line; a second
//! run imports nothing new; an interrupted import resumes after its checkpoint.

use assert_cmd::Command;
use dancu_e2e::Cluster;
use dancu_kit::config::ServiceKind;
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
    let mut others = 0;
    for (i, good) in text.lines().enumerate() {
        if i % 100 == 50 && bad_lines.len() < 100 {
            line += 1;
            writeln!(out, "{}", MALFORMED[bad_lines.len() % MALFORMED.len()]).unwrap();
            bad_lines.push(line);
        }
        line += 1;
        writeln!(out, "{good}").unwrap();
        if good.contains(r#""kind":"citizen""#) {
            citizens += 1;
        } else {
            others += 1;
        }
    }
    drop(out);
    assert_eq!(citizens, 10_000);
    assert_eq!(bad_lines.len(), 100);

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
            "imported 10000, already present 0, rejected 40, unreadable 60, not imported \
             (foreigners and subjects, left for later) {others}"
        )),
        "{stdout}"
    );
    assert!(
        !dir.path().join("people.ndjson.checkpoint").exists(),
        "done"
    );

    let (_, stdout, _) = import(&cluster, &token, &file, &["--batch", "2000"]).await;
    assert!(
        stdout.contains("imported 0, already present 10000, rejected 40"),
        "{stdout}"
    );

    // An interrupted run left a checkpoint: the next run starts after it.
    let fresh = dir.path().join("fresh.ndjson");
    gen_file(&fresh, 1_000, 4);
    std::fs::write(dir.path().join("fresh.ndjson.checkpoint"), "600\n").unwrap();
    let (code, stdout, stderr) = import(&cluster, &token, &fresh, &[]).await;
    assert_eq!(code, Some(0), "{stdout} {stderr}");
    assert!(stdout.contains("resumed after line 600"), "{stdout}");
    let resumed: u64 = stdout
        .strip_prefix("imported ")
        .and_then(|s| s.split(',').next())
        .and_then(|n| n.parse().ok())
        .expect("summary");
    assert!(resumed > 0 && resumed < 1_000, "{stdout}");
    let (_, stdout, _) = import(&cluster, &token, &fresh, &["--restart"]).await;
    assert!(
        stdout.contains(&format!(
            "imported {}, already present {resumed}",
            1_000 - resumed
        )),
        "{stdout}"
    );
    cluster.shutdown().await;
}
