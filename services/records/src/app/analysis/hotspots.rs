//! Hotspot analysis: per area (commune or province), subjects under active classification,
//! new facts by source in a window, rates per 1,000 residents, and whether the area's new
//! facts rose beyond its own baseline.
//!
//! The statistic (also in docs/records.md): for each area, the number of new facts in the
//! current window is compared with the same count in each of the `baseline_windows`
//! windows just before it. With mean `m` and population standard deviation `s` of those
//! counts, the area is **rising** when the current count is at least
//! [`MIN_RISING_FACTS`] and its z-score `(current − m) / max(s, √m, 1)` exceeds
//! [`RISING_Z`]. Flooring the spread at `√m` (the Poisson standard deviation) and at 1 keeps
//! areas with a flat or empty history from being flagged for one or two facts. Counts are
//! compared rather than rates because the resident count is the same for every window, so
//! the two give the same z-score.

use chrono::{Duration, NaiveDate};
use std::collections::BTreeMap;

/// The z-score above which an area counts as rising.
pub const RISING_Z: f64 = 2.0;
/// The fewest new facts in the current window for an area to count as rising.
pub const MIN_RISING_FACTS: u64 = 3;

/// The windows an analysis looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Windows {
    /// Last day of the current window (inclusive).
    pub end: NaiveDate,
    /// Days per window.
    pub days: u32,
    /// Number of earlier windows forming the baseline.
    pub baseline: u32,
}

impl Windows {
    /// First day of the current window.
    #[must_use]
    pub fn start(&self) -> NaiveDate {
        self.end - Duration::days(i64::from(self.days) - 1)
    }

    /// First day of the earliest baseline window.
    #[must_use]
    pub fn earliest(&self) -> NaiveDate {
        self.end - Duration::days(i64::from(self.days) * i64::from(self.baseline + 1) - 1)
    }

    /// Which window `day` falls in: 0 for the current one, 1 for the one before, …;
    /// `None` outside every window.
    #[must_use]
    pub fn index_of(&self, day: NaiveDate) -> Option<u32> {
        if day > self.end || day < self.earliest() {
            return None;
        }
        let back = (self.end - day).num_days();
        u32::try_from(back / i64::from(self.days)).ok()
    }
}

/// New facts counted per window for one area and one source kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FactCounts {
    /// Index 0: the current window; then the earlier ones, most recent first.
    pub per_window: Vec<u64>,
}

/// What the analysis knows of one area before the statistics.
#[derive(Clone, Debug, Default)]
pub struct AreaInput {
    /// People currently residing in the area (from identity).
    pub residents: u64,
    /// Distinct subjects with at least one classification in force on the window's last
    /// day.
    pub active_subjects: u64,
    /// Subjects in force per classification code.
    pub active_by_class: BTreeMap<String, u64>,
    /// New facts per source kind code, per window.
    pub new_facts_by_source: BTreeMap<String, FactCounts>,
}

/// The figures of one area.
#[derive(Clone, Debug, PartialEq)]
pub struct AreaFigures {
    /// Area code.
    pub area: String,
    /// Residents.
    pub residents: u64,
    /// Subjects in force.
    pub active_subjects: u64,
    /// Subjects in force per classification code.
    pub active_by_class: BTreeMap<String, u64>,
    /// New facts of the current window per source kind code.
    pub new_facts_by_source: BTreeMap<String, u64>,
    /// New facts of the current window.
    pub new_facts: u64,
    /// New facts of each baseline window, most recent first.
    pub previous_new_facts: Vec<u64>,
    /// Subjects in force per 1,000 residents (`None` without residents).
    pub active_rate_per_1000: Option<f64>,
    /// New facts of the current window per 1,000 residents (`None` without residents).
    pub new_fact_rate_per_1000: Option<f64>,
    /// Mean of the baseline windows' new facts.
    pub baseline_mean: f64,
    /// Population standard deviation of the baseline windows' new facts.
    pub baseline_sd: f64,
    /// `(current − mean) / max(sd, √mean, 1)`.
    pub z_score: f64,
    /// Whether the area rose beyond its baseline (see the module docs).
    pub rising: bool,
}

fn per_1000(count: u64, residents: u64) -> Option<f64> {
    (residents > 0).then(|| count as f64 * 1000.0 / residents as f64)
}

/// The figures of one area from its input, for `baseline` earlier windows.
#[must_use]
pub fn figures(area: &str, input: &AreaInput, baseline: u32) -> AreaFigures {
    let windows = baseline as usize + 1;
    let mut totals = vec![0u64; windows];
    let mut current_by_source = BTreeMap::new();
    for (source, counts) in &input.new_facts_by_source {
        for (index, count) in counts.per_window.iter().take(windows).enumerate() {
            totals[index] += count;
        }
        let current = counts.per_window.first().copied().unwrap_or(0);
        if current > 0 {
            current_by_source.insert(source.clone(), current);
        }
    }
    let current = totals[0];
    let previous: Vec<u64> = totals[1..].to_vec();
    let (mean, sd) = mean_and_sd(&previous);
    let spread = sd.max(mean.sqrt()).max(1.0);
    let z_score = (current as f64 - mean) / spread;
    AreaFigures {
        area: area.to_owned(),
        residents: input.residents,
        active_subjects: input.active_subjects,
        active_by_class: input.active_by_class.clone(),
        new_facts_by_source: current_by_source,
        new_facts: current,
        previous_new_facts: previous,
        active_rate_per_1000: per_1000(input.active_subjects, input.residents),
        new_fact_rate_per_1000: per_1000(current, input.residents),
        baseline_mean: mean,
        baseline_sd: sd,
        z_score,
        rising: current >= MIN_RISING_FACTS && z_score > RISING_Z,
    }
}

/// Mean and population standard deviation (0, 0 for no values).
fn mean_and_sd(values: &[u64]) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<u64>() as f64 / n;
    let variance = values
        .iter()
        .map(|v| (*v as f64 - mean).powi(2))
        .sum::<f64>()
        / n;
    (mean, variance.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn windows_are_contiguous_and_end_inclusive() {
        let w = Windows {
            end: day(2026, 11, 30),
            days: 30,
            baseline: 2,
        };
        assert_eq!(w.start(), day(2026, 11, 1));
        assert_eq!(w.earliest(), day(2026, 9, 2));
        assert_eq!(w.index_of(day(2026, 11, 30)), Some(0));
        assert_eq!(w.index_of(day(2026, 11, 1)), Some(0));
        assert_eq!(w.index_of(day(2026, 10, 31)), Some(1));
        assert_eq!(w.index_of(day(2026, 10, 2)), Some(1));
        assert_eq!(w.index_of(day(2026, 10, 1)), Some(2));
        assert_eq!(w.index_of(day(2026, 9, 2)), Some(2));
        assert_eq!(w.index_of(day(2026, 9, 1)), None);
        assert_eq!(w.index_of(day(2026, 12, 1)), None);
    }

    fn input(residents: u64, counts: &[(&str, &[u64])]) -> AreaInput {
        AreaInput {
            residents,
            active_subjects: 4,
            active_by_class: BTreeMap::from([("criminal".to_owned(), 4)]),
            new_facts_by_source: counts
                .iter()
                .map(|(s, c)| {
                    (
                        (*s).to_owned(),
                        FactCounts {
                            per_window: c.to_vec(),
                        },
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn a_jump_over_a_steady_baseline_is_rising() {
        // Baseline 2, 2, 2, 2 → mean 2, sd 0, spread max(0, √2, 1) = 1.414…;
        // current 6 + 2 = 8 → z = (8 − 2) / 1.414 = 4.24.
        let f = figures(
            "01001",
            &input(
                2000,
                &[
                    ("investigation", &[6, 1, 1, 1, 1]),
                    ("operational", &[2, 1, 1, 1, 1]),
                ],
            ),
            4,
        );
        assert_eq!(f.new_facts, 8);
        assert_eq!(f.previous_new_facts, vec![2, 2, 2, 2]);
        assert_eq!(f.baseline_mean, 2.0);
        assert_eq!(f.baseline_sd, 0.0);
        assert!((f.z_score - 6.0 / 2f64.sqrt()).abs() < 1e-9);
        assert!(f.rising);
        assert_eq!(f.active_rate_per_1000, Some(2.0));
        assert_eq!(f.new_fact_rate_per_1000, Some(4.0));
        assert_eq!(f.new_facts_by_source["investigation"], 6);
    }

    #[test]
    fn small_counts_and_noisy_baselines_are_not_rising() {
        // Two facts after nothing: z = 2 / 1 = 2, not above 2, and under the minimum.
        let quiet = figures("01001", &input(100, &[("operational", &[2, 0, 0])]), 2);
        assert!(!quiet.rising);
        // Baseline 0, 10 → mean 5, sd 5; current 12 → z = 7 / 5 = 1.4.
        let noisy = figures("01002", &input(100, &[("operational", &[12, 0, 10])]), 2);
        assert!((noisy.z_score - 1.4).abs() < 1e-9);
        assert!(!noisy.rising);
    }

    #[test]
    fn no_residents_means_no_rate() {
        let f = figures("01003", &input(0, &[("operational", &[1])]), 0);
        assert_eq!(f.active_rate_per_1000, None);
        assert_eq!(f.new_fact_rate_per_1000, None);
        assert!(f.previous_new_facts.is_empty());
    }
}
