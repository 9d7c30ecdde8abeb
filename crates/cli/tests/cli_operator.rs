//! The operator commands of the `dancu` binary against an in-process cluster: login keeps a
//! private session file that every command uses, answers print as tables or JSON, purpose
//! and case reach the audit log, logout revokes and forgets the session, and failures exit
//! with distinct codes and clear messages.

mod common;

use common::{dancu, json};
use dancu_e2e::{ADMIN_PASSWORD, Cluster};
use std::process::Command;

const ID: &str = "001090000123";
const RM: &str = "residence_management";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_saves_a_private_session_used_by_every_command_until_logout() {
    let cluster = Cluster::start().await;
    let home = tempfile::tempdir().expect("tempdir");
    let dir = home.path().join("config");

    let login = dancu(
        &cluster,
        &dir,
        &["login", "--username", "admin", "--password-stdin"],
        &[],
        &format!("{ADMIN_PASSWORD}\n"),
    )
    .await;
    assert_eq!(login.code, 0, "{} {}", login.stdout, login.stderr);
    assert!(
        login.stdout.contains("Logged in as admin"),
        "{}",
        login.stdout
    );
    let session = dir.join("session.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&session)
            .expect("session file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "session file mode {mode:o}");
    }
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&session).expect("read session")).expect("json");
    let token = saved["access_token"].as_str().expect("token").to_owned();
    assert!(!token.is_empty());
    assert!(
        !login.stdout.contains(&token),
        "the token is not printed: {}",
        login.stdout
    );

    // Register (table), get (JSON), search (table and JSON), all with the saved session.
    let register = dancu(
        &cluster,
        &dir,
        &[
            "citizen",
            "register",
            "--personal-id",
            ID,
            "--full-name",
            "Nguyễn Văn An",
            "--sex",
            "male",
            "--date-of-birth",
            "1990-05-17",
            "--place-of-birth",
            "Phường Ba Đình, Hà Nội",
            "--purpose",
            RM,
        ],
        &[],
        "",
    )
    .await;
    assert_eq!(register.code, 0, "{} {}", register.stdout, register.stderr);
    for expected in [ID, "Nguyễn Văn An", "SEX_MALE", "1990-05-17", "etag"] {
        assert!(
            register.stdout.contains(expected),
            "{expected}: {}",
            register.stdout
        );
    }

    let get = dancu(
        &cluster,
        &dir,
        &["citizen", "get", ID, "--purpose", RM, "-o", "json"],
        &[],
        "",
    )
    .await;
    assert_eq!(get.code, 0, "{}", get.stderr);
    let citizen = json(&get);
    assert_eq!(citizen["personal_id"], ID);
    assert_eq!(citizen["full_name"], "Nguyễn Văn An");
    assert_eq!(citizen["sex"], "SEX_MALE");
    assert_eq!(citizen["date_of_birth"]["year"], 1990);
    assert_eq!(citizen["nationality"], "VNM");

    let search = dancu(
        &cluster,
        &dir,
        &["citizen", "search", "NGUYEN VAN AN", "--purpose", RM],
        &[],
        "",
    )
    .await;
    assert_eq!(search.code, 0, "{}", search.stderr);
    assert!(search.stdout.contains("PERSONAL ID"), "{}", search.stdout);
    assert!(search.stdout.contains(ID), "{}", search.stdout);
    let search = dancu(
        &cluster,
        &dir,
        &[
            "citizen",
            "search",
            "nguyen van an",
            "--birth-year",
            "1991",
            "--purpose",
            RM,
            "--output",
            "json",
        ],
        &[],
        "",
    )
    .await;
    assert_eq!(search.code, 0, "{}", search.stderr);
    assert_eq!(
        json(&search)["citizens"],
        serde_json::json!([]),
        "other birth year"
    );

    // Update through the flags (etag fetched first), then the history shows it.
    let update = dancu(
        &cluster,
        &dir,
        &[
            "citizen",
            "update",
            ID,
            "--phone",
            "0912345678",
            "--reason",
            "citizen request",
            "--purpose",
            RM,
            "-o",
            "json",
        ],
        &[],
        "",
    )
    .await;
    assert_eq!(update.code, 0, "{}", update.stderr);
    assert_eq!(json(&update)["phone"], "0912345678");
    let history = dancu(
        &cluster,
        &dir,
        &["citizen", "history", ID, "--purpose", RM, "-o", "json"],
        &[],
        "",
    )
    .await;
    assert_eq!(history.code, 0, "{}", history.stderr);
    let changes = json(&history)["changes"]
        .as_array()
        .expect("changes")
        .clone();
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert_eq!(changes[1]["fields"], serde_json::json!(["phone"]));
    assert_eq!(changes[1]["reason"], "citizen request");

    // The declared purpose reached the audit log, and `audit events` shows it.
    let events = cluster.events_about(&token, ID, 5).await;
    assert!(
        events
            .iter()
            .any(|e| e.rpc.ends_with("/GetCitizen") && e.purpose == RM),
        "{events:?}"
    );
    let audit = dancu(
        &cluster,
        &dir,
        &["audit", "events", "--subject", ID, "-o", "json"],
        &[],
        "",
    )
    .await;
    assert_eq!(audit.code, 0, "{}", audit.stderr);
    let listed = json(&audit)["events"].as_array().expect("events").clone();
    assert!(
        listed.iter().any(|e| e["purpose"] == RM
            && e["rpc"]
                .as_str()
                .unwrap_or_default()
                .ends_with("/RegisterCitizen")),
        "{listed:?}"
    );
    let report = dancu(&cluster, &dir, &["audit", "report", ID], &[], "").await;
    assert_eq!(report.code, 0, "{}", report.stderr);
    assert!(report.stdout.contains(RM), "{}", report.stdout);

    // Logout revokes the token and deletes the session; commands then need a login.
    let logout = dancu(&cluster, &dir, &["logout"], &[], "").await;
    assert_eq!(logout.code, 0, "{} {}", logout.stdout, logout.stderr);
    assert!(!session.exists(), "session deleted");
    let after = dancu(
        &cluster,
        &dir,
        &["citizen", "get", ID, "--purpose", RM],
        &[],
        "",
    )
    .await;
    assert_eq!(after.code, 5, "{} {}", after.stdout, after.stderr);
    assert!(after.stderr.contains("not logged in"), "{}", after.stderr);
    let mut refused = None;
    for _ in 0..100 {
        let run = dancu(
            &cluster,
            &dir,
            &["citizen", "get", ID, "--purpose", RM],
            &[("DANCU_TOKEN", &token)],
            "",
        )
        .await;
        if run.code != 0 {
            refused = Some(run);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let refused = refused.expect("the revoked token is refused within seconds");
    assert_eq!(refused.code, 5, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("UNAUTHENTICATED"),
        "{}",
        refused.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_exit_with_distinct_codes_and_clear_messages() {
    let cluster = Cluster::start().await;
    let (admin, _) = cluster.admin_login().await;
    let home = tempfile::tempdir().expect("tempdir");
    let dir = home.path();
    let as_admin = [("DANCU_TOKEN", admin.as_str())];

    // Not found: 4.
    let missing = dancu(
        &cluster,
        dir,
        &["citizen", "get", "001090999999", "--purpose", RM],
        &as_admin,
        "",
    )
    .await;
    assert_eq!(missing.code, 4, "{} {}", missing.stdout, missing.stderr);
    assert!(
        missing.stderr.contains("GetCitizen failed: NOT_FOUND"),
        "{}",
        missing.stderr
    );
    assert!(
        !missing.stderr.contains("001090999999"),
        "no personal ID in the error: {}",
        missing.stderr
    );

    // Invalid argument: 3, with the server's field violations listed.
    let invalid = dancu(
        &cluster,
        dir,
        &[
            "citizen",
            "register",
            "--personal-id",
            "12345",
            "--full-name",
            "X",
            "--date-of-birth",
            "1990-05-17",
            "--purpose",
            RM,
        ],
        &as_admin,
        "",
    )
    .await;
    assert_eq!(invalid.code, 3, "{} {}", invalid.stdout, invalid.stderr);
    assert!(
        invalid.stderr.contains("INVALID_ARGUMENT"),
        "{}",
        invalid.stderr
    );
    assert!(
        invalid.stderr.contains("  - citizen.personal_id: "),
        "{}",
        invalid.stderr
    );
    assert!(
        invalid.stderr.contains("  - citizen.sex: "),
        "{}",
        invalid.stderr
    );

    // A missing purpose is the server's field violation too.
    let no_purpose = dancu(&cluster, dir, &["citizen", "get", ID], &as_admin, "").await;
    assert_eq!(no_purpose.code, 3, "{}", no_purpose.stderr);
    assert!(
        no_purpose.stderr.contains("  - x-dancu-purpose: "),
        "{}",
        no_purpose.stderr
    );

    // Denied: 5 (an investigator may not read the audit log).
    let investigator = cluster
        .officer(&admin, "inv.cli", "BCA-C06", &["investigator"], None)
        .await;
    let denied = dancu(
        &cluster,
        dir,
        &["audit", "events"],
        &[("DANCU_TOKEN", investigator.token())],
        "",
    )
    .await;
    assert_eq!(denied.code, 5, "{} {}", denied.stdout, denied.stderr);
    assert!(
        denied
            .stderr
            .contains("ListEvents failed: PERMISSION_DENIED"),
        "{}",
        denied.stderr
    );
    let bad_token = dancu(
        &cluster,
        dir,
        &["citizen", "get", ID, "--purpose", RM],
        &[("DANCU_TOKEN", "not-a-token")],
        "",
    )
    .await;
    assert_eq!(bad_token.code, 5, "{}", bad_token.stderr);
    assert!(
        bad_token.stderr.contains("UNAUTHENTICATED"),
        "{}",
        bad_token.stderr
    );
    let wrong_password = dancu(
        &cluster,
        dir,
        &["login", "--password-stdin"],
        &[],
        "wrong-password\n",
    )
    .await;
    assert_eq!(wrong_password.code, 5, "{}", wrong_password.stderr);
    assert!(
        !dir.join("session.json").exists(),
        "no session saved on failure"
    );

    // The case reference reaches the audit log with the purpose.
    let registered = cluster.register_sample(&admin, ID).await;
    registered.expect("register");
    let case = "12/VKS-HS";
    let get = dancu(
        &cluster,
        dir,
        &[
            "citizen",
            "get",
            ID,
            "--purpose",
            "investigation",
            "--case",
            case,
        ],
        &[("DANCU_TOKEN", investigator.token())],
        "",
    )
    .await;
    assert_eq!(get.code, 0, "{} {}", get.stdout, get.stderr);
    let events = cluster.events_about(&admin, ID, 2).await;
    assert!(
        events
            .iter()
            .any(|e| e.purpose == "investigation" && e.case_reference == case),
        "{events:?}"
    );

    // Unavailable: 6 (nothing listens there).
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = format!("http://{}", closed.local_addr().expect("address"));
    drop(closed);
    let unavailable = dancu(
        &cluster,
        dir,
        &[
            "citizen",
            "get",
            ID,
            "--purpose",
            RM,
            "--endpoint",
            &address,
        ],
        &as_admin,
        "",
    )
    .await;
    assert_eq!(
        unavailable.code, 6,
        "{} {}",
        unavailable.stdout, unavailable.stderr
    );
    assert!(
        unavailable.stderr.contains("UNAVAILABLE"),
        "{}",
        unavailable.stderr
    );
    let login_unavailable = dancu(
        &cluster,
        dir,
        &["login", "--password-stdin", "--endpoint", &address],
        &[],
        "x\n",
    )
    .await;
    assert_eq!(login_unavailable.code, 6, "{}", login_unavailable.stderr);

    // Usage errors: 2 (clap's, and ours after parsing).
    let usage = dancu(&cluster, dir, &["citizen", "get"], &as_admin, "").await;
    assert_eq!(usage.code, 2, "{}", usage.stderr);
    let bad_date = dancu(
        &cluster,
        dir,
        &["citizen", "register", "--date-of-birth", "17/05/1990"],
        &as_admin,
        "",
    )
    .await;
    assert_eq!(bad_date.code, 2, "{}", bad_date.stderr);
    let bad_enum = dancu(
        &cluster,
        dir,
        &["citizen", "register", "--sex", "x", "--purpose", RM],
        &as_admin,
        "",
    )
    .await;
    assert_eq!(bad_enum.code, 2, "{}", bad_enum.stderr);
    assert!(
        bad_enum.stderr.contains("male, female"),
        "{}",
        bad_enum.stderr
    );
}

#[test]
fn completions_and_help() {
    let run = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_dancu"))
            .args(args)
            .output()
            .expect("run dancu");
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("utf-8")
    };
    let bash = run(&["completions", "bash"]);
    assert!(bash.contains("_dancu()"), "{bash}");
    for word in [
        "citizen",
        "residence",
        "household",
        "foreigner",
        "report-lost",
        "--purpose",
    ] {
        assert!(bash.contains(word), "bash completes {word}");
    }
    let zsh = run(&["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef dancu"), "{zsh}");
    let help = run(&["--help"]);
    assert!(help.contains("Exit codes:"), "{help}");
    assert!(help.contains("4  not found"), "{help}");
    let get_help = run(&["citizen", "get", "--help"]);
    assert!(
        get_help.contains("Example:\n  dancu citizen get"),
        "{get_help}"
    );
}
