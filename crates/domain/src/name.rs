//! Full-name rules.
//!
//! The register records the full name (*họ, chữ đệm và tên*) as written on
//! the birth certificate (Decree 137/2015/NĐ-CP art. 9; Circular 07/2016/
//! TT-BCA). Names are stored in Unicode NFC with single spaces, and may use
//! letters of any script (ethnic-minority and foreign names included),
//! combining marks, and the punctuation found in real names: apostrophe
//! (`H'Hen Niê`), hyphen and period.
//!
//! [`name_search_key`] builds a case- and diacritic-insensitive key, so that
//! "Nguyễn Văn Ân" can be found by typing "nguyen van an". Error messages
//! never include the name.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Longest accepted full name, in characters after normalization.
pub const MAX_NAME_CHARS: usize = 100;

/// Why a full name is not acceptable. Messages never include the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Nothing but whitespace (or punctuation without any letter).
    #[error("full name is empty or contains no letters")]
    Empty,
    /// Longer than [`MAX_NAME_CHARS`] characters after normalization.
    #[error("full name is longer than 100 characters (got {len})")]
    TooLong {
        /// Length in characters after normalization.
        len: usize,
    },
    /// Contains a character that is not allowed in a name.
    #[error(
        "full name contains characters other than letters, combining marks, spaces, apostrophes, hyphens and periods"
    )]
    InvalidCharacter,
}

/// Returns whether `c` may appear in a normalized full name.
fn is_allowed(c: char) -> bool {
    c.is_alphabetic() || is_combining_mark(c) || matches!(c, ' ' | '\'' | '-' | '.')
}

/// Collapses every run of Unicode whitespace into one ASCII space and trims
/// both ends.
fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Normalizes a full name for storage: Unicode NFC, trimmed, with runs of
/// whitespace collapsed into one space.
///
/// # Errors
/// [`NameError::Empty`] if nothing (or no letter) remains,
/// [`NameError::InvalidCharacter`] for digits, symbols, control characters
/// and the like, [`NameError::TooLong`] beyond 100 characters.
pub fn normalize_full_name(raw: &str) -> Result<String, NameError> {
    let nfc: String = raw.nfc().collect();
    let name = collapse_whitespace(&nfc);
    if !name.chars().any(char::is_alphabetic) {
        return Err(if name.chars().all(is_allowed) {
            NameError::Empty
        } else {
            NameError::InvalidCharacter
        });
    }
    if !name.chars().all(is_allowed) {
        return Err(NameError::InvalidCharacter);
    }
    let len = name.chars().count();
    if len > MAX_NAME_CHARS {
        return Err(NameError::TooLong { len });
    }
    Ok(name)
}

/// Builds a case- and diacritic-insensitive search key for a name.
///
/// The name is decomposed (NFD), combining marks are dropped, `Đ`/`đ`
/// (which do not decompose) become `d`, everything is lowercased and runs
/// of whitespace are collapsed. "Nguyễn Văn Ân", "NGUYEN VAN AN" and
/// "nguyen  van an" all give "nguyen van an".
#[must_use]
pub fn name_search_key(name: &str) -> String {
    let folded: String = name
        .nfd()
        .filter(|&c| !is_combining_mark(c))
        .map(|c| match c {
            'Đ' | 'đ' => 'd',
            other => other,
        })
        .flat_map(char::to_lowercase)
        .collect();
    collapse_whitespace(&folded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_whitespace_and_trims() {
        assert_eq!(
            normalize_full_name("  Nguyễn \t Văn\n\u{a0}Ân  ").as_deref(),
            Ok("Nguyễn Văn Ân")
        );
    }

    #[test]
    fn composes_to_nfc() {
        // "ễ" written as e + circumflex + tilde.
        let decomposed = "Nguye\u{302}\u{303}n";
        let n = normalize_full_name(decomposed).unwrap();
        assert_eq!(n, "Nguyễn");
        assert_eq!(n.chars().count(), 6);
    }

    #[test]
    fn accepts_real_name_punctuation_and_scripts() {
        for ok in [
            "H'Hen Niê",
            "Jean-Paul",
            "Mr. O'Brien",
            "Đặng Thị Ý",
            "李小龍",
            "Ksor H'Blông",
        ] {
            assert_eq!(normalize_full_name(ok).as_deref(), Ok(ok), "{ok}");
        }
    }

    #[test]
    fn rejects_empty() {
        for s in ["", "   ", "\t\n", "-", ". '"] {
            assert_eq!(normalize_full_name(s), Err(NameError::Empty), "{s:?}");
        }
    }

    #[test]
    fn rejects_invalid_characters() {
        for s in [
            "Nguyen 2",
            "An@",
            "An_B",
            "A\u{200b}B",
            "An\u{0}",
            "😀",
            "A,B",
        ] {
            assert_eq!(
                normalize_full_name(s),
                Err(NameError::InvalidCharacter),
                "{s:?}"
            );
        }
    }

    #[test]
    fn length_limit_counts_chars_after_normalization() {
        let exactly = "Ấ".repeat(MAX_NAME_CHARS);
        assert!(normalize_full_name(&exactly).is_ok());
        // Decomposed input is longer in chars but composes to 100.
        let decomposed: String = exactly.nfd().collect();
        assert!(normalize_full_name(&decomposed).is_ok());
        // Surrounding whitespace does not count.
        assert!(normalize_full_name(&format!("   {exactly}   ")).is_ok());
        let too_long = "a".repeat(MAX_NAME_CHARS + 1);
        assert_eq!(
            normalize_full_name(&too_long),
            Err(NameError::TooLong { len: 101 })
        );
    }

    #[test]
    fn messages_do_not_include_name() {
        let msg = normalize_full_name("Secret1").unwrap_err().to_string();
        assert!(!msg.contains("Secret"), "{msg}");
        assert_eq!(
            NameError::TooLong { len: 101 }.to_string(),
            "full name is longer than 100 characters (got 101)"
        );
        assert_eq!(
            NameError::Empty.to_string(),
            "full name is empty or contains no letters"
        );
    }

    #[test]
    fn search_key_ignores_case_and_diacritics() {
        let key = "nguyen van an";
        assert_eq!(name_search_key("Nguyễn Văn Ân"), key);
        assert_eq!(name_search_key("NGUYEN VAN AN"), key);
        assert_eq!(name_search_key("nguyen  van an"), key);
        assert_eq!(name_search_key("  Nguye\u{302}\u{303}n\tVăn ÂN "), key);
    }

    #[test]
    fn search_key_maps_d_with_stroke() {
        assert_eq!(name_search_key("Đặng Đức Đạt"), "dang duc dat");
        assert_eq!(name_search_key("đỗ"), "do");
    }
}
