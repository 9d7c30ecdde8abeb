//! The NDJSON line format: one JSON object per line, told apart by its `kind`.
//!
//! The same types read the file back (`dancu import`), so the format is defined once.
//! Dates are `YYYY-MM-DD` (or `YYYY` / `YYYY-MM` when partial); codes are lower-case.

use serde::{Deserialize, Serialize};

/// One line of a population file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)] // one line at a time; boxing buys nothing
pub enum Line {
    /// A Vietnamese citizen of the population register.
    Citizen(CitizenLine),
    /// A foreign national staying in Viet Nam.
    Foreigner(ForeignerLine),
    /// A subject of police records about a citizen of the file.
    Subject(SubjectLine),
}

impl Line {
    /// Reads one line of a population file, as `serde_json::from_slice::<Line>` does (the
    /// same lines read, the same errors), in two passes: the line's `kind` first, then the
    /// whole line as that kind's struct, which ignores the `kind` field.
    ///
    /// Why not serde's own reading of a tagged enum: it first copies every field of the
    /// line into a tree of its own (allocating each string), then reads the struct from
    /// that tree. Reading `kind` alone skips the other fields without allocating, so two
    /// passes cost less than that one; `dancu import` reads a million lines with it.
    ///
    /// # Errors
    /// What `serde_json::from_slice::<Line>` returns for the line.
    pub fn from_json(text: &[u8]) -> serde_json::Result<Self> {
        /// The kinds of line, as `Line` names them.
        #[derive(Deserialize)]
        #[serde(rename_all = "snake_case")]
        enum Kind {
            Citizen,
            Foreigner,
            Subject,
        }
        /// A line's kind, its other fields skipped.
        #[derive(Deserialize)]
        struct Tagged {
            kind: Kind,
        }
        let read = serde_json::from_slice::<Tagged>(text).and_then(|tagged| {
            Ok(match tagged.kind {
                Kind::Citizen => Self::Citizen(serde_json::from_slice(text)?),
                Kind::Foreigner => Self::Foreigner(serde_json::from_slice(text)?),
                Kind::Subject => Self::Subject(serde_json::from_slice(text)?),
            })
        });
        // A line that does not read is read again serde's way, for serde's own error (the
        // two passes word theirs differently); such lines are rare.
        read.or_else(|_| serde_json::from_slice(text))
    }
}

/// A citizen, with household membership and residence history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CitizenLine {
    /// 12-digit personal ID, consistent with sex, birth year and birth province.
    pub personal_id: String,
    /// Full name, NFC.
    pub full_name: String,
    /// `male` or `female`.
    pub sex: String,
    /// Date of birth.
    pub date_of_birth: String,
    /// Place of birth (province name).
    #[serde(default)]
    pub place_of_birth: String,
    /// Home town (province name).
    #[serde(default)]
    pub home_town: String,
    /// Ethnicity.
    #[serde(default)]
    pub ethnicity: String,
    /// Religion, empty for none.
    #[serde(default)]
    pub religion: String,
    /// Nationality, ISO 3166-1 alpha-3.
    #[serde(default)]
    pub nationality: String,
    /// `a`, `b`, `ab`, `o` or empty.
    #[serde(default)]
    pub blood_type: String,
    /// `single`, `married`, `divorced`, `widowed` or empty.
    #[serde(default)]
    pub marital_status: String,
    /// Phone number or empty.
    #[serde(default)]
    pub phone: String,
    /// E-mail address or empty.
    #[serde(default)]
    pub email: String,
    /// Father's personal ID or empty.
    #[serde(default)]
    pub father_id: String,
    /// Mother's personal ID or empty.
    #[serde(default)]
    pub mother_id: String,
    /// Spouse's personal ID or empty.
    #[serde(default)]
    pub spouse_id: String,
    /// `alive`, `deceased` or `missing`.
    #[serde(default)]
    pub life_status: String,
    /// Date of death or disappearance, empty when alive.
    #[serde(default)]
    pub life_status_date: String,
    /// Generated household key (shared by the members), empty for none.
    #[serde(default)]
    pub household: String,
    /// Relation to the household head: `head`, `spouse`, `child`, …
    #[serde(default)]
    pub relation: String,
    /// Residence history, oldest first.
    #[serde(default)]
    pub residence: Vec<ResidenceLine>,
}

/// One residence of a citizen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResidenceLine {
    /// `permanent` or `temporary`.
    pub kind: String,
    /// Five-digit commune code.
    pub commune: String,
    /// Address in the commune.
    pub address: String,
    /// First day.
    pub from: String,
    /// Last day, empty while in force (permanent residence).
    #[serde(default)]
    pub until: String,
}

/// A foreign national.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignerLine {
    /// Passport number.
    pub passport_number: String,
    /// Nationality, ISO 3166-1 alpha-3.
    pub nationality: String,
    /// Full name as in the passport (Latin script).
    pub full_name: String,
    /// `male` or `female`.
    pub sex: String,
    /// Date of birth.
    pub date_of_birth: String,
    /// Day of entry into Viet Nam.
    pub entry_date: String,
    /// Commune of the declared accommodation.
    pub commune: String,
    /// Address of the accommodation.
    pub address: String,
    /// Entry document: `visa`, `temporary_residence_card` or `permanent_residence_card`.
    #[serde(default)]
    pub document_type: String,
    /// Number of the entry document.
    #[serde(default)]
    pub document_number: String,
    /// First day of the document's validity.
    #[serde(default)]
    pub document_valid_from: String,
    /// Last day of the document's validity; empty for a permanent residence card.
    #[serde(default)]
    pub document_valid_until: String,
    /// Host or establishment of the declared accommodation; empty (with `arrival`) when no
    /// declaration is known.
    #[serde(default)]
    pub host_name: String,
    /// Arrival at the accommodation (RFC 3339, e.g. `2025-03-14T21:05:00+07:00`).
    #[serde(default)]
    pub arrival: String,
    /// Planned departure (RFC 3339).
    #[serde(default)]
    pub planned_departure: String,
    /// When the declaration was received (RFC 3339); more than 12 hours after the arrival
    /// makes it late.
    #[serde(default)]
    pub declared: String,
}

/// A subject of records: a citizen under a classification, with a timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectLine {
    /// Personal ID of a citizen of the same file.
    pub personal_id: String,
    /// Classification code, e.g. `drug_related`.
    pub classification: String,
    /// Code of the unit that owns the record: a provincial police (`CAT-<province>`, e.g.
    /// `CAT-01`) or a commune police (`CAX-<commune>`).
    pub owning_unit: String,
    /// First day of the classification; empty means the day of the first timeline event.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub since: String,
    /// Legal basis of the classification (the law or decree applied).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub legal_basis: String,
    /// Number of the decision to manage the person, e.g. `12/QD-CAT-01`; the timeline
    /// events cite it too.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reference: String,
    /// Events, oldest first.
    pub timeline: Vec<TimelineLine>,
}

/// One event of a subject's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineLine {
    /// Day of the event.
    pub date: String,
    /// Kind of event: `arrest`, `charge`, `conviction`, `sentence_served`,
    /// `administrative_violation`, `supervision_check_in` or `temporary_absence`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Source kind code, e.g. `investigation`.
    pub source: String,
    /// What happened (free text).
    pub summary: String,
}
