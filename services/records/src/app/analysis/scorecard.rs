//! The data-quality scorecard of a unit ("đúng, đủ, sạch, sống"): for each subject the unit
//! owns, four checks, and per check the share of subjects passing it with the offending
//! records and why.
//!
//! - **correct**: a citizen's personal ID is valid, and the last re-validation against
//!   identity found the person with the same name and date of birth;
//! - **complete**: snapshot name, date of birth and commune of residence present, a source
//!   reference, at least one classification, and a legal basis on every classification;
//! - **clean**: the person is not kept as a subject by another unit as well, and no two
//!   classifications contradict each other (the same class, or two supervision regimes,
//!   overlapping in time);
//! - **live**: changed within the configured period, and identity does not report the
//!   person dead or missing.

use chrono::NaiveDate;

/// The four checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dimension {
    /// Đúng.
    Correct,
    /// Đủ.
    Complete,
    /// Sạch.
    Clean,
    /// Sống.
    Live,
}

/// Result of the last re-validation against identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verification {
    /// Never re-validated.
    Unchecked,
    /// Identity holds the same name and date of birth.
    Match,
    /// Identity holds another name or date of birth.
    Mismatch,
    /// Identity does not know the person.
    UnknownPerson,
}

impl Verification {
    /// Storage code.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::Unchecked => "",
            Self::Match => "match",
            Self::Mismatch => "mismatch",
            Self::UnknownPerson => "unknown_person",
        }
    }

    /// From its storage code (unknown codes read as unchecked).
    #[must_use]
    pub fn from_code(code: &str) -> Self {
        match code {
            "match" => Self::Match,
            "mismatch" => Self::Mismatch,
            "unknown_person" => Self::UnknownPerson,
            _ => Self::Unchecked,
        }
    }
}

/// One classification as the scorecard sees it.
#[derive(Clone, Debug)]
pub struct ClassFacts {
    /// Classification code.
    pub code: String,
    /// First day in force.
    pub start: NaiveDate,
    /// Last day in force (open when `None`).
    pub end: Option<NaiveDate>,
    /// Legal basis.
    pub legal_basis: String,
}

/// One subject as the scorecard sees it.
#[derive(Clone, Debug)]
pub struct SubjectFacts {
    /// Subject id.
    pub id: String,
    /// Whether the subject is a citizen (foreigners have no personal ID).
    pub citizen: bool,
    /// Whether a citizen's personal ID is valid.
    pub personal_id_valid: bool,
    /// Snapshot name present.
    pub has_name: bool,
    /// Snapshot date of birth present.
    pub has_birth_date: bool,
    /// Snapshot commune present.
    pub has_commune: bool,
    /// Source reference present.
    pub has_source: bool,
    /// Snapshot life status code (`alive`, `deceased`, `missing`, or empty).
    pub life_status: String,
    /// Last re-validation.
    pub verification: Verification,
    /// Number of other units keeping the same person as a subject.
    pub other_units: u64,
    /// Classifications.
    pub classes: Vec<ClassFacts>,
    /// Last change (Unix microseconds).
    pub updated_us: i64,
}

/// One failed check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offence {
    /// The subject.
    pub subject_id: String,
    /// The check.
    pub dimension: Dimension,
    /// Why (names no person).
    pub reason: String,
}

/// Share of subjects passing one check.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Score {
    /// Subjects passing.
    pub passed: u64,
    /// Subjects checked.
    pub total: u64,
}

impl Score {
    /// `passed / total` (1 for no subjects).
    #[must_use]
    pub fn ratio(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.passed as f64 / self.total as f64
        }
    }
}

/// The scorecard of a unit.
#[derive(Clone, Debug, PartialEq)]
pub struct Scorecard {
    /// Subjects owned.
    pub subjects: u64,
    /// Per check, in [`Dimension`] order.
    pub scores: [(Dimension, Score); 4],
    /// Every failed check.
    pub offences: Vec<Offence>,
}

const SUPERVISION: [&str; 4] = [
    "community_education",
    "post_rehabilitation",
    "bail",
    "probation",
];

fn overlap(a: &ClassFacts, b: &ClassFacts) -> bool {
    a.end.is_none_or(|end| b.start <= end) && b.end.is_none_or(|end| a.start <= end)
}

/// The failed checks of one subject.
#[must_use]
pub fn check(subject: &SubjectFacts, live_since_us: i64) -> Vec<(Dimension, String)> {
    let mut failed = Vec::new();
    if subject.citizen && !subject.personal_id_valid {
        failed.push((Dimension::Correct, "personal ID is not valid".to_owned()));
    }
    match subject.verification {
        Verification::Match => {}
        Verification::Unchecked => failed.push((
            Dimension::Correct,
            "not yet re-validated against identity".to_owned(),
        )),
        Verification::Mismatch => failed.push((
            Dimension::Correct,
            "name or date of birth differs from identity".to_owned(),
        )),
        Verification::UnknownPerson => failed.push((
            Dimension::Correct,
            "identity does not know the person".to_owned(),
        )),
    }
    for (present, field) in [
        (subject.has_name, "full name"),
        (subject.has_birth_date, "date of birth"),
        (subject.has_commune, "commune of residence"),
        (subject.has_source, "source reference"),
    ] {
        if !present {
            failed.push((Dimension::Complete, format!("{field} missing")));
        }
    }
    if subject.classes.is_empty() {
        failed.push((Dimension::Complete, "no classification".to_owned()));
    }
    if subject
        .classes
        .iter()
        .any(|c| c.legal_basis.trim().is_empty())
    {
        failed.push((
            Dimension::Complete,
            "classification without legal basis".to_owned(),
        ));
    }
    if subject.other_units > 0 {
        failed.push((
            Dimension::Clean,
            format!(
                "also kept as a subject by {} other unit(s)",
                subject.other_units
            ),
        ));
    }
    'pairs: for (i, a) in subject.classes.iter().enumerate() {
        for b in &subject.classes[i + 1..] {
            let same = a.code == b.code;
            let regimes =
                SUPERVISION.contains(&a.code.as_str()) && SUPERVISION.contains(&b.code.as_str());
            if (same || regimes) && overlap(a, b) {
                failed.push((
                    Dimension::Clean,
                    format!("classifications {} and {} overlap", a.code, b.code),
                ));
                break 'pairs;
            }
        }
    }
    if subject.updated_us < live_since_us {
        failed.push((
            Dimension::Live,
            "not updated within the live period".to_owned(),
        ));
    }
    if matches!(subject.life_status.as_str(), "deceased" | "missing") {
        failed.push((
            Dimension::Live,
            format!("identity reports the person {}", subject.life_status),
        ));
    }
    failed
}

/// The scorecard of `subjects`, counting as live what changed at or after `live_since_us`.
#[must_use]
pub fn scorecard(subjects: &[SubjectFacts], live_since_us: i64) -> Scorecard {
    let total = subjects.len() as u64;
    let mut failing = [0u64; 4];
    let mut offences = Vec::new();
    for subject in subjects {
        let failed = check(subject, live_since_us);
        let mut seen = [false; 4];
        for (dimension, reason) in failed {
            seen[dimension as usize] = true;
            offences.push(Offence {
                subject_id: subject.id.clone(),
                dimension,
                reason,
            });
        }
        for (count, failed) in failing.iter_mut().zip(seen) {
            *count += u64::from(failed);
        }
    }
    let dims = [
        Dimension::Correct,
        Dimension::Complete,
        Dimension::Clean,
        Dimension::Live,
    ];
    Scorecard {
        subjects: total,
        scores: dims.map(|d| {
            (
                d,
                Score {
                    passed: total - failing[d as usize],
                    total,
                },
            )
        }),
        offences,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn good(id: &str) -> SubjectFacts {
        SubjectFacts {
            id: id.to_owned(),
            citizen: true,
            personal_id_valid: true,
            has_name: true,
            has_birth_date: true,
            has_commune: true,
            has_source: true,
            life_status: "alive".to_owned(),
            verification: Verification::Match,
            other_units: 0,
            classes: vec![ClassFacts {
                code: "criminal".to_owned(),
                start: day(2025, 1, 1),
                end: None,
                legal_basis: "Điều 51 BLHS".to_owned(),
            }],
            updated_us: 1_000,
        }
    }

    #[test]
    fn a_good_subject_passes_every_check() {
        let card = scorecard(&[good("a")], 500);
        assert!(card.offences.is_empty());
        assert!(
            card.scores
                .iter()
                .all(|(_, s)| s.passed == 1 && s.total == 1)
        );
    }

    #[test]
    fn each_check_names_its_offences() {
        let mut wrong = good("wrong");
        wrong.verification = Verification::Mismatch;
        let mut partial = good("partial");
        partial.has_commune = false;
        partial.classes[0].legal_basis = " ".to_owned();
        let mut dirty = good("dirty");
        dirty.classes.push(ClassFacts {
            code: "probation".to_owned(),
            start: day(2025, 6, 1),
            end: Some(day(2025, 12, 31)),
            legal_basis: "x".to_owned(),
        });
        dirty.classes.push(ClassFacts {
            code: "bail".to_owned(),
            start: day(2025, 12, 1),
            end: None,
            legal_basis: "x".to_owned(),
        });
        let mut stale = good("stale");
        stale.updated_us = 10;
        stale.life_status = "deceased".to_owned();
        let card = scorecard(&[good("a"), wrong, partial, dirty, stale], 500);
        let of = |id: &str| -> Vec<Dimension> {
            card.offences
                .iter()
                .filter(|o| o.subject_id == id)
                .map(|o| o.dimension)
                .collect()
        };
        assert_eq!(of("a"), []);
        assert_eq!(of("wrong"), [Dimension::Correct]);
        assert_eq!(of("partial"), [Dimension::Complete, Dimension::Complete]);
        assert_eq!(of("dirty"), [Dimension::Clean]);
        assert_eq!(of("stale"), [Dimension::Live, Dimension::Live]);
        let passed: Vec<u64> = card.scores.iter().map(|(_, s)| s.passed).collect();
        assert_eq!(passed, [4, 4, 4, 4]);
        assert_eq!(card.scores[0].1.total, 5);
    }

    #[test]
    fn an_empty_unit_scores_full() {
        let card = scorecard(&[], 0);
        assert_eq!(card.subjects, 0);
        assert_eq!(card.scores[3].1.ratio(), 1.0);
    }
}
