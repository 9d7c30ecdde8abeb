//! `dancu demo` against an in-process cluster: it loads the population it generates
//! (citizens and foreigners into identity, subjects into records), prints a tour whose
//! commands work on what it loaded, and a second run loads nothing new.

mod common;

use dancu_e2e::Cluster;
use dancu_popgen::record::{ForeignerLine, Line};

const COUNT: u64 = 600;
const SEED: u64 = 3;

/// The foreigners and the number of subjects in the population the demo generates.
fn population() -> (Vec<ForeignerLine>, usize) {
    let mut file = Vec::new();
    dancu_popgen::generate(dancu_popgen::Settings::new(COUNT, SEED), &mut file, |_| {})
        .expect("generate");
    let (mut foreigners, mut subjects) = (Vec::new(), 0);
    for line in String::from_utf8(file).expect("UTF-8").lines() {
        match serde_json::from_str::<Line>(line).expect("a generated line") {
            Line::Foreigner(f) => foreigners.push(f),
            Line::Subject(_) => subjects += 1,
            Line::Citizen(_) => {}
        }
    }
    (foreigners, subjects)
}

/// Runs a command of the tour, with the purpose it names and JSON output; it must succeed.
async fn tour_command(
    cluster: &Cluster,
    dir: &std::path::Path,
    env: &[(&str, &str)],
    args: &[&str],
) -> serde_json::Value {
    let mut args = args.to_vec();
    args.extend(["--purpose", "residence_management", "-o", "json"]);
    let run = common::dancu(cluster, dir, &args, env, "").await;
    assert_eq!(run.code, 0, "{args:?}: {} {}", run.stdout, run.stderr);
    common::json(&run)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_loads_its_population_and_its_tour_works() {
    let cluster = Cluster::start().await;
    let (token, _) = cluster.admin_login().await;
    let dir = tempfile::tempdir().expect("temporary directory");
    let (foreigners, subjects) = population();
    assert!(
        !foreigners.is_empty() && subjects > 0,
        "the seed has every kind"
    );
    let env = [("DANCU_TOKEN", token.as_str())];
    let (count, seed) = (COUNT.to_string(), SEED.to_string());
    let demo = ["demo", "--count", count.as_str(), "--seed", seed.as_str()];

    let run = common::dancu(&cluster, dir.path(), &demo, &env, "").await;
    assert_eq!(run.code, 0, "{} {}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(&format!(
            "citizens: imported {COUNT}, already present 0, rejected 0; foreigners: imported \
             {}, already present 0, rejected 0; subjects: imported {subjects}, already \
             present 0, rejected 0;",
            foreigners.len()
        )),
        "{}",
        run.stdout
    );

    // The tour names people of the file; its commands find them.
    let first = &foreigners[0];
    assert!(
        run.stdout.contains(&format!(
            "dancu foreigner list --nationality {} --passport {}",
            first.nationality, first.passport_number
        )),
        "{}",
        run.stdout
    );
    let listed = tour_command(
        &cluster,
        dir.path(),
        &env,
        &[
            "foreigner",
            "list",
            "--nationality",
            &first.nationality,
            "--passport",
            &first.passport_number,
        ],
    )
    .await;
    assert_eq!(
        listed["foreigners"][0]["passport_number"],
        first.passport_number.as_str()
    );
    let head = run
        .stdout
        .split("dancu citizen get ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the tour names a citizen")
        .to_owned();
    let got = tour_command(&cluster, dir.path(), &env, &["citizen", "get", &head]).await;
    assert_eq!(got["personal_id"], head.as_str());

    let again = common::dancu(&cluster, dir.path(), &demo, &env, "").await;
    assert_eq!(again.code, 0, "{} {}", again.stdout, again.stderr);
    assert!(
        again.stdout.contains(&format!(
            "citizens: imported 0, already present {COUNT}, rejected 0; foreigners: imported 0, \
             already present {}, rejected 0; subjects: imported 0, already present {subjects}, \
             rejected 0;",
            foreigners.len()
        )),
        "{}",
        again.stdout
    );
    cluster.shutdown().await;
}
