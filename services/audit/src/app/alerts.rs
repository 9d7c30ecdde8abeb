//! Alert rules, evaluated as events are accepted (inside the writer, so they see events in
//! acceptance order):
//!
//! - `many_subjects`: one officer read more distinct people (subject hashes) within an hour
//!   than `max_subjects_per_hour` — at most one alert per officer per hour;
//! - `break_glass`: the event records a break-glass justification;
//! - `outside_hours`: a personal-data access outside the configured local working hours
//!   (and on weekends when configured);
//! - `repeated_denials`: `denials_threshold` denials (outcome `PERMISSION_DENIED` or
//!   decision `deny`) for one officer within `denial_window_secs` — at most one alert per
//!   window;
//! - `suspicious_signs`: access to a resource type of the "suspicious signs" class
//!   (`suspicious_resource_types`, by default `subject_record/suspicious_signs`).
//!
//! Windows live in memory and are rebuilt from the last hour of events at start. Details
//! never carry personal data (no names, IDs or justification text).

use chrono::{Datelike, Timelike};
use dancu_kit::config::AuditAlertsConfig;
use std::collections::{HashMap, VecDeque};

const HOUR_US: i64 = 3_600_000_000;

/// What raised an alert (stored as its code).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertKind {
    /// Too many distinct people within an hour.
    ManySubjects,
    /// Break-glass access.
    BreakGlass,
    /// Access outside working hours.
    OutsideHours,
    /// Repeated denials.
    RepeatedDenials,
    /// Access to the "suspicious signs" class.
    SuspiciousSigns,
}

impl AlertKind {
    /// Every kind.
    pub const ALL: [AlertKind; 5] = [
        Self::ManySubjects,
        Self::BreakGlass,
        Self::OutsideHours,
        Self::RepeatedDenials,
        Self::SuspiciousSigns,
    ];

    /// Storage code.
    pub fn code(self) -> &'static str {
        match self {
            Self::ManySubjects => "many_subjects",
            Self::BreakGlass => "break_glass",
            Self::OutsideHours => "outside_hours",
            Self::RepeatedDenials => "repeated_denials",
            Self::SuspiciousSigns => "suspicious_signs",
        }
    }

    /// The kind with this storage code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// The facts of an event the rules look at.
#[derive(Clone, Copy, Debug)]
pub struct Observed<'a> {
    /// Acting officer.
    pub actor_id: &'a str,
    /// When it happened (Unix microseconds).
    pub occur_time_us: i64,
    /// Keyed subject hash, empty when no person was named.
    pub subject_hash: &'a str,
    /// Resource type.
    pub resource_type: &'a str,
    /// Outcome code name.
    pub outcome: &'a str,
    /// `allow`, `deny` or empty.
    pub decision: &'a str,
    /// Whether break-glass was used.
    pub break_glass: bool,
}

#[derive(Default)]
struct ActorWindow {
    /// Subject hash → last access time.
    subjects: HashMap<String, i64>,
    denials: VecDeque<i64>,
    /// When `subjects` was last pruned (pruning scans it, so at most once a minute).
    pruned_at: i64,
    many_quiet_until: i64,
    denials_quiet_until: i64,
}

/// Least time between two prunings of an officer's subject window.
const PRUNE_EVERY_US: i64 = 60_000_000;

/// The rules and their per-officer windows.
pub struct AlertRules {
    config: AuditAlertsConfig,
    windows: HashMap<String, ActorWindow>,
}

impl AlertRules {
    /// Rules with the thresholds of `config`.
    pub fn new(config: AuditAlertsConfig) -> Self {
        Self {
            config,
            windows: HashMap::new(),
        }
    }

    /// Feeds one event; returns the alerts it raises (kind and detail).
    pub fn observe(&mut self, e: Observed<'_>) -> Vec<(AlertKind, String)> {
        let mut alerts = Vec::new();
        let t = e.occur_time_us;
        let window = self.windows.entry(e.actor_id.to_owned()).or_default();
        if !e.subject_hash.is_empty() {
            window.subjects.insert(e.subject_hash.to_owned(), t);
            let limit = self.config.max_subjects_per_hour as usize;
            if window.subjects.len() > limit && t - window.pruned_at >= PRUNE_EVERY_US {
                window.subjects.retain(|_, seen| *seen > t - HOUR_US);
                window.pruned_at = t;
            }
            if window.subjects.len() > limit && t >= window.many_quiet_until {
                window.many_quiet_until = t + HOUR_US;
                alerts.push((
                    AlertKind::ManySubjects,
                    format!(
                        "{} distinct people within an hour (threshold {limit})",
                        window.subjects.len()
                    ),
                ));
            }
        }
        if e.outcome == "PERMISSION_DENIED" || e.decision == "deny" {
            let span_us = self.config.denial_window_secs as i64 * 1_000_000;
            window.denials.push_back(t);
            while window.denials.front().is_some_and(|d| *d <= t - span_us) {
                window.denials.pop_front();
            }
            let threshold = self.config.denials_threshold.max(1) as usize;
            if window.denials.len() >= threshold && t >= window.denials_quiet_until {
                window.denials_quiet_until = t + span_us;
                alerts.push((
                    AlertKind::RepeatedDenials,
                    format!(
                        "{} denials within {} s",
                        window.denials.len(),
                        self.config.denial_window_secs
                    ),
                ));
            }
        }
        if e.break_glass {
            alerts.push((
                AlertKind::BreakGlass,
                "break-glass access; review the recorded justification".to_owned(),
            ));
        }
        if !e.subject_hash.is_empty() && self.outside_hours(t) {
            alerts.push((
                AlertKind::OutsideHours,
                "personal-data access outside working hours".to_owned(),
            ));
        }
        if self
            .config
            .suspicious_resource_types
            .iter()
            .any(|r| r == e.resource_type)
        {
            alerts.push((
                AlertKind::SuspiciousSigns,
                format!("access to {}", e.resource_type),
            ));
        }
        alerts
    }

    /// Whether `t` (Unix microseconds) falls outside local working hours.
    pub fn outside_hours(&self, t: i64) -> bool {
        let offset = chrono::Duration::hours(self.config.utc_offset_hours as i64);
        let Some(utc) = chrono::DateTime::from_timestamp_micros(t) else {
            return false;
        };
        let local = utc.naive_utc() + offset;
        let weekend = matches!(local.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun);
        let hour = local.hour();
        (self.config.weekends_outside_hours && weekend)
            || hour < self.config.working_hours_start
            || hour >= self.config.working_hours_end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-25 (a Wednesday) at `hour`:00 in Việt Nam (UTC+7), in Unix microseconds.
    fn wednesday_local(hour: i64) -> i64 {
        (1_795_564_800 + (hour - 7) * 3600) * 1_000_000
    }

    fn read<'a>(actor: &'a str, subject: &'a str, t: i64) -> Observed<'a> {
        Observed {
            actor_id: actor,
            occur_time_us: t,
            subject_hash: subject,
            resource_type: "citizen",
            outcome: "OK",
            decision: "",
            break_glass: false,
        }
    }

    fn rules() -> AlertRules {
        AlertRules::new(AuditAlertsConfig {
            max_subjects_per_hour: 2,
            denials_threshold: 3,
            denial_window_secs: 60,
            ..AuditAlertsConfig::default()
        })
    }

    fn kinds(alerts: Vec<(AlertKind, String)>) -> Vec<AlertKind> {
        alerts.into_iter().map(|(k, _)| k).collect()
    }

    #[test]
    fn working_hours_follow_local_time_and_weekends() {
        let rules = rules();
        assert!(!rules.outside_hours(wednesday_local(9)));
        assert!(rules.outside_hours(wednesday_local(6)));
        assert!(rules.outside_hours(wednesday_local(19)));
        assert!(
            rules.outside_hours(wednesday_local(9) + 3 * 24 * HOUR_US),
            "Saturday"
        );
    }

    #[test]
    fn many_subjects_fires_once_per_hour_and_counts_distinct_people() {
        let mut rules = rules();
        let t = wednesday_local(9);
        assert!(kinds(rules.observe(read("a", "s1", t))).is_empty());
        assert!(
            kinds(rules.observe(read("a", "s1", t + 1))).is_empty(),
            "same person"
        );
        assert!(kinds(rules.observe(read("a", "s2", t + 2))).is_empty());
        assert_eq!(
            kinds(rules.observe(read("a", "s3", t + 3))),
            [AlertKind::ManySubjects]
        );
        assert!(
            kinds(rules.observe(read("a", "s4", t + 4))).is_empty(),
            "quiet for an hour"
        );
        assert!(
            kinds(rules.observe(read("b", "s1", t + 5))).is_empty(),
            "per officer"
        );
        // Two hours later the old reads have left the window.
        let later = t + 2 * HOUR_US;
        assert!(kinds(rules.observe(read("a", "s9", later))).is_empty());
    }

    #[test]
    fn denials_break_glass_night_and_suspicious_signs() {
        let mut rules = rules();
        let t = wednesday_local(10);
        let denied = |t| Observed {
            outcome: "PERMISSION_DENIED",
            ..read("a", "", t)
        };
        assert!(kinds(rules.observe(denied(t))).is_empty());
        assert!(kinds(rules.observe(denied(t + 1_000_000))).is_empty());
        // A third denial two minutes later would alert if the first two still counted.
        assert!(
            kinds(rules.observe(denied(t + 120_000_000))).is_empty(),
            "outside the window"
        );
        assert!(kinds(rules.observe(denied(t + 121_000_000))).is_empty());
        assert_eq!(
            kinds(rules.observe(denied(t + 122_000_000))),
            [AlertKind::RepeatedDenials]
        );
        let glass = Observed {
            break_glass: true,
            ..read("c", "", t)
        };
        assert_eq!(kinds(rules.observe(glass)), [AlertKind::BreakGlass]);
        assert_eq!(
            kinds(rules.observe(read("d", "s1", wednesday_local(23)))),
            [AlertKind::OutsideHours]
        );
        let suspicious = Observed {
            resource_type: "subject_record/suspicious_signs",
            ..read("e", "", t)
        };
        assert_eq!(
            kinds(rules.observe(suspicious)),
            [AlertKind::SuspiciousSigns]
        );
        for kind in AlertKind::ALL {
            assert_eq!(AlertKind::from_code(kind.code()), Some(kind));
        }
    }
}
