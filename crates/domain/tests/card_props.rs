//! Property tests of the identity-card expiry rule and declaration lateness.

use chrono::{Days, NaiveDate};
use dancu_domain::card::{
    GRACE_YEARS, MILESTONE_AGES, age_on, birthday_at, card_expiry, earliest_birth_date,
};
use dancu_domain::foreigner::{is_late_declaration, stay_covers};
use proptest::prelude::*;

fn date() -> impl Strategy<Value = NaiveDate> {
    // 1900-01-01 plus up to ~200 years.
    (0u64..73_000).prop_map(|days| {
        NaiveDate::from_ymd_opt(1900, 1, 1)
            .unwrap()
            .checked_add_days(Days::new(days))
            .unwrap()
    })
}

proptest! {
    /// A card expires on a milestone birthday, more than two years after issue, and no
    /// milestone lies between issue and expiry outside the two-year grace window.
    #[test]
    fn expiry_is_a_milestone_beyond_the_grace_window(birth in date(), offset in 0u64..36_500) {
        let issued = birth.checked_add_days(Days::new(offset)).unwrap();
        match card_expiry(birth, issued) {
            Some(expiry) => {
                let age = MILESTONE_AGES
                    .iter()
                    .copied()
                    .find(|&a| birthday_at(birth, a) == Some(expiry));
                prop_assert!(age.is_some(), "expiry is not a milestone birthday");
                prop_assert!(birthday_at(issued, GRACE_YEARS).unwrap() <= expiry);
                // Every earlier milestone is before issue or within its grace window.
                for a in MILESTONE_AGES.iter().copied().filter(|&a| a < age.unwrap()) {
                    let m = birthday_at(birth, a).unwrap();
                    prop_assert!(issued >= m.checked_sub_months(chrono::Months::new(24)).unwrap());
                }
            }
            None => {
                // Only from 58 on (within two years of 60, or later).
                prop_assert!(age_on(birth, issued) >= 58);
            }
        }
    }

    /// Issuing later never makes a card expire earlier.
    #[test]
    fn expiry_is_monotonic_in_issue_date(birth in date(), a in 0u64..36_500, b in 0u64..36_500) {
        let (early, late) = (a.min(b), a.max(b));
        let e1 = card_expiry(birth, birth.checked_add_days(Days::new(early)).unwrap());
        let e2 = card_expiry(birth, birth.checked_add_days(Days::new(late)).unwrap());
        match (e1, e2) {
            (Some(x), Some(y)) => prop_assert!(x <= y),
            (None, Some(_)) => prop_assert!(false, "expiry reappeared after a later issue"),
            _ => {}
        }
    }

    /// The earliest birth date matches every known part and is no later than any date
    /// that matches them.
    #[test]
    fn earliest_birth_date_is_a_lower_bound(full in date(), month_known: bool, day_known: bool) {
        use chrono::Datelike;
        let month = month_known.then_some(full.month());
        let day = (month_known && day_known).then_some(full.day());
        let earliest = earliest_birth_date(full.year(), month, day).unwrap();
        prop_assert!(earliest <= full);
        prop_assert_eq!(earliest.year(), full.year());
        if let Some(m) = month { prop_assert_eq!(earliest.month(), m); }
        if let Some(d) = day { prop_assert_eq!(earliest, full.with_day(d).unwrap()); }
    }

    /// Lateness depends only on the delay, and remote areas are never stricter.
    #[test]
    fn lateness_is_monotonic(arrival in 0i64..4_000_000_000_000_000, delay in 0i64..200_000_000_000) {
        let late = is_late_declaration(arrival, arrival + delay, false);
        let late_remote = is_late_declaration(arrival, arrival + delay, true);
        prop_assert_eq!(late, delay > 12 * 3_600_000_000);
        prop_assert_eq!(late_remote, delay > 24 * 3_600_000_000);
        prop_assert!(!late_remote || late);
    }

    /// A stay covers exactly the half-open interval [arrival, end).
    #[test]
    fn coverage_is_half_open(arrival in 0i64..1_000_000, len in 1i64..1_000_000, at in 0i64..3_000_000) {
        prop_assert_eq!(stay_covers(arrival, arrival + len, at), at >= arrival && at < arrival + len);
    }
}
