//! `dancu demo`: load a small generated population into a running `dancu up` and print a
//! guided tour of commands to try on it.

use crate::client::{Global, Service};
use crate::import::{Targets, connect, import_file, print_summary};
use anyhow::Context;
use dancu_popgen::record::{CitizenLine, Line};
use std::io::BufRead;

/// Arguments of `dancu demo`.
#[derive(clap::Args)]
pub struct DemoArgs {
    /// Citizens to generate and load.
    #[arg(long, default_value_t = 2_000)]
    pub count: u64,
    /// Seed of the population.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Generates, imports (idempotent: running the demo twice loads nothing new), then prints
/// the tour.
pub async fn run(args: &DemoArgs, global: &Global) -> anyhow::Result<()> {
    let endpoint = global.endpoint_of(Service::Identity);
    let host = endpoint
        .trim_start_matches("http://")
        .trim_start_matches("https://")
        .to_owned();
    let path = std::env::temp_dir().join(format!(
        "dancu-demo-{}-{}-{}.ndjson",
        args.count,
        args.seed,
        std::process::id()
    ));
    let file = std::fs::File::create(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    let mut sink = std::io::BufWriter::new(file);
    let generated = dancu_popgen::generate(
        dancu_popgen::Settings::new(args.count, args.seed),
        &mut sink,
        |_| {},
    )?;
    drop(sink);
    println!(
        "generated {} citizens in {} households (seed {}); loading them into {}",
        generated.citizens, generated.households, args.seed, endpoint
    );
    let targets = Targets {
        identity: connect(endpoint)?,
        records: Some(connect(&global.records_endpoint)?),
    };
    let token = global.credentials.token().await?;
    let summary = import_file(&targets, &token, &path, 500, true, true).await;
    let samples = samples(&path);
    let _ = std::fs::remove_file(&path);
    let summary = summary?;
    print_summary(&summary);
    print_tour(&samples?, &host);
    Ok(())
}

/// A few people of the file to name in the tour.
struct Samples {
    head: CitizenLine,
    temporary: Option<CitizenLine>,
    /// A subject line's personal ID and owning unit.
    subject: Option<(String, String)>,
    /// A foreigner line's nationality and passport number.
    foreigner: Option<(String, String)>,
}

fn samples(path: &std::path::Path) -> anyhow::Result<Samples> {
    let reader = std::io::BufReader::new(std::fs::File::open(path)?);
    let mut head = None;
    let mut temporary = None;
    let mut subject = None;
    let mut foreigner = None;
    for line in reader.lines() {
        match serde_json::from_str::<Line>(&line?)? {
            Line::Citizen(c)
                if head.is_none() && c.relation == "head" && !c.spouse_id.is_empty() =>
            {
                head = Some(c)
            }
            Line::Citizen(c)
                if temporary.is_none() && c.residence.iter().any(|r| r.kind == "temporary") =>
            {
                temporary = Some(c)
            }
            Line::Subject(s) if subject.is_none() => subject = Some((s.personal_id, s.owning_unit)),
            Line::Foreigner(f) if foreigner.is_none() => {
                foreigner = Some((f.nationality, f.passport_number))
            }
            _ => {}
        }
        if head.is_some() && temporary.is_some() && subject.is_some() && foreigner.is_some() {
            break;
        }
    }
    Ok(Samples {
        head: head.context("the generated file has no household head")?,
        temporary,
        subject,
        foreigner,
    })
}

fn print_tour(s: &Samples, host: &str) {
    let id = &s.head.personal_id;
    let year = &s.head.date_of_birth[..4];
    let commune = s
        .head
        .residence
        .last()
        .map(|r| r.commune.as_str())
        .unwrap_or("01001");
    println!(
        "\nA tour (personal data calls need a purpose: --purpose residence_management):\n\
         \n  dancu login                                   # keep a session\
         \n  dancu citizen get {id}                  # {name}, born {year}\
         \n  dancu citizen search --name \"{name}\" --year {year}\
         \n  dancu citizen get {spouse}                  # the spouse (family links)\
         \n  dancu residence list {id}               # residence history\
         \n  dancu household get {id}\
         \n  dancu citizen residents --commune {commune}          # who lives in the commune\
         \n  dancu audit events --since 10m                # every call above was audited",
        name = s.head.full_name,
        spouse = s.head.spouse_id,
    );
    if let Some(t) = &s.temporary {
        println!(
            "  dancu residence get {}                # has a temporary residence in force",
            t.personal_id
        );
    }
    if let Some((subject, unit)) = &s.subject {
        println!(
            "  # {subject} was imported as a subject of {unit}; an investigator of that unit sees it:\
             \n  dancu subject list --unit {unit} --purpose investigation --case 1/VKS-HS"
        );
    }
    if let Some((nationality, passport)) = &s.foreigner {
        println!(
            "  dancu foreigner list --nationality {nationality} --passport {passport}   # imported with entry document and declaration"
        );
    }
    println!(
        "\nWith grpcurl: grpcurl -plaintext -H \"authorization: Bearer $TOKEN\" \
         -H \"x-dancu-purpose: residence_management\" -d '{{\"personal_id\":\"{id}\"}}' \
         {host} dancu.identity.v1.IdentityService/GetCitizen"
    );
}
