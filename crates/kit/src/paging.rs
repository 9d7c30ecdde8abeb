//! Opaque page tokens and page sizes for AIP-158 style list calls.
//!
//! A token is the URL-safe base64 of `<kind>:<last key>`, so that a token issued by one
//! list cannot be replayed against another. Tokens carry keys, never personal data that
//! the caller did not already receive on the previous page.

use base64::Engine;

/// Encodes a page token continuing after `last_key` in a list of `kind`.
pub fn encode_token(kind: &str, last_key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{kind}:{last_key}"))
}

/// The `next_page_token` of a page: the token of its last key when more may follow, else
/// empty.
#[must_use]
pub fn next_page_token(kind: &str, next: Option<&str>) -> String {
    next.map(|key| encode_token(kind, key)).unwrap_or_default()
}

/// Decodes a token of `kind`: `Ok(None)` for an empty token (first page), `Err(())` for a
/// token this list did not issue.
#[allow(clippy::result_unit_err)]
pub fn decode_token(kind: &str, token: &str) -> Result<Option<String>, ()> {
    if token.is_empty() {
        return Ok(None);
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| ())?;
    let text = String::from_utf8(bytes).map_err(|_| ())?;
    text.strip_prefix(kind)
        .and_then(|rest| rest.strip_prefix(':'))
        .map(|key| Some(key.to_owned()))
        .ok_or(())
}

/// The page size to use: `default` for 0, `requested` when within `1..=max`, `Err` with a
/// description otherwise.
pub fn page_size(requested: i32, default: u64, max: u64) -> Result<u64, String> {
    match u64::try_from(requested) {
        Ok(0) => Ok(default),
        Ok(n) if n <= max => Ok(n),
        _ => Err(format!("must be between 0 and {max}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_are_kind_bound() {
        let token = encode_token("citizens", "001090000001");
        assert_eq!(
            decode_token("citizens", &token),
            Ok(Some("001090000001".to_owned()))
        );
        assert_eq!(decode_token("history", &token), Err(()));
        assert_eq!(decode_token("citizens", ""), Ok(None));
        assert_eq!(decode_token("citizens", "!!not base64"), Err(()));
    }

    #[test]
    fn page_sizes() {
        assert_eq!(page_size(0, 50, 500), Ok(50));
        assert_eq!(page_size(500, 50, 500), Ok(500));
        assert!(page_size(501, 50, 500).is_err());
        assert!(page_size(-1, 50, 500).is_err());
    }
}
