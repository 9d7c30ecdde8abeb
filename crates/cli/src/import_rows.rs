//! The request rows of `dancu import`: a citizen line for identity's
//! `ImportCitizens`, a foreigner line for its `ImportForeigners`, a subject line for
//! records' `ImportSubjects` (all three acknowledge with `dancu.common.v1.ImportBatchResult`).
//! Codes the server does not know are sent as "unspecified", and unreadable dates and times
//! as invalid values, which the server rejects by field; the client judges nothing else.

use dancu_popgen::record::{CitizenLine, ForeignerLine, SubjectLine};
use dancu_proto::common::v1 as common;
use dancu_proto::identity::v1 as pb;
use dancu_proto::records::v1 as records;

/// A `YYYY`, `YYYY-MM` or `YYYY-MM-DD` date (zeros for what is missing); an unreadable
/// text gives an empty date, which the server rejects.
fn date(text: &str) -> Option<common::Date> {
    if text.is_empty() {
        return None;
    }
    let mut parts = text.split('-').map(|p| p.parse::<i32>());
    let year = parts.next().and_then(Result::ok).unwrap_or(0);
    let month = parts.next().and_then(Result::ok).unwrap_or(0);
    let day = parts.next().and_then(Result::ok).unwrap_or(0);
    Some(common::Date { year, month, day })
}

/// An RFC 3339 time (`None` when empty); an unreadable text gives a timestamp with
/// out-of-range nanoseconds, which the server rejects as not a valid timestamp.
fn time(text: &str) -> Option<prost_types::Timestamp> {
    if text.is_empty() {
        return None;
    }
    Some(match chrono::DateTime::parse_from_rfc3339(text) {
        Ok(at) => prost_types::Timestamp {
            seconds: at.timestamp(),
            nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
        },
        Err(_) => prost_types::Timestamp {
            seconds: 0,
            nanos: -1,
        },
    })
}

/// The request row of a foreigner line. The declaration is sent when the line has any of
/// its fields (`host_name`, `arrival`, `planned_departure`, `declared`).
pub fn foreigner_row(line: u64, f: ForeignerLine) -> pb::ImportForeignerRow {
    let sex = wire(
        common::Sex::from_str_name,
        "SEX_",
        &f.sex,
        common::Sex::Unspecified,
    );
    let document =
        (!f.document_type.is_empty() || !f.document_number.is_empty()).then(|| pb::EntryDocument {
            r#type: wire(
                pb::EntryDocumentType::from_str_name,
                "ENTRY_DOCUMENT_TYPE_",
                &f.document_type,
                pb::EntryDocumentType::Unspecified,
            ),
            number: f.document_number,
            valid_from: date(&f.document_valid_from),
            valid_until: date(&f.document_valid_until),
        });
    let declared = [&f.host_name, &f.arrival, &f.planned_departure, &f.declared]
        .iter()
        .any(|field| !field.is_empty());
    let declaration = declared.then(|| pb::AccommodationDeclaration {
        host_name: f.host_name,
        commune_code: f.commune,
        address: f.address,
        arrival_time: time(&f.arrival),
        planned_departure_time: time(&f.planned_departure),
        receive_time: time(&f.declared),
        ..pb::AccommodationDeclaration::default()
    });
    pb::ImportForeignerRow {
        line,
        foreigner: Some(pb::Foreigner {
            passport_number: f.passport_number,
            nationality: f.nationality,
            full_name: f.full_name,
            sex,
            date_of_birth: date(&f.date_of_birth),
            entry_document: document,
            ..pb::Foreigner::default()
        }),
        declaration,
        batch_size: 0,
    }
}

/// The request row of a citizen line.
pub fn citizen_row(line: u64, c: CitizenLine) -> pb::ImportCitizenRow {
    let sex = wire(
        common::Sex::from_str_name,
        "SEX_",
        &c.sex,
        common::Sex::Unspecified,
    );
    let blood_type = wire(
        pb::BloodType::from_str_name,
        "BLOOD_TYPE_",
        &c.blood_type,
        pb::BloodType::Unspecified,
    );
    let marital_status = wire(
        pb::MaritalStatus::from_str_name,
        "MARITAL_STATUS_",
        &c.marital_status,
        pb::MaritalStatus::Unspecified,
    );
    let life_status = wire(
        pb::LifeStatus::from_str_name,
        "LIFE_STATUS_",
        &c.life_status,
        pb::LifeStatus::Alive,
    );
    let residences = c
        .residence
        .into_iter()
        .map(|r| pb::ImportResidence {
            kind: wire(
                pb::ResidenceKind::from_str_name,
                "RESIDENCE_KIND_",
                &r.kind,
                pb::ResidenceKind::Unspecified,
            ),
            commune_code: r.commune,
            address: r.address,
            start_date: date(&r.from),
            end_date: date(&r.until),
        })
        .collect();
    pb::ImportCitizenRow {
        line,
        citizen: Some(pb::Citizen {
            personal_id: c.personal_id,
            full_name: c.full_name,
            sex,
            date_of_birth: date(&c.date_of_birth),
            place_of_birth: c.place_of_birth,
            home_town: c.home_town,
            ethnicity: c.ethnicity,
            religion: c.religion,
            nationality: c.nationality,
            blood_type,
            marital_status,
            phone: c.phone,
            email: c.email,
            family: Some(pb::FamilyLinks {
                father_id: c.father_id,
                mother_id: c.mother_id,
                spouse_id: c.spouse_id,
                ..pb::FamilyLinks::default()
            }),
            life_status,
            life_status_date: date(&c.life_status_date),
            ..pb::Citizen::default()
        }),
        residences,
        batch_size: 0,
    }
}

/// The wire value of a line's lowercase code for a proto enum whose value names are the
/// prefix and the upper-cased code (`drug_related` → `CLASSIFICATION_DRUG_RELATED`), as
/// every enum the generator's codes map to is named; `fallback` when the code names none.
fn wire<E: Into<i32>>(
    from_name: fn(&str) -> Option<E>,
    prefix: &str,
    code: &str,
    fallback: E,
) -> i32 {
    from_name(&format!("{prefix}{}", code.to_ascii_uppercase()))
        .unwrap_or(fallback)
        .into()
}

/// The wire value of a classification code (`drug_related`, …); 0 when unknown.
fn classification(code: &str) -> i32 {
    use records::Classification as C;
    wire(C::from_str_name, "CLASSIFICATION_", code, C::Unspecified)
}

/// The wire value of a source kind code (`investigation`, …); 0 when unknown.
fn source_kind(code: &str) -> i32 {
    use records::SourceKind as S;
    wire(S::from_str_name, "SOURCE_KIND_", code, S::Unspecified)
}

/// The wire value of a timeline event kind code (`arrest`, …); 0 when unknown.
fn entry_kind(code: &str) -> i32 {
    use records::TimelineEntryKind as K;
    wire(
        K::from_str_name,
        "TIMELINE_ENTRY_KIND_",
        code,
        K::Unspecified,
    )
}

/// The request row of a subject line: the subject owned by `owning_unit`, one
/// classification from `since` (the first timeline event when empty) on `legal_basis`,
/// and the timeline. The subject, its classification and every event cite the decision
/// `reference` issued by the owning unit; the subject's source kind is that of its first
/// event (operational work when it has none).
pub fn subject_row(line: u64, s: SubjectLine) -> records::ImportSubjectRow {
    let cite = |kind: &str| records::SourceReference {
        kind: source_kind(kind),
        reference: s.reference.clone(),
        issuing_unit: s.owning_unit.clone(),
    };
    let first_source = s
        .timeline
        .first()
        .map_or("operational", |t| t.source.as_str());
    let since = if s.since.is_empty() {
        s.timeline
            .iter()
            .map(|t| t.date.as_str())
            .min()
            .unwrap_or_default()
    } else {
        s.since.as_str()
    };
    let classifications = vec![records::ImportClassification {
        classification: classification(&s.classification),
        start_date: date(since),
        end_date: None,
        legal_basis: s.legal_basis.clone(),
        source: Some(cite(first_source)),
    }];
    let timeline = s
        .timeline
        .iter()
        .map(|t| records::ImportTimelineEntry {
            kind: entry_kind(&t.kind),
            occur_date: date(&t.date),
            summary: t.summary.clone(),
            source: Some(cite(&t.source)),
        })
        .collect();
    records::ImportSubjectRow {
        line,
        source: Some(cite(first_source)),
        personal_id: s.personal_id,
        owning_unit: s.owning_unit,
        classifications,
        timeline,
        batch_size: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_their_enum_values_and_unknown_ones_to_the_fallback() {
        assert_eq!(
            classification("drug_related"),
            records::Classification::DrugRelated as i32
        );
        assert_eq!(entry_kind("supervision_check_in"), 6);
        assert_eq!(source_kind("judgment_enforcement"), 2);
        // A value name of another enum sharing the prefix is not a classification.
        assert_eq!(classification("status_active"), 0);
        assert_eq!(classification(""), 0);
        assert_eq!(
            wire(
                pb::LifeStatus::from_str_name,
                "LIFE_STATUS_",
                "gone",
                pb::LifeStatus::Alive
            ),
            pb::LifeStatus::Alive as i32
        );
        assert_eq!(
            wire(
                pb::BloodType::from_str_name,
                "BLOOD_TYPE_",
                "ab",
                pb::BloodType::Unspecified
            ),
            pb::BloodType::Ab as i32
        );
    }
}
