//! The request rows and acknowledgements of `dancu import`: a citizen line for identity's `ImportCitizens`, a
//! subject line for records' `ImportSubjects`. Codes the server does not know are sent as
//! "unspecified", which the server rejects by field; the client judges nothing else.

use dancu_popgen::record::{CitizenLine, SubjectLine};
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

/// The request row of a citizen line.
pub fn citizen_row(line: u64, c: CitizenLine) -> pb::ImportCitizenRow {
    let sex = match c.sex.as_str() {
        "male" => common::Sex::Male,
        "female" => common::Sex::Female,
        _ => common::Sex::Unspecified,
    };
    let blood_type = match c.blood_type.as_str() {
        "a" => pb::BloodType::A,
        "b" => pb::BloodType::B,
        "ab" => pb::BloodType::Ab,
        "o" => pb::BloodType::O,
        _ => pb::BloodType::Unspecified,
    };
    let marital_status = match c.marital_status.as_str() {
        "single" => pb::MaritalStatus::Single,
        "married" => pb::MaritalStatus::Married,
        "divorced" => pb::MaritalStatus::Divorced,
        "widowed" => pb::MaritalStatus::Widowed,
        _ => pb::MaritalStatus::Unspecified,
    };
    let life_status = match c.life_status.as_str() {
        "deceased" => pb::LifeStatus::Deceased,
        "missing" => pb::LifeStatus::Missing,
        _ => pb::LifeStatus::Alive,
    };
    let residences = c
        .residence
        .into_iter()
        .map(|r| pb::ImportResidence {
            kind: match r.kind.as_str() {
                "permanent" => pb::ResidenceKind::Permanent,
                "temporary" => pb::ResidenceKind::Temporary,
                _ => pb::ResidenceKind::Unspecified,
            } as i32,
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
            sex: sex as i32,
            date_of_birth: date(&c.date_of_birth),
            place_of_birth: c.place_of_birth,
            home_town: c.home_town,
            ethnicity: c.ethnicity,
            religion: c.religion,
            nationality: c.nationality,
            blood_type: blood_type as i32,
            marital_status: marital_status as i32,
            phone: c.phone,
            email: c.email,
            family: Some(pb::FamilyLinks {
                father_id: c.father_id,
                mother_id: c.mother_id,
                spouse_id: c.spouse_id,
                ..pb::FamilyLinks::default()
            }),
            life_status: life_status as i32,
            life_status_date: date(&c.life_status_date),
            ..pb::Citizen::default()
        }),
        residences,
        batch_size: 0,
    }
}

/// The wire value of a classification code (`drug_related`, …); 0 when unknown.
fn classification(code: &str) -> i32 {
    use records::Classification as C;
    let value = match code {
        "criminal" => C::Criminal,
        "drug_related" => C::DrugRelated,
        "prior_conviction" => C::PriorConviction,
        "prior_violation" => C::PriorViolation,
        "suspicious_signs" => C::SuspiciousSigns,
        "community_education" => C::CommunityEducation,
        "post_rehabilitation" => C::PostRehabilitation,
        "bail" => C::Bail,
        "probation" => C::Probation,
        _ => C::Unspecified,
    };
    value as i32
}

/// The wire value of a source kind code (`investigation`, …); 0 when unknown.
fn source_kind(code: &str) -> i32 {
    use records::SourceKind as S;
    let value = match code {
        "investigation" => S::Investigation,
        "judgment_enforcement" => S::JudgmentEnforcement,
        "operational" => S::Operational,
        "administrative_violation" => S::AdministrativeViolation,
        _ => S::Unspecified,
    };
    value as i32
}

/// The wire value of a timeline event kind code (`arrest`, …); 0 when unknown.
fn entry_kind(code: &str) -> i32 {
    use records::TimelineEntryKind as K;
    let value = match code {
        "arrest" => K::Arrest,
        "charge" => K::Charge,
        "conviction" => K::Conviction,
        "sentence_served" => K::SentenceServed,
        "administrative_violation" => K::AdministrativeViolation,
        "supervision_check_in" => K::SupervisionCheckIn,
        "temporary_absence" => K::TemporaryAbsence,
        _ => K::Unspecified,
    };
    value as i32
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

/// One server acknowledgement, whichever import sent it.
pub struct Ack {
    /// Every line up to this one is settled.
    pub last_line: u64,
    /// Rows newly imported.
    pub imported: u32,
    /// Rows already there.
    pub skipped: u32,
    /// Rejected rows: (line, field, reason).
    pub errors: Vec<(u64, String, String)>,
}

impl From<pb::ImportBatchResult> for Ack {
    fn from(r: pb::ImportBatchResult) -> Self {
        Ack {
            last_line: r.last_line,
            imported: r.imported,
            skipped: r.skipped,
            errors: r
                .errors
                .into_iter()
                .map(|e| (e.line, e.field, e.reason))
                .collect(),
        }
    }
}

impl From<records::ImportBatchResult> for Ack {
    fn from(r: records::ImportBatchResult) -> Self {
        Ack {
            last_line: r.last_line,
            imported: r.imported,
            skipped: r.skipped,
            errors: r
                .errors
                .into_iter()
                .map(|e| (e.line, e.field, e.reason))
                .collect(),
        }
    }
}
