//! The generator's promises: same settings, same bytes; every line valid.

use dancu_domain::{AreaTable, PersonalId, Sex, province_by_code};
use dancu_popgen::record::Line;
use dancu_popgen::{Settings, generate};
use proptest::prelude::*;
use std::collections::HashSet;

fn bytes(settings: Settings) -> Vec<u8> {
    let mut out = Vec::new();
    generate(settings, &mut out, |_| {}).expect("writing to memory");
    out
}

/// Checks every line of a generated file; returns the number of citizens, of foreigners,
/// and of foreigners declared late (more than 12 hours after arriving).
fn check_valid(text: &[u8], year: i32) -> (u64, u64, u64) {
    let areas = AreaTable::builtin();
    let mut seen = HashSet::new();
    let mut citizens = 0;
    let mut links = Vec::new();
    let mut passports = HashSet::new();
    let (mut foreigners, mut late) = (0u64, Vec::new());
    for (n, raw) in text
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let line: Line = serde_json::from_slice(raw).unwrap_or_else(|e| panic!("line {n}: {e}"));
        assert_eq!(
            Line::from_json(raw).expect("the two-pass reader reads it too"),
            line,
            "line {n}"
        );
        match line {
            Line::Citizen(c) => {
                citizens += 1;
                let id = PersonalId::parse(&c.personal_id).expect("personal ID parses");
                let sex = match c.sex.as_str() {
                    "male" => Sex::Male,
                    "female" => Sex::Female,
                    other => panic!("sex {other}"),
                };
                let born: i32 = c.date_of_birth[..4].parse().unwrap();
                assert!(born <= year);
                id.check_consistent(sex, born)
                    .expect("personal ID matches sex and year");
                let province = province_by_code(id.province_code()).unwrap();
                assert_eq!(c.place_of_birth, province.name_before_2025);
                let ymd: Vec<u32> = c
                    .date_of_birth
                    .split('-')
                    .map(|p| p.parse().unwrap())
                    .collect();
                assert!(dancu_domain::parse_ymd(born, ymd[1], ymd[2]).is_ok());
                assert_eq!(
                    dancu_domain::normalize_full_name(&c.full_name).as_deref(),
                    Ok(c.full_name.as_str()),
                    "names are stored as generated (NFC)"
                );
                assert!(
                    seen.insert(c.personal_id.clone()),
                    "personal IDs are unique"
                );
                assert!(!c.residence.is_empty());
                let current: Vec<_> = c
                    .residence
                    .iter()
                    .filter(|r| r.kind == "permanent" && r.until.is_empty())
                    .collect();
                assert_eq!(current.len(), 1, "one permanent residence in force");
                for r in &c.residence {
                    assert!(areas.commune(&r.commune).is_some());
                    assert!(r.until.is_empty() || r.until >= r.from, "{r:?}");
                }
                for link in [&c.father_id, &c.mother_id, &c.spouse_id] {
                    if !link.is_empty() {
                        links.push(link.clone());
                    }
                }
            }
            Line::Subject(s) => {
                assert!(
                    seen.contains(&s.personal_id),
                    "subjects are citizens of the file"
                );
                assert!(!s.timeline.is_empty());
            }
            Line::Foreigner(f) => {
                assert_eq!(f.nationality.len(), 3);
                assert!(areas.commune(&f.commune).is_some());
                assert!(
                    passports.insert((f.nationality.clone(), f.passport_number.clone())),
                    "passports are unique per nationality"
                );
                let day = |text: &str| {
                    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                        .unwrap_or_else(|e| panic!("line {n}: date {text}: {e}"))
                };
                let time = |text: &str| {
                    chrono::DateTime::parse_from_rfc3339(text)
                        .unwrap_or_else(|e| panic!("line {n}: time {text}: {e}"))
                };
                let entry = day(&f.entry_date);
                let from = day(&f.document_valid_from);
                assert!(from <= entry, "the document is valid at entry");
                match f.document_type.as_str() {
                    "permanent_residence_card" => assert!(f.document_valid_until.is_empty()),
                    "visa" | "temporary_residence_card" => {
                        assert!(day(&f.document_valid_until) >= entry);
                    }
                    other => panic!("document type {other}"),
                }
                assert!(!f.document_number.is_empty() && !f.host_name.is_empty());
                let arrival = time(&f.arrival);
                let declared = time(&f.declared);
                assert!(arrival.date_naive() >= entry, "arrives after entering");
                assert!(declared > arrival, "declared once there");
                assert!(time(&f.planned_departure) > arrival);
                if declared - arrival > chrono::Duration::hours(12) {
                    late.push(n);
                }
                foreigners += 1;
            }
        }
    }
    for link in links {
        assert!(
            seen.contains(&link),
            "family links point to people of the file"
        );
    }
    (citizens, foreigners, late.len() as u64)
}

#[test]
fn same_seed_same_bytes() {
    let a = bytes(Settings::new(3_000, 42));
    let b = bytes(Settings::new(3_000, 42));
    assert_eq!(a, b);
    assert_ne!(a, bytes(Settings::new(3_000, 43)));
}

#[test]
fn a_larger_population_is_valid_and_has_every_kind() {
    let text = bytes(Settings::new(20_000, 7));
    let (citizens, foreigners, late) = check_valid(&text, 2025);
    assert_eq!(citizens, 20_000);
    assert!(
        foreigners > 100,
        "about one per 33 households: {foreigners}"
    );
    assert!(
        late > 0 && late * 10 < foreigners,
        "a few declarations are late: {late} of {foreigners}"
    );
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains("\"kind\":\"foreigner\""));
    assert!(text.contains("\"kind\":\"subject\""));
    assert!(text.contains("Nguyễn"));
}

#[test]
fn pinned_output_does_not_drift() {
    // The first line for seed 1 is fixed: a change here means files generated by an
    // older release no longer reproduce (change it only on purpose).
    let text = bytes(Settings::new(1, 1));
    let first = String::from_utf8(text).unwrap();
    let first = first.lines().next().unwrap();
    let line: Line = serde_json::from_str(first).unwrap();
    let Line::Citizen(c) = line else {
        panic!("first line is a citizen")
    };
    assert_eq!(c.personal_id.len(), 12);
    compare_pinned(first);
}

/// Compares with the stored first line (tests/pinned-seed-1.ndjson).
fn compare_pinned(line: &str) {
    let pinned = include_str!("pinned-seed-1.ndjson");
    assert_eq!(line, pinned.trim_end());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn every_seed_gives_a_valid_deterministic_population(seed in any::<u64>(), count in 1u64..600) {
        let a = bytes(Settings::new(count, seed));
        prop_assert_eq!(check_valid(&a, 2025).0, count);
        prop_assert_eq!(a, bytes(Settings::new(count, seed)));
    }
}

#[test]
fn the_two_pass_reader_refuses_what_serde_refuses_with_the_same_message() {
    let text = bytes(Settings::new(50, 3));
    let citizen = text
        .split(|b| *b == b'\n')
        .find(|l| l.starts_with(b"{\"kind\":\"citizen\""))
        .expect("a citizen line");
    let citizen = std::str::from_utf8(citizen).expect("UTF-8");
    let bad = [
        String::new(),
        "not json".to_owned(),
        "[1, 2]".to_owned(),
        r#"{"personal_id": "001090000001"}"#.to_owned(),
        r#"{"kind": "alien"}"#.to_owned(),
        r#"{"kind": 7}"#.to_owned(),
        citizen.replacen("\"kind\":\"citizen\"", "\"kind\":\"subject\"", 1),
        citizen.replacen("\"personal_id\":", "\"personal_id\":7,\"x\":", 1),
        citizen.replacen("\"full_name\":", "\"name\":", 1),
        citizen[..citizen.len() - 1].to_owned(),
    ];
    for line in &bad {
        let serde = serde_json::from_str::<Line>(line).expect_err(line);
        let ours = Line::from_json(line.as_bytes()).expect_err(line);
        assert_eq!(ours.classify(), serde.classify(), "{line}");
        assert_eq!(ours.to_string(), serde.to_string(), "{line}");
    }
}
