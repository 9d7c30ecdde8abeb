//! The personal identification number (*số định danh cá nhân*).
//!
//! Legal source: Decree 137/2015/NĐ-CP art. 13 and Circular 07/2016/TT-BCA.
//! The number has exactly 12 decimal digits:
//!
//! | digits | meaning |
//! | ------ | ------- |
//! | 1–3    | code of the province where the birth was registered |
//! | 4      | century of birth and sex: 1900s → 0 male / 1 female, 2000s → 2/3, 2100s → 4/5, 2200s → 6/7, 2300s → 8/9 |
//! | 5–6    | last two digits of the year of birth |
//! | 7–12   | random digits |
//!
//! There is no check digit. Because the number is personal data, neither
//! [`Debug`] output nor any error message in this module contains it.

use std::fmt;
use std::str::FromStr;

use rand::Rng;

use crate::province::province_by_code;
use crate::sex::Sex;

/// Number of digits in a personal identification number.
pub const LENGTH: usize = 12;
/// First birth year that can be encoded (digit 4 = 0 or 1).
pub const MIN_BIRTH_YEAR: i32 = 1900;
/// Last birth year that can be encoded (digit 4 = 8 or 9).
pub const MAX_BIRTH_YEAR: i32 = 2399;

/// A syntactically valid personal identification number with a known
/// province code.
///
/// `Display` prints the 12 digits; `Debug` prints `PersonalId(<redacted>)`
/// so that the value does not leak into logs by accident.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PersonalId(String);

/// Why a string is not a valid personal identification number.
///
/// Messages never include the rejected value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PersonalIdError {
    /// The input does not have exactly 12 characters.
    #[error("personal identification number must be exactly 12 digits (got {len})")]
    WrongLength {
        /// Number of characters in the input.
        len: usize,
    },
    /// The input contains something other than ASCII digits.
    #[error("personal identification number contains characters other than digits 0-9")]
    NotDigits,
    /// Digits 1–3 are not in the province code table.
    #[error("personal identification number digits 1-3 are not a known province code")]
    UnknownProvince,
    /// The birth year cannot be encoded (outside 1900..=2399).
    #[error(
        "birth year must be between 1900 and 2399 to be encoded in a personal identification number"
    )]
    YearOutOfRange,
}

/// How a personal identification number contradicts a person's recorded
/// sex or birth year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PersonalIdMismatch {
    /// Digit 4 encodes the other sex.
    #[error("digit 4 encodes a different sex")]
    Sex,
    /// The birth year is not in the century that digit 4 encodes.
    #[error("digit 4 encodes a century that does not contain the birth year")]
    Century,
    /// Digits 5–6 differ from the last two digits of the birth year.
    #[error("digits 5-6 do not match the last two digits of the birth year")]
    YearDigits,
}

impl PersonalId {
    /// Parses and validates a personal identification number.
    ///
    /// Checks, in order: length (12 characters), that every character is an
    /// ASCII digit, and that digits 1–3 are a known province code. Any digit
    /// is valid in position 4.
    ///
    /// # Errors
    /// [`PersonalIdError::WrongLength`], [`PersonalIdError::NotDigits`] or
    /// [`PersonalIdError::UnknownProvince`].
    pub fn parse(s: &str) -> Result<Self, PersonalIdError> {
        let len = s.chars().count();
        if len != LENGTH {
            return Err(PersonalIdError::WrongLength { len });
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PersonalIdError::NotDigits);
        }
        if province_by_code(&s[..3]).is_none() {
            return Err(PersonalIdError::UnknownProvince);
        }
        Ok(Self(s.to_owned()))
    }

    /// Generates a new number for a person born in `birth_year` with the given
    /// sex, registered in the province `province_code`; digits 7–12 are drawn
    /// from `rng`.
    ///
    /// # Errors
    /// [`PersonalIdError::UnknownProvince`] if the code is not in the table,
    /// [`PersonalIdError::YearOutOfRange`] if the year is outside 1900..=2399.
    pub fn generate<R: Rng + ?Sized>(
        province_code: &str,
        sex: Sex,
        birth_year: i32,
        rng: &mut R,
    ) -> Result<Self, PersonalIdError> {
        let province = province_by_code(province_code).ok_or(PersonalIdError::UnknownProvince)?;
        if !(MIN_BIRTH_YEAR..=MAX_BIRTH_YEAR).contains(&birth_year) {
            return Err(PersonalIdError::YearOutOfRange);
        }
        let century_index = (birth_year - MIN_BIRTH_YEAR) / 100;
        let sex_bit = match sex {
            Sex::Male => 0,
            Sex::Female => 1,
        };
        let digit4 = century_index * 2 + sex_bit;
        let random: u32 = rng.gen_range(0..1_000_000);
        Ok(Self(format!(
            "{}{digit4}{:02}{random:06}",
            province.code,
            birth_year % 100
        )))
    }

    /// The 12 digits.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Digits 1–3: code of the province where the birth was registered.
    #[must_use]
    pub fn province_code(&self) -> &str {
        &self.0[..3]
    }

    /// Digit 4 as a number 0–9.
    fn century_sex_digit(&self) -> u8 {
        self.0.as_bytes()[3] - b'0'
    }

    /// Sex encoded in digit 4 (even: male, odd: female).
    #[must_use]
    pub fn sex(&self) -> Sex {
        if self.century_sex_digit().is_multiple_of(2) {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// First year of the century encoded in digit 4 (1900, 2000, …, 2300).
    #[must_use]
    pub fn century_start(&self) -> i32 {
        MIN_BIRTH_YEAR + 100 * i32::from(self.century_sex_digit() / 2)
    }

    /// Digits 5–6: the last two digits of the birth year (0–99).
    #[must_use]
    pub fn year_digits(&self) -> u8 {
        let b = self.0.as_bytes();
        (b[4] - b'0') * 10 + (b[5] - b'0')
    }

    /// The birth year implied by digits 4–6.
    #[must_use]
    pub fn possible_birth_year(&self) -> i32 {
        self.century_start() + i32::from(self.year_digits())
    }

    /// Checks that the number agrees with a person's recorded sex and birth
    /// year.
    ///
    /// # Errors
    /// The first mismatch found, checked in the order sex, century, year
    /// digits.
    pub fn check_consistent(&self, sex: Sex, birth_year: i32) -> Result<(), PersonalIdMismatch> {
        if self.sex() != sex {
            return Err(PersonalIdMismatch::Sex);
        }
        let start = self.century_start();
        if !(start..start + 100).contains(&birth_year) {
            return Err(PersonalIdMismatch::Century);
        }
        if birth_year.rem_euclid(100) != i32::from(self.year_digits()) {
            return Err(PersonalIdMismatch::YearDigits);
        }
        Ok(())
    }
}

impl fmt::Debug for PersonalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PersonalId(<redacted>)")
    }
}

impl fmt::Display for PersonalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for PersonalId {
    type Err = PersonalIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl AsRef<str> for PersonalId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests;
