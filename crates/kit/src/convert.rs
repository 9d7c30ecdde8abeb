//! Conversions between the shared proto types and domain or storage types.

use chrono::{Datelike, NaiveDate};
use dancu_domain::Sex;
use dancu_proto::common::v1 as pb;

/// A domain date as a proto date.
pub fn date_to_proto(date: NaiveDate) -> pb::Date {
    pb::Date {
        year: date.year(),
        month: date.month() as i32,
        day: date.day() as i32,
    }
}

/// A proto date as a domain date; `None` for impossible dates (month 13, Feb 30, ...).
pub fn date_from_proto(date: &pb::Date) -> Option<NaiveDate> {
    let month = u32::try_from(date.month).ok()?;
    let day = u32::try_from(date.day).ok()?;
    dancu_domain::parse_ymd(date.year, month, day).ok()
}

/// A domain sex as a proto enum value.
pub fn sex_to_proto(sex: Sex) -> pb::Sex {
    match sex {
        Sex::Male => pb::Sex::Male,
        Sex::Female => pb::Sex::Female,
    }
}

/// A proto enum value as a domain sex; `None` for unspecified or unknown values.
pub fn sex_from_proto(value: i32) -> Option<Sex> {
    match pb::Sex::try_from(value).ok()? {
        pb::Sex::Male => Some(Sex::Male),
        pb::Sex::Female => Some(Sex::Female),
        pb::Sex::Unspecified => None,
    }
}

/// Unix microseconds as a protobuf timestamp.
pub fn timestamp_from_us(us: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: us.div_euclid(1_000_000),
        nanos: (us.rem_euclid(1_000_000) * 1000) as i32,
    }
}

/// A protobuf timestamp as Unix microseconds; `None` when out of range.
pub fn timestamp_to_us(ts: &prost_types::Timestamp) -> Option<i64> {
    if !(0..1_000_000_000).contains(&ts.nanos) {
        return None;
    }
    chrono::DateTime::from_timestamp(ts.seconds, ts.nanos as u32).map(|t| t.timestamp_micros())
}

/// Today's date in the register's calendar: Vietnam time (UTC+7, no daylight saving). Every
/// service dates residences, classifications and analysis windows by it, so a day does not
/// change seven hours apart from one service to another.
#[must_use]
pub fn today_in_vietnam() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_reject_impossible() {
        let date = NaiveDate::from_ymd_opt(1990, 2, 28).unwrap();
        assert_eq!(date_from_proto(&date_to_proto(date)), Some(date));
        let feb30 = pb::Date {
            year: 1990,
            month: 2,
            day: 30,
        };
        assert_eq!(date_from_proto(&feb30), None);
        let negative = pb::Date {
            year: 1990,
            month: -1,
            day: 1,
        };
        assert_eq!(date_from_proto(&negative), None);
    }

    #[test]
    fn timestamps_round_trip() {
        let us = 1_700_000_000_123_456;
        assert_eq!(timestamp_to_us(&timestamp_from_us(us)), Some(us));
        let bad = prost_types::Timestamp {
            seconds: 1,
            nanos: -5,
        };
        assert_eq!(timestamp_to_us(&bad), None);
    }

    #[test]
    fn sexes() {
        assert_eq!(sex_from_proto(pb::Sex::Female as i32), Some(Sex::Female));
        assert_eq!(sex_from_proto(0), None);
        assert_eq!(sex_from_proto(99), None);
    }
}
