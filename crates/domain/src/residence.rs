//! Residence and movement rules of the Law on Residence 2020 (Luật Cư trú
//! 68/2020/QH14): permanent residence; temporary residence when living 30
//! days or more outside the permanent commune, for at most 2 years and
//! renewable (art. 27); notice of stay (lưu trú) for stays under 30 days,
//! declared by the host (art. 30); temporary absence (tạm vắng), mandatory
//! from the first day for people on bail, with suspended sentences, on
//! probation, under non-custodial reform, on conditional early release or
//! under educational and drug-rehabilitation measures, and after 12 months
//! for everyone else (art. 31).

use chrono::{Months, NaiveDate};

/// Shortest temporary residence, in days.
pub const TEMPORARY_MIN_DAYS: i64 = 30;
/// Longest temporary residence before it must be renewed, in months.
pub const TEMPORARY_MAX_MONTHS: u32 = 24;
/// A notice of stay covers fewer days than this.
pub const STAY_MAX_DAYS: i64 = 30;
/// Absence after which anyone must declare it, in months.
pub const ABSENCE_GENERAL_MONTHS: u32 = 12;

/// The kind of a residence event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResidenceKind {
    /// Permanent residence (thường trú).
    Permanent,
    /// Temporary residence (tạm trú).
    Temporary,
    /// Notice of stay (lưu trú).
    Stay,
    /// Temporary absence (tạm vắng).
    Absence,
}

impl ResidenceKind {
    /// Storage code.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Permanent => "permanent",
            Self::Temporary => "temporary",
            Self::Stay => "stay",
            Self::Absence => "absence",
        }
    }

    /// Parses a storage code.
    #[must_use]
    pub fn parse(code: &str) -> Option<Self> {
        [Self::Permanent, Self::Temporary, Self::Stay, Self::Absence]
            .into_iter()
            .find(|k| k.as_str() == code)
    }
}

/// Why someone declaring an absence is under supervision, which makes the
/// declaration mandatory from the first day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Supervision {
    /// Not under any measure.
    None,
    /// On bail (tại ngoại) or under a travel ban.
    Bail,
    /// Suspended sentence (án treo).
    SuspendedSentence,
    /// Probation.
    Probation,
    /// Non-custodial reform (cải tạo không giam giữ).
    NonCustodialReform,
    /// Conditional early release (tha tù trước thời hạn có điều kiện).
    ConditionalRelease,
    /// Educational measure at the commune (giáo dục tại xã, phường).
    EducationalMeasure,
    /// Drug rehabilitation or post-rehabilitation management.
    DrugRehabilitation,
}

impl Supervision {
    /// Every value, in declaration order.
    pub const ALL: [Self; 8] = [
        Self::None,
        Self::Bail,
        Self::SuspendedSentence,
        Self::Probation,
        Self::NonCustodialReform,
        Self::ConditionalRelease,
        Self::EducationalMeasure,
        Self::DrugRehabilitation,
    ];

    /// Storage code.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Bail => "bail",
            Self::SuspendedSentence => "suspended_sentence",
            Self::Probation => "probation",
            Self::NonCustodialReform => "non_custodial_reform",
            Self::ConditionalRelease => "conditional_release",
            Self::EducationalMeasure => "educational_measure",
            Self::DrugRehabilitation => "drug_rehabilitation",
        }
    }

    /// Parses a storage code.
    #[must_use]
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == code)
    }
}

/// Why a residence period breaks the law's bounds. Messages never include dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ResidenceRuleError {
    /// The end lies before the start.
    #[error("must not be before the start date")]
    EndBeforeStart,
    /// This kind needs an end date.
    #[error("is required for this kind of residence")]
    EndRequired,
    /// Permanent residence has no end date.
    #[error("must be empty for permanent residence")]
    EndNotAllowed,
    /// Temporary residence shorter than 30 days (a notice of stay is meant).
    #[error("temporary residence must cover at least 30 days (use a notice of stay)")]
    TemporaryTooShort,
    /// Temporary residence longer than 2 years.
    #[error("temporary residence may last at most 2 years (renew it)")]
    TemporaryTooLong,
    /// A stay of 30 days or more (temporary residence is meant).
    #[error("a notice of stay must cover fewer than 30 days (register temporary residence)")]
    StayTooLong,
}

/// Checks the period of a residence event of `kind`.
///
/// # Errors
/// The first bound the period breaks.
pub fn check_period(
    kind: ResidenceKind,
    start: NaiveDate,
    end: Option<NaiveDate>,
) -> Result<(), ResidenceRuleError> {
    if let Some(end) = end
        && end < start
    {
        return Err(ResidenceRuleError::EndBeforeStart);
    }
    match (kind, end) {
        (ResidenceKind::Permanent, Some(_)) => Err(ResidenceRuleError::EndNotAllowed),
        (ResidenceKind::Permanent | ResidenceKind::Absence, _) => Ok(()),
        (ResidenceKind::Temporary | ResidenceKind::Stay, None) => {
            Err(ResidenceRuleError::EndRequired)
        }
        (ResidenceKind::Temporary, Some(end)) => {
            if inclusive_days(start, end) < TEMPORARY_MIN_DAYS {
                Err(ResidenceRuleError::TemporaryTooShort)
            } else if start
                .checked_add_months(Months::new(TEMPORARY_MAX_MONTHS))
                .is_some_and(|limit| end > limit)
            {
                Err(ResidenceRuleError::TemporaryTooLong)
            } else {
                Ok(())
            }
        }
        (ResidenceKind::Stay, Some(end)) => {
            if inclusive_days(start, end) >= STAY_MAX_DAYS {
                Err(ResidenceRuleError::StayTooLong)
            } else {
                Ok(())
            }
        }
    }
}

/// Days in a period, counting both its first and its last day.
fn inclusive_days(start: NaiveDate, end: NaiveDate) -> i64 {
    (end - start).num_days() + 1
}

/// Whether a temporary absence from `start` to `end` (open-ended when `None`)
/// must be declared: from the first day under `supervision`, otherwise when it
/// lasts 12 months or more.
#[must_use]
pub fn absence_mandatory(
    supervision: Supervision,
    start: NaiveDate,
    end: Option<NaiveDate>,
) -> bool {
    if supervision != Supervision::None {
        return true;
    }
    match (
        end,
        start.checked_add_months(Months::new(ABSENCE_GENERAL_MONTHS)),
    ) {
        (None, _) => true,
        (Some(end), Some(threshold)) => end >= threshold,
        (Some(_), None) => false,
    }
}

/// Whether a period from `start` to `end` (inclusive; open-ended when `None`)
/// covers `today`.
#[must_use]
pub fn covers(start: NaiveDate, end: Option<NaiveDate>, today: NaiveDate) -> bool {
    start <= today && end.is_none_or(|end| today <= end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn temporary_bounds() {
        let start = d(2026, 1, 1);
        let t = ResidenceKind::Temporary;
        assert_eq!(
            check_period(t, start, Some(d(2026, 1, 29))),
            Err(ResidenceRuleError::TemporaryTooShort)
        );
        assert_eq!(check_period(t, start, Some(d(2026, 1, 30))), Ok(()));
        assert_eq!(check_period(t, start, Some(d(2028, 1, 1))), Ok(()));
        assert_eq!(
            check_period(t, start, Some(d(2028, 1, 2))),
            Err(ResidenceRuleError::TemporaryTooLong)
        );
        assert_eq!(
            check_period(t, start, None),
            Err(ResidenceRuleError::EndRequired)
        );
    }

    #[test]
    fn stay_and_permanent_bounds() {
        let start = d(2026, 3, 1);
        let s = ResidenceKind::Stay;
        assert_eq!(check_period(s, start, Some(start)), Ok(()));
        assert_eq!(check_period(s, start, Some(d(2026, 3, 29))), Ok(()));
        assert_eq!(
            check_period(s, start, Some(d(2026, 3, 30))),
            Err(ResidenceRuleError::StayTooLong)
        );
        assert_eq!(
            check_period(ResidenceKind::Permanent, start, Some(start)),
            Err(ResidenceRuleError::EndNotAllowed)
        );
        assert_eq!(
            check_period(ResidenceKind::Absence, start, Some(d(2026, 2, 1))),
            Err(ResidenceRuleError::EndBeforeStart)
        );
    }

    #[test]
    fn absence_thresholds() {
        let start = d(2026, 1, 10);
        assert!(absence_mandatory(
            Supervision::Probation,
            start,
            Some(start)
        ));
        assert!(!absence_mandatory(
            Supervision::None,
            start,
            Some(d(2027, 1, 9))
        ));
        assert!(absence_mandatory(
            Supervision::None,
            start,
            Some(d(2027, 1, 10))
        ));
        assert!(absence_mandatory(Supervision::None, start, None));
    }

    #[test]
    fn codes_round_trip() {
        for s in Supervision::ALL {
            assert_eq!(Supervision::parse(s.as_str()), Some(s));
        }
        for k in [
            ResidenceKind::Permanent,
            ResidenceKind::Temporary,
            ResidenceKind::Stay,
            ResidenceKind::Absence,
        ] {
            assert_eq!(ResidenceKind::parse(k.as_str()), Some(k));
        }
    }

    proptest! {
        #[test]
        fn accepted_temporary_periods_stay_within_bounds(offset in 0i64..2000, len in 0i64..1000) {
            let start = d(2020, 1, 1) + chrono::Duration::days(offset);
            let end = start + chrono::Duration::days(len);
            if check_period(ResidenceKind::Temporary, start, Some(end)).is_ok() {
                prop_assert!(len + 1 >= TEMPORARY_MIN_DAYS);
                prop_assert!(end <= start.checked_add_months(Months::new(24)).unwrap());
            }
        }

        #[test]
        fn supervised_absence_is_always_mandatory(len in 0i64..400) {
            let start = d(2026, 1, 1);
            for s in Supervision::ALL.into_iter().filter(|s| *s != Supervision::None) {
                prop_assert!(absence_mandatory(s, start, Some(start + chrono::Duration::days(len))));
            }
        }
    }
}
