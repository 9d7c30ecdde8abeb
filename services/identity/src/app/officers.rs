//! Administration of units and officers, decided by the Cedar policies: system
//! administrators anywhere, unit administrators within their own unit's subtree.

use super::units::{AccessError, UnitTree};
use super::{Accounts, IdentityError, Journal};
use crate::store::{IdentityStore, OfficerRow, UnitRow};
use dancu_domain::Purpose;
use dancu_kit::auth::Principal;
use dancu_kit::call::CallContext;
use dancu_policy::{AccessRequest, Action, Actor, AreaPath, Authorizer, Resource};
use std::sync::Arc;
use tonic::Code;

/// Resource type of unit changes in audit events.
const UNIT: &str = "unit";
/// Resource type of officer changes in audit events.
const OFFICER: &str = "officer";

/// The audit context of an administration call: the caller, purpose
/// `system_administration`, the method, the client's address.
pub fn admin_context(
    principal: Principal,
    rpc: &'static str,
    client_address: Option<String>,
) -> CallContext {
    CallContext {
        principal,
        client_address,
        purpose: Purpose::SystemAdministration,
        case_reference: None,
        break_glass_justification: None,
        rpc,
        trace_id: dancu_kit::telemetry::current_trace_id(),
    }
}

/// A validated request to create a unit.
pub struct NewUnit {
    /// Unit code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Parent unit code.
    pub parent_code: String,
    /// Area code.
    pub area_code: String,
}

/// A validated request to create an officer.
pub struct NewOfficer {
    /// Login name.
    pub username: String,
    /// Initial password.
    pub password: String,
    /// Unit code.
    pub unit_code: String,
    /// Role codes (known roles).
    pub roles: Vec<String>,
    /// The officer's own personal ID, if recorded.
    pub personal_id: Option<String>,
}

/// The administration use cases.
pub struct Administration {
    store: IdentityStore,
    units: Arc<UnitTree>,
    accounts: Arc<Accounts>,
    policy: Arc<Authorizer>,
    journal: Arc<Journal>,
}

/// The policy actor of a verified principal: roles, unit, jurisdiction from the token.
pub fn actor(principal: &Principal, units: &UnitTree) -> Actor {
    Actor {
        id: principal.id.clone(),
        roles: principal.roles.clone(),
        unit: principal.unit.clone(),
        jurisdiction: principal
            .area
            .as_deref()
            .and_then(|code| AreaPath::resolve(code, units.areas())),
        personal_id: None,
    }
}

impl Administration {
    /// The use cases over `store` and `units`, creating accounts with `accounts`, deciding
    /// with `policy`.
    pub fn new(
        store: IdentityStore,
        units: Arc<UnitTree>,
        accounts: Arc<Accounts>,
        policy: Arc<Authorizer>,
        journal: Arc<Journal>,
    ) -> Self {
        Self {
            store,
            units,
            accounts,
            policy,
            journal,
        }
    }

    /// Audits the outcome of an administration call (permission changes are logged,
    /// granted or refused), then returns it.
    async fn audited<T>(
        &self,
        ctx: &CallContext,
        resource_type: &str,
        resource_id: Option<&str>,
        result: Result<T, IdentityError>,
    ) -> Result<T, IdentityError> {
        let code = match &result {
            Ok(_) => Code::Ok,
            Err(e) => e.code(),
        };
        self.journal
            .record(ctx, resource_type, &[], resource_id, code)
            .await?;
        result
    }

    /// Refuses unless the policies allow `action` on the unit `unit_code` (which must
    /// exist).
    fn check(
        &self,
        principal: &Principal,
        action: Action,
        unit_code: &str,
    ) -> Result<(), IdentityError> {
        let path = self
            .units
            .path(unit_code)
            .ok_or(AccessError::UnitNotFound)?;
        let decision = self.policy.authorize(&AccessRequest {
            actor: actor(principal, &self.units),
            action,
            resource: Resource::Unit { path },
            purpose: None,
            case_reference: None,
            break_glass_justification: None,
        })?;
        if decision.allowed {
            tracing::debug!(policies = ?decision.policy_ids, "administration allowed");
            Ok(())
        } else {
            Err(AccessError::Denied.into())
        }
    }

    /// Creates a unit under an existing parent (audited).
    pub async fn create_unit(
        &self,
        ctx: &CallContext,
        new: NewUnit,
    ) -> Result<UnitRow, IdentityError> {
        let code = new.code.clone();
        let result = self.create_unit_unaudited(&ctx.principal, new).await;
        self.audited(ctx, UNIT, Some(&code), result).await
    }

    async fn create_unit_unaudited(
        &self,
        principal: &Principal,
        new: NewUnit,
    ) -> Result<UnitRow, IdentityError> {
        self.check(principal, Action::CreateUnit, &new.parent_code)?;
        if AreaPath::resolve(&new.area_code, self.units.areas()).is_none() {
            return Err(IdentityError::invalid(
                "unit.area_code",
                "is not a known area code (VN, a province or a commune)",
            ));
        }
        let row = UnitRow {
            code: new.code,
            name: new.name,
            parent_code: Some(new.parent_code),
            area_code: new.area_code,
            created_us: chrono::Utc::now().timestamp_micros(),
        };
        self.units.insert(row.clone()).await?;
        Ok(row)
    }

    /// A unit (the caller's own when `root` is `None`) and every unit below it.
    pub fn list_units(
        &self,
        principal: &Principal,
        root: Option<&str>,
    ) -> Result<Vec<UnitRow>, IdentityError> {
        let root = root.unwrap_or(&principal.unit);
        self.check(principal, Action::ListUnits, root)?;
        Ok(self.units.subtree(root))
    }

    /// Creates an officer; granting each role must be allowed too (audited).
    pub async fn create_officer(
        &self,
        ctx: &CallContext,
        new: NewOfficer,
    ) -> Result<OfficerRow, IdentityError> {
        let result = self.create_officer_unaudited(&ctx.principal, new).await;
        let id = result.as_ref().ok().map(|o| o.id.clone());
        self.audited(ctx, OFFICER, id.as_deref(), result).await
    }

    async fn create_officer_unaudited(
        &self,
        principal: &Principal,
        new: NewOfficer,
    ) -> Result<OfficerRow, IdentityError> {
        self.check(principal, Action::CreateOfficer, &new.unit_code)?;
        for role in &new.roles {
            self.check(principal, Action::ChangeRole(role.clone()), &new.unit_code)?;
        }
        let roles: Vec<&str> = new.roles.iter().map(String::as_str).collect();
        self.accounts
            .create_officer(
                &new.username,
                &new.password,
                &new.unit_code,
                &roles,
                new.personal_id,
            )
            .await
    }

    /// The officers of a unit (the caller's own when `None`) and of every unit below it.
    pub async fn list_officers(
        &self,
        principal: &Principal,
        unit: Option<&str>,
    ) -> Result<Vec<OfficerRow>, IdentityError> {
        let root = unit.unwrap_or(&principal.unit);
        self.check(principal, Action::ListUnits, root)?;
        let codes: Vec<String> = self
            .units
            .subtree(root)
            .into_iter()
            .map(|u| u.code)
            .collect();
        Ok(self.store.officers_in_units(&codes).await?)
    }

    async fn officer(&self, officer_id: &str) -> Result<OfficerRow, IdentityError> {
        self.store
            .officer_by_id(officer_id)
            .await?
            .ok_or_else(|| AccessError::OfficerNotFound.into())
    }

    /// Grants (`grant`) or revokes a role (audited).
    pub async fn change_role(
        &self,
        ctx: &CallContext,
        officer_id: &str,
        role: &str,
        grant: bool,
    ) -> Result<OfficerRow, IdentityError> {
        let result = self
            .change_role_unaudited(&ctx.principal, officer_id, role, grant)
            .await;
        self.audited(ctx, OFFICER, Some(officer_id), result).await
    }

    async fn change_role_unaudited(
        &self,
        principal: &Principal,
        officer_id: &str,
        role: &str,
        grant: bool,
    ) -> Result<OfficerRow, IdentityError> {
        let officer = self.officer(officer_id).await?;
        self.check(
            principal,
            Action::ChangeRole(role.to_owned()),
            &officer.unit,
        )?;
        let mut roles: Vec<&str> = officer.roles.split(',').filter(|r| !r.is_empty()).collect();
        roles.retain(|r| *r != role);
        if grant {
            roles.push(role);
        }
        roles.sort_unstable();
        self.store.set_roles(officer_id, roles.join(",")).await?;
        self.officer(officer_id).await
    }

    /// Disables an officer: no login, no refresh, tokens revoked everywhere (audited).
    pub async fn disable(
        &self,
        ctx: &CallContext,
        officer_id: &str,
    ) -> Result<OfficerRow, IdentityError> {
        let result = self.disable_unaudited(&ctx.principal, officer_id).await;
        self.audited(ctx, OFFICER, Some(officer_id), result).await
    }

    async fn disable_unaudited(
        &self,
        principal: &Principal,
        officer_id: &str,
    ) -> Result<OfficerRow, IdentityError> {
        let officer = self.officer(officer_id).await?;
        self.check(principal, Action::DisableOfficer, &officer.unit)?;
        self.store
            .disable_officer(officer_id, chrono::Utc::now().timestamp_micros())
            .await?;
        self.officer(officer_id).await
    }
}
