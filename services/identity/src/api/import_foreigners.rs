//! Decoding the rows of `ImportForeigners`: a foreigner, validated as for
//! `RegisterForeigner`, and the declaration a source register received for them, validated
//! as for `DeclareAccommodation` with its receive and check-out times.

use super::foreigner_input::{DeclarationSource, decode_declaration, decode_foreigner};
use super::import::row_errors;
use crate::app::{ForeignerCandidate, RowError};
use dancu_kit::error::FieldViolations;
use dancu_proto::identity::v1 as pb;

/// Decodes one row, or every problem found in it.
pub(super) fn decode_foreigner_row(
    row: pb::ImportForeignerRow,
) -> Result<ForeignerCandidate, Vec<RowError>> {
    let mut violations = FieldViolations::new();
    let foreigner = match &row.foreigner {
        Some(foreigner) => decode_foreigner(foreigner, &mut violations),
        None => {
            violations.add("foreigner", "is required");
            None
        }
    };
    let declaration = row
        .declaration
        .as_ref()
        .map(|d| decode_declaration(d, DeclarationSource::Imported, &mut violations));
    match (violations.is_empty(), foreigner, declaration) {
        (true, Some(foreigner), None) => Ok(ForeignerCandidate {
            line: row.line,
            foreigner,
            declaration: None,
        }),
        (true, Some(foreigner), Some(Some(declaration))) => Ok(ForeignerCandidate {
            line: row.line,
            foreigner,
            declaration: Some(declaration),
        }),
        _ => Err(row_errors(row.line, &violations, "foreigner")),
    }
}
