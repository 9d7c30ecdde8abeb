//! Identity cards (thẻ căn cước): who may hold one, when it expires, and which
//! changes of state are legal.
//!
//! The card number is the holder's personal identification number, so a person
//! has at most one card record; issuing, renewing, reporting lost and revoking
//! change that record, and each change is an event in its history.
//!
//! # Expiry (Law on Identity 2023, art. 21)
//!
//! A card must be renewed when its holder turns 14, 25, 40 and 60. The card
//! therefore expires on the first of those birthdays that falls **after** the
//! issue date, with one exception (art. 21(2)): a card issued within the two
//! years before a milestone birthday stays valid until the *next* milestone.
//! A card issued on or after the 58th birthday (within two years of 60, or
//! after 60) never expires. A card issued on a milestone birthday counts as
//! issued after that milestone.
//!
//! The 14 milestone only concerns cards issued to children under 14, which the
//! law allows on request of a parent or guardian (art. 19(2)); cards are
//! otherwise issued from age 14 ([`MIN_AGE`]).
//!
//! Birthdays are computed from the earliest birth date consistent with what the
//! register knows ([`earliest_birth_date`]): older records may hold only a
//! year, or a year and month. A 29 February birthday falls on 28 February in
//! common years. Dates are calendar dates in Vietnam (UTC+7); the caller
//! supplies "today", so these rules stay pure.

use chrono::{Datelike, Months, NaiveDate};

/// Ages at which a card must be renewed (Law on Identity 2023, art. 21(1)).
pub const MILESTONE_AGES: [u32; 4] = [14, 25, 40, 60];

/// Age from which a card is issued without a guardian's request.
pub const MIN_AGE: u32 = 14;

/// How long before a milestone birthday a new card already counts for the next one.
pub const GRACE_YEARS: u32 = 2;

/// Why a partial birth date cannot be turned into a date. Messages never
/// include the date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PartialDateError {
    /// A day was given without a month.
    #[error("a birth day needs a birth month")]
    DayWithoutMonth,
    /// The month is not 1 to 12.
    #[error("birth month must be 1 to 12")]
    Month,
    /// The parts do not form a real calendar date (day 31 in a 30-day month…).
    #[error("birth date is not a real calendar date")]
    Impossible,
}

/// The earliest date of birth consistent with the known parts: 1 January when
/// only the year is known, the 1st of the month when the day is unknown.
///
/// # Errors
/// A day without month, a month outside 1–12, or an impossible full date.
pub fn earliest_birth_date(
    year: i32,
    month: Option<u32>,
    day: Option<u32>,
) -> Result<NaiveDate, PartialDateError> {
    match (month, day) {
        (None, Some(_)) => Err(PartialDateError::DayWithoutMonth),
        (Some(m), _) if !(1..=12).contains(&m) => Err(PartialDateError::Month),
        (month, day) => NaiveDate::from_ymd_opt(year, month.unwrap_or(1), day.unwrap_or(1))
            .ok_or(PartialDateError::Impossible),
    }
}

/// The date on which a person born on `birth` turns `age` (28 February for a
/// 29 February birthday in common years); `None` past the calendar's range.
#[must_use]
pub fn birthday_at(birth: NaiveDate, age: u32) -> Option<NaiveDate> {
    birth.checked_add_months(Months::new(age.checked_mul(12)?))
}

/// Completed years of age on `on` of a person born on `birth` (0 before birth).
#[must_use]
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> u32 {
    let mut age = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    // A 29 February birthday counts on 28 February in common years, as in `birthday_at`.
    if age >= 0
        && let Some(next) = birthday_at(birth, (age + 1) as u32)
        && next <= on
    {
        age += 1;
    }
    age.max(0) as u32
}

/// Expiry date of a card issued on `issued` to a person born on `birth`:
/// the first milestone birthday after the issue date that is more than
/// [`GRACE_YEARS`] away from it; `None` when no such milestone is left (the
/// card never expires).
#[must_use]
pub fn card_expiry(birth: NaiveDate, issued: NaiveDate) -> Option<NaiveDate> {
    MILESTONE_AGES.iter().find_map(|&age| {
        let milestone = birthday_at(birth, age)?;
        let grace_start = milestone.checked_sub_months(Months::new(GRACE_YEARS * 12))?;
        (issued < grace_start).then_some(milestone)
    })
}

/// Whether a card may be issued to someone born on `birth`, on `today`.
///
/// # Errors
/// [`CardRuleError::Unborn`] before birth; [`CardRuleError::UnderMinimumAge`]
/// under 14 without a guardian's request.
pub fn check_issue_age(
    birth: NaiveDate,
    today: NaiveDate,
    guardian_request: bool,
) -> Result<(), CardRuleError> {
    if birth > today {
        return Err(CardRuleError::Unborn);
    }
    if age_on(birth, today) < MIN_AGE && !guardian_request {
        return Err(CardRuleError::UnderMinimumAge);
    }
    Ok(())
}

/// The stored state of a card (expiry is computed, see [`CardState`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CardStatus {
    /// In use.
    Active,
    /// Reported lost by the holder.
    Lost,
    /// Revoked (thu hồi) by the authority.
    Revoked,
}

impl CardStatus {
    /// Storage code.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Lost => "lost",
            Self::Revoked => "revoked",
        }
    }

    /// Parses a storage code.
    #[must_use]
    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "active" => Some(Self::Active),
            "lost" => Some(Self::Lost),
            "revoked" => Some(Self::Revoked),
            _ => None,
        }
    }
}

/// The state a card is in on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CardState {
    /// Active and not yet expired.
    Active,
    /// Active but past its expiry date: it must be renewed.
    Expired,
    /// Reported lost.
    Lost,
    /// Revoked.
    Revoked,
}

/// The state of a card with `status` and `expiry` on `today`: an active card
/// is expired from its expiry date on.
#[must_use]
pub fn card_state(status: CardStatus, expiry: Option<NaiveDate>, today: NaiveDate) -> CardState {
    match status {
        CardStatus::Lost => CardState::Lost,
        CardStatus::Revoked => CardState::Revoked,
        CardStatus::Active if expiry.is_some_and(|e| e <= today) => CardState::Expired,
        CardStatus::Active => CardState::Active,
    }
}

/// A change asked of a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CardAction {
    /// Issue a card (cấp): first card, or a replacement after loss or revocation.
    Issue,
    /// Renew (cấp đổi) an active or expired card.
    Renew,
    /// Report the card lost.
    ReportLost,
    /// Revoke the card.
    Revoke,
}

impl CardAction {
    /// Storage code of the event the action records.
    #[must_use]
    pub fn event_code(self) -> &'static str {
        match self {
            Self::Issue => "issued",
            Self::Renew => "renewed",
            Self::ReportLost => "reported_lost",
            Self::Revoke => "revoked",
        }
    }

    /// Parses an event storage code.
    #[must_use]
    pub fn from_event_code(code: &str) -> Option<Self> {
        match code {
            "issued" => Some(Self::Issue),
            "renewed" => Some(Self::Renew),
            "reported_lost" => Some(Self::ReportLost),
            "revoked" => Some(Self::Revoke),
            _ => None,
        }
    }
}

/// Why a card rule refused an action. Messages never include personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CardRuleError {
    /// Birth date after today.
    #[error("the person is not born yet")]
    Unborn,
    /// Under 14 and no guardian's request.
    #[error("cards are issued from age 14; younger children only on a guardian's request")]
    UnderMinimumAge,
    /// Issue while a card is active or expired.
    #[error("the person already holds a card; renew it instead")]
    AlreadyHoldsCard,
    /// Renew, report lost or revoke without any card.
    #[error("the person holds no card")]
    NoCard,
    /// Renew a lost card.
    #[error("a lost card cannot be renewed; issue a replacement")]
    RenewLost,
    /// Renew a revoked card.
    #[error("a revoked card cannot be renewed; issue a new card")]
    RenewRevoked,
    /// Report lost twice.
    #[error("the card is already reported lost")]
    AlreadyLost,
    /// Report a revoked card lost.
    #[error("a revoked card cannot be reported lost")]
    LostRevoked,
    /// Revoke twice.
    #[error("the card is already revoked")]
    AlreadyRevoked,
}

/// The status a card has after `action`, from `current` (`None`: no card yet).
///
/// | from \ action | issue | renew | report lost | revoke |
/// |---|---|---|---|---|
/// | no card | active | ✗ | ✗ | ✗ |
/// | active, expired | ✗ | active | lost | revoked |
/// | lost | active | ✗ | ✗ | revoked |
/// | revoked | active | ✗ | ✗ | ✗ |
///
/// # Errors
/// The [`CardRuleError`] naming the illegal transition.
pub fn transition(
    current: Option<CardState>,
    action: CardAction,
) -> Result<CardStatus, CardRuleError> {
    use CardAction as A;
    use CardState as S;
    match (current, action) {
        (None | Some(S::Lost | S::Revoked), A::Issue) => Ok(CardStatus::Active),
        (Some(S::Active | S::Expired), A::Issue) => Err(CardRuleError::AlreadyHoldsCard),
        (None, _) => Err(CardRuleError::NoCard),
        (Some(S::Active | S::Expired), A::Renew) => Ok(CardStatus::Active),
        (Some(S::Lost), A::Renew) => Err(CardRuleError::RenewLost),
        (Some(S::Revoked), A::Renew) => Err(CardRuleError::RenewRevoked),
        (Some(S::Active | S::Expired), A::ReportLost) => Ok(CardStatus::Lost),
        (Some(S::Lost), A::ReportLost) => Err(CardRuleError::AlreadyLost),
        (Some(S::Revoked), A::ReportLost) => Err(CardRuleError::LostRevoked),
        (Some(S::Active | S::Expired | S::Lost), A::Revoke) => Ok(CardStatus::Revoked),
        (Some(S::Revoked), A::Revoke) => Err(CardRuleError::AlreadyRevoked),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn earliest_birth_date_fills_unknown_parts_with_the_first() {
        assert_eq!(earliest_birth_date(1970, None, None), Ok(d(1970, 1, 1)));
        assert_eq!(earliest_birth_date(1970, Some(8), None), Ok(d(1970, 8, 1)));
        assert_eq!(
            earliest_birth_date(1970, Some(8), Some(19)),
            Ok(d(1970, 8, 19))
        );
        assert_eq!(
            earliest_birth_date(1970, None, Some(3)),
            Err(PartialDateError::DayWithoutMonth)
        );
        assert_eq!(
            earliest_birth_date(1970, Some(13), None),
            Err(PartialDateError::Month)
        );
        assert_eq!(
            earliest_birth_date(1970, Some(0), None),
            Err(PartialDateError::Month)
        );
        assert_eq!(
            earliest_birth_date(1971, Some(2), Some(29)),
            Err(PartialDateError::Impossible)
        );
    }

    #[test]
    fn expiry_is_the_next_milestone_birthday() {
        let birth = d(1990, 5, 17);
        // Issued at 18: expires at 25.
        assert_eq!(card_expiry(birth, d(2008, 6, 1)), Some(d(2015, 5, 17)));
        // Issued at 30: expires at 40.
        assert_eq!(card_expiry(birth, d(2020, 1, 1)), Some(d(2030, 5, 17)));
        // Issued at 45: expires at 60.
        assert_eq!(card_expiry(birth, d(2035, 1, 1)), Some(d(2050, 5, 17)));
        // Issued at 61: never expires.
        assert_eq!(card_expiry(birth, d(2051, 6, 1)), None);
        // Issued on the 25th birthday: counts as after it.
        assert_eq!(card_expiry(birth, d(2015, 5, 17)), Some(d(2030, 5, 17)));
    }

    #[test]
    fn cards_issued_within_two_years_of_a_milestone_run_to_the_next() {
        let birth = d(1990, 5, 17);
        // One day before the grace window of 25: expires at 25.
        assert_eq!(card_expiry(birth, d(2013, 5, 16)), Some(d(2015, 5, 17)));
        // First day of the window (exactly two years before 25): expires at 40.
        assert_eq!(card_expiry(birth, d(2013, 5, 17)), Some(d(2030, 5, 17)));
        // Within two years of 40: expires at 60.
        assert_eq!(card_expiry(birth, d(2029, 1, 1)), Some(d(2050, 5, 17)));
        // Within two years of 60 (age 58): never expires.
        assert_eq!(card_expiry(birth, d(2048, 5, 17)), None);
        assert_eq!(card_expiry(birth, d(2048, 5, 16)), Some(d(2050, 5, 17)));
    }

    #[test]
    fn children_cards_expire_at_fourteen() {
        let birth = d(2015, 3, 1);
        assert_eq!(card_expiry(birth, d(2020, 3, 1)), Some(d(2029, 3, 1)));
        // Issued at 12½: within two years of 14, so valid to 25.
        assert_eq!(card_expiry(birth, d(2027, 9, 1)), Some(d(2040, 3, 1)));
    }

    #[test]
    fn leap_day_birthdays_fall_on_28_february() {
        let birth = d(2000, 2, 29);
        assert_eq!(birthday_at(birth, 25), Some(d(2025, 2, 28)));
        assert_eq!(birthday_at(birth, 40), Some(d(2040, 2, 29)));
        assert_eq!(card_expiry(birth, d(2018, 1, 1)), Some(d(2025, 2, 28)));
        assert_eq!(age_on(birth, d(2025, 2, 27)), 24);
        assert_eq!(age_on(birth, d(2025, 2, 28)), 25);
    }

    #[test]
    fn partial_birth_dates_use_the_earliest_birthday() {
        // Born "1980": taken as 1 January 1980.
        let birth = earliest_birth_date(1980, None, None).unwrap();
        assert_eq!(card_expiry(birth, d(2010, 6, 1)), Some(d(2020, 1, 1)));
        // Born "June 1980": 1 June 1980.
        let birth = earliest_birth_date(1980, Some(6), None).unwrap();
        assert_eq!(card_expiry(birth, d(2010, 6, 1)), Some(d(2020, 6, 1)));
    }

    #[test]
    fn age_counts_completed_years() {
        let birth = d(2010, 7, 10);
        assert_eq!(age_on(birth, d(2024, 7, 9)), 13);
        assert_eq!(age_on(birth, d(2024, 7, 10)), 14);
        assert_eq!(age_on(birth, d(2009, 1, 1)), 0);
    }

    #[test]
    fn issue_age() {
        let birth = d(2010, 7, 10);
        assert_eq!(
            check_issue_age(birth, d(2024, 7, 9), false),
            Err(CardRuleError::UnderMinimumAge)
        );
        assert_eq!(check_issue_age(birth, d(2024, 7, 9), true), Ok(()));
        assert_eq!(check_issue_age(birth, d(2024, 7, 10), false), Ok(()));
        assert_eq!(
            check_issue_age(birth, d(2009, 1, 1), true),
            Err(CardRuleError::Unborn)
        );
    }

    #[test]
    fn state_is_computed_from_today() {
        let expiry = Some(d(2030, 1, 1));
        assert_eq!(
            card_state(CardStatus::Active, expiry, d(2029, 12, 31)),
            CardState::Active
        );
        assert_eq!(
            card_state(CardStatus::Active, expiry, d(2030, 1, 1)),
            CardState::Expired
        );
        assert_eq!(
            card_state(CardStatus::Active, None, d(2099, 1, 1)),
            CardState::Active
        );
        assert_eq!(
            card_state(CardStatus::Lost, expiry, d(2031, 1, 1)),
            CardState::Lost
        );
        assert_eq!(
            card_state(CardStatus::Revoked, None, d(2031, 1, 1)),
            CardState::Revoked
        );
    }

    #[test]
    fn transitions() {
        use CardAction as A;
        use CardState as S;
        assert_eq!(transition(None, A::Issue), Ok(CardStatus::Active));
        assert_eq!(transition(None, A::Renew), Err(CardRuleError::NoCard));
        assert_eq!(transition(None, A::ReportLost), Err(CardRuleError::NoCard));
        assert_eq!(transition(None, A::Revoke), Err(CardRuleError::NoCard));
        assert_eq!(
            transition(Some(S::Active), A::Issue),
            Err(CardRuleError::AlreadyHoldsCard)
        );
        assert_eq!(
            transition(Some(S::Expired), A::Renew),
            Ok(CardStatus::Active)
        );
        assert_eq!(
            transition(Some(S::Active), A::ReportLost),
            Ok(CardStatus::Lost)
        );
        assert_eq!(
            transition(Some(S::Lost), A::ReportLost),
            Err(CardRuleError::AlreadyLost)
        );
        assert_eq!(
            transition(Some(S::Lost), A::Renew),
            Err(CardRuleError::RenewLost)
        );
        assert_eq!(transition(Some(S::Lost), A::Issue), Ok(CardStatus::Active));
        assert_eq!(
            transition(Some(S::Lost), A::Revoke),
            Ok(CardStatus::Revoked)
        );
        assert_eq!(
            transition(Some(S::Revoked), A::Renew),
            Err(CardRuleError::RenewRevoked)
        );
        assert_eq!(
            transition(Some(S::Revoked), A::Revoke),
            Err(CardRuleError::AlreadyRevoked)
        );
        assert_eq!(
            transition(Some(S::Revoked), A::ReportLost),
            Err(CardRuleError::LostRevoked)
        );
        assert_eq!(
            transition(Some(S::Revoked), A::Issue),
            Ok(CardStatus::Active)
        );
    }

    #[test]
    fn codes_round_trip() {
        for status in [CardStatus::Active, CardStatus::Lost, CardStatus::Revoked] {
            assert_eq!(CardStatus::parse(status.as_str()), Some(status));
        }
        for action in [A::Issue, A::Renew, A::ReportLost, A::Revoke] {
            assert_eq!(
                CardAction::from_event_code(action.event_code()),
                Some(action)
            );
        }
        assert_eq!(CardStatus::parse("x"), None);
        assert_eq!(CardAction::from_event_code("x"), None);
    }

    use CardAction as A;
}
