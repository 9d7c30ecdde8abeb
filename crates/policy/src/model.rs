//! The vocabulary of authorization requests and decisions.

use dancu_domain::{AreaTable, Purpose};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// Code of the nation, the root of the area hierarchy.
pub const NATION: &str = "VN";

/// A role an account may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Residence registrar (commune police registering residence).
    ResidenceRegistrar,
    /// Investigator.
    Investigator,
    /// Reconnaissance officer.
    ReconnaissanceOfficer,
    /// Analyst (hotspots, data quality).
    Analyst,
    /// Auditor: reads the audit log, no personal data.
    Auditor,
    /// Administrator of a unit and its subtree.
    UnitAdmin,
    /// System administrator.
    SystemAdmin,
    /// Service account of an internal service or a relying party.
    Service,
    /// Loads citizens in bulk (migration, demonstration data); reads nobody.
    DataImporter,
}

/// A string is not a role code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown role; valid roles are: residence_registrar, investigator, reconnaissance_officer, \
     analyst, auditor, unit_admin, system_admin, service, data_importer"
)]
pub struct UnknownRole;

impl Role {
    /// Every role.
    pub const ALL: [Role; 9] = [
        Role::ResidenceRegistrar,
        Role::Investigator,
        Role::ReconnaissanceOfficer,
        Role::Analyst,
        Role::Auditor,
        Role::UnitAdmin,
        Role::SystemAdmin,
        Role::Service,
        Role::DataImporter,
    ];

    /// The role's code, as in tokens and policies.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Role::ResidenceRegistrar => "residence_registrar",
            Role::Investigator => "investigator",
            Role::ReconnaissanceOfficer => "reconnaissance_officer",
            Role::Analyst => "analyst",
            Role::Auditor => "auditor",
            Role::UnitAdmin => "unit_admin",
            Role::SystemAdmin => "system_admin",
            Role::Service => "service",
            Role::DataImporter => "data_importer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or(UnknownRole)
    }
}

/// An area and its ancestors, leaf first, ending with the nation: e.g. `["01001", "01",
/// "VN"]` for a commune of Hà Nội.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaPath(Vec<String>);

impl AreaPath {
    /// The nation.
    #[must_use]
    pub fn nation() -> Self {
        Self(vec![NATION.to_owned()])
    }

    /// The path of an area code in `table`: [`NATION`], a 2-digit province code or a
    /// 5-digit commune code. `None` when the table does not know the code.
    #[must_use]
    pub fn resolve(code: &str, table: &AreaTable) -> Option<Self> {
        if code == NATION {
            return Some(Self::nation());
        }
        if let Some(province) = table.province(code) {
            return Some(Self(vec![province.code.clone(), NATION.to_owned()]));
        }
        let commune = table.commune(code)?;
        Some(Self(vec![
            commune.code.clone(),
            commune.province_code.clone(),
            NATION.to_owned(),
        ]))
    }

    /// The area itself (the leaf).
    #[must_use]
    pub fn code(&self) -> &str {
        &self.0[0]
    }

    /// The codes, leaf first.
    #[must_use]
    pub fn codes(&self) -> &[String] {
        &self.0
    }

    /// The level of the area at `index` in this path: nation, province or commune.
    pub(crate) fn level(&self, index: usize) -> &'static str {
        match self.0.len() - index {
            1 => "nation",
            2 => "province",
            _ => "commune",
        }
    }
}

/// Who asks.
#[derive(Debug, Clone)]
pub struct Actor {
    /// Account id.
    pub id: String,
    /// Role codes (unknown codes grant nothing).
    pub roles: Vec<String>,
    /// Code of the account's unit.
    pub unit: String,
    /// The area the unit covers; `None` for accounts without a jurisdiction.
    pub jurisdiction: Option<AreaPath>,
    /// The officer's own personal ID, when known.
    pub personal_id: Option<String>,
}

/// What is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Read a person (the decision says which view).
    ReadPerson,
    /// Read a subject record.
    ReadSubjectRecord,
    /// Create a subject record.
    CreateSubjectRecord,
    /// Create a unit under the resource unit.
    CreateUnit,
    /// Create an officer in the resource unit.
    CreateOfficer,
    /// Grant or revoke this role (code) of an officer of the resource unit.
    ChangeRole(String),
    /// Disable an officer of the resource unit.
    DisableOfficer,
    /// List the units and officers of the resource unit's subtree.
    ListUnits,
    /// Read the audit log.
    ReadAudit,
    /// Import citizens in bulk through the resource unit (the caller's own).
    ImportCitizens,
    /// Import subjects (with their classifications and timelines) in bulk through the
    /// resource unit (the caller's own).
    ImportSubjects,
}

impl Action {
    /// Whether the action touches personal data (and so needs a fitting purpose).
    #[must_use]
    pub fn is_personal_data(&self) -> bool {
        matches!(
            self,
            Action::ReadPerson | Action::ReadSubjectRecord | Action::CreateSubjectRecord
        )
    }
}

/// What the action is applied to.
#[derive(Debug, Clone)]
pub enum Resource {
    /// A person of the register.
    Person {
        /// Personal ID.
        personal_id: String,
        /// Commune of current residence, when registered.
        residence: Option<AreaPath>,
        /// Personal IDs of registered family members.
        family: Vec<String>,
    },
    /// A subject record.
    SubjectRecord {
        /// Area of the owning unit.
        owning_area: AreaPath,
        /// Classification code, e.g. `suspicious_signs`.
        classification: String,
    },
    /// A unit: its code first, then its ancestors up to the root unit.
    Unit {
        /// Unit codes, the unit first.
        path: Vec<String>,
    },
    /// The audit log.
    AuditLog,
}

/// One authorization question.
#[derive(Debug, Clone)]
pub struct AccessRequest {
    /// Who asks.
    pub actor: Actor,
    /// What for.
    pub action: Action,
    /// On what.
    pub resource: Resource,
    /// Declared purpose; required for personal-data actions.
    pub purpose: Option<Purpose>,
    /// Case reference, when given.
    pub case_reference: Option<String>,
    /// Break-glass justification, when the actor invokes break-glass.
    pub break_glass_justification: Option<String>,
}

/// How much of a person may be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Nothing (denied).
    None,
    /// Name, date of birth, existence.
    Minimal,
    /// Everything but the masked fields.
    Full,
}

/// Sensitive fields of a person, shown only for purposes that need them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SensitiveField {
    /// Religion.
    Religion,
    /// Blood type.
    BloodType,
    /// Family links (parents, spouse, children, representative).
    Family,
    /// Phone number.
    Phone,
    /// Email address.
    Email,
}

impl SensitiveField {
    /// Every sensitive field.
    pub const ALL: [SensitiveField; 5] = [
        SensitiveField::Religion,
        SensitiveField::BloodType,
        SensitiveField::Family,
        SensitiveField::Phone,
        SensitiveField::Email,
    ];

    /// The field's code, as in policies.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SensitiveField::Religion => "religion",
            SensitiveField::BloodType => "blood_type",
            SensitiveField::Family => "family",
            SensitiveField::Phone => "phone",
            SensitiveField::Email => "email",
        }
    }
}

/// Why a request was denied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// A personal-data action without a purpose.
    PurposeMissing,
    /// The actor's roles may not declare the purpose.
    PurposeNotAllowed,
    /// No policy permits it, or a policy forbids it (see `policy_ids`).
    Policy,
}

/// The answer to an [`AccessRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Allowed?
    pub allowed: bool,
    /// Ids of the policies that decided: the permits that granted the access, or the
    /// forbids that refused it (empty when nothing permitted it: deny by default).
    pub policy_ids: Vec<String>,
    /// The view of a person (`Full` for allowed non-person actions).
    pub view: View,
    /// Sensitive fields to leave out of the answer.
    pub masked: BTreeSet<SensitiveField>,
    /// The access was granted only by break-glass.
    pub break_glass: bool,
    /// The actor looked up themselves or a registered family member.
    pub self_or_family: bool,
    /// Why it was denied, when it was.
    pub denial: Option<Denial>,
}

impl Decision {
    pub(crate) fn deny(denial: Denial, policy_ids: Vec<String>) -> Self {
        Self {
            allowed: false,
            policy_ids,
            view: View::None,
            masked: SensitiveField::ALL.into_iter().collect(),
            break_glass: false,
            self_or_family: false,
            denial: Some(denial),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert_eq!("root".parse::<Role>(), Err(UnknownRole));
    }

    #[test]
    fn area_paths_resolve_through_the_table() {
        let table = AreaTable::builtin();
        let commune = AreaPath::resolve("01001", table).unwrap();
        assert_eq!(commune.codes(), ["01001", "01", "VN"]);
        assert_eq!(
            (commune.level(0), commune.level(1), commune.level(2)),
            ("commune", "province", "nation")
        );
        assert_eq!(
            AreaPath::resolve("01", table).unwrap().codes(),
            ["01", "VN"]
        );
        assert_eq!(AreaPath::resolve("VN", table).unwrap(), AreaPath::nation());
        assert!(AreaPath::resolve("99999", table).is_none());
        assert!(AreaPath::resolve("", table).is_none());
    }
}
