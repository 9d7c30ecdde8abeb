//! Birth-date rules.
//!
//! The personal identification number (Decree 137/2015/NĐ-CP art. 13) can
//! only encode birth years from 1900 on, so the register accepts no earlier
//! birth dates; a birth date can also never lie in the future. The current
//! date is passed in by the caller so that these rules stay pure.

use chrono::{Datelike, NaiveDate};

/// Earliest birth year accepted by the register.
pub const MIN_BIRTH_YEAR: i32 = crate::personal_id::MIN_BIRTH_YEAR;

/// Why a birth date is not acceptable. Messages never include the date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BirthDateError {
    /// The date lies after `today`.
    #[error("birth date is in the future")]
    InFuture,
    /// The year is earlier than 1900.
    #[error("birth date is before 1900")]
    Before1900,
    /// The year, month and day do not form a real calendar date.
    #[error("birth date is not a real calendar date")]
    Impossible,
}

/// Checks that `date` is an acceptable birth date as of `today`: not in the
/// future and not before 1900.
///
/// # Errors
/// [`BirthDateError::InFuture`] or [`BirthDateError::Before1900`].
pub fn validate_birth_date(date: NaiveDate, today: NaiveDate) -> Result<(), BirthDateError> {
    if date > today {
        return Err(BirthDateError::InFuture);
    }
    if date.year() < MIN_BIRTH_YEAR {
        return Err(BirthDateError::Before1900);
    }
    Ok(())
}

/// Builds a date from year, month and day, rejecting impossible
/// combinations such as 30 February, month 13 or day 0.
///
/// # Errors
/// [`BirthDateError::Impossible`].
pub fn parse_ymd(year: i32, month: u32, day: u32) -> Result<NaiveDate, BirthDateError> {
    NaiveDate::from_ymd_opt(year, month, day).ok_or(BirthDateError::Impossible)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn accepts_past_and_today() {
        let today = d(2025, 7, 1);
        assert_eq!(validate_birth_date(d(1990, 1, 31), today), Ok(()));
        assert_eq!(validate_birth_date(today, today), Ok(()));
        assert_eq!(validate_birth_date(d(1900, 1, 1), today), Ok(()));
    }

    #[test]
    fn rejects_future() {
        let today = d(2025, 7, 1);
        assert_eq!(
            validate_birth_date(d(2025, 7, 2), today),
            Err(BirthDateError::InFuture)
        );
    }

    #[test]
    fn rejects_before_1900() {
        let today = d(2025, 7, 1);
        assert_eq!(
            validate_birth_date(d(1899, 12, 31), today),
            Err(BirthDateError::Before1900)
        );
    }

    #[test]
    fn parse_ymd_accepts_real_dates() {
        assert_eq!(parse_ymd(2000, 2, 29), Ok(d(2000, 2, 29)));
        assert_eq!(parse_ymd(1999, 12, 31), Ok(d(1999, 12, 31)));
    }

    #[test]
    fn parse_ymd_rejects_impossible_dates() {
        for (y, m, day) in [
            (2001, 2, 29),
            (2000, 2, 30),
            (2000, 13, 1),
            (2000, 0, 1),
            (2000, 1, 0),
            (2000, 4, 31),
        ] {
            assert_eq!(
                parse_ymd(y, m, day),
                Err(BirthDateError::Impossible),
                "{y}-{m}-{day}"
            );
        }
    }

    #[test]
    fn messages() {
        assert_eq!(
            BirthDateError::InFuture.to_string(),
            "birth date is in the future"
        );
        assert_eq!(
            BirthDateError::Before1900.to_string(),
            "birth date is before 1900"
        );
        assert_eq!(
            BirthDateError::Impossible.to_string(),
            "birth date is not a real calendar date"
        );
    }
}
