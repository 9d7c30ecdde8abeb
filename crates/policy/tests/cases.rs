//! The table-driven policy suite: every `tests/cases/*.toml` file holds cases (principal,
//! action, resource, context, expected decision); principals are named in
//! `tests/principals.toml`. Every case must hold; every policy must decide at least one
//! case; and the suite must hold at least 60 cases.

use dancu_domain::{AreaTable, Purpose};
use dancu_policy::{
    AccessRequest, Action, Actor, AreaPath, Authorizer, Denial, Resource, SensitiveField, View,
};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrincipalSpec {
    roles: Vec<String>,
    unit: String,
    jurisdiction: Option<String>,
    personal_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    case: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    principal: String,
    action: String,
    resource: ResourceSpec,
    #[serde(default)]
    context: ContextSpec,
    expect: Expect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, tag = "type", rename_all = "snake_case")]
enum ResourceSpec {
    Person {
        #[serde(default = "default_personal_id")]
        personal_id: String,
        residence: Option<String>,
        #[serde(default)]
        family: Vec<String>,
    },
    SubjectRecord {
        owning_area: String,
        classification: String,
    },
    Unit {
        path: Vec<String>,
    },
    AuditLog,
}

fn default_personal_id() -> String {
    "001090000001".to_owned()
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ContextSpec {
    purpose: Option<String>,
    case_reference: Option<String>,
    break_glass: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    allowed: bool,
    view: Option<String>,
    policy_ids: Vec<String>,
    masked: Option<Vec<String>>,
    #[serde(default)]
    break_glass: bool,
    #[serde(default)]
    self_or_family: bool,
    denial: Option<String>,
}

fn area(code: &str) -> AreaPath {
    AreaPath::resolve(code, AreaTable::builtin()).unwrap_or_else(|| panic!("unknown area {code}"))
}

fn action(code: &str) -> Action {
    match code.split_once(':') {
        Some(("change_role", role)) => Action::ChangeRole(role.to_owned()),
        _ => match code {
            "read_person" => Action::ReadPerson,
            "read_subject_record" => Action::ReadSubjectRecord,
            "create_subject_record" => Action::CreateSubjectRecord,
            "create_unit" => Action::CreateUnit,
            "create_officer" => Action::CreateOfficer,
            "disable_officer" => Action::DisableOfficer,
            "list_units" => Action::ListUnits,
            "read_audit" => Action::ReadAudit,
            "import_citizens" => Action::ImportCitizens,
            "import_subjects" => Action::ImportSubjects,
            other => panic!("unknown action {other}"),
        },
    }
}

fn request(case: &Case, principals: &BTreeMap<String, PrincipalSpec>) -> AccessRequest {
    let spec = principals
        .get(&case.principal)
        .unwrap_or_else(|| panic!("{}: unknown principal {}", case.name, case.principal));
    let actor = Actor {
        id: case.principal.clone(),
        roles: spec.roles.clone(),
        unit: spec.unit.clone(),
        jurisdiction: spec.jurisdiction.as_deref().map(area),
        personal_id: spec.personal_id.clone(),
    };
    let resource = match &case.resource {
        ResourceSpec::Person {
            personal_id,
            residence,
            family,
        } => Resource::Person {
            personal_id: personal_id.clone(),
            residence: residence.as_deref().map(area),
            family: family.clone(),
        },
        ResourceSpec::SubjectRecord {
            owning_area,
            classification,
        } => Resource::SubjectRecord {
            owning_area: area(owning_area),
            classification: classification.clone(),
        },
        ResourceSpec::Unit { path } => Resource::Unit { path: path.clone() },
        ResourceSpec::AuditLog => Resource::AuditLog,
    };
    AccessRequest {
        actor,
        action: action(&case.action),
        resource,
        purpose: case.context.purpose.as_deref().map(|p| {
            p.parse::<Purpose>()
                .unwrap_or_else(|_| panic!("{}: unknown purpose {p}", case.name))
        }),
        case_reference: case.context.case_reference.clone(),
        break_glass_justification: case.context.break_glass.clone(),
    }
}

fn load() -> (BTreeMap<String, PrincipalSpec>, Vec<(String, Case)>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let principals: BTreeMap<String, PrincipalSpec> =
        toml::from_str(&std::fs::read_to_string(dir.join("principals.toml")).unwrap())
            .expect("principals.toml parses");
    let mut files: Vec<_> = std::fs::read_dir(dir.join("cases"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for file in files {
        let parsed: CaseFile = toml::from_str(&std::fs::read_to_string(&file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        cases.extend(parsed.case.into_iter().map(|c| (stem.clone(), c)));
    }
    (principals, cases)
}

#[test]
fn every_case_holds_and_every_policy_is_exercised() {
    let authorizer = Authorizer::new().expect("shipped policies validate");
    let (principals, cases) = load();
    assert!(cases.len() >= 60, "only {} cases", cases.len());
    let mut failures = Vec::new();
    let mut deciding = BTreeSet::new();
    let mut names = BTreeSet::new();
    for (file, case) in &cases {
        assert!(
            names.insert(case.name.clone()),
            "duplicate case name {}",
            case.name
        );
        let decision = authorizer
            .authorize(&request(case, &principals))
            .unwrap_or_else(|e| panic!("{file}: {}: {e}", case.name));
        deciding.extend(decision.policy_ids.iter().cloned());
        let expect = &case.expect;
        let mut wrong = Vec::new();
        if decision.allowed != expect.allowed {
            wrong.push(format!("allowed {} ≠ {}", decision.allowed, expect.allowed));
        }
        if decision.policy_ids != expect.policy_ids {
            wrong.push(format!(
                "policy_ids {:?} ≠ {:?}",
                decision.policy_ids, expect.policy_ids
            ));
        }
        if let Some(view) = &expect.view {
            let got = match decision.view {
                View::Full => "full",
                View::Minimal => "minimal",
                View::None => "none",
            };
            if got != view {
                wrong.push(format!("view {got} ≠ {view}"));
            }
        }
        if let Some(masked) = &expect.masked {
            let got: BTreeSet<&str> = decision.masked.iter().map(|f| f.as_str()).collect();
            let want: BTreeSet<&str> = masked.iter().map(String::as_str).collect();
            if got != want {
                wrong.push(format!("masked {got:?} ≠ {want:?}"));
            }
        }
        if decision.break_glass != expect.break_glass {
            wrong.push(format!(
                "break_glass {} ≠ {}",
                decision.break_glass, expect.break_glass
            ));
        }
        if decision.self_or_family != expect.self_or_family {
            wrong.push(format!(
                "self_or_family {} ≠ {}",
                decision.self_or_family, expect.self_or_family
            ));
        }
        let denial = decision.denial.as_ref().map(|d| match d {
            Denial::PurposeMissing => "purpose_missing",
            Denial::PurposeNotAllowed => "purpose_not_allowed",
            Denial::Policy => "policy",
        });
        if expect.denial.is_some() && denial != expect.denial.as_deref() {
            wrong.push(format!("denial {denial:?} ≠ {:?}", expect.denial));
        }
        if !decision.allowed && decision.masked.len() != SensitiveField::ALL.len() {
            wrong.push("a denial must mask everything".to_owned());
        }
        if !wrong.is_empty() {
            failures.push(format!("{file}: {}: {}", case.name, wrong.join("; ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Field permits decide masking, which is checked through `masked`, not policy_ids.
    let untested: Vec<String> = authorizer
        .policy_ids()
        .into_iter()
        .filter(|id| {
            !id.starts_with("field.") && !id.starts_with("flag.") && !id.starts_with("purpose.")
        })
        .filter(|id| !deciding.contains(id))
        .collect();
    assert!(
        untested.is_empty(),
        "policies no case exercises: {untested:?}"
    );
}

#[test]
fn shipped_policies_validate_against_the_schema() {
    let authorizer = Authorizer::new().expect("validates");
    let ids = authorizer.policy_ids();
    assert!(ids.len() >= 25, "{ids:?}");
    assert!(ids.contains(&"person.full.in_jurisdiction".to_owned()));
}

#[test]
fn policies_that_break_the_schema_are_rejected() {
    let bad_attribute = format!(
        "{}\n@id(\"bad\")\npermit (principal, action == Dancu::Action::\"read_audit\", resource)\nwhen {{ principal.rank == \"high\" }};",
        dancu_policy::POLICIES
    );
    assert!(matches!(
        Authorizer::from_sources(dancu_policy::SCHEMA, &bad_attribute),
        Err(dancu_policy::PolicyError::Validation(_))
    ));
    let no_id = format!(
        "{}\npermit (principal, action == Dancu::Action::\"read_audit\", resource);",
        dancu_policy::POLICIES
    );
    assert!(matches!(
        Authorizer::from_sources(dancu_policy::SCHEMA, &no_id),
        Err(dancu_policy::PolicyError::Policies(_))
    ));
    let duplicate = format!(
        "{}\n@id(\"audit.read\")\npermit (principal, action == Dancu::Action::\"read_audit\", resource);",
        dancu_policy::POLICIES
    );
    assert!(Authorizer::from_sources(dancu_policy::SCHEMA, &duplicate).is_err());
}

#[test]
fn action_and_resource_must_fit() {
    let authorizer = Authorizer::new().unwrap();
    let request = AccessRequest {
        actor: Actor {
            id: "a".to_owned(),
            roles: vec!["system_admin".to_owned()],
            unit: "BCA".to_owned(),
            jurisdiction: Some(AreaPath::nation()),
            personal_id: None,
        },
        action: Action::ReadAudit,
        resource: Resource::Unit {
            path: vec!["BCA".to_owned()],
        },
        purpose: None,
        case_reference: None,
        break_glass_justification: None,
    };
    assert!(matches!(
        authorizer.authorize(&request),
        Err(dancu_policy::PolicyError::ResourceMismatch { .. })
    ));
}

#[test]
fn purpose_matrix_holds_for_every_role_and_purpose() {
    let authorizer = Authorizer::new().unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/purpose_matrix.toml");
    let matrix: BTreeMap<String, Vec<String>> =
        toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut deciding = BTreeSet::new();
    for role in dancu_policy::Role::ALL {
        let allowed = matrix
            .get(role.as_str())
            .unwrap_or_else(|| panic!("role {role} missing from the matrix"));
        let actor = Actor {
            id: "officer".to_owned(),
            roles: vec![role.as_str().to_owned()],
            unit: "CAT-01".to_owned(),
            jurisdiction: Some(area("01")),
            personal_id: None,
        };
        for purpose in Purpose::ALL {
            let decision = authorizer.check_purpose(&actor, purpose).unwrap();
            let expected = allowed.iter().any(|p| p == purpose.as_str());
            assert_eq!(decision.allowed, expected, "{role} declaring {purpose}");
            if decision.allowed {
                assert_eq!(decision.policy_ids.len(), 1, "{role} {purpose}");
            } else {
                assert_eq!(decision.denial, Some(Denial::PurposeNotAllowed));
            }
            deciding.extend(decision.policy_ids);
        }
    }
    let purpose_policies: BTreeSet<String> = authorizer
        .policy_ids()
        .into_iter()
        .filter(|id| id.starts_with("purpose."))
        .collect();
    assert_eq!(
        deciding, purpose_policies,
        "every purpose policy decides some pair"
    );
}
