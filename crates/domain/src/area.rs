//! Administrative areas in force since the 2025 reorganisation: 34 provinces
//! (tỉnh, thành phố) and the communes, wards and special zones below them
//! (xã, phường, đặc khu; "communes" here for short).
//!
//! Provinces carry the two-digit codes of the 2025 list; communes carry
//! five-digit codes. Both tables are tab-separated text with a header line:
//!
//! * provinces: `code`, `name`;
//! * communes: `code`, `name`, `province_code`.
//!
//! A demonstration set (every province with a few real commune names; the
//! commune codes in it are illustrative, numbered within their province) is
//! embedded from `data/provinces-2025.tsv` and `data/communes.tsv`.
//! [`AreaTable::parse`] accepts the full official list in the same columns,
//! so a deployment can load it from a file.

use crate::province::provinces;
use std::collections::BTreeMap;
use std::sync::LazyLock;

const PROVINCES_TSV: &str = include_str!("../data/provinces-2025.tsv");
const COMMUNES_TSV: &str = include_str!("../data/communes.tsv");

/// A province since 2025.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaProvince {
    /// Two-digit code, e.g. `"01"` (Hà Nội).
    pub code: String,
    /// Name, e.g. `"Hà Nội"`.
    pub name: String,
}

/// A commune, ward or special zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commune {
    /// Five-digit code.
    pub code: String,
    /// Name, e.g. `"Phường Ba Đình"`.
    pub name: String,
    /// Two-digit code of the province it belongs to.
    pub province_code: String,
}

/// Why an area table was rejected. Line numbers count from 1, header included.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AreaTableError {
    /// The header line is not the expected one.
    #[error("{table}: header must be {expected:?}")]
    Header {
        /// Which table.
        table: &'static str,
        /// The expected header.
        expected: &'static str,
    },
    /// A row is malformed.
    #[error("{table} line {line}: {reason}")]
    Row {
        /// Which table.
        table: &'static str,
        /// Line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

/// Provinces and communes, indexed by code.
#[derive(Debug, Clone)]
pub struct AreaTable {
    provinces: BTreeMap<String, AreaProvince>,
    communes: BTreeMap<String, Commune>,
}

static BUILTIN: LazyLock<AreaTable> = LazyLock::new(|| {
    AreaTable::parse(PROVINCES_TSV, COMMUNES_TSV).expect("embedded area tables are valid")
});

impl AreaTable {
    /// The embedded demonstration set.
    #[must_use]
    pub fn builtin() -> &'static AreaTable {
        &BUILTIN
    }

    /// Parses a province table and a commune table.
    ///
    /// # Errors
    /// A wrong header, a row without the right columns, a malformed or
    /// duplicate code, an empty name, or a commune in an unknown province.
    pub fn parse(provinces_tsv: &str, communes_tsv: &str) -> Result<Self, AreaTableError> {
        let mut provinces = BTreeMap::new();
        for (line, cols) in rows("provinces", provinces_tsv, "code\tname", 2)? {
            let row_error = |reason: &str| AreaTableError::Row {
                table: "provinces",
                line,
                reason: reason.to_owned(),
            };
            let (code, name) = (cols[0], cols[1]);
            if !is_digits(code, 2) {
                return Err(row_error("province code must be 2 digits"));
            }
            if name.is_empty() {
                return Err(row_error("name is empty"));
            }
            let province = AreaProvince {
                code: code.to_owned(),
                name: name.to_owned(),
            };
            if provinces.insert(code.to_owned(), province).is_some() {
                return Err(row_error("duplicate province code"));
            }
        }
        let mut communes = BTreeMap::new();
        for (line, cols) in rows("communes", communes_tsv, "code\tname\tprovince_code", 3)? {
            let row_error = |reason: &str| AreaTableError::Row {
                table: "communes",
                line,
                reason: reason.to_owned(),
            };
            let (code, name, province_code) = (cols[0], cols[1], cols[2]);
            if !is_digits(code, 5) {
                return Err(row_error("commune code must be 5 digits"));
            }
            if name.is_empty() {
                return Err(row_error("name is empty"));
            }
            if !provinces.contains_key(province_code) {
                return Err(row_error("unknown province code"));
            }
            let commune = Commune {
                code: code.to_owned(),
                name: name.to_owned(),
                province_code: province_code.to_owned(),
            };
            if communes.insert(code.to_owned(), commune).is_some() {
                return Err(row_error("duplicate commune code"));
            }
        }
        Ok(Self {
            provinces,
            communes,
        })
    }

    /// All provinces, by code.
    pub fn provinces(&self) -> impl Iterator<Item = &AreaProvince> {
        self.provinces.values()
    }

    /// All communes, by code.
    pub fn communes(&self) -> impl Iterator<Item = &Commune> {
        self.communes.values()
    }

    /// The province with this two-digit code.
    #[must_use]
    pub fn province(&self, code: &str) -> Option<&AreaProvince> {
        self.provinces.get(code)
    }

    /// The commune with this five-digit code.
    #[must_use]
    pub fn commune(&self, code: &str) -> Option<&Commune> {
        self.communes.get(code)
    }

    /// The communes of one province, by code.
    pub fn communes_in<'a>(&'a self, province_code: &'a str) -> impl Iterator<Item = &'a Commune> {
        self.communes
            .values()
            .filter(move |c| c.province_code == province_code)
    }

    /// The province (since 2025) that a three-digit birth-registration code of
    /// the personal ID now belongs to, matched by name.
    #[must_use]
    pub fn province_of_birth_code(&self, birth_code: &str) -> Option<&AreaProvince> {
        let old = crate::province::province_by_code(birth_code)?;
        self.provinces
            .values()
            .find(|p| p.name == old.name_since_2025)
    }
}

/// Every birth-registration province code maps onto a province of `table`.
#[must_use]
pub fn covers_all_birth_codes(table: &AreaTable) -> bool {
    provinces()
        .iter()
        .all(|p| table.province_of_birth_code(p.code).is_some())
}

fn is_digits(code: &str, len: usize) -> bool {
    code.len() == len && code.bytes().all(|b| b.is_ascii_digit())
}

/// The data rows of a table (line number, columns), after checking its header.
fn rows<'a>(
    table: &'static str,
    tsv: &'a str,
    header: &'static str,
    columns: usize,
) -> Result<Vec<(usize, Vec<&'a str>)>, AreaTableError> {
    let mut lines = tsv.lines().enumerate();
    match lines.next() {
        Some((_, first)) if first.trim_start_matches('\u{feff}').trim_end() == header => {}
        _ => {
            return Err(AreaTableError::Header {
                table,
                expected: header,
            });
        }
    }
    let mut out = Vec::new();
    for (index, line) in lines {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').map(str::trim).collect();
        if cols.len() != columns {
            return Err(AreaTableError::Row {
                table,
                line: index + 1,
                reason: format!("expected {columns} tab-separated columns"),
            });
        }
        out.push((index + 1, cols));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_has_34_provinces_each_with_communes() {
        let table = AreaTable::builtin();
        assert_eq!(table.provinces().count(), 34);
        for p in table.provinces() {
            assert!(table.communes_in(&p.code).count() >= 3, "{}", p.name);
        }
    }

    #[test]
    fn builtin_covers_every_birth_code() {
        assert!(covers_all_birth_codes(AreaTable::builtin()));
        let table = AreaTable::builtin();
        assert_eq!(
            table.province_of_birth_code("002").unwrap().name,
            "Tuyên Quang"
        );
        assert_eq!(table.province_of_birth_code("001").unwrap().code, "01");
        assert!(table.province_of_birth_code("003").is_none());
    }

    #[test]
    fn commune_lookup() {
        let table = AreaTable::builtin();
        let c = table.commune("01001").unwrap();
        assert_eq!(c.name, "Phường Ba Đình");
        assert_eq!(table.province(&c.province_code).unwrap().name, "Hà Nội");
        assert!(table.commune("99999").is_none());
    }

    #[test]
    fn rejects_bad_tables_with_line_numbers() {
        let p = "code\tname\n01\tHà Nội\n";
        assert!(matches!(
            AreaTable::parse("id\tname\n", "code\tname\tprovince_code\n"),
            Err(AreaTableError::Header { .. })
        ));
        let bad = [
            "code\tname\tprovince_code\n0100\tX\t01\n",
            "code\tname\tprovince_code\n01001\t\t01\n",
            "code\tname\tprovince_code\n01001\tX\t02\n",
            "code\tname\tprovince_code\n01001\tX\t01\n01001\tY\t01\n",
            "code\tname\tprovince_code\n01001\tX\n",
        ];
        for (i, communes) in bad.iter().enumerate() {
            match AreaTable::parse(p, communes) {
                Err(AreaTableError::Row { line, .. }) => {
                    assert!(line >= 2, "case {i}");
                }
                other => panic!("case {i}: {other:?}"),
            }
        }
    }

    #[test]
    fn accepts_crlf_bom_and_blank_lines() {
        let table = AreaTable::parse(
            "\u{feff}code\tname\r\n01\tHà Nội\r\n\r\n",
            "code\tname\tprovince_code\r\n00004\tPhường Ba Đình\t01\r\n",
        )
        .unwrap();
        assert_eq!(table.commune("00004").unwrap().province_code, "01");
    }
}
