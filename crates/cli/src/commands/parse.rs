//! Parsing command-line values into API types: dates, timestamps and enum values.

use crate::exit::Usage;
use dancu_proto::common::v1::Date;

/// Parses `YYYY-MM-DD`, or a partial `YYYY-MM` / `YYYY` (the server decides which fields
/// accept partial dates).
pub fn date(input: &str) -> anyhow::Result<Date> {
    let bad = || {
        Usage(format!(
            "invalid date {input:?}: expected YYYY-MM-DD, YYYY-MM or YYYY"
        ))
    };
    let parts: Vec<&str> = input.trim().split('-').collect();
    if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
        return Err(bad().into());
    }
    let number = |i: usize| -> anyhow::Result<i32> {
        match parts.get(i) {
            None => Ok(0),
            Some(p) if p.chars().all(|c| c.is_ascii_digit()) && p.len() <= 4 => {
                p.parse().map_err(|_| bad().into())
            }
            Some(_) => Err(bad().into()),
        }
    };
    Ok(Date {
        year: number(0)?,
        month: number(1)?,
        day: number(2)?,
    })
}

/// Parses an RFC 3339 timestamp, e.g. `2026-11-29T08:00:00Z` or `2026-11-29T08:00:00+07:00`.
pub fn timestamp(input: &str) -> anyhow::Result<prost_types::Timestamp> {
    input.trim().parse().map_err(|_| {
        Usage(format!(
            "invalid time {input:?}: expected RFC 3339, e.g. 2026-11-29T08:00:00+07:00"
        ))
        .into()
    })
}

/// The number of a value of the proto enum `enum_name` (e.g. `dancu.common.v1.Sex`),
/// given case-insensitively with or without its prefix (`male`, `SEX_MALE`).
pub fn enum_value(enum_name: &str, prefix: &str, input: &str) -> anyhow::Result<i32> {
    let descriptor = crate::output::pool()?
        .get_enum_by_name(enum_name)
        .ok_or_else(|| anyhow::anyhow!("unknown enum {enum_name}"))?;
    let wanted = input.trim().to_ascii_uppercase().replace('-', "_");
    let full = if wanted.starts_with(prefix) {
        wanted
    } else {
        format!("{prefix}{wanted}")
    };
    if let Some(value) = descriptor
        .get_value_by_name(&full)
        .filter(|v| v.number() != 0)
    {
        return Ok(value.number());
    }
    let valid: Vec<String> = descriptor
        .values()
        .filter(|v| v.number() != 0)
        .map(|v| {
            v.name()
                .strip_prefix(prefix)
                .unwrap_or(v.name())
                .to_ascii_lowercase()
        })
        .collect();
    Err(Usage(format!(
        "invalid value {input:?}; valid values are: {}",
        valid.join(", ")
    ))
    .into())
}

/// A clap value parser for dates.
pub fn date_arg(input: &str) -> Result<Date, String> {
    date(input).map_err(|e| e.to_string())
}

/// A clap value parser for timestamps.
pub fn timestamp_arg(input: &str) -> Result<prost_types::Timestamp, String> {
    timestamp(input).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_full_and_partial() {
        assert_eq!(
            date("1990-05-17").unwrap(),
            Date {
                year: 1990,
                month: 5,
                day: 17
            }
        );
        assert_eq!(
            date("1990-05").unwrap(),
            Date {
                year: 1990,
                month: 5,
                day: 0
            }
        );
        assert_eq!(
            date("1990").unwrap(),
            Date {
                year: 1990,
                month: 0,
                day: 0
            }
        );
        for bad in ["", "19x0", "1990--01", "1990-05-17-1", "1990-+5"] {
            assert!(date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn enum_values_with_or_without_prefix() {
        assert_eq!(
            enum_value("dancu.common.v1.Sex", "SEX_", "female").unwrap(),
            2
        );
        assert_eq!(
            enum_value("dancu.common.v1.Sex", "SEX_", "SEX_MALE").unwrap(),
            1
        );
        let error = enum_value("dancu.common.v1.Sex", "SEX_", "unspecified").unwrap_err();
        assert!(error.to_string().contains("male, female"), "{error}");
    }
}
