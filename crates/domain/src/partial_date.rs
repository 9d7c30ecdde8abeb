//! Dates that may be known only in part — a year, or a year and month — as is
//! common for births and deaths in older records.
//!
//! Stored as `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, which sort in calendar order
//! among dates of the same precision and by prefix otherwise.

use crate::date::{BirthDateError, MIN_BIRTH_YEAR};
use chrono::{Datelike, NaiveDate};

/// A date known to the year, the month or the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartialDate {
    year: i32,
    month: Option<u32>,
    day: Option<u32>,
}

/// Why a partial date is malformed. Messages never include the date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PartialDateError {
    /// A day without a month.
    #[error("a day needs a month")]
    DayWithoutMonth,
    /// Month outside 1–12, a day that does not exist in its month, or a year outside 1–9999.
    #[error("is not a real calendar date")]
    Impossible,
}

impl PartialDate {
    /// Builds a date from its parts; `0` means "unknown" for the month and the day.
    ///
    /// # Errors
    /// A day without a month, or parts that form no real date.
    pub fn new(year: i32, month: u32, day: u32) -> Result<Self, PartialDateError> {
        if !(1..=9999).contains(&year) || month > 12 || day > 31 {
            return Err(PartialDateError::Impossible);
        }
        match (month, day) {
            (0, 0) => Ok(Self::year_only(year)),
            (0, _) => Err(PartialDateError::DayWithoutMonth),
            (m, 0) => Ok(Self {
                year,
                month: Some(m),
                day: None,
            }),
            (m, d) => NaiveDate::from_ymd_opt(year, m, d)
                .map(Self::from)
                .ok_or(PartialDateError::Impossible),
        }
    }

    fn year_only(year: i32) -> Self {
        Self {
            year,
            month: None,
            day: None,
        }
    }

    /// The year.
    #[must_use]
    pub fn year(&self) -> i32 {
        self.year
    }

    /// The month (1–12), if known.
    #[must_use]
    pub fn month(&self) -> Option<u32> {
        self.month
    }

    /// The day of month, if known.
    #[must_use]
    pub fn day(&self) -> Option<u32> {
        self.day
    }

    /// Whether year, month and day are all known.
    #[must_use]
    pub fn is_complete(&self) -> bool {
        self.day.is_some()
    }

    /// The first calendar day the date may designate.
    #[must_use]
    pub fn earliest(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month.unwrap_or(1), self.day.unwrap_or(1))
            .unwrap_or(NaiveDate::MIN)
    }

    /// The last calendar day the date may designate.
    #[must_use]
    pub fn latest(&self) -> NaiveDate {
        match (self.month, self.day) {
            (Some(m), Some(d)) => NaiveDate::from_ymd_opt(self.year, m, d),
            (Some(m), None) => NaiveDate::from_ymd_opt(self.year, m, 1)
                .and_then(|first| first.checked_add_months(chrono::Months::new(1)))
                .and_then(|next| next.pred_opt()),
            _ => NaiveDate::from_ymd_opt(self.year, 12, 31),
        }
        .unwrap_or(NaiveDate::MAX)
    }

    /// Checks an acceptable birth date as of `today`: it may not lie wholly in
    /// the future, nor before 1900.
    ///
    /// # Errors
    /// [`BirthDateError::InFuture`] or [`BirthDateError::Before1900`].
    pub fn validate_birth(&self, today: NaiveDate) -> Result<(), BirthDateError> {
        if self.earliest() > today {
            return Err(BirthDateError::InFuture);
        }
        if self.year < MIN_BIRTH_YEAR {
            return Err(BirthDateError::Before1900);
        }
        Ok(())
    }

    /// Whether this date certainly lies before `other` (every day it may
    /// designate is earlier than every day `other` may designate).
    #[must_use]
    pub fn certainly_before(&self, other: &PartialDate) -> bool {
        self.latest() < other.earliest()
    }

    /// The storage form: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    #[must_use]
    pub fn to_storage(&self) -> String {
        match (self.month, self.day) {
            (Some(m), Some(d)) => format!("{:04}-{m:02}-{d:02}", self.year),
            (Some(m), None) => format!("{:04}-{m:02}", self.year),
            _ => format!("{:04}", self.year),
        }
    }

    /// Parses the storage form.
    #[must_use]
    pub fn from_storage(text: &str) -> Option<Self> {
        let mut parts = text.split('-');
        let year = parts.next()?.parse().ok()?;
        let month = parts.next().map(str::parse).transpose().ok()?.unwrap_or(0);
        let day = parts.next().map(str::parse).transpose().ok()?.unwrap_or(0);
        if parts.next().is_some() {
            return None;
        }
        Self::new(year, month, day).ok()
    }
}

impl From<NaiveDate> for PartialDate {
    fn from(date: NaiveDate) -> Self {
        Self {
            year: date.year(),
            month: Some(date.month()),
            day: Some(date.day()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn precision_and_bounds() {
        let y = PartialDate::new(1950, 0, 0).unwrap();
        assert_eq!((y.earliest(), y.latest()), (d(1950, 1, 1), d(1950, 12, 31)));
        let ym = PartialDate::new(2024, 2, 0).unwrap();
        assert_eq!(
            (ym.earliest(), ym.latest()),
            (d(2024, 2, 1), d(2024, 2, 29))
        );
        let full = PartialDate::new(1990, 5, 17).unwrap();
        assert!(full.is_complete());
        assert_eq!(full.earliest(), full.latest());
    }

    #[test]
    fn rejects_malformed() {
        assert_eq!(
            PartialDate::new(1990, 0, 5),
            Err(PartialDateError::DayWithoutMonth)
        );
        assert_eq!(
            PartialDate::new(1990, 2, 30),
            Err(PartialDateError::Impossible)
        );
        assert_eq!(
            PartialDate::new(1990, 13, 0),
            Err(PartialDateError::Impossible)
        );
        assert_eq!(PartialDate::new(0, 0, 0), Err(PartialDateError::Impossible));
    }

    #[test]
    fn birth_rules() {
        let today = d(2026, 6, 15);
        assert!(
            PartialDate::new(2026, 0, 0)
                .unwrap()
                .validate_birth(today)
                .is_ok()
        );
        assert_eq!(
            PartialDate::new(2026, 7, 0).unwrap().validate_birth(today),
            Err(BirthDateError::InFuture)
        );
        assert_eq!(
            PartialDate::new(1899, 0, 0).unwrap().validate_birth(today),
            Err(BirthDateError::Before1900)
        );
    }

    #[test]
    fn certainly_before_respects_uncertainty() {
        let birth = PartialDate::new(1990, 0, 0).unwrap();
        assert!(
            !PartialDate::new(1990, 3, 1)
                .unwrap()
                .certainly_before(&birth)
        );
        assert!(
            PartialDate::new(1989, 12, 31)
                .unwrap()
                .certainly_before(&birth)
        );
    }

    proptest! {
        #[test]
        fn storage_round_trips(year in 1900i32..2100, month in 0u32..13, day in 0u32..32) {
            if let Ok(date) = PartialDate::new(year, month, day) {
                prop_assert_eq!(PartialDate::from_storage(&date.to_storage()), Some(date));
                prop_assert!(date.earliest() <= date.latest());
            }
        }
    }
}
