//! Foreign nationals staying in Vietnam: nationality and passport rules, and
//! the accommodation declarations (khai báo tạm trú) their hosts file.
//!
//! Law No. 47/2014/QH13 on entry, exit, transit and residence of foreigners
//! (as amended by Law 51/2019), art. 33: the accommodation provider declares
//! each foreign guest to the commune police within 12 hours of arrival, or
//! within 24 hours in remote and isolated areas. A declaration received later
//! than that is *late*; it is still accepted (the stay happened) but flagged.
//!
//! Times are Unix microseconds; the caller supplies "now", so these rules stay
//! pure. Error messages never include the input values.

/// Microseconds in an hour.
const HOUR_US: i64 = 3_600 * 1_000_000;

/// Hours a host has to declare a guest.
pub const DECLARATION_HOURS: i64 = 12;

/// Hours a host in a remote area has to declare a guest.
pub const REMOTE_DECLARATION_HOURS: i64 = 24;

/// Shortest accepted passport number.
pub const MIN_PASSPORT_CHARS: usize = 5;

/// Longest accepted passport number.
pub const MAX_PASSPORT_CHARS: usize = 20;

/// Alpha-3 code of Vietnam: its nationals are citizens, not foreigners.
pub const VIETNAM: &str = "VNM";

/// Why a nationality code is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NationalityError {
    /// Empty.
    #[error("is required (ISO 3166-1 alpha-3 code, e.g. FRA)")]
    Missing,
    /// Not three ASCII letters.
    #[error("must be an ISO 3166-1 alpha-3 code: three letters")]
    Format,
    /// Three letters, but no such country.
    #[error("is not an ISO 3166-1 alpha-3 country code")]
    Unknown,
    /// Vietnam.
    #[error("Vietnamese nationals are registered as citizens, not foreigners")]
    Vietnamese,
}

/// Validates a nationality given as an ISO 3166-1 alpha-3 code (any case,
/// surrounding blanks ignored) and returns it upper-case.
///
/// # Errors
/// [`NationalityError`] for empty, malformed, unknown or Vietnamese codes.
pub fn normalize_nationality(code: &str) -> Result<String, NationalityError> {
    let code = code.trim();
    if code.is_empty() {
        return Err(NationalityError::Missing);
    }
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(NationalityError::Format);
    }
    let upper = code.to_ascii_uppercase();
    match celes::Country::from_alpha3(&upper) {
        Ok(country) if country.alpha3 == upper => {}
        _ => return Err(NationalityError::Unknown),
    }
    if upper == VIETNAM {
        return Err(NationalityError::Vietnamese);
    }
    Ok(upper)
}

/// Why a passport number is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PassportError {
    /// Empty.
    #[error("is required")]
    Missing,
    /// Wrong length or characters.
    #[error("must be 5 to 20 letters and digits")]
    Format,
}

/// Validates a passport (or travel document) number: 5 to 20 ASCII letters
/// and digits, blanks around it ignored; returned upper-case, so that
/// `c1234567` and `C1234567` are the same passport.
///
/// # Errors
/// [`PassportError`].
pub fn normalize_passport_number(number: &str) -> Result<String, PassportError> {
    let number = number.trim();
    if number.is_empty() {
        return Err(PassportError::Missing);
    }
    if !(MIN_PASSPORT_CHARS..=MAX_PASSPORT_CHARS).contains(&number.len())
        || !number.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(PassportError::Format);
    }
    Ok(number.to_ascii_uppercase())
}

/// Which document a foreigner entered or stays on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryDocumentKind {
    /// Visa (thị thực).
    Visa,
    /// Temporary residence card (thẻ tạm trú).
    TemporaryResidenceCard,
    /// Permanent residence card (thẻ thường trú).
    PermanentResidenceCard,
}

impl EntryDocumentKind {
    /// Storage code.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Visa => "visa",
            Self::TemporaryResidenceCard => "temporary_residence_card",
            Self::PermanentResidenceCard => "permanent_residence_card",
        }
    }

    /// Parses a storage code.
    #[must_use]
    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "visa" => Some(Self::Visa),
            "temporary_residence_card" => Some(Self::TemporaryResidenceCard),
            "permanent_residence_card" => Some(Self::PermanentResidenceCard),
            _ => None,
        }
    }
}

/// Hours the host of an accommodation has to declare a guest.
#[must_use]
pub fn declaration_window_hours(remote_area: bool) -> i64 {
    if remote_area {
        REMOTE_DECLARATION_HOURS
    } else {
        DECLARATION_HOURS
    }
}

/// Whether a declaration received at `received_us` for a guest who arrived at
/// `arrival_us` is late: received more than 12 hours (24 in remote areas)
/// after arrival. Received exactly at the deadline is on time.
#[must_use]
pub fn is_late_declaration(arrival_us: i64, received_us: i64, remote_area: bool) -> bool {
    received_us.saturating_sub(arrival_us) > declaration_window_hours(remote_area) * HOUR_US
}

/// Why the times of a stay are not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StayError {
    /// Departure not after arrival.
    #[error("must be after the arrival time")]
    DepartureBeforeArrival,
    /// Arrival later than the allowed clock skew ahead of now.
    #[error("must not be in the future")]
    ArrivalInFuture,
}

/// Clock skew tolerated between a host's clock and the server's.
pub const CLOCK_SKEW_US: i64 = 5 * 60 * 1_000_000;

/// Checks an accommodation declaration's times as of `now_us`: the guest has
/// arrived (a host declares a guest who is there, allowing 5 minutes of clock
/// skew), and the planned departure is after the arrival.
///
/// # Errors
/// [`StayError::ArrivalInFuture`] or [`StayError::DepartureBeforeArrival`].
pub fn check_stay(arrival_us: i64, departure_us: i64, now_us: i64) -> Result<(), StayError> {
    if arrival_us > now_us.saturating_add(CLOCK_SKEW_US) {
        return Err(StayError::ArrivalInFuture);
    }
    if departure_us <= arrival_us {
        return Err(StayError::DepartureBeforeArrival);
    }
    Ok(())
}

/// Whether a stay from `arrival_us` that ends at `end_us` (the check-out, or
/// the planned departure while not checked out) covers the instant `now_us`:
/// arrival ≤ now < end.
#[must_use]
pub fn stay_covers(arrival_us: i64, end_us: i64, now_us: i64) -> bool {
    arrival_us <= now_us && now_us < end_us
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nationality_codes() {
        assert_eq!(normalize_nationality("FRA"), Ok("FRA".to_owned()));
        assert_eq!(normalize_nationality(" kor "), Ok("KOR".to_owned()));
        assert_eq!(normalize_nationality(""), Err(NationalityError::Missing));
        assert_eq!(normalize_nationality("  "), Err(NationalityError::Missing));
        assert_eq!(normalize_nationality("FR"), Err(NationalityError::Format));
        assert_eq!(normalize_nationality("F1A"), Err(NationalityError::Format));
        assert_eq!(normalize_nationality("ÀBC"), Err(NationalityError::Format));
        assert_eq!(normalize_nationality("XYZ"), Err(NationalityError::Unknown));
        assert_eq!(
            normalize_nationality("vnm"),
            Err(NationalityError::Vietnamese)
        );
    }

    #[test]
    fn passport_numbers() {
        assert_eq!(
            normalize_passport_number(" c1234567 "),
            Ok("C1234567".to_owned())
        );
        assert_eq!(normalize_passport_number(""), Err(PassportError::Missing));
        assert_eq!(
            normalize_passport_number("1234"),
            Err(PassportError::Format)
        );
        assert_eq!(
            normalize_passport_number("AB-12345"),
            Err(PassportError::Format)
        );
        assert_eq!(
            normalize_passport_number(&"9".repeat(21)),
            Err(PassportError::Format)
        );
    }

    #[test]
    fn lateness_thresholds() {
        let arrival = 1_000 * HOUR_US;
        assert!(!is_late_declaration(arrival, arrival + 12 * HOUR_US, false));
        assert!(is_late_declaration(
            arrival,
            arrival + 12 * HOUR_US + 1,
            false
        ));
        assert!(!is_late_declaration(arrival, arrival + 24 * HOUR_US, true));
        assert!(is_late_declaration(
            arrival,
            arrival + 24 * HOUR_US + 1,
            true
        ));
        // Received before the (skewed) arrival time: on time.
        assert!(!is_late_declaration(arrival, arrival - HOUR_US, false));
    }

    #[test]
    fn stay_times() {
        let now = 1_000 * HOUR_US;
        assert_eq!(check_stay(now - HOUR_US, now + HOUR_US, now), Ok(()));
        assert_eq!(
            check_stay(now - HOUR_US, now - HOUR_US, now),
            Err(StayError::DepartureBeforeArrival)
        );
        assert_eq!(
            check_stay(now - HOUR_US, now - 2 * HOUR_US, now),
            Err(StayError::DepartureBeforeArrival)
        );
        assert_eq!(
            check_stay(now + HOUR_US, now + 2 * HOUR_US, now),
            Err(StayError::ArrivalInFuture)
        );
        assert_eq!(check_stay(now + 60_000_000, now + HOUR_US, now), Ok(()));
    }

    #[test]
    fn coverage() {
        assert!(stay_covers(10, 20, 10));
        assert!(stay_covers(10, 20, 19));
        assert!(!stay_covers(10, 20, 20));
        assert!(!stay_covers(10, 20, 9));
    }

    #[test]
    fn document_codes_round_trip() {
        for kind in [
            EntryDocumentKind::Visa,
            EntryDocumentKind::TemporaryResidenceCard,
            EntryDocumentKind::PermanentResidenceCard,
        ] {
            assert_eq!(EntryDocumentKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EntryDocumentKind::parse("x"), None);
    }
}
