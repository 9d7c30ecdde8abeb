//! `dancu.identity.v1.AdminService`: units and officers.

use crate::app::{Administration, NewOfficer, NewUnit, admin_context};
use crate::store::{OfficerRow, UnitRow};
use dancu_kit::auth::principal;
use dancu_kit::convert::timestamp_from_us;
use dancu_kit::error::{FieldViolations, invalid_field};
use dancu_policy::Role;
use dancu_proto::identity::v1 as pb;
use dancu_proto::identity::v1::admin_service_server::AdminService;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// Longest unit code.
const MAX_UNIT_CODE: usize = 32;
/// Longest unit name, in characters.
const MAX_UNIT_NAME: usize = 200;
/// Shortest initial password.
const MIN_PASSWORD: usize = 12;

/// Implements `dancu.identity.v1.AdminService`.
pub struct AdminApi {
    admin: Arc<Administration>,
}

impl AdminApi {
    /// The API over the administration use cases.
    pub fn new(admin: Arc<Administration>) -> Self {
        Self { admin }
    }
}

fn valid_unit_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= MAX_UNIT_CODE
        && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

fn valid_username(name: &str) -> bool {
    (3..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'))
}

fn check_unit_code(field: &str, code: &str, violations: &mut FieldViolations) {
    if !valid_unit_code(code) {
        violations.add(
            field,
            format!("must be 1 to {MAX_UNIT_CODE} ASCII letters, digits or '-'"),
        );
    }
}

fn check_role(field: &str, role: &str, violations: &mut FieldViolations) {
    if let Err(unknown) = role.parse::<Role>() {
        violations.add(field, unknown.to_string());
    }
}

fn client_address<T>(request: &Request<T>) -> Option<String> {
    request.remote_addr().map(|a| a.to_string())
}

fn unit_to_proto(unit: UnitRow) -> pb::Unit {
    pb::Unit {
        code: unit.code,
        name: unit.name,
        parent_code: unit.parent_code.unwrap_or_default(),
        area_code: unit.area_code,
    }
}

fn officer_to_proto(officer: OfficerRow) -> pb::Officer {
    let mut roles: Vec<String> = officer
        .roles
        .split(',')
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect();
    roles.sort();
    pb::Officer {
        id: officer.id,
        username: officer.username,
        unit_code: officer.unit,
        roles,
        disabled: officer.disabled,
        create_time: Some(timestamp_from_us(officer.created_us)),
    }
}

/// An optional unit code field: empty means "the caller's own".
fn optional_code(field: &str, code: &str) -> Result<Option<String>, Status> {
    let code = code.trim();
    if code.is_empty() {
        return Ok(None);
    }
    let mut violations = FieldViolations::new();
    check_unit_code(field, code, &mut violations);
    violations.check()?;
    Ok(Some(code.to_owned()))
}

#[tonic::async_trait]
impl AdminService for AdminApi {
    async fn create_unit(
        &self,
        request: Request<pb::CreateUnitRequest>,
    ) -> Result<Response<pb::Unit>, Status> {
        let caller = principal(&request)?;
        let client_address = client_address(&request);
        let mut violations = FieldViolations::new();
        let Some(unit) = request.into_inner().unit else {
            return Err(invalid_field("unit", "is required"));
        };
        let (code, name, parent, area) = (
            unit.code.trim(),
            unit.name.trim(),
            unit.parent_code.trim(),
            unit.area_code.trim(),
        );
        check_unit_code("unit.code", code, &mut violations);
        check_unit_code("unit.parent_code", parent, &mut violations);
        if name.is_empty() || name.chars().count() > MAX_UNIT_NAME {
            violations.add(
                "unit.name",
                format!("must be 1 to {MAX_UNIT_NAME} characters"),
            );
        }
        if area.is_empty() {
            violations.add("unit.area_code", "is required");
        }
        violations.check()?;
        let ctx = admin_context(
            caller,
            "/dancu.identity.v1.AdminService/CreateUnit",
            client_address,
        );
        let created = self
            .admin
            .create_unit(
                &ctx,
                NewUnit {
                    code: code.to_owned(),
                    name: name.to_owned(),
                    parent_code: parent.to_owned(),
                    area_code: area.to_owned(),
                },
            )
            .await?;
        Ok(Response::new(unit_to_proto(created)))
    }

    async fn list_units(
        &self,
        request: Request<pb::ListUnitsRequest>,
    ) -> Result<Response<pb::ListUnitsResponse>, Status> {
        let caller = principal(&request)?;
        let root = optional_code("root_code", &request.get_ref().root_code)?;
        let units = self.admin.list_units(&caller, root.as_deref())?;
        Ok(Response::new(pb::ListUnitsResponse {
            units: units.into_iter().map(unit_to_proto).collect(),
        }))
    }

    async fn create_officer(
        &self,
        request: Request<pb::CreateOfficerRequest>,
    ) -> Result<Response<pb::Officer>, Status> {
        let caller = principal(&request)?;
        let client_address = client_address(&request);
        let request = request.into_inner();
        let mut violations = FieldViolations::new();
        let username = request.username.trim();
        if !valid_username(username) {
            violations.add(
                "username",
                "must be 3 to 64 ASCII lower-case letters, digits, '.', '-' or '_'",
            );
        }
        if request.initial_password.chars().count() < MIN_PASSWORD {
            violations.add(
                "initial_password",
                format!("must be at least {MIN_PASSWORD} characters"),
            );
        }
        check_unit_code("unit_code", request.unit_code.trim(), &mut violations);
        let personal_id = match request.personal_id.trim() {
            "" => None,
            raw => dancu_domain::PersonalId::parse(raw)
                .map(|id| id.as_str().to_owned())
                .map_err(|e| violations.add("personal_id", e.to_string()))
                .ok(),
        };
        let mut roles: Vec<String> = Vec::new();
        for (i, role) in request.roles.iter().enumerate() {
            let role = role.trim();
            check_role(&format!("roles[{i}]"), role, &mut violations);
            if !roles.iter().any(|r| r == role) {
                roles.push(role.to_owned());
            }
        }
        violations.check()?;
        let ctx = admin_context(
            caller,
            "/dancu.identity.v1.AdminService/CreateOfficer",
            client_address,
        );
        let officer = self
            .admin
            .create_officer(
                &ctx,
                NewOfficer {
                    username: username.to_owned(),
                    password: request.initial_password,
                    unit_code: request.unit_code.trim().to_owned(),
                    roles,
                    personal_id,
                },
            )
            .await?;
        Ok(Response::new(officer_to_proto(officer)))
    }

    async fn list_officers(
        &self,
        request: Request<pb::ListOfficersRequest>,
    ) -> Result<Response<pb::ListOfficersResponse>, Status> {
        let caller = principal(&request)?;
        let unit = optional_code("unit_code", &request.get_ref().unit_code)?;
        let officers = self.admin.list_officers(&caller, unit.as_deref()).await?;
        Ok(Response::new(pb::ListOfficersResponse {
            officers: officers.into_iter().map(officer_to_proto).collect(),
        }))
    }

    async fn grant_role(
        &self,
        request: Request<pb::ChangeRoleRequest>,
    ) -> Result<Response<pb::Officer>, Status> {
        self.change_role(request, true).await
    }

    async fn revoke_role(
        &self,
        request: Request<pb::ChangeRoleRequest>,
    ) -> Result<Response<pb::Officer>, Status> {
        self.change_role(request, false).await
    }

    async fn disable_officer(
        &self,
        request: Request<pb::DisableOfficerRequest>,
    ) -> Result<Response<pb::Officer>, Status> {
        let caller = principal(&request)?;
        let id = request.get_ref().officer_id.trim();
        let mut violations = FieldViolations::new();
        if uuid::Uuid::parse_str(id).is_err() {
            violations.add("officer_id", "must be a UUID");
        }
        violations.check()?;
        let ctx = admin_context(
            caller,
            "/dancu.identity.v1.AdminService/DisableOfficer",
            client_address(&request),
        );
        let officer = self.admin.disable(&ctx, id).await?;
        Ok(Response::new(officer_to_proto(officer)))
    }
}

impl AdminApi {
    async fn change_role(
        &self,
        request: Request<pb::ChangeRoleRequest>,
        grant: bool,
    ) -> Result<Response<pb::Officer>, Status> {
        let rpc = if grant {
            "/dancu.identity.v1.AdminService/GrantRole"
        } else {
            "/dancu.identity.v1.AdminService/RevokeRole"
        };
        let ctx = admin_context(principal(&request)?, rpc, client_address(&request));
        let request = request.into_inner();
        let mut violations = FieldViolations::new();
        let id = request.officer_id.trim();
        if uuid::Uuid::parse_str(id).is_err() {
            violations.add("officer_id", "must be a UUID");
        }
        check_role("role", request.role.trim(), &mut violations);
        violations.check()?;
        let officer = self
            .admin
            .change_role(&ctx, id, request.role.trim(), grant)
            .await?;
        Ok(Response::new(officer_to_proto(officer)))
    }
}
