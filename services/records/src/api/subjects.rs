//! Validation of the subject-management requests and mapping of their answers.

use super::{classification_from_proto, validate_source};
use crate::app::{
    Alert, ClassStatus, Classification, Entry, NewClass, NewEntry, NewSubject, PersonRef, Source,
    Subject, SubjectClass, TimelineKind,
};
use crate::store::SubjectFilter;
use chrono::NaiveDate;
use dancu_domain::PersonalId;
use dancu_kit::convert::{date_from_proto, date_to_proto, timestamp_from_us};
use dancu_kit::error::FieldViolations;
use dancu_kit::paging;
use dancu_proto::records::v1 as pb;
use tonic::Status;

/// Default page size of the lists.
const DEFAULT_PAGE: u64 = 50;
/// Largest page size of the lists.
const MAX_PAGE: u64 = 500;
/// Longest legal basis.
pub(crate) const MAX_LEGAL_BASIS_CHARS: usize = 500;
/// Longest timeline summary.
pub(crate) const MAX_SUMMARY_CHARS: usize = 2_000;
/// Page-token kinds.
pub(crate) const SUBJECTS_PAGE: &str = "subjects";
/// Page-token kind of timelines (bound to the subject).
pub(crate) const TIMELINE_PAGE: &str = "timeline";
/// Page-token kind of alert lists.
pub(crate) const ALERTS_PAGE: &str = "alerts";

/// A validated id: a UUID.
pub(crate) fn uuid(field: &str, value: &str, violations: &mut FieldViolations) -> String {
    let value = value.trim();
    if uuid::Uuid::parse_str(value).is_err() {
        violations.add(field, "must be a UUID");
    }
    value.to_owned()
}

/// Page size and token of a list request.
pub(crate) fn page(
    kind: &str,
    size: i32,
    token: &str,
    violations: &mut FieldViolations,
) -> (u64, Option<String>) {
    let size = paging::page_size(size, DEFAULT_PAGE, MAX_PAGE)
        .map_err(|e| violations.add("page_size", e))
        .unwrap_or(DEFAULT_PAGE);
    let after = paging::decode_token(kind, token)
        .map_err(|()| violations.add("page_token", "is not a token this list issued"))
        .ok()
        .flatten();
    (size, after)
}

pub(crate) fn date(
    field: &str,
    value: Option<&dancu_proto::common::v1::Date>,
    required: bool,
    violations: &mut FieldViolations,
) -> Option<NaiveDate> {
    match value {
        None if required => {
            violations.add(field, "is required");
            None
        }
        None => None,
        Some(value) => {
            let parsed = date_from_proto(value);
            if parsed.is_none() {
                violations.add(field, "must be a full, existing date");
            }
            parsed
        }
    }
}

pub(crate) fn not_future(field: &str, value: Option<NaiveDate>, violations: &mut FieldViolations) {
    if value.is_some_and(|d| d > dancu_kit::convert::today_in_vietnam()) {
        violations.add(field, "must not be in the future");
    }
}

pub(crate) fn text(
    field: &str,
    value: &str,
    max: usize,
    violations: &mut FieldViolations,
) -> String {
    let value = value.trim();
    let chars = value.chars().count();
    if chars == 0 || chars > max || value.chars().any(char::is_control) {
        violations.add(
            field,
            format!("must be 1 to {max} characters, without control characters"),
        );
    }
    value.to_owned()
}

pub(crate) fn source(
    value: Option<pb::SourceReference>,
    violations: &mut FieldViolations,
) -> Option<Source> {
    match value {
        None => {
            violations.add("source", "is required");
            None
        }
        Some(source) => validate_source(source, violations),
    }
}

/// Validates CreateSubject.
pub(crate) fn create(request: pb::CreateSubjectRequest) -> Result<NewSubject, Status> {
    use pb::create_subject_request::Person;
    let mut violations = FieldViolations::new();
    let person = match request.person {
        None => {
            violations.add("person", "one of personal_id or foreigner is required");
            None
        }
        Some(Person::PersonalId(id)) => PersonalId::parse(id.trim())
            .map(PersonRef::Citizen)
            .map_err(|e| violations.add("personal_id", e.to_string()))
            .ok(),
        Some(Person::Foreigner(key)) => {
            let passport = dancu_domain::foreigner::normalize_passport_number(&key.passport_number)
                .map_err(|e| violations.add("foreigner.passport_number", e.to_string()))
                .ok();
            let nationality = dancu_domain::foreigner::normalize_nationality(&key.nationality)
                .map_err(|e| violations.add("foreigner.nationality", e.to_string()))
                .ok();
            passport
                .zip(nationality)
                .map(|(passport_number, nationality)| PersonRef::Foreigner {
                    passport_number,
                    nationality,
                })
        }
    };
    let source = source(request.source, &mut violations);
    violations.check()?;
    match (person, source) {
        (Some(person), Some(source)) => Ok(NewSubject { person, source }),
        _ => Err(Status::internal("validation incomplete")),
    }
}

/// Validates ListSubjects; returns the filter (jurisdiction added by the use case), the
/// page size and the key to continue after.
pub(crate) fn list(
    request: &pb::ListSubjectsRequest,
) -> Result<(SubjectFilter, u64, Option<String>), Status> {
    let mut violations = FieldViolations::new();
    let mut filter = SubjectFilter::default();
    if request.classification != 0 {
        match classification_from_proto(request.classification) {
            Some(class) => filter.classification = Some(class.code().to_owned()),
            None => violations.add("classification", "must be a known classification"),
        }
    }
    match pb::ClassificationStatus::try_from(request.status) {
        Ok(pb::ClassificationStatus::Unspecified) => {}
        Ok(status) => {
            let code = if status == pb::ClassificationStatus::Active {
                "active"
            } else {
                "ended"
            };
            filter.status = Some((
                code.to_owned(),
                dancu_kit::convert::today_in_vietnam()
                    .format("%Y-%m-%d")
                    .to_string(),
            ));
        }
        Err(_) => violations.add("status", "must be a known classification status"),
    }
    let commune = request.commune.trim();
    if !commune.is_empty() {
        if dancu_domain::AreaTable::builtin()
            .commune(commune)
            .is_none()
        {
            violations.add("commune", "must be a known 5-digit commune code");
        }
        filter.commune = Some(commune.to_owned());
    }
    let unit = request.owning_unit.trim();
    if !unit.is_empty() {
        if unit.len() > 32
            || !unit
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            violations.add("owning_unit", "must be a unit code");
        }
        filter.owning_unit = Some(unit.to_owned());
    }
    let (size, after) = page(
        SUBJECTS_PAGE,
        request.page_size,
        &request.page_token,
        &mut violations,
    );
    violations.check()?;
    Ok((filter, size, after))
}

/// Validates AddClassification.
pub(crate) fn add_class(request: pb::AddClassificationRequest) -> Result<NewClass, Status> {
    let mut violations = FieldViolations::new();
    let subject_id = uuid("subject_id", &request.subject_id, &mut violations);
    let classification = classification_from_proto(request.classification);
    if classification.is_none() {
        violations.add(
            "classification",
            "is required and must be a known classification",
        );
    }
    let start = date(
        "start_date",
        request.start_date.as_ref(),
        true,
        &mut violations,
    );
    not_future("start_date", start, &mut violations);
    let end = date(
        "end_date",
        request.end_date.as_ref(),
        false,
        &mut violations,
    );
    if let (Some(start), Some(end)) = (start, end)
        && end < start
    {
        violations.add("end_date", "must not be before start_date");
    }
    let legal_basis = text(
        "legal_basis",
        &request.legal_basis,
        MAX_LEGAL_BASIS_CHARS,
        &mut violations,
    );
    let source = source(request.source, &mut violations);
    violations.check()?;
    match (classification, start, source) {
        (Some(classification), Some(start), Some(source)) => Ok(NewClass {
            subject_id,
            classification,
            start,
            end,
            legal_basis,
            source,
        }),
        _ => Err(Status::internal("validation incomplete")),
    }
}

/// Validates EndClassification.
pub(crate) fn end_class(
    request: &pb::EndClassificationRequest,
) -> Result<(String, NaiveDate), Status> {
    let mut violations = FieldViolations::new();
    let id = uuid("id", &request.id, &mut violations);
    let end = date("end_date", request.end_date.as_ref(), true, &mut violations);
    violations.check()?;
    end.map(|end| (id, end))
        .ok_or_else(|| Status::internal("validation incomplete"))
}

const TIMELINE_MAP: [(pb::TimelineEntryKind, TimelineKind); 7] = [
    (pb::TimelineEntryKind::Arrest, TimelineKind::Arrest),
    (pb::TimelineEntryKind::Charge, TimelineKind::Charge),
    (pb::TimelineEntryKind::Conviction, TimelineKind::Conviction),
    (
        pb::TimelineEntryKind::SentenceServed,
        TimelineKind::SentenceServed,
    ),
    (
        pb::TimelineEntryKind::AdministrativeViolation,
        TimelineKind::AdministrativeViolation,
    ),
    (
        pb::TimelineEntryKind::SupervisionCheckIn,
        TimelineKind::SupervisionCheckIn,
    ),
    (
        pb::TimelineEntryKind::TemporaryAbsence,
        TimelineKind::TemporaryAbsence,
    ),
];

/// The timeline kind of a wire value; `None` for unspecified or unknown.
pub(crate) fn timeline_kind(value: i32) -> Option<TimelineKind> {
    let wire = pb::TimelineEntryKind::try_from(value).ok()?;
    TIMELINE_MAP
        .iter()
        .find(|(p, _)| *p == wire)
        .map(|(_, k)| *k)
}

/// Validates AppendTimelineEntry.
pub(crate) fn append(request: pb::AppendTimelineEntryRequest) -> Result<NewEntry, Status> {
    let mut violations = FieldViolations::new();
    let subject_id = uuid("subject_id", &request.subject_id, &mut violations);
    let kind = timeline_kind(request.kind);
    if kind.is_none() {
        violations.add("kind", "is required and must be a known entry kind");
    }
    let occurred = date(
        "occur_date",
        request.occur_date.as_ref(),
        true,
        &mut violations,
    );
    not_future("occur_date", occurred, &mut violations);
    let summary = text(
        "summary",
        &request.summary,
        MAX_SUMMARY_CHARS,
        &mut violations,
    );
    let source = source(request.source, &mut violations);
    let corrects = (!request.corrects_entry_id.trim().is_empty()).then(|| {
        uuid(
            "corrects_entry_id",
            &request.corrects_entry_id,
            &mut violations,
        )
    });
    violations.check()?;
    match (kind, occurred, source) {
        (Some(kind), Some(occurred), Some(source)) => Ok(NewEntry {
            subject_id,
            kind,
            occurred,
            summary,
            source,
            corrects,
        }),
        _ => Err(Status::internal("validation incomplete")),
    }
}

fn class_to_wire(class: Classification) -> i32 {
    super::CLASSIFICATION_MAP
        .iter()
        .find(|(_, c)| *c == class)
        .map(|(p, _)| *p as i32)
        .unwrap_or_default()
}

fn source_to_wire(source: Source) -> pb::SourceReference {
    pb::SourceReference {
        kind: super::SOURCE_KIND_MAP
            .iter()
            .find(|(_, k)| *k == source.kind)
            .map(|(p, _)| *p as i32)
            .unwrap_or_default(),
        reference: source.reference,
        issuing_unit: source.issuing_unit,
    }
}

/// The wire form of a classification.
pub(crate) fn class_to_proto(class: SubjectClass) -> pb::SubjectClassification {
    pb::SubjectClassification {
        id: class.id,
        subject_id: class.subject_id,
        classification: class_to_wire(class.classification),
        start_date: Some(date_to_proto(class.start)),
        end_date: class.end.map(date_to_proto),
        legal_basis: class.legal_basis,
        owning_unit: class.owning_unit,
        status: match class.status {
            ClassStatus::Active => pb::ClassificationStatus::Active,
            ClassStatus::Ended => pb::ClassificationStatus::Ended,
        } as i32,
        source: Some(source_to_wire(class.source)),
        created_by: class.created_by,
        create_time: Some(timestamp_from_us(class.created_us)),
    }
}

/// The wire form of a subject.
pub(crate) fn subject_to_proto(subject: Subject) -> pb::Subject {
    let (kind, personal_id, foreigner) = match subject.person {
        PersonRef::Citizen(id) => (pb::SubjectKind::Citizen, id.as_str().to_owned(), None),
        PersonRef::Foreigner {
            passport_number,
            nationality,
        } => (
            pb::SubjectKind::Foreigner,
            String::new(),
            Some(pb::ForeignerKey {
                passport_number,
                nationality,
            }),
        ),
    };
    let life_status = match subject.life_status.as_str() {
        "alive" => pb::SubjectLifeStatus::Alive,
        "deceased" => pb::SubjectLifeStatus::Deceased,
        "missing" => pb::SubjectLifeStatus::Missing,
        _ => pb::SubjectLifeStatus::Unspecified,
    };
    pb::Subject {
        id: subject.id,
        kind: kind as i32,
        personal_id,
        foreigner,
        snapshot: Some(pb::IdentitySnapshot {
            full_name: subject.full_name,
            date_of_birth: Some(date_to_proto(subject.date_of_birth)),
            residence_commune: subject.commune,
            life_status: life_status as i32,
            refresh_time: Some(timestamp_from_us(subject.refreshed_us)),
        }),
        owning_unit: subject.owning_unit,
        owning_area: subject.owning_area,
        source: Some(source_to_wire(subject.source)),
        classifications: subject.classes.into_iter().map(class_to_proto).collect(),
        created_by: subject.created_by,
        create_time: Some(timestamp_from_us(subject.created_us)),
    }
}

/// The wire form of a timeline entry.
pub(crate) fn entry_to_proto(entry: Entry) -> pb::TimelineEntry {
    let kind = TIMELINE_MAP
        .iter()
        .find(|(_, k)| *k == entry.entry.kind)
        .map(|(p, _)| *p as i32)
        .unwrap_or_default();
    pb::TimelineEntry {
        id: entry.id,
        subject_id: entry.entry.subject_id,
        kind,
        occur_date: Some(date_to_proto(entry.entry.occurred)),
        summary: entry.entry.summary,
        source: Some(source_to_wire(entry.entry.source)),
        corrects_entry_id: entry.entry.corrects.unwrap_or_default(),
        created_by: entry.created_by,
        create_time: Some(timestamp_from_us(entry.created_us)),
    }
}

/// The wire form of an alert.
pub(crate) fn alert_to_proto(alert: Alert) -> pb::MovementAlert {
    let row = alert.row;
    let kind = match row.kind.as_str() {
        "moved" => pb::MovementKind::Moved,
        "absence" => pb::MovementKind::Absence,
        "deceased" => pb::MovementKind::Deceased,
        "missing" => pb::MovementKind::Missing,
        _ => pb::MovementKind::Unspecified,
    };
    pb::MovementAlert {
        id: row.id,
        subject_id: row.subject_id,
        owning_unit: row.owning_unit,
        kind: kind as i32,
        supervision: row
            .supervision
            .split(',')
            .filter_map(Classification::from_code)
            .map(class_to_wire)
            .collect(),
        previous_commune: row.previous_commune,
        commune: row.commune,
        residence_kind: row.residence_kind,
        change_time: Some(timestamp_from_us(row.change_us)),
        create_time: Some(timestamp_from_us(row.created_us)),
    }
}
