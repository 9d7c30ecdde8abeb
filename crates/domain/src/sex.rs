//! Sex as recorded in the population register.
//!
//! Decree 137/2015/NĐ-CP art. 13 encodes the sex of the holder in digit 4 of
//! the personal identification number together with the century of birth
//! (even digit: male, odd digit: female).

/// Sex of a registered person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    /// Male (even century/sex digit).
    Male,
    /// Female (odd century/sex digit).
    Female,
}

impl Sex {
    /// Returns the other sex.
    #[must_use]
    pub fn other(self) -> Self {
        match self {
            Self::Male => Self::Female,
            Self::Female => Self::Male,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_flips() {
        assert_eq!(Sex::Male.other(), Sex::Female);
        assert_eq!(Sex::Female.other(), Sex::Male);
    }
}
