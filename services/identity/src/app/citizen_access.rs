//! Access to citizens decided by the policies: a pre-check before any data is read
//! (purpose, roles), then, once the record is read, the view (full inside the officer's
//! jurisdiction by current residence, minimal outside unless break-glass), the sensitive
//! fields masked for the purpose, and the self/family flag.

use super::officers::actor;
use super::units::UnitTree;
use super::{Citizen, IdentityError};
use crate::store::IdentityStore;
use dancu_kit::call::CallContext;
use dancu_policy::{
    AccessRequest, Action, AreaPath, Authorizer, Decision, Denial, Resource, SensitiveField, View,
};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Decides and applies the view of citizens.
pub struct CitizenAccess {
    store: IdentityStore,
    units: Arc<UnitTree>,
    policy: Arc<Authorizer>,
    /// Officers' own personal IDs, by account id (rarely changes; read once).
    officer_ids: RwLock<HashMap<String, Option<String>>>,
}

impl CitizenAccess {
    /// Access over the officers of `store`, with jurisdictions from `units`.
    pub fn new(store: IdentityStore, units: Arc<UnitTree>, policy: Arc<Authorizer>) -> Self {
        Self {
            store,
            units,
            policy,
            officer_ids: RwLock::new(HashMap::new()),
        }
    }

    async fn officer_personal_id(&self, id: &str) -> Result<Option<String>, IdentityError> {
        if let Some(known) = self
            .officer_ids
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
        {
            return Ok(known.clone());
        }
        let personal_id = self
            .store
            .officer_by_id(id)
            .await?
            .and_then(|o| o.personal_id);
        self.officer_ids
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_owned(), personal_id.clone());
        Ok(personal_id)
    }

    fn request(&self, ctx: &CallContext, resource: Resource) -> AccessRequest {
        AccessRequest {
            actor: actor(&ctx.principal, &self.units),
            action: Action::ReadPerson,
            resource,
            purpose: Some(ctx.purpose),
            case_reference: ctx.case_reference.clone(),
            break_glass_justification: ctx.break_glass_justification.clone(),
        }
    }

    /// Before any data is read: refuses a purpose the caller's roles may not declare, and
    /// callers who may see no person at all (auditors, unit administrators). The refusal
    /// names nobody and says nothing of whether the person exists.
    pub fn precheck(&self, ctx: &CallContext) -> Result<(), IdentityError> {
        let decision = self.policy.authorize(&self.request(
            ctx,
            Resource::Person {
                personal_id: String::new(),
                residence: None,
                family: Vec::new(),
            },
        ))?;
        if decision.allowed {
            return Ok(());
        }
        let reason = match decision.denial {
            Some(Denial::PurposeNotAllowed) => format!(
                "your roles may not declare the purpose {}",
                ctx.purpose.as_str()
            ),
            _ => "your roles do not allow reading people".to_owned(),
        };
        Err(IdentityError::PermissionDenied(reason))
    }

    /// The decision for one citizen, and the citizen as the caller may see it: minimal
    /// view or full view without the masked fields.
    pub async fn view(
        &self,
        ctx: &CallContext,
        citizen: Citizen,
    ) -> Result<(Citizen, Decision), IdentityError> {
        let family = citizen
            .family
            .father
            .iter()
            .chain(&citizen.family.mother)
            .chain(&citizen.family.spouse)
            .chain(&citizen.family.children)
            .chain(&citizen.family.legal_representative)
            .map(|id| id.as_str().to_owned())
            .collect();
        let mut request = self.request(
            ctx,
            Resource::Person {
                personal_id: citizen.personal_id.as_str().to_owned(),
                residence: AreaPath::resolve(
                    &citizen.residence.current_commune,
                    self.units.areas(),
                ),
                family,
            },
        );
        request.actor.personal_id = self.officer_personal_id(&ctx.principal.id).await?;
        let decision = self.policy.authorize(&request)?;
        if !decision.allowed {
            return Err(IdentityError::PermissionDenied(
                "your roles do not allow reading people".to_owned(),
            ));
        }
        if decision.break_glass {
            tracing::warn!(rpc = ctx.rpc, policies = ?decision.policy_ids, "break-glass access to a citizen");
        }
        if decision.self_or_family {
            tracing::warn!(
                rpc = ctx.rpc,
                "an officer looked up themselves or a family member"
            );
        }
        let shown = match decision.view {
            View::Full => mask(citizen, &decision),
            View::Minimal | View::None => minimal(citizen),
        };
        Ok((shown, decision))
    }
}

impl CitizenAccess {
    /// For data that belongs to a person's full view (their card, their household):
    /// `Ok(Some(decision))` when the caller has the full view of `personal_id` (inside
    /// their jurisdiction, or with break-glass), `Ok(None)` when no such person is
    /// registered, `PermissionDenied` otherwise (naming nobody).
    pub async fn require_full_view(
        &self,
        ctx: &CallContext,
        personal_id: &str,
    ) -> Result<Option<Decision>, IdentityError> {
        let Some(row) = self.store.citizen(personal_id).await? else {
            return Ok(None);
        };
        let today = super::citizen_record::day_text(super::citizen_record::today());
        let (_, decision) = self
            .view(ctx, super::citizen_record::from_row(row, &today)?)
            .await?;
        if decision.view != View::Full {
            return Err(IdentityError::PermissionDenied(
                "this is shown only inside your jurisdiction (or with break-glass)".to_owned(),
            ));
        }
        Ok(Some(decision))
    }
}

/// Leaves the masked sensitive fields out.
fn mask(mut citizen: Citizen, decision: &Decision) -> Citizen {
    for field in &decision.masked {
        match field {
            SensitiveField::Religion => citizen.religion.clear(),
            SensitiveField::BloodType => citizen.blood_type.clear(),
            SensitiveField::Family => citizen.family = Default::default(),
            SensitiveField::Phone => citizen.phone.clear(),
            SensitiveField::Email => citizen.email.clear(),
        }
    }
    citizen
}

/// Name, sex, date of birth, life status: that the person exists, and nothing more.
fn minimal(citizen: Citizen) -> Citizen {
    let mut shown = Citizen::new(
        citizen.personal_id,
        citizen.full_name,
        citizen.sex,
        citizen.date_of_birth,
    );
    shown.nationality.clear();
    shown.life_status = citizen.life_status;
    shown
}
