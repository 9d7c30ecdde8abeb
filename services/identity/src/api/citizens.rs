//! `dancu.identity.v1.IdentityService`: the population register.

use super::citizen_input::{UPDATABLE_FIELDS, decode_citizen, encode_citizen};
use super::parse_etag;
use super::{next_token, numeric_paging, paging, parsed_paging};
use crate::app::{CitizenAccess, CitizenUpdate, Citizens, check_consistency, today};
use crate::store::{CitizenSearch, SearchAfter};
use dancu_domain::PersonalId;
use dancu_kit::call::CallContext;
use dancu_kit::error::{FieldViolations, invalid_field};
use dancu_policy::{Decision, View};
use dancu_proto::identity::v1 as pb;
use dancu_proto::identity::v1::identity_service_server::IdentityService;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// Implements `dancu.identity.v1.IdentityService`.
pub struct IdentityApi {
    citizens: Arc<Citizens>,
    access: Arc<CitizenAccess>,
}

impl IdentityApi {
    /// The API over the register, deciding views with `access`.
    pub fn new(citizens: Arc<Citizens>, access: Arc<CitizenAccess>) -> Self {
        Self { citizens, access }
    }

    /// Before any data is read: the purpose must fit the caller's roles, and the roles must
    /// allow reading people at all. A refusal is audited.
    async fn guard(&self, ctx: &CallContext) -> Result<(), Status> {
        match self.access.precheck(ctx) {
            Ok(()) => Ok(()),
            Err(e) => Err(self.reject(ctx, None, e.into()).await),
        }
    }

    /// Audits a call rejected for bad input, then returns the rejection.
    async fn reject(&self, ctx: &CallContext, subject: Option<&str>, status: Status) -> Status {
        match self.citizens.audit(ctx, subject, status.code()).await {
            Ok(()) => status,
            Err(e) => e.into(),
        }
    }

    /// Parses a personal ID request field, auditing a rejection.
    async fn personal_id(&self, ctx: &CallContext, text: &str) -> Result<PersonalId, Status> {
        match PersonalId::parse(text.trim()) {
            Ok(id) => Ok(id),
            Err(e) => Err(self
                .reject(ctx, None, invalid_field("personal_id", e.to_string()))
                .await),
        }
    }
}

fn context<T>(request: &Request<T>, method: &'static str) -> Result<CallContext, Status> {
    CallContext::from_request(request, method)
}

#[tonic::async_trait]
impl IdentityService for IdentityApi {
    async fn register_citizen(
        &self,
        request: Request<pb::RegisterCitizenRequest>,
    ) -> Result<Response<pb::Citizen>, Status> {
        let ctx = context(
            &request,
            "/dancu.identity.v1.IdentityService/RegisterCitizen",
        )?;
        self.guard(&ctx).await?;
        let request = request.into_inner();
        let Some(mut input) = request.citizen else {
            return Err(self
                .reject(&ctx, None, invalid_field("citizen", "is required"))
                .await);
        };
        let mut violations = FieldViolations::new();
        let code = request.birth_registration_code.trim();
        let assign = input.personal_id.trim().is_empty();
        match (assign, code.is_empty()) {
            (true, true) => violations.add(
                "birth_registration_code",
                "is required when citizen.personal_id is empty",
            ),
            (false, false) => violations.add(
                "birth_registration_code",
                "must be empty when citizen.personal_id is given",
            ),
            (true, false) => match provisional_id(&input, code) {
                Ok(Some(id)) => input.personal_id = id.as_str().to_owned(),
                Ok(None) => {}
                Err(reason) => violations.add("birth_registration_code", reason),
            },
            (false, true) => {}
        }
        let citizen = decode_citizen(&input, "citizen.", |_| true, &mut violations);
        if let Some(citizen) = &citizen
            && let Err(crate::app::IdentityError::InvalidField { field, reason }) =
                check_consistency(citizen, today())
        {
            violations.add(field, reason);
        }
        let citizen = match (violations.check(), citizen) {
            (Ok(()), Some(citizen)) => citizen,
            (Err(status), _) => return Err(self.reject(&ctx, None, status).await),
            (Ok(()), None) => return Err(Status::internal("validation incomplete")),
        };
        let assign_from = assign.then(|| code.to_owned());
        let citizen = self.citizens.register(&ctx, citizen, assign_from).await?;
        Ok(Response::new(encode_citizen(citizen)))
    }

    async fn get_citizen(
        &self,
        request: Request<pb::GetCitizenRequest>,
    ) -> Result<Response<pb::Citizen>, Status> {
        let ctx = context(&request, "/dancu.identity.v1.IdentityService/GetCitizen")?;
        self.guard(&ctx).await?;
        let personal_id = self
            .personal_id(&ctx, &request.get_ref().personal_id)
            .await?;
        let (shown, decision) = self.citizens.get(&ctx, &personal_id).await?;
        let mut response = Response::new(encode_citizen(shown));
        decision_metadata(&decision, response.metadata_mut());
        Ok(response)
    }

    async fn update_citizen(
        &self,
        request: Request<pb::UpdateCitizenRequest>,
    ) -> Result<Response<pb::Citizen>, Status> {
        let ctx = context(&request, "/dancu.identity.v1.IdentityService/UpdateCitizen")?;
        self.guard(&ctx).await?;
        let request = request.into_inner();
        let mut violations = FieldViolations::new();
        let fields: Vec<String> = request
            .update_mask
            .map(|m| m.paths)
            .unwrap_or_default()
            .into_iter()
            .map(|p| {
                if p == "life_status_date" {
                    "life_status".to_owned()
                } else {
                    p
                }
            })
            .collect();
        if fields.is_empty() {
            violations.add(
                "update_mask",
                "is required and must name at least one field",
            );
        }
        for (i, field) in fields.iter().enumerate() {
            if !UPDATABLE_FIELDS.contains(&field.as_str()) {
                violations.add(
                    format!("update_mask.paths[{i}]"),
                    "is not an updatable field",
                );
            }
        }
        let expected_version = parse_etag(&request.etag);
        if expected_version.is_none() {
            violations.add("etag", "is required: the etag of the record as last read");
        }
        let reason = request.reason.trim().to_owned();
        if reason.is_empty() {
            violations.add("reason", "is required");
        } else if reason.chars().count() > 500 {
            violations.add("reason", "must be at most 500 characters");
        }
        let values = match &request.citizen {
            None => {
                violations.add("citizen", "is required");
                None
            }
            Some(input) => decode_citizen(
                input,
                "citizen.",
                |f| fields.iter().any(|x| x == f),
                &mut violations,
            ),
        };
        let subject = values.as_ref().map(|v| v.personal_id.as_str().to_owned());
        if let Err(status) = violations.check() {
            return Err(self.reject(&ctx, subject.as_deref(), status).await);
        }
        let (Some(values), Some(expected_version)) = (values, expected_version) else {
            return Err(Status::internal("validation incomplete"));
        };
        let mut fields = fields;
        fields.sort();
        fields.dedup();
        let citizen = self
            .citizens
            .update(
                &ctx,
                CitizenUpdate {
                    values,
                    fields,
                    expected_version,
                    reason,
                },
            )
            .await?;
        Ok(Response::new(encode_citizen(citizen)))
    }

    async fn list_citizen_history(
        &self,
        request: Request<pb::ListCitizenHistoryRequest>,
    ) -> Result<Response<pb::ListCitizenHistoryResponse>, Status> {
        let ctx = context(
            &request,
            "/dancu.identity.v1.IdentityService/ListCitizenHistory",
        )?;
        self.guard(&ctx).await?;
        let request = request.into_inner();
        let personal_id = self.personal_id(&ctx, &request.personal_id).await?;
        let mut violations = FieldViolations::new();
        let (size, after_version) = numeric_paging(
            "history",
            request.page_size,
            100,
            &request.page_token,
            &mut violations,
        );
        if let Err(status) = violations.check() {
            return Err(self.reject(&ctx, Some(personal_id.as_str()), status).await);
        }
        let entries = self
            .citizens
            .history(&ctx, &personal_id, after_version, size)
            .await?;
        let next = next_token(
            "history",
            entries.len(),
            size,
            entries.last().map(|e| e.version.to_string()),
        );
        Ok(Response::new(pb::ListCitizenHistoryResponse {
            changes: entries
                .into_iter()
                .map(|e| pb::CitizenChange {
                    version: e.version,
                    change_time: Some(dancu_kit::convert::timestamp_from_us(e.changed_us)),
                    changed_by: e.changed_by,
                    fields: e.fields,
                    reason: e.reason,
                })
                .collect(),
            next_page_token: next,
        }))
    }

    async fn search_citizens(
        &self,
        request: Request<pb::SearchCitizensRequest>,
    ) -> Result<Response<pb::SearchCitizensResponse>, Status> {
        let ctx = context(
            &request,
            "/dancu.identity.v1.IdentityService/SearchCitizens",
        )?;
        self.guard(&ctx).await?;
        let request = request.into_inner();
        let mut violations = FieldViolations::new();
        let name_key = match dancu_domain::normalize_full_name(&request.full_name) {
            Ok(name) => dancu_domain::name_search_key(&name),
            Err(e) => {
                violations.add("full_name", e.to_string());
                String::new()
            }
        };
        let birth_year = match request.birth_year {
            0 => None,
            y if (dancu_domain::date::MIN_BIRTH_YEAR..=9999).contains(&y) => Some(y),
            _ => {
                violations.add("birth_year", "must be 0 (any) or a year from 1900");
                None
            }
        };
        let areas = dancu_domain::AreaTable::builtin();
        let province = non_empty(&request.province_code);
        if let Some(p) = &province
            && areas.province(p).is_none()
        {
            violations.add("province_code", "is not a known province code");
        }
        let commune = non_empty(&request.commune_code);
        if let Some(c) = &commune
            && areas.commune(c).is_none()
        {
            violations.add("commune_code", "is not a known commune code");
        }
        let (size, after) = parsed_paging(
            SEARCH_TOKEN,
            request.page_size,
            50,
            &request.page_token,
            &mut violations,
            search_after,
        );
        if let Err(status) = violations.check() {
            return Err(self.reject(&ctx, None, status).await);
        }
        let search = CitizenSearch {
            name_key,
            birth_year,
            province,
            commune,
        };
        let (citizens, last) = self
            .citizens
            .search(&ctx, &search, after.as_ref(), size)
            .await?;
        let next = next_token(
            SEARCH_TOKEN,
            citizens.len(),
            size,
            last.as_ref().map(search_key),
        );
        Ok(Response::new(pb::SearchCitizensResponse {
            citizens: citizens.into_iter().map(encode_citizen).collect(),
            next_page_token: next,
        }))
    }

    async fn list_residents(
        &self,
        request: Request<pb::ListResidentsRequest>,
    ) -> Result<Response<pb::ListResidentsResponse>, Status> {
        let ctx = context(&request, "/dancu.identity.v1.IdentityService/ListResidents")?;
        self.guard(&ctx).await?;
        let request = request.into_inner();
        let mut violations = FieldViolations::new();
        let commune = request.commune_code.trim().to_owned();
        if dancu_domain::AreaTable::builtin()
            .commune(&commune)
            .is_none()
        {
            violations.add(
                "commune_code",
                "is required and must be a known commune code",
            );
        }
        let (size, after) = paging(
            "residents",
            request.page_size,
            100,
            &request.page_token,
            &mut violations,
        );
        if let Err(status) = violations.check() {
            return Err(self.reject(&ctx, None, status).await);
        }
        let citizens = self
            .citizens
            .residents(&ctx, &commune, after.as_deref().unwrap_or(""), size)
            .await?;
        let next = next_token(
            "residents",
            citizens.len(),
            size,
            citizens.last().map(|c| c.personal_id.as_str().to_owned()),
        );
        Ok(Response::new(pb::ListResidentsResponse {
            citizens: citizens.into_iter().map(encode_citizen).collect(),
            next_page_token: next,
        }))
    }

    async fn count_residents(
        &self,
        request: Request<pb::CountResidentsRequest>,
    ) -> Result<Response<pb::CountResidentsResponse>, Status> {
        let ctx = context(
            &request,
            "/dancu.identity.v1.IdentityService/CountResidents",
        )?;
        let province = non_empty(&request.get_ref().province_code);
        if let Some(p) = &province
            && dancu_domain::AreaTable::builtin().province(p).is_none()
        {
            return Err(self
                .reject(
                    &ctx,
                    None,
                    invalid_field("province_code", "is not a known province code"),
                )
                .await);
        }
        let counts = self
            .citizens
            .count_residents(&ctx, province.as_deref())
            .await?;
        let total = counts.iter().map(|c| c.residents).sum();
        Ok(Response::new(pb::CountResidentsResponse {
            communes: counts
                .into_iter()
                .map(|c| pb::CommuneCount {
                    commune_code: c.commune,
                    province_code: c.province,
                    residents: c.residents,
                })
                .collect(),
            total,
        }))
    }
}

/// A first candidate personal ID for a citizen registered without one, so that the rest
/// of the record validates as usual (the register draws again if it is taken). `Ok(None)`
/// when sex or year of birth are themselves invalid: their violations are reported then.
fn provisional_id(input: &pb::Citizen, code: &str) -> Result<Option<PersonalId>, String> {
    if dancu_domain::province_by_code(code).is_none() {
        return Err("is not a birth-registration province code".to_owned());
    }
    let (Some(sex), Some(year)) = (
        dancu_kit::convert::sex_from_proto(input.sex),
        input.date_of_birth.as_ref().map(|d| d.year),
    ) else {
        return Ok(None);
    };
    match PersonalId::generate(code, sex, year, &mut rand::thread_rng()) {
        Ok(id) => Ok(Some(id)),
        Err(_) => Ok(None),
    }
}

fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// The response metadata describing a decision: `x-dancu-view` (`full` or `minimal`),
/// `x-dancu-masked` (comma-separated masked fields of a full view), `x-dancu-policies`
/// (ids of the deciding policies) and `x-dancu-flags` (`break_glass`, `self_or_family`).
fn decision_metadata(decision: &Decision, metadata: &mut tonic::metadata::MetadataMap) {
    let view = match decision.view {
        View::Full => "full",
        _ => "minimal",
    };
    metadata.insert(
        "x-dancu-view",
        tonic::metadata::MetadataValue::from_static(view),
    );
    let mut put = |key: &'static str, values: Vec<&str>| {
        if let Ok(value) = values.join(",").parse() {
            metadata.insert(key, value);
        }
    };
    if decision.view == View::Full {
        put(
            "x-dancu-masked",
            decision.masked.iter().map(|f| f.as_str()).collect(),
        );
    }
    put(
        "x-dancu-policies",
        decision.policy_ids.iter().map(String::as_str).collect(),
    );
    let mut flags = Vec::new();
    if decision.break_glass {
        flags.push("break_glass");
    }
    if decision.self_or_family {
        flags.push("self_or_family");
    }
    put("x-dancu-flags", flags);
}

/// The page-token kind of citizen searches. Its key is `<year of birth>:<personal ID>` of
/// the last person of the page. (Until 2026-11-30 the kind was `search` and the key a
/// personal ID alone; such tokens are refused as not issued by this list.)
const SEARCH_TOKEN: &str = "citizen-search";

/// The key of a search token continuing after `last`.
fn search_key(last: &SearchAfter) -> String {
    format!("{}:{}", last.birth_year, last.personal_id)
}

/// The person a search token's key continues after ([`search_key`]), if well formed.
fn search_after(key: &str) -> Option<SearchAfter> {
    let (year, personal_id) = key.split_once(':')?;
    Some(SearchAfter {
        birth_year: year.parse().ok()?,
        personal_id: personal_id.to_owned(),
    })
}
