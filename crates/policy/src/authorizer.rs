//! The Cedar-backed authorizer: one [`Authorizer::authorize`] call answers one request,
//! running as many Cedar queries as the decision needs (purpose, view, masking, flags) over
//! one set of entities built from the request.

use crate::model::{
    AccessRequest, Action, Actor, AreaPath, Decision, Denial, Resource, SensitiveField, View,
};
use cedar_policy::{
    Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, PolicyId, PolicySet, Request,
    RestrictedExpression, Schema, ValidationMode, Validator,
};
use dancu_domain::Purpose;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::str::FromStr;
use std::sync::Mutex;

/// Allowed?, and the ids of the determining policies.
type QueryAnswer = (bool, Vec<String>);

/// Most purpose decisions kept; the cache is emptied when full.
const PURPOSE_CACHE_CAPACITY: usize = 10_000;

/// Everything about an actor that a purpose decision can depend on.
#[derive(Clone, PartialEq, Eq, Hash)]
struct ActorKey {
    id: String,
    roles: Vec<String>,
    unit: String,
    jurisdiction: Option<Vec<String>>,
    personal_id: Option<String>,
}

impl ActorKey {
    fn of(actor: &Actor) -> Self {
        Self {
            id: actor.id.clone(),
            roles: actor.roles.clone(),
            unit: actor.unit.clone(),
            jurisdiction: actor.jurisdiction.as_ref().map(|j| j.codes().to_vec()),
            personal_id: actor.personal_id.clone(),
        }
    }
}

/// Namespace of every dancu entity type and action.
const NAMESPACE: &str = "Dancu";
/// The annotation naming a policy.
const ID_ANNOTATION: &str = "id";
/// Prefix of the policies that grant a full view of a person.
const FULL_VIEW_PREFIX: &str = "person.full.";
/// Prefix of the policies that show one sensitive field each.
const FIELD_PREFIX: &str = "field.";
/// The policy that flags a self/family lookup.
const SELF_OR_FAMILY_POLICY: &str = "flag.self_or_family";
/// Policies that grant access by break-glass.
const BREAK_GLASS_POLICIES: [&str; 2] = ["person.full.break_glass", "record.read.break_glass"];

/// The policies or the schema are unusable, or a request could not be expressed. All are
/// bugs or corrupted deployments, never the caller's input.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The schema does not parse.
    #[error("policy schema: {0}")]
    Schema(String),
    /// The policies do not parse, lack an @id, or repeat one.
    #[error("policies: {0}")]
    Policies(String),
    /// A policy does not validate against the schema.
    #[error("policy validation: {0}")]
    Validation(String),
    /// The request could not be turned into Cedar entities or a Cedar request.
    #[error("request: {0}")]
    Request(String),
    /// A policy failed to evaluate (it is skipped by Cedar; we refuse to guess).
    #[error("policy evaluation: {0}")]
    Evaluation(String),
    /// The action does not apply to the resource.
    #[error("action {action} does not apply to this resource")]
    ResourceMismatch {
        /// The action's Cedar name.
        action: &'static str,
    },
}

/// Entity type names, parsed once.
struct Types {
    area: EntityTypeName,
    unit: EntityTypeName,
    officer: EntityTypeName,
    person: EntityTypeName,
    record: EntityTypeName,
    purpose: EntityTypeName,
    audit_log: EntityTypeName,
    action: EntityTypeName,
}

impl Types {
    fn new() -> Result<Self, PolicyError> {
        let name = |n: &str| {
            EntityTypeName::from_str(&format!("{NAMESPACE}::{n}"))
                .map_err(|e| PolicyError::Schema(e.to_string()))
        };
        Ok(Self {
            area: name("Area")?,
            unit: name("Unit")?,
            officer: name("Officer")?,
            person: name("Person")?,
            record: name("SubjectRecord")?,
            purpose: name("Purpose")?,
            audit_log: name("AuditLog")?,
            action: name("Action")?,
        })
    }
}

/// Evaluates dancu's Cedar policies.
pub struct Authorizer {
    schema: Schema,
    policies: PolicySet,
    /// Per action, the policies whose scope can match it: a query evaluates only those.
    by_action: HashMap<String, PolicySet>,
    /// The action entities of the schema (with their groups).
    actions: Vec<Entity>,
    /// Purpose decisions by actor and purpose: they depend on nothing else (the purpose
    /// query's entities are the actor's alone), and every call asks one.
    purposes: Mutex<HashMap<(ActorKey, Purpose), QueryAnswer>>,
    engine: cedar_policy::Authorizer,
    types: Types,
}

impl Authorizer {
    /// The authorizer over the shipped schema and policies, validated (strict mode).
    pub fn new() -> Result<Self, PolicyError> {
        Self::from_sources(crate::SCHEMA, crate::POLICIES)
    }

    /// An authorizer over the given schema and policies, validated (strict mode). Every
    /// policy must carry a unique `@id("...")` annotation.
    pub fn from_sources(schema: &str, policies: &str) -> Result<Self, PolicyError> {
        let (schema, _warnings) =
            Schema::from_cedarschema_str(schema).map_err(|e| PolicyError::Schema(e.to_string()))?;
        let parsed =
            PolicySet::from_str(policies).map_err(|e| PolicyError::Policies(e.to_string()))?;
        let mut named = PolicySet::new();
        for policy in parsed.policies() {
            let id = policy.annotation(ID_ANNOTATION).ok_or_else(|| {
                PolicyError::Policies(format!("policy {} has no @id annotation", policy.id()))
            })?;
            named
                .add(policy.new_id(PolicyId::new(id)))
                .map_err(|e| PolicyError::Policies(format!("{id}: {e}")))?;
        }
        let result = Validator::new(schema.clone()).validate(&named, ValidationMode::Strict);
        if !result.validation_passed() {
            let errors: Vec<String> = result
                .validation_errors()
                .map(|e| format!("{e} ({:?})", e.policy_id()))
                .collect();
            return Err(PolicyError::Validation(errors.join("; ")));
        }
        let types = Types::new()?;
        let by_action = policies_by_action(&schema, &named)?;
        let actions = schema
            .action_entities()
            .map_err(|e| PolicyError::Schema(e.to_string()))?
            .into_iter()
            .collect();
        Ok(Self {
            actions,
            purposes: Mutex::new(HashMap::new()),
            schema,
            policies: named,
            by_action,
            engine: cedar_policy::Authorizer::new(),
            types,
        })
    }

    /// Ids of every loaded policy, sorted.
    #[must_use]
    pub fn policy_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .policies
            .policies()
            .map(|p| p.id().to_string())
            .collect();
        ids.sort();
        ids
    }

    /// Whether `actor` may declare `purpose`. Answer this before reading any data.
    pub fn check_purpose(&self, actor: &Actor, purpose: Purpose) -> Result<Decision, PolicyError> {
        let (allowed, ids) = self.purpose_query(actor, purpose)?;
        Ok(if allowed {
            Decision {
                allowed: true,
                policy_ids: ids,
                view: View::Full,
                masked: BTreeSet::new(),
                break_glass: false,
                self_or_family: false,
                denial: None,
            }
        } else {
            Decision::deny(Denial::PurposeNotAllowed, ids)
        })
    }

    /// The purpose query, cached per actor and purpose.
    fn purpose_query(
        &self,
        actor: &Actor,
        purpose: Purpose,
    ) -> Result<(bool, Vec<String>), PolicyError> {
        let key = (ActorKey::of(actor), purpose);
        if let Some(hit) = self
            .purposes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(hit.clone());
        }
        let mut builder = EntityBuilder::new(&self.types);
        let principal = builder.actor(actor)?;
        let entities = builder.finish(&self.schema, &self.actions)?;
        let answer = self.query(
            &entities,
            principal,
            "declare_purpose",
            self.uid(&self.types.purpose, purpose.as_str()),
            Context::empty(),
        )?;
        let mut cache = self.purposes.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= PURPOSE_CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert(key, answer.clone());
        Ok(answer)
    }

    /// Decides one request. Personal-data actions first check the purpose (missing or not
    /// declarable by the actor's roles → denied), then the rules.
    pub fn authorize(&self, request: &AccessRequest) -> Result<Decision, PolicyError> {
        if request.action.is_personal_data() {
            let Some(purpose) = request.purpose else {
                return Ok(Decision::deny(Denial::PurposeMissing, Vec::new()));
            };
            let (allowed, ids) = self.purpose_query(&request.actor, purpose)?;
            if !allowed {
                return Ok(Decision::deny(Denial::PurposeNotAllowed, ids));
            }
        }
        let mut builder = EntityBuilder::new(&self.types);
        let principal = builder.actor(&request.actor)?;
        let resource = builder.resource(&request.resource)?;
        let entities = builder.finish(&self.schema, &self.actions)?;
        match &request.action {
            Action::ReadPerson => self.read_person(request, &entities, principal, resource),
            Action::ReadSubjectRecord => self.simple(
                request,
                &entities,
                principal,
                resource,
                "read_subject_record",
            ),
            Action::CreateSubjectRecord => self.simple(
                request,
                &entities,
                principal,
                resource,
                "create_subject_record",
            ),
            Action::CreateUnit => self.admin(&entities, principal, resource, "create_unit", None),
            Action::CreateOfficer => {
                self.admin(&entities, principal, resource, "create_officer", None)
            }
            Action::ChangeRole(role) => {
                self.admin(&entities, principal, resource, "change_role", Some(role))
            }
            Action::DisableOfficer => {
                self.admin(&entities, principal, resource, "disable_officer", None)
            }
            Action::ListUnits => self.admin(&entities, principal, resource, "list_units", None),
            Action::ImportCitizens => {
                self.admin(&entities, principal, resource, "import_citizens", None)
            }
            Action::ImportSubjects => {
                self.admin(&entities, principal, resource, "import_subjects", None)
            }
            Action::ReadAudit => {
                let (allowed, ids) = self.query(
                    &entities,
                    principal,
                    "read_audit",
                    resource,
                    Context::empty(),
                )?;
                Ok(plain(allowed, ids))
            }
        }
    }

    fn read_person(
        &self,
        request: &AccessRequest,
        entities: &Entities,
        principal: EntityUid,
        resource: EntityUid,
    ) -> Result<Decision, PolicyError> {
        let context = self.personal_context(request)?;
        let (allowed, ids) = self.query(
            entities,
            principal.clone(),
            "read_person",
            resource.clone(),
            context.clone(),
        )?;
        let full: Vec<String> = ids
            .iter()
            .filter(|id| id.starts_with(FULL_VIEW_PREFIX))
            .cloned()
            .collect();
        let (view, policy_ids) = match (allowed, full.is_empty()) {
            (false, _) => return Ok(Decision::deny(Denial::Policy, ids)),
            (true, false) => (View::Full, full),
            (true, true) => (View::Minimal, ids),
        };
        let (_, notes) = self.query(entities, principal, "annotate_person", resource, context)?;
        let masked = SensitiveField::ALL
            .into_iter()
            .filter(|field| {
                view != View::Full
                    || !notes
                        .iter()
                        .any(|id| id.strip_prefix(FIELD_PREFIX) == Some(field.as_str()))
            })
            .collect();
        Ok(Decision {
            allowed: true,
            break_glass: by_break_glass(&policy_ids),
            policy_ids,
            view,
            masked,
            self_or_family: notes.iter().any(|id| id == SELF_OR_FAMILY_POLICY),
            denial: None,
        })
    }

    fn simple(
        &self,
        request: &AccessRequest,
        entities: &Entities,
        principal: EntityUid,
        resource: EntityUid,
        action: &'static str,
    ) -> Result<Decision, PolicyError> {
        let context = self.personal_context(request)?;
        let (allowed, ids) = self.query(entities, principal, action, resource, context)?;
        let mut decision = plain(allowed, ids);
        decision.break_glass = allowed && by_break_glass(&decision.policy_ids);
        Ok(decision)
    }

    fn admin(
        &self,
        entities: &Entities,
        principal: EntityUid,
        resource: EntityUid,
        action: &'static str,
        role: Option<&String>,
    ) -> Result<Decision, PolicyError> {
        let context = match role {
            None => Context::empty(),
            Some(role) => Context::from_pairs([(
                "role".to_owned(),
                RestrictedExpression::new_string(role.clone()),
            )])
            .map_err(|e| PolicyError::Request(e.to_string()))?,
        };
        let (allowed, ids) = self.query(entities, principal, action, resource, context)?;
        Ok(plain(allowed, ids))
    }

    fn personal_context(&self, request: &AccessRequest) -> Result<Context, PolicyError> {
        let purpose = request.purpose.map(|p| p.as_str()).unwrap_or_default();
        let mut pairs = vec![(
            "purpose".to_owned(),
            RestrictedExpression::new_string(purpose.to_owned()),
        )];
        if let Some(case) = &request.case_reference {
            pairs.push((
                "case_reference".to_owned(),
                RestrictedExpression::new_string(case.clone()),
            ));
        }
        if let Some(justification) = &request.break_glass_justification {
            pairs.push((
                "break_glass_justification".to_owned(),
                RestrictedExpression::new_string(justification.clone()),
            ));
        }
        Context::from_pairs(pairs).map_err(|e| PolicyError::Request(e.to_string()))
    }

    fn uid(&self, ty: &EntityTypeName, id: &str) -> EntityUid {
        EntityUid::from_type_name_and_id(ty.clone(), EntityId::new(id))
    }

    /// Runs one Cedar query: allowed?, and the ids of the determining policies.
    fn query(
        &self,
        entities: &Entities,
        principal: EntityUid,
        action: &'static str,
        resource: EntityUid,
        context: Context,
    ) -> Result<(bool, Vec<String>), PolicyError> {
        let action_uid = self.uid(&self.types.action, action);
        // Requests are checked against the schema in debug builds (every test); release
        // builds skip the check on this hot path: the requests are built here from typed
        // values, and a request that did not fit would only be denied.
        let schema = cfg!(debug_assertions).then_some(&self.schema);
        let request = Request::new(principal, action_uid, resource, context, schema).map_err(
            |e| match e {
                cedar_policy::RequestValidationError::InvalidPrincipalType(_)
                | cedar_policy::RequestValidationError::InvalidResourceType(_) => {
                    PolicyError::ResourceMismatch { action }
                }
                other => PolicyError::Request(other.to_string()),
            },
        )?;
        let policies = self
            .by_action
            .get(action)
            .ok_or_else(|| PolicyError::Request(format!("unknown action {action}")))?;
        let response = self.engine.is_authorized(&request, policies, entities);
        if let Some(error) = response.diagnostics().errors().next() {
            return Err(PolicyError::Evaluation(error.to_string()));
        }
        let mut ids: Vec<String> = response
            .diagnostics()
            .reason()
            .map(ToString::to_string)
            .collect();
        ids.sort();
        Ok((response.decision() == cedar_policy::Decision::Allow, ids))
    }
}

/// Groups the policies by the actions their scope can match (`action == A`, `action in
/// [A, group]`, or any action), following the action groups of the schema.
fn policies_by_action(
    schema: &Schema,
    policies: &PolicySet,
) -> Result<HashMap<String, PolicySet>, PolicyError> {
    let actions = schema
        .action_entities()
        .map_err(|e| PolicyError::Schema(e.to_string()))?;
    let mut by_action = HashMap::new();
    for action in schema.actions() {
        let mut matching: HashSet<EntityUid> = actions
            .ancestors(action)
            .map(|ancestors| ancestors.cloned().collect())
            .unwrap_or_default();
        matching.insert(action.clone());
        let mut set = PolicySet::new();
        for policy in policies.policies() {
            let applies = match policy.action_constraint() {
                cedar_policy::ActionConstraint::Any => true,
                cedar_policy::ActionConstraint::Eq(uid) => uid == *action,
                cedar_policy::ActionConstraint::In(uids) => {
                    uids.iter().any(|uid| matching.contains(uid))
                }
            };
            if applies {
                set.add(policy.clone())
                    .map_err(|e| PolicyError::Policies(e.to_string()))?;
            }
        }
        by_action.insert(action.id().unescaped().to_owned(), set);
    }
    Ok(by_action)
}

fn plain(allowed: bool, policy_ids: Vec<String>) -> Decision {
    if allowed {
        Decision {
            allowed: true,
            policy_ids,
            view: View::Full,
            masked: BTreeSet::new(),
            break_glass: false,
            self_or_family: false,
            denial: None,
        }
    } else {
        Decision::deny(Denial::Policy, policy_ids)
    }
}

/// Granted only by a break-glass policy (no ordinary permit applied).
fn by_break_glass(policy_ids: &[String]) -> bool {
    !policy_ids.is_empty()
        && policy_ids
            .iter()
            .all(|id| BREAK_GLASS_POLICIES.contains(&id.as_str()))
}

/// Collects the entities of one request, each once.
struct EntityBuilder<'a> {
    types: &'a Types,
    entities: HashMap<EntityUid, Entity>,
}

impl<'a> EntityBuilder<'a> {
    fn new(types: &'a Types) -> Self {
        Self {
            types,
            entities: HashMap::new(),
        }
    }

    fn uid(&self, ty: &EntityTypeName, id: &str) -> EntityUid {
        EntityUid::from_type_name_and_id(ty.clone(), EntityId::new(id))
    }

    fn insert(&mut self, entity: Entity) {
        self.entities.entry(entity.uid()).or_insert(entity);
    }

    /// Adds the areas of a path, each with its parent; returns the leaf.
    fn area(&mut self, path: &AreaPath) -> Result<EntityUid, PolicyError> {
        let codes = path.codes();
        for (index, code) in codes.iter().enumerate() {
            let uid = self.uid(&self.types.area, code);
            if self.entities.contains_key(&uid) {
                continue;
            }
            let parents: HashSet<EntityUid> = codes
                .get(index + 1)
                .map(|parent| self.uid(&self.types.area, parent))
                .into_iter()
                .collect();
            let entity = Entity::new(
                uid,
                HashMap::from([(
                    "level".to_owned(),
                    RestrictedExpression::new_string(path.level(index).to_owned()),
                )]),
                parents,
            )
            .map_err(|e| PolicyError::Request(e.to_string()))?;
            self.insert(entity);
        }
        Ok(self.uid(&self.types.area, path.code()))
    }

    /// Adds the units of a path, each with its parent; returns the first.
    fn units(&mut self, path: &[String]) -> Result<EntityUid, PolicyError> {
        let first = path
            .first()
            .ok_or_else(|| PolicyError::Request("empty unit path".to_owned()))?;
        for (index, code) in path.iter().enumerate() {
            let uid = self.uid(&self.types.unit, code);
            if self.entities.contains_key(&uid) {
                continue;
            }
            let parents: HashSet<EntityUid> = path
                .get(index + 1)
                .map(|parent| self.uid(&self.types.unit, parent))
                .into_iter()
                .collect();
            self.insert(Entity::new_no_attrs(uid, parents));
        }
        Ok(self.uid(&self.types.unit, first))
    }

    fn actor(&mut self, actor: &Actor) -> Result<EntityUid, PolicyError> {
        let unit = self.units(std::slice::from_ref(&actor.unit))?;
        let mut attrs = HashMap::from([
            (
                "roles".to_owned(),
                RestrictedExpression::new_set(
                    actor
                        .roles
                        .iter()
                        .map(|r| RestrictedExpression::new_string(r.clone())),
                ),
            ),
            (
                "unit".to_owned(),
                RestrictedExpression::new_entity_uid(unit),
            ),
        ]);
        if let Some(jurisdiction) = &actor.jurisdiction {
            let area = self.area(jurisdiction)?;
            attrs.insert(
                "jurisdiction".to_owned(),
                RestrictedExpression::new_entity_uid(area),
            );
        }
        if let Some(personal_id) = &actor.personal_id {
            attrs.insert(
                "personal_id".to_owned(),
                RestrictedExpression::new_string(personal_id.clone()),
            );
        }
        let uid = self.uid(&self.types.officer, &actor.id);
        let entity = Entity::new(uid.clone(), attrs, HashSet::new())
            .map_err(|e| PolicyError::Request(e.to_string()))?;
        self.entities.insert(uid.clone(), entity);
        Ok(uid)
    }

    fn resource(&mut self, resource: &Resource) -> Result<EntityUid, PolicyError> {
        match resource {
            Resource::Person {
                personal_id,
                residence,
                family,
            } => {
                let mut attrs = HashMap::from([
                    (
                        "personal_id".to_owned(),
                        RestrictedExpression::new_string(personal_id.clone()),
                    ),
                    (
                        "family".to_owned(),
                        RestrictedExpression::new_set(
                            family
                                .iter()
                                .map(|f| RestrictedExpression::new_string(f.clone())),
                        ),
                    ),
                ]);
                if let Some(residence) = residence {
                    let area = self.area(residence)?;
                    attrs.insert(
                        "residence".to_owned(),
                        RestrictedExpression::new_entity_uid(area),
                    );
                }
                // The person's id in Cedar is not their personal ID: nothing personal
                // leaks into an entity id that error messages might print.
                let uid = self.uid(&self.types.person, "subject");
                let entity = Entity::new(uid.clone(), attrs, HashSet::new())
                    .map_err(|e| PolicyError::Request(e.to_string()))?;
                self.entities.insert(uid.clone(), entity);
                Ok(uid)
            }
            Resource::SubjectRecord {
                owning_area,
                classification,
            } => {
                let area = self.area(owning_area)?;
                let uid = self.uid(&self.types.record, "record");
                let entity = Entity::new(
                    uid.clone(),
                    HashMap::from([
                        (
                            "owning_area".to_owned(),
                            RestrictedExpression::new_entity_uid(area),
                        ),
                        (
                            "classification".to_owned(),
                            RestrictedExpression::new_string(classification.clone()),
                        ),
                    ]),
                    HashSet::new(),
                )
                .map_err(|e| PolicyError::Request(e.to_string()))?;
                self.entities.insert(uid.clone(), entity);
                Ok(uid)
            }
            Resource::Unit { path } => self.units(path),
            Resource::AuditLog => {
                let uid = self.uid(&self.types.audit_log, "log");
                self.insert(Entity::new_no_attrs(uid.clone(), HashSet::new()));
                Ok(uid)
            }
        }
    }

    /// The request's entities plus the action entities (for action groups). Conformance
    /// to the schema is checked in debug builds (every test); release builds skip it, as
    /// the entities come from typed Rust values built here, not from callers' JSON.
    fn finish(self, schema: &Schema, actions: &[Entity]) -> Result<Entities, PolicyError> {
        // Policies name actions explicitly (no action groups), so the action entities are
        // needed only for the schema check of debug builds.
        let schema = cfg!(debug_assertions).then_some(schema);
        let actions = actions.iter().filter(|_| schema.is_some()).cloned();
        let entities = self.entities.into_values().chain(actions);
        Entities::from_entities(entities, schema).map_err(|e| PolicyError::Request(e.to_string()))
    }
}
