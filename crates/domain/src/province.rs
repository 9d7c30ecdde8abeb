//! Province codes used in digits 1–3 of the personal identification number.
//!
//! The codes are those of Circular 07/2016/TT-BCA (appendix: codes of the
//! centrally-run provinces and cities where the birth was registered). The
//! 2025 administrative reorganisation (Resolution 202/2025/QH15) merged the
//! 63 provinces into 34, but the codes printed in existing numbers did not
//! change; the table therefore keeps all 63 codes and records both the name
//! before 2025 and the province the code belongs to since 2025.
//!
//! The table is embedded at compile time from `data/province-codes.tsv` and
//! parsed once on first use.

use std::collections::BTreeSet;
use std::sync::LazyLock;

/// Tab-separated source table: `code`, `province_before_2025`,
/// `province_since_2025`.
const TABLE_TSV: &str = include_str!("../data/province-codes.tsv");

/// A province code and the names of the province it designates.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Province {
    /// Three-digit code, e.g. `"001"`.
    pub code: &'static str,
    /// Name of the province the code was assigned to (before the 2025 merger).
    pub name_before_2025: &'static str,
    /// Name of the province that contains it since the 2025 merger.
    pub name_since_2025: &'static str,
}

static PROVINCES: LazyLock<Vec<Province>> = LazyLock::new(|| parse_table(TABLE_TSV));

/// Parses the embedded table; panics on malformed data, which is a build
/// defect caught by the unit tests.
fn parse_table(tsv: &'static str) -> Vec<Province> {
    let mut lines = tsv.lines().filter(|l| !l.trim().is_empty());
    let header = lines.next().expect("province table has a header");
    assert_eq!(
        header.trim_end(),
        "code\tprovince_before_2025\tprovince_since_2025",
        "unexpected province table header"
    );
    let mut rows: Vec<Province> = lines
        .map(|line| {
            let mut cols = line.trim_end_matches('\r').split('\t');
            let (Some(code), Some(before), Some(since), None) =
                (cols.next(), cols.next(), cols.next(), cols.next())
            else {
                panic!("province table row must have exactly 3 columns: {line:?}");
            };
            assert!(
                code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()),
                "province code must be 3 digits: {code:?}"
            );
            Province {
                code,
                name_before_2025: before,
                name_since_2025: since,
            }
        })
        .collect();
    rows.sort_by(|a, b| a.code.cmp(b.code));
    rows
}

/// All provinces, sorted by code.
#[must_use]
pub fn provinces() -> &'static [Province] {
    &PROVINCES
}

/// Looks up a province by its three-digit code.
#[must_use]
pub fn province_by_code(code: &str) -> Option<&'static Province> {
    let all = provinces();
    all.binary_search_by(|p| p.code.cmp(code))
        .ok()
        .map(|i| &all[i])
}

/// The distinct province names in force since 2025, sorted.
#[must_use]
pub fn provinces_since_2025() -> Vec<&'static str> {
    provinces()
        .iter()
        .map(|p| p.name_since_2025)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_63_unique_codes() {
        let all = provinces();
        assert_eq!(all.len(), 63);
        let codes: BTreeSet<_> = all.iter().map(|p| p.code).collect();
        assert_eq!(codes.len(), 63);
    }

    #[test]
    fn table_has_34_current_provinces() {
        let names = provinces_since_2025();
        assert_eq!(names.len(), 34);
        assert!(names.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn lookup_known_code() {
        let p = province_by_code("001").expect("Hà Nội");
        assert_eq!(p.name_before_2025, "Hà Nội");
        assert_eq!(p.name_since_2025, "Hà Nội");
        let p = province_by_code("002").expect("Hà Giang");
        assert_eq!(p.name_before_2025, "Hà Giang");
        assert_eq!(p.name_since_2025, "Tuyên Quang");
    }

    #[test]
    fn lookup_unknown_code() {
        assert!(province_by_code("003").is_none());
        assert!(province_by_code("").is_none());
        assert!(province_by_code("1").is_none());
        assert!(province_by_code("0011").is_none());
    }

    #[test]
    fn names_are_non_empty() {
        assert!(
            provinces()
                .iter()
                .all(|p| !p.name_before_2025.is_empty() && !p.name_since_2025.is_empty())
        );
    }
}
