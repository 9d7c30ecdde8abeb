//! Every operator command group of the `dancu` binary, end to end against an in-process
//! cluster: residence, household, card (etag fetched by the CLI), foreigner and stays,
//! subject records, alerts; and a saved session whose token is about to expire is refreshed
//! and re-saved.

mod common;

use dancu_e2e::register::sample_foreigner;
use dancu_e2e::{ADMIN_PASSWORD, Cluster};
use dancu_kit::config::ServiceKind;
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs `dancu` with purpose `residence_management`, JSON output and, if given, a token.
async fn dancu(
    cluster: &Cluster,
    dir: &Path,
    args: &[&str],
    token: Option<&str>,
    stdin: &str,
) -> common::Run {
    let mut env = vec![
        ("DANCU_PURPOSE", "residence_management"),
        ("DANCU_OUTPUT", "json"),
    ];
    if let Some(token) = token {
        env.push(("DANCU_TOKEN", token));
    }
    common::dancu(cluster, dir, args, &env, stdin).await
}

/// Runs a command that must succeed; returns its JSON answer.
async fn ok(cluster: &Cluster, dir: &Path, token: &str, args: &[&str]) -> serde_json::Value {
    let run = dancu(cluster, dir, args, Some(token), "").await;
    assert_eq!(run.code, 0, "{args:?}: {} {}", run.stdout, run.stderr);
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", run.stdout))
}

fn date(d: Option<dancu_proto::common::v1::Date>) -> String {
    let d = d.expect("date");
    format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)
}

const HEAD: &str = "001090000201";
const SPOUSE: &str = "001192000202";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_group_works_end_to_end() {
    let cluster = Cluster::start().await;
    let (admin, _) = cluster.admin_login().await;
    let home = tempfile::tempdir().expect("tempdir");
    let dir = home.path();
    let t = admin.as_str();

    ok(
        &cluster,
        dir,
        t,
        &[
            "citizen",
            "register",
            "--personal-id",
            HEAD,
            "--full-name",
            "Lê Văn Hùng",
            "--sex",
            "male",
            "--date-of-birth",
            "1990-02-03",
        ],
    )
    .await;
    ok(
        &cluster,
        dir,
        t,
        &[
            "citizen",
            "register",
            "--personal-id",
            SPOUSE,
            "--full-name",
            "Phạm Thị Lan",
            "--sex",
            "female",
            "--date-of-birth",
            "1992",
        ],
    )
    .await;

    // Residence: declare, get, events.
    let declared = ok(
        &cluster,
        dir,
        t,
        &[
            "residence",
            "declare",
            HEAD,
            "--kind",
            "permanent",
            "--commune",
            "01001",
            "--address",
            "Số 1 Phố Huế",
            "--start",
            "2020-01-15",
        ],
    )
    .await;
    assert_eq!(declared["kind"], "RESIDENCE_KIND_PERMANENT");
    let residence = ok(&cluster, dir, t, &["residence", "get", HEAD]).await;
    assert_eq!(residence["current_commune_code"], "01001");
    let events = ok(&cluster, dir, t, &["residence", "events", HEAD]).await;
    assert_eq!(events["events"].as_array().expect("events").len(), 1);

    // Household: create with two members, get, move.
    let household = ok(
        &cluster,
        dir,
        t,
        &[
            "household",
            "create",
            "--commune",
            "01001",
            "--address",
            "Số 1 Phố Huế",
            "--member",
            &format!("{HEAD}:head"),
        ],
    )
    .await;
    let id = household["household_id"].as_str().expect("id").to_owned();
    let moved = ok(
        &cluster,
        dir,
        t,
        &[
            "household",
            "move",
            SPOUSE,
            "--to",
            &id,
            "--relation",
            "spouse",
        ],
    )
    .await;
    assert_eq!(
        moved["members"].as_array().expect("members").len(),
        2,
        "{moved}"
    );
    let fetched = ok(&cluster, dir, t, &["household", "get", &id]).await;
    assert_eq!(fetched["members"], moved["members"]);
    let bad_member = dancu(
        &cluster,
        dir,
        &[
            "household",
            "create",
            "--commune",
            "01001",
            "--address",
            "x",
            "--member",
            HEAD,
        ],
        Some(t),
        "",
    )
    .await;
    assert_eq!(bad_member.code, 2, "{}", bad_member.stderr);

    // Card: issue, report lost (the CLI fetches the etag), events.
    let card = ok(&cluster, dir, t, &["card", "issue", HEAD]).await;
    assert_eq!(card["state"], "CARD_STATE_ACTIVE");
    let lost = ok(
        &cluster,
        dir,
        t,
        &[
            "card",
            "report-lost",
            HEAD,
            "--reason",
            "lost at the market",
        ],
    )
    .await;
    assert_eq!(lost["state"], "CARD_STATE_LOST");
    let stale = dancu(
        &cluster,
        dir,
        &[
            "card",
            "revoke",
            HEAD,
            "--reason",
            "x",
            "--etag",
            card["etag"].as_str().expect("etag"),
        ],
        Some(t),
        "",
    )
    .await;
    assert_eq!(
        stale.code, 7,
        "a stale etag is a conflict: {}",
        stale.stderr
    );
    let card_events = ok(&cluster, dir, t, &["card", "events", HEAD]).await;
    let types: Vec<&str> = card_events["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        types,
        ["CARD_EVENT_TYPE_ISSUED", "CARD_EVENT_TYPE_REPORTED_LOST"]
    );

    // Foreigner: register, get, list, declare a stay, list stays, check out.
    let sample = sample_foreigner("M1234567");
    let document = sample.entry_document.clone().expect("document");
    let foreigner = ok(
        &cluster,
        dir,
        t,
        &[
            "foreigner",
            "register",
            "--passport",
            "M1234567",
            "--nationality",
            "KOR",
            "--full-name",
            "Kim Min-jun",
            "--sex",
            "male",
            "--date-of-birth",
            "1988-03-09",
            "--document",
            "visa",
            "--document-number",
            &document.number,
            "--valid-from",
            &date(document.valid_from),
            "--valid-until",
            &date(document.valid_until),
        ],
    )
    .await;
    let foreigner_id = foreigner["id"].as_str().expect("id").to_owned();
    assert_eq!(
        ok(&cluster, dir, t, &["foreigner", "get", &foreigner_id]).await["passport_number"],
        "M1234567"
    );
    let listed = ok(
        &cluster,
        dir,
        t,
        &["foreigner", "list", "--nationality", "KOR"],
    )
    .await;
    assert_eq!(listed["foreigners"][0]["id"], foreigner_id.as_str());
    let arrival = dancu_e2e::register::time_from_now(-3600).to_string();
    let departure = dancu_e2e::register::time_from_now(3 * 86400).to_string();
    let stay = ok(
        &cluster,
        dir,
        t,
        &[
            "foreigner",
            "stay",
            "declare",
            "--foreigner",
            &foreigner_id,
            "--host-name",
            "Khách sạn Sen",
            "--commune",
            "01001",
            "--address",
            "3 Hàng Bài",
            "--arrival",
            &arrival,
            "--planned-departure",
            &departure,
        ],
    )
    .await;
    let stays = ok(
        &cluster,
        dir,
        t,
        &["foreigner", "stay", "list", "--commune", "01001"],
    )
    .await;
    assert_eq!(stays["stays"][0]["declaration"]["id"], stay["id"]);
    let out = ok(
        &cluster,
        dir,
        t,
        &[
            "foreigner",
            "stay",
            "check-out",
            stay["id"].as_str().expect("id"),
        ],
    )
    .await;
    assert!(out["check_out_time"].is_string(), "{out}");

    // Subjects (purpose and case from the flags): create, classify, read, analyse.
    let subject_args = |extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = vec!["subject".to_owned()];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        args.extend(
            ["--purpose", "judgment_enforcement", "--case", "123/QD-THA"]
                .iter()
                .map(|a| (*a).to_owned()),
        );
        args
    };
    let source = [
        "--source-kind",
        "judgment-enforcement",
        "--reference",
        "123/QD-THA",
        "--issuing-unit",
        "CAHN",
    ];
    let mut create = vec!["create", HEAD];
    create.extend(source);
    let subject = ok(&cluster, dir, t, &refs(&subject_args(&create))).await;
    let subject_id = subject["id"].as_str().expect("id").to_owned();
    assert_eq!(subject["personal_id"], HEAD);
    let mut classify = vec![
        "classify",
        &subject_id,
        "--classification",
        "post-rehabilitation",
        "--start",
        "2025-01-15",
        "--legal-basis",
        "Điều 65 BLHS",
    ];
    classify.extend(source);
    let class = ok(&cluster, dir, t, &refs(&subject_args(&classify))).await;
    assert_eq!(class["status"], "CLASSIFICATION_STATUS_ACTIVE");
    let fetched = ok(
        &cluster,
        dir,
        t,
        &refs(&subject_args(&["get", &subject_id])),
    )
    .await;
    assert_eq!(
        fetched["classifications"][0]["classification"],
        "CLASSIFICATION_POST_REHABILITATION"
    );
    let listed = ok(
        &cluster,
        dir,
        t,
        &refs(&subject_args(&[
            "list",
            "--classification",
            "post-rehabilitation",
        ])),
    )
    .await;
    assert_eq!(listed["subjects"][0]["id"], subject_id.as_str());
    let risk = ok(
        &cluster,
        dir,
        t,
        &refs(&subject_args(&["risk", &subject_id])),
    )
    .await;
    assert_eq!(risk["score"], 10, "{risk}");
    assert_eq!(risk["reasons"][0]["code"], "class:post_rehabilitation");
    let card = ok(&cluster, dir, t, &refs(&subject_args(&["scorecard"]))).await;
    assert_eq!(card["subjects"], 1, "{card}");
    let hotspots = ok(
        &cluster,
        dir,
        t,
        &refs(&subject_args(&["hotspots", "--level", "province"])),
    )
    .await;
    assert!(hotspots["areas"].is_array(), "{hotspots}");
    let bad_level = dancu(
        &cluster,
        dir,
        &refs(&subject_args(&["hotspots", "--window-days", "999"])),
        Some(t),
        "",
    )
    .await;
    assert_eq!(bad_level.code, 3, "{}", bad_level.stderr);
    assert!(
        bad_level.stderr.contains("window_days"),
        "{}",
        bad_level.stderr
    );
    let missing = dancu(
        &cluster,
        dir,
        &[
            "subject",
            "get",
            "01a225b3-f4d6-77db-8027-4b0aac58ef47",
            "--purpose",
            "judgment_enforcement",
            "--case",
            "123/QD-THA",
        ],
        Some(t),
        "",
    )
    .await;
    assert_eq!(missing.code, 4, "{}", missing.stderr);
    let alerts = ok(&cluster, dir, t, &["alerts", "list"]).await;
    assert!(alerts["alerts"].is_array(), "{alerts}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_about_to_expire_is_refreshed_and_saved_again() {
    // Tokens live 20 seconds, less than the CLI's 30-second refresh margin.
    let cluster = Cluster::start_with(|config| config.token_ttl_secs = 20).await;
    let home = tempfile::tempdir().expect("tempdir");
    let dir = home.path();
    let login = dancu(
        &cluster,
        dir,
        &["login", "--password-stdin"],
        None,
        &format!("{ADMIN_PASSWORD}\n"),
    )
    .await;
    assert_eq!(login.code, 0, "{}", login.stderr);
    let read = || -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(dir.join("session.json")).expect("session"))
            .expect("json")
    };
    let before = read();
    let run = dancu(&cluster, dir, &["alerts", "list"], None, "").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let after = read();
    assert_ne!(after["access_token"], before["access_token"], "refreshed");
    assert_ne!(after["refresh_token"], before["refresh_token"], "rotated");
    // The old refresh token is spent: the saved one is what works now.
    let again = dancu(&cluster, dir, &["alerts", "list"], None, "").await;
    assert_eq!(again.code, 0, "{}", again.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_watch_streams_alerts_as_json_lines() {
    let cluster = Cluster::start_with(|config| {
        // Working hours that never start: every personal-data access raises an alert.
        config.audit_alerts.working_hours_start = 0;
        config.audit_alerts.working_hours_end = 0;
    })
    .await;
    let (admin, admin_id) = cluster.admin_login().await;
    cluster
        .register_sample(&admin, HEAD)
        .await
        .expect("register");
    let home = tempfile::tempdir().expect("tempdir");
    let dir = home.path();

    let listed = ok(
        &cluster,
        dir,
        &admin,
        &["alerts", "list", "--kind", "outside-hours"],
    )
    .await;
    let alerts = listed["alerts"].as_array().expect("alerts");
    assert!(!alerts.is_empty(), "{listed}");
    assert!(
        alerts
            .iter()
            .all(|a| a["kind"] == "ALERT_KIND_OUTSIDE_HOURS")
    );

    let mut child = Command::new(env!("CARGO_BIN_EXE_dancu"))
        .args(["audit", "watch", "--after", "0", "-o", "json"])
        .env("DANCU_CONFIG_DIR", dir)
        .env("DANCU_AUDIT_ENDPOINT", cluster.endpoint(ServiceKind::Audit))
        .env("DANCU_TOKEN", &admin)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start dancu audit watch");
    let stdout = child.stdout.take().expect("stdout");
    let line = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
                .expect("read a line");
            line
        }),
    )
    .await
    .expect("an alert within 20 s")
    .expect("join");
    child.kill().expect("stop the watch");
    let _ = child.wait();
    let alert: serde_json::Value =
        serde_json::from_str(line.trim()).expect("one JSON object per line");
    assert_eq!(alert["kind"], "ALERT_KIND_OUTSIDE_HOURS", "{line}");
    assert_eq!(alert["actor_id"], admin_id.as_str());
}

/// Borrowed arguments of owned ones.
fn refs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}
