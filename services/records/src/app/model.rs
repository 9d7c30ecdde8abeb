//! The subject-management model: subjects, their classifications, timeline entries and
//! movement alerts, and how they map to stored rows.

use super::{Classification, RecordsError, Source, SourceKind};
use crate::store::{ClassificationRow, MovementAlertRow, SubjectRow, TimelineEntryRow};
use chrono::NaiveDate;

/// Date format of stored dates.
pub(crate) const DATE: &str = "%Y-%m-%d";

/// Who a subject is, as identity knows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PersonRef {
    /// A citizen by personal ID (validated).
    Citizen(dancu_domain::PersonalId),
    /// A foreigner by passport number and nationality (both normalised).
    Foreigner {
        /// Passport number, upper case.
        passport_number: String,
        /// ISO 3166-1 alpha-3.
        nationality: String,
    },
}

impl PersonRef {
    /// The key unique per owning unit.
    pub fn key(&self) -> String {
        match self {
            Self::Citizen(id) => format!("c:{}", id.as_str()),
            Self::Foreigner {
                passport_number,
                nationality,
            } => format!("f:{nationality}:{passport_number}"),
        }
    }

    /// The personal ID, for citizens (the audit event's subject).
    pub fn personal_id(&self) -> Option<&str> {
        match self {
            Self::Citizen(id) => Some(id.as_str()),
            Self::Foreigner { .. } => None,
        }
    }
}

/// A validated request to create a subject.
#[derive(Clone, Debug)]
pub struct NewSubject {
    /// The person.
    pub person: PersonRef,
    /// Where the decision to manage them came from.
    pub source: Source,
}

/// Status of a classification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClassStatus {
    /// In force.
    Active,
    /// Ended.
    Ended,
}

impl ClassStatus {
    /// Storage code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Ended => "ended",
        }
    }
}

/// One classification of a subject.
#[derive(Clone, Debug)]
pub struct SubjectClass {
    /// Id.
    pub id: String,
    /// The subject.
    pub subject_id: String,
    /// The class.
    pub classification: Classification,
    /// First day in force.
    pub start: NaiveDate,
    /// Last day in force.
    pub end: Option<NaiveDate>,
    /// Legal basis.
    pub legal_basis: String,
    /// Owning unit.
    pub owning_unit: String,
    /// Status on the day it is read.
    pub status: ClassStatus,
    /// Source.
    pub source: Source,
    /// Recording officer.
    pub created_by: String,
    /// Recording time (Unix microseconds).
    pub created_us: i64,
}

impl SubjectClass {
    /// Whether the class is in force on some day of `[start, end]` (open end: forever).
    pub fn overlaps(&self, start: NaiveDate, end: Option<NaiveDate>) -> bool {
        let self_end = self.effective_end();
        let starts_before_other_ends = end.is_none_or(|end| self.start <= end);
        let other_starts_before_self_ends = self_end.is_none_or(|self_end| start <= self_end);
        starts_before_other_ends && other_starts_before_self_ends
    }

    /// The end date, or none while open-ended.
    fn effective_end(&self) -> Option<NaiveDate> {
        self.end
    }
}

/// A validated classification to add.
#[derive(Clone, Debug)]
pub struct NewClass {
    /// The subject.
    pub subject_id: String,
    /// The class.
    pub classification: Classification,
    /// First day in force.
    pub start: NaiveDate,
    /// Last day in force.
    pub end: Option<NaiveDate>,
    /// Legal basis.
    pub legal_basis: String,
    /// Source.
    pub source: Source,
}

/// A subject with its classifications.
#[derive(Clone, Debug)]
pub struct Subject {
    /// Id.
    pub id: String,
    /// The person.
    pub person: PersonRef,
    /// Name as identity held it.
    pub full_name: String,
    /// Date of birth as identity held it.
    pub date_of_birth: NaiveDate,
    /// Commune of residence as identity showed it, may be empty.
    pub commune: String,
    /// Life status code, may be empty.
    pub life_status: String,
    /// When the snapshot was refreshed (Unix microseconds).
    pub refreshed_us: i64,
    /// Owning unit.
    pub owning_unit: String,
    /// Owning area.
    pub owning_area: String,
    /// Source.
    pub source: Source,
    /// Classifications visible to the caller.
    pub classes: Vec<SubjectClass>,
    /// Creating officer.
    pub created_by: String,
    /// Creation time (Unix microseconds).
    pub created_us: i64,
}

/// Kind of timeline event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimelineKind {
    /// Arrest.
    Arrest,
    /// Charge.
    Charge,
    /// Conviction.
    Conviction,
    /// Sentence served.
    SentenceServed,
    /// Administrative violation.
    AdministrativeViolation,
    /// Supervision check-in.
    SupervisionCheckIn,
    /// Temporary-absence declaration.
    TemporaryAbsence,
}

const TIMELINE_KINDS: [(TimelineKind, &str); 7] = [
    (TimelineKind::Arrest, "arrest"),
    (TimelineKind::Charge, "charge"),
    (TimelineKind::Conviction, "conviction"),
    (TimelineKind::SentenceServed, "sentence_served"),
    (
        TimelineKind::AdministrativeViolation,
        "administrative_violation",
    ),
    (TimelineKind::SupervisionCheckIn, "supervision_check_in"),
    (TimelineKind::TemporaryAbsence, "temporary_absence"),
];

impl TimelineKind {
    /// Storage code.
    pub fn code(self) -> &'static str {
        super::subjects::code_of(&TIMELINE_KINDS, self)
    }

    /// The kind of a storage code.
    pub fn from_code(code: &str) -> Option<Self> {
        super::subjects::from_code(&TIMELINE_KINDS, code)
    }
}

/// A validated timeline entry to append.
#[derive(Clone, Debug)]
pub struct NewEntry {
    /// The subject.
    pub subject_id: String,
    /// Kind of event.
    pub kind: TimelineKind,
    /// Day of the event.
    pub occurred: NaiveDate,
    /// What happened.
    pub summary: String,
    /// Source.
    pub source: Source,
    /// The entry corrected, if any.
    pub corrects: Option<String>,
}

/// A stored timeline entry.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Id.
    pub id: String,
    /// The entry's content.
    pub entry: NewEntry,
    /// Recording officer.
    pub created_by: String,
    /// Recording time (Unix microseconds).
    pub created_us: i64,
}

/// A movement alert.
#[derive(Clone, Debug)]
pub struct Alert {
    /// The stored row (plain codes; the API maps them).
    pub row: MovementAlertRow,
}

fn source_of(kind: &str, reference: String, issuing_unit: String) -> Result<Source, RecordsError> {
    Ok(Source {
        kind: SourceKind::from_code(kind).ok_or(RecordsError::Corrupt("source_kind"))?,
        reference,
        issuing_unit,
    })
}

fn date_of(text: &str, field: &'static str) -> Result<NaiveDate, RecordsError> {
    NaiveDate::parse_from_str(text, DATE).map_err(|_| RecordsError::Corrupt(field))
}

/// The class stored in `row`, with its status on `today`.
pub(crate) fn class_from_row(
    row: ClassificationRow,
    today: NaiveDate,
) -> Result<SubjectClass, RecordsError> {
    let end = row
        .end_date
        .as_deref()
        .map(|d| date_of(d, "end_date"))
        .transpose()?;
    let status = if row.status == "ended" || end.is_some_and(|end| end < today) {
        ClassStatus::Ended
    } else {
        ClassStatus::Active
    };
    Ok(SubjectClass {
        classification: Classification::from_code(&row.classification)
            .ok_or(RecordsError::Corrupt("classification"))?,
        start: date_of(&row.start_date, "start_date")?,
        end,
        status,
        source: source_of(
            &row.source_kind,
            row.source_reference,
            row.source_issuing_unit,
        )?,
        id: row.id,
        subject_id: row.subject_id,
        legal_basis: row.legal_basis,
        owning_unit: row.owning_unit,
        created_by: row.created_by,
        created_us: row.created_us,
    })
}

/// The row storing `class`.
pub(crate) fn class_to_row(class: &SubjectClass) -> ClassificationRow {
    ClassificationRow {
        id: class.id.clone(),
        subject_id: class.subject_id.clone(),
        classification: class.classification.code().to_owned(),
        start_date: class.start.format(DATE).to_string(),
        end_date: class.end.map(|d| d.format(DATE).to_string()),
        legal_basis: class.legal_basis.clone(),
        owning_unit: class.owning_unit.clone(),
        status: class.status.code().to_owned(),
        source_kind: class.source.kind.code().to_owned(),
        source_reference: class.source.reference.clone(),
        source_issuing_unit: class.source.issuing_unit.clone(),
        created_by: class.created_by.clone(),
        created_us: class.created_us,
    }
}

/// The subject stored in `row`, with `classes`.
pub(crate) fn subject_from_row(
    row: SubjectRow,
    classes: Vec<SubjectClass>,
) -> Result<Subject, RecordsError> {
    let person = match row.kind.as_str() {
        "citizen" => PersonRef::Citizen(
            dancu_domain::PersonalId::parse(&row.personal_id)
                .map_err(|_| RecordsError::Corrupt("personal_id"))?,
        ),
        "foreigner" => PersonRef::Foreigner {
            passport_number: row.passport_number,
            nationality: row.nationality,
        },
        _ => return Err(RecordsError::Corrupt("kind")),
    };
    Ok(Subject {
        person,
        date_of_birth: date_of(&row.snapshot_birth_date, "snapshot_birth_date")?,
        source: source_of(
            &row.source_kind,
            row.source_reference,
            row.source_issuing_unit,
        )?,
        id: row.id,
        full_name: row.snapshot_full_name,
        commune: row.snapshot_commune,
        life_status: row.snapshot_life_status,
        refreshed_us: row.snapshot_refreshed_us,
        owning_unit: row.owning_unit,
        owning_area: row.owning_area,
        classes,
        created_by: row.created_by,
        created_us: row.created_us,
    })
}

/// The entry stored in `row`.
pub(crate) fn entry_from_row(row: TimelineEntryRow) -> Result<Entry, RecordsError> {
    Ok(Entry {
        entry: NewEntry {
            subject_id: row.subject_id,
            kind: TimelineKind::from_code(&row.kind).ok_or(RecordsError::Corrupt("kind"))?,
            occurred: date_of(&row.occur_date, "occur_date")?,
            summary: row.summary,
            source: source_of(
                &row.source_kind,
                row.source_reference,
                row.source_issuing_unit,
            )?,
            corrects: row.corrects_entry_id,
        },
        id: row.id,
        created_by: row.created_by,
        created_us: row.created_us,
    })
}
