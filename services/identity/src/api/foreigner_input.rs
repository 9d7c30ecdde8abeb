//! Decoding foreign nationals and accommodation declarations from the wire: every field is
//! checked and every problem reported at once, as field violations. Shared by
//! `ForeignerService` (one foreigner or declaration per call) and the bulk import (one per
//! row, with the declaration a source register received earlier).

use super::register_errors::check;
use crate::app::{Accommodation as Declaration, EntryDocument, Foreigner};
use chrono::NaiveDate;
use dancu_domain::foreigner::{
    CLOCK_SKEW_US, EntryDocumentKind, StayError, check_stay, normalize_nationality,
    normalize_passport_number,
};
use dancu_domain::{AreaTable, normalize_full_name, validate_birth_date};
use dancu_kit::convert::{date_from_proto, sex_from_proto, timestamp_to_us};
use dancu_kit::error::FieldViolations;
use dancu_proto::common::v1 as common;
use dancu_proto::identity::v1 as pb;

/// Longest host or establishment name.
const MAX_HOST_CHARS: usize = 200;
/// Longest accommodation address.
const MAX_ADDRESS_CHARS: usize = 300;
/// Longest entry document number.
const MAX_DOCUMENT_CHARS: usize = 32;

/// A commune code known to the area table.
pub(super) fn commune_code(
    field: &str,
    raw: &str,
    violations: &mut FieldViolations,
) -> Option<String> {
    let code = raw.trim();
    if code.is_empty() {
        violations.add(field, "is required");
        return None;
    }
    match AreaTable::builtin().commune(code) {
        Some(commune) => Some(commune.code.clone()),
        None => {
            violations.add(field, "is not a known commune code");
            None
        }
    }
}

/// A required, real calendar date.
fn required_date(
    field: &str,
    date: Option<&common::Date>,
    violations: &mut FieldViolations,
) -> Option<NaiveDate> {
    match date {
        None => {
            violations.add(field, "is required");
            None
        }
        Some(date) => {
            let parsed = date_from_proto(date);
            if parsed.is_none() {
                violations.add(field, "is not a real calendar date");
            }
            parsed
        }
    }
}

/// A required, representable timestamp (Unix microseconds).
fn required_time(
    field: &str,
    time: Option<&prost_types::Timestamp>,
    violations: &mut FieldViolations,
) -> Option<i64> {
    match time {
        None => {
            violations.add(field, "is required");
            None
        }
        Some(time) => optional_time(field, Some(time), violations),
    }
}

/// An optional timestamp (Unix microseconds); reported when set but not representable.
fn optional_time(
    field: &str,
    time: Option<&prost_types::Timestamp>,
    violations: &mut FieldViolations,
) -> Option<i64> {
    let time = time?;
    let us = timestamp_to_us(time);
    if us.is_none() {
        violations.add(field, "is not a valid timestamp");
    }
    us
}

/// The foreigner described by `f` (fields named `foreigner.…`), or `None` with every
/// problem added to `v`.
pub(super) fn decode_foreigner(f: &pb::Foreigner, v: &mut FieldViolations) -> Option<Foreigner> {
    let passport_number = normalize_passport_number(&f.passport_number)
        .map_err(|e| v.add("foreigner.passport_number", e.to_string()))
        .ok();
    let nationality = normalize_nationality(&f.nationality)
        .map_err(|e| v.add("foreigner.nationality", e.to_string()))
        .ok();
    let full_name = normalize_full_name(&f.full_name)
        .map_err(|e| v.add("foreigner.full_name", e.to_string()))
        .ok();
    let sex = sex_from_proto(f.sex);
    if sex.is_none() {
        v.add("foreigner.sex", "is required (SEX_MALE or SEX_FEMALE)");
    }
    let today = chrono::Utc::now().date_naive();
    let date_of_birth = required_date("foreigner.date_of_birth", f.date_of_birth.as_ref(), v)
        .and_then(|date| {
            validate_birth_date(date, today)
                .map(|()| date)
                .map_err(|e| v.add("foreigner.date_of_birth", e.to_string()))
                .ok()
        });
    let document = decode_document(f.entry_document.as_ref(), v);
    Some(Foreigner {
        id: String::new(),
        nationality: nationality?,
        passport_number: passport_number?,
        full_name: full_name?,
        sex: sex?,
        date_of_birth: date_of_birth?,
        document: document?,
        created_us: 0,
        version: 0,
    })
}

fn decode_document(
    document: Option<&pb::EntryDocument>,
    v: &mut FieldViolations,
) -> Option<EntryDocument> {
    const FIELD: &str = "foreigner.entry_document";
    let Some(d) = document else {
        v.add(FIELD, "is required (visa or residence card)");
        return None;
    };
    let kind = match pb::EntryDocumentType::try_from(d.r#type) {
        Ok(pb::EntryDocumentType::Visa) => Some(EntryDocumentKind::Visa),
        Ok(pb::EntryDocumentType::TemporaryResidenceCard) => {
            Some(EntryDocumentKind::TemporaryResidenceCard)
        }
        Ok(pb::EntryDocumentType::PermanentResidenceCard) => {
            Some(EntryDocumentKind::PermanentResidenceCard)
        }
        Ok(pb::EntryDocumentType::Unspecified) | Err(_) => {
            v.add(
                "foreigner.entry_document.type",
                "is required (visa, temporary or permanent residence card)",
            );
            None
        }
    };
    let number = d.number.trim().to_ascii_uppercase();
    if number.is_empty() {
        v.add("foreigner.entry_document.number", "is required");
    } else if number.len() > MAX_DOCUMENT_CHARS
        || !number
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'/')
    {
        v.add(
            "foreigner.entry_document.number",
            "must be 1 to 32 letters, digits, '-' or '/'",
        );
    }
    let valid_from = required_date(
        "foreigner.entry_document.valid_from",
        d.valid_from.as_ref(),
        v,
    );
    let valid_until = match (&d.valid_until, kind) {
        (None, Some(EntryDocumentKind::PermanentResidenceCard)) => None,
        (until, _) => required_date("foreigner.entry_document.valid_until", until.as_ref(), v),
    };
    if let (Some(from), Some(until)) = (valid_from, valid_until)
        && until < from
    {
        v.add(
            "foreigner.entry_document.valid_until",
            "must not be before valid_from",
        );
    }
    Some(EntryDocument {
        kind: kind?,
        number,
        valid_from: valid_from?,
        valid_until,
    })
}

/// Where a declaration comes from, which decides the fields it must carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum DeclarationSource {
    /// Declared now (`DeclareAccommodation`): names its guest by `foreigner_id`; the
    /// register sets the receive time, and a check-out comes later.
    Live,
    /// Migrated from a source register with its guest (`ImportForeigners`): no
    /// `foreigner_id`; the source's `receive_time` is required, a `check_out_time` kept.
    Imported,
}

/// The declaration described by `d` (fields named `declaration.…`), or `None` with every
/// problem added to `v`. `late` is left false: the register judges it.
pub(super) fn decode_declaration(
    d: &pb::AccommodationDeclaration,
    source: DeclarationSource,
    v: &mut FieldViolations,
) -> Option<Declaration> {
    let foreigner_id = match source {
        DeclarationSource::Live => check::id("declaration.foreigner_id", &d.foreigner_id, v),
        DeclarationSource::Imported => {
            if !d.foreigner_id.trim().is_empty() {
                v.add(
                    "declaration.foreigner_id",
                    "must be empty: an imported declaration is its row's foreigner's",
                );
            }
            Some(String::new())
        }
    };
    let host_name = check::text(
        "declaration.host_name",
        &d.host_name,
        MAX_HOST_CHARS,
        true,
        v,
    );
    let commune_code = commune_code("declaration.commune_code", &d.commune_code, v);
    let address = check::text(
        "declaration.address",
        &d.address,
        MAX_ADDRESS_CHARS,
        true,
        v,
    );
    let arrival = required_time("declaration.arrival_time", d.arrival_time.as_ref(), v);
    let departure = required_time(
        "declaration.planned_departure_time",
        d.planned_departure_time.as_ref(),
        v,
    );
    let now = chrono::Utc::now().timestamp_micros();
    if let (Some(arrival), Some(departure)) = (arrival, departure) {
        match check_stay(arrival, departure, now) {
            Ok(()) => {}
            Err(e @ StayError::ArrivalInFuture) => {
                v.add("declaration.arrival_time", e.to_string());
            }
            Err(e @ StayError::DepartureBeforeArrival) => {
                v.add("declaration.planned_departure_time", e.to_string());
            }
        }
    }
    let (received_us, checked_out_us) = match source {
        DeclarationSource::Live => (Some(0), None),
        DeclarationSource::Imported => {
            let received = required_time("declaration.receive_time", d.receive_time.as_ref(), v);
            let checked_out =
                optional_time("declaration.check_out_time", d.check_out_time.as_ref(), v);
            if let (Some(arrival), Some(received)) = (arrival, received) {
                if received > now.saturating_add(CLOCK_SKEW_US) {
                    v.add("declaration.receive_time", "must not be in the future");
                } else if received < arrival.saturating_sub(CLOCK_SKEW_US) {
                    v.add(
                        "declaration.receive_time",
                        "must not be before the arrival time (a guest is declared once there)",
                    );
                }
            }
            if let (Some(arrival), Some(out)) = (arrival, checked_out) {
                if out > now.saturating_add(CLOCK_SKEW_US) {
                    v.add("declaration.check_out_time", "must not be in the future");
                } else if out <= arrival {
                    v.add(
                        "declaration.check_out_time",
                        "must be after the arrival time",
                    );
                }
            }
            (received, checked_out)
        }
    };
    Some(Declaration {
        id: String::new(),
        foreigner_id: foreigner_id?,
        host_name,
        commune_code: commune_code?,
        address,
        arrival_us: arrival?,
        planned_departure_us: departure?,
        remote_area: d.remote_area,
        received_us: received_us?,
        late: false,
        checked_out_us,
    })
}
