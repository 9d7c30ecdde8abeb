//! The per-subject risk indicator: a score from 0 to 100 combining the classifications in
//! force with the facts of the last [`RECENT_DAYS`] days, with every contribution listed
//! as a reason. It is a triage aid for the owning unit, not a finding: the weights below
//! are stated in docs/records.md so an officer can recompute any score by hand.

use chrono::{Duration, NaiveDate};

/// How far back a fact counts as recent.
pub const RECENT_DAYS: i64 = 90;
/// The highest score.
pub const MAX_SCORE: u32 = 100;
/// Scores from this value up are `high`.
pub const HIGH_FROM: u32 = 60;
/// Scores from this value up (and below [`HIGH_FROM`]) are `medium`.
pub const MEDIUM_FROM: u32 = 30;

/// Points of a classification in force, by classification code.
#[must_use]
pub fn class_points(code: &str) -> u32 {
    match code {
        "criminal" => 30,
        "drug_related" => 25,
        "suspicious_signs" => 20,
        "prior_conviction" => 15,
        "probation" | "bail" => 10,
        "post_rehabilitation" | "community_education" => 10,
        "prior_violation" => 5,
        _ => 0,
    }
}

/// Points of one recent timeline fact, by entry kind code.
#[must_use]
pub fn fact_points(kind: &str) -> u32 {
    match kind {
        "conviction" => 20,
        "arrest" => 15,
        "charge" => 10,
        "administrative_violation" => 5,
        _ => 0,
    }
}

/// Level of a score.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RiskLevel {
    /// Below [`MEDIUM_FROM`].
    Low,
    /// From [`MEDIUM_FROM`] to below [`HIGH_FROM`].
    Medium,
    /// From [`HIGH_FROM`].
    High,
}

/// One contribution to a score.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RiskReason {
    /// `class:<code>` or `fact:<kind>`.
    pub code: String,
    /// Plain-language explanation (names no person).
    pub description: String,
    /// Points added.
    pub points: u32,
}

/// A subject's indicator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RiskIndicator {
    /// 0–100.
    pub score: u32,
    /// Level of the score.
    pub level: RiskLevel,
    /// The contributions, largest first.
    pub reasons: Vec<RiskReason>,
}

/// A fact as the indicator sees it.
#[derive(Clone, Debug)]
pub struct Fact {
    /// Timeline entry kind code.
    pub kind: String,
    /// When it happened.
    pub date: NaiveDate,
    /// Whether a later entry corrects it (corrected facts do not count).
    pub corrected: bool,
}

/// The indicator of a subject holding `active_classes` (codes in force on `today`) with
/// timeline `facts`.
#[must_use]
pub fn indicator(active_classes: &[String], facts: &[Fact], today: NaiveDate) -> RiskIndicator {
    let mut reasons = Vec::new();
    let mut classes: Vec<&String> = active_classes.iter().collect();
    classes.sort();
    classes.dedup();
    for code in classes {
        let points = class_points(code);
        if points > 0 {
            reasons.push(RiskReason {
                code: format!("class:{code}"),
                description: format!("classification {code} in force"),
                points,
            });
        }
    }
    let since = today - Duration::days(RECENT_DAYS);
    let mut recent: std::collections::BTreeMap<&str, u32> = std::collections::BTreeMap::new();
    for fact in facts {
        if !fact.corrected && fact.date > since && fact.date <= today && fact_points(&fact.kind) > 0
        {
            *recent.entry(fact.kind.as_str()).or_default() += 1;
        }
    }
    for (kind, count) in recent {
        reasons.push(RiskReason {
            code: format!("fact:{kind}"),
            description: format!("{count} {kind} fact(s) in the last {RECENT_DAYS} days"),
            points: fact_points(kind) * count,
        });
    }
    reasons.sort_by(|a, b| b.points.cmp(&a.points).then_with(|| a.code.cmp(&b.code)));
    let score = reasons.iter().map(|r| r.points).sum::<u32>().min(MAX_SCORE);
    let level = if score >= HIGH_FROM {
        RiskLevel::High
    } else if score >= MEDIUM_FROM {
        RiskLevel::Medium
    } else {
        RiskLevel::Low
    };
    RiskIndicator {
        score,
        level,
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn fact(kind: &str, date: NaiveDate, corrected: bool) -> Fact {
        Fact {
            kind: kind.to_owned(),
            date,
            corrected,
        }
    }

    #[test]
    fn classes_and_recent_facts_add_up_with_reasons() {
        let today = day(2026, 11, 30);
        let r = indicator(
            &["drug_related".to_owned(), "post_rehabilitation".to_owned()],
            &[
                fact("arrest", day(2026, 11, 1), false),
                fact("arrest", day(2026, 10, 1), false),
                // Older than 90 days: ignored.
                fact("conviction", day(2026, 8, 1), false),
                // Corrected: ignored.
                fact("charge", day(2026, 11, 2), true),
                // No points.
                fact("supervision_check_in", day(2026, 11, 3), false),
            ],
            today,
        );
        assert_eq!(r.score, 25 + 10 + 30);
        assert_eq!(r.level, RiskLevel::High);
        let codes: Vec<_> = r.reasons.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "fact:arrest",
                "class:drug_related",
                "class:post_rehabilitation"
            ]
        );
    }

    #[test]
    fn the_score_is_capped_and_levels_follow_thresholds() {
        let today = day(2026, 11, 30);
        let many: Vec<Fact> = (1..=10)
            .map(|d| fact("conviction", day(2026, 11, d), false))
            .collect();
        assert_eq!(indicator(&[], &many, today).score, MAX_SCORE);
        assert_eq!(
            indicator(&["prior_violation".to_owned()], &[], today).level,
            RiskLevel::Low
        );
        assert_eq!(
            indicator(&["criminal".to_owned()], &[], today).level,
            RiskLevel::Medium
        );
        assert_eq!(indicator(&[], &[], today).reasons, Vec::new());
    }
}
