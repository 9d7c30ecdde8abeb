//! `dancu.identity.v1.HouseholdService`: households.

use crate::app::PurposeGuard;
use crate::app::{HouseholdView, Households};
use dancu_domain::{HouseholdRelation, PersonalId};
use dancu_kit::call::CallContext;
use dancu_kit::convert::timestamp_from_us;
use dancu_kit::error::{FieldViolations, invalid_field};
use dancu_proto::identity::v1 as pb;
use dancu_proto::identity::v1::household_service_server::HouseholdService;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// Most members in one household.
const MAX_MEMBERS: usize = 50;
/// Longest address, in characters.
const MAX_ADDRESS_CHARS: usize = 200;

/// Implements `dancu.identity.v1.HouseholdService`.
pub struct HouseholdApi {
    households: Arc<Households>,
    guard: Arc<PurposeGuard>,
}

impl HouseholdApi {
    /// The API over households.
    pub fn new(households: Arc<Households>, guard: Arc<PurposeGuard>) -> Self {
        Self { households, guard }
    }

    async fn reject(&self, ctx: &CallContext, status: Status) -> Status {
        match self.households.audit(ctx, status.code()).await {
            Ok(()) => status,
            Err(e) => e.into(),
        }
    }
}

fn relation(value: i32) -> Option<HouseholdRelation> {
    match pb::HouseholdRelation::try_from(value).ok()? {
        pb::HouseholdRelation::Unspecified => None,
        pb::HouseholdRelation::Head => Some(HouseholdRelation::Head),
        pb::HouseholdRelation::Spouse => Some(HouseholdRelation::Spouse),
        pb::HouseholdRelation::Child => Some(HouseholdRelation::Child),
        pb::HouseholdRelation::Parent => Some(HouseholdRelation::Parent),
        pb::HouseholdRelation::Sibling => Some(HouseholdRelation::Sibling),
        pb::HouseholdRelation::Grandchild => Some(HouseholdRelation::Grandchild),
        pb::HouseholdRelation::Grandparent => Some(HouseholdRelation::Grandparent),
        pb::HouseholdRelation::Other => Some(HouseholdRelation::Other),
    }
}

fn relation_to_proto(code: &str) -> pb::HouseholdRelation {
    match HouseholdRelation::parse(code) {
        Some(HouseholdRelation::Head) => pb::HouseholdRelation::Head,
        Some(HouseholdRelation::Spouse) => pb::HouseholdRelation::Spouse,
        Some(HouseholdRelation::Child) => pb::HouseholdRelation::Child,
        Some(HouseholdRelation::Parent) => pb::HouseholdRelation::Parent,
        Some(HouseholdRelation::Sibling) => pb::HouseholdRelation::Sibling,
        Some(HouseholdRelation::Grandchild) => pb::HouseholdRelation::Grandchild,
        Some(HouseholdRelation::Grandparent) => pb::HouseholdRelation::Grandparent,
        Some(HouseholdRelation::Other) => pb::HouseholdRelation::Other,
        None => pb::HouseholdRelation::Unspecified,
    }
}

fn encode(view: HouseholdView) -> pb::Household {
    pb::Household {
        household_id: view.household.id,
        commune_code: view.household.commune_code,
        address: view.household.address,
        members: view
            .members
            .into_iter()
            .map(|m| pb::HouseholdMember {
                relation: relation_to_proto(&m.relation) as i32,
                personal_id: m.personal_id,
                join_time: Some(timestamp_from_us(m.joined_us)),
            })
            .collect(),
        create_time: Some(timestamp_from_us(view.household.created_us)),
    }
}

fn household_id(text: &str) -> Option<String> {
    uuid::Uuid::parse_str(text.trim())
        .ok()
        .map(|u| u.to_string())
}

#[tonic::async_trait]
impl HouseholdService for HouseholdApi {
    async fn create_household(
        &self,
        request: Request<pb::CreateHouseholdRequest>,
    ) -> Result<Response<pb::Household>, Status> {
        let ctx = CallContext::from_request(
            &request,
            "/dancu.identity.v1.HouseholdService/CreateHousehold",
        )?;
        self.guard.check(&ctx, "household").await?;
        let request = request.into_inner();
        let mut v = FieldViolations::new();
        let commune = request.commune_code.trim().to_owned();
        if dancu_domain::AreaTable::builtin()
            .commune(&commune)
            .is_none()
        {
            v.add(
                "commune_code",
                "is required and must be a known commune code",
            );
        }
        let address = request.address.trim().to_owned();
        if address.is_empty() {
            v.add("address", "is required");
        } else if address.chars().count() > MAX_ADDRESS_CHARS {
            v.add(
                "address",
                format!("must be at most {MAX_ADDRESS_CHARS} characters"),
            );
        }
        if request.members.is_empty() {
            v.add("members", "must include the head");
        } else if request.members.len() > MAX_MEMBERS {
            v.add("members", format!("at most {MAX_MEMBERS} members"));
        }
        let mut members = Vec::new();
        let mut heads = 0;
        for (i, m) in request.members.iter().enumerate() {
            let id = PersonalId::parse(m.personal_id.trim())
                .map_err(|e| v.add(format!("members[{i}].personal_id"), e.to_string()))
                .ok();
            if let Some(id) = &id
                && members.iter().any(|(other, _)| other == id)
            {
                v.add(format!("members[{i}].personal_id"), "is listed twice");
            }
            let rel = relation(m.relation);
            match rel {
                None => v.add(format!("members[{i}].relation"), "is required"),
                Some(HouseholdRelation::Head) => {
                    heads += 1;
                    if heads > 1 {
                        v.add(
                            format!("members[{i}].relation"),
                            "a household has exactly one head",
                        );
                    }
                }
                Some(_) => {}
            }
            if let (Some(id), Some(rel)) = (id, rel) {
                members.push((id, rel));
            }
        }
        if heads == 0 && !request.members.is_empty() {
            v.add("members", "exactly one member must be the head");
        }
        if let Err(status) = v.check() {
            return Err(self.reject(&ctx, status).await);
        }
        let view = self
            .households
            .create(&ctx, commune, address, members)
            .await?;
        Ok(Response::new(encode(view)))
    }

    async fn get_household(
        &self,
        request: Request<pb::GetHouseholdRequest>,
    ) -> Result<Response<pb::Household>, Status> {
        let ctx = CallContext::from_request(
            &request,
            "/dancu.identity.v1.HouseholdService/GetHousehold",
        )?;
        self.guard.check(&ctx, "household").await?;
        let Some(id) = household_id(&request.get_ref().household_id) else {
            return Err(self
                .reject(
                    &ctx,
                    invalid_field("household_id", "must be a household id (UUID)"),
                )
                .await);
        };
        let view = self.households.get(&ctx, &id).await?;
        Ok(Response::new(encode(view)))
    }

    async fn move_member(
        &self,
        request: Request<pb::MoveMemberRequest>,
    ) -> Result<Response<pb::Household>, Status> {
        let ctx =
            CallContext::from_request(&request, "/dancu.identity.v1.HouseholdService/MoveMember")?;
        self.guard.check(&ctx, "household").await?;
        let request = request.into_inner();
        let mut v = FieldViolations::new();
        let personal_id = PersonalId::parse(request.personal_id.trim())
            .map_err(|e| v.add("personal_id", e.to_string()))
            .ok();
        let target = household_id(&request.household_id);
        if target.is_none() {
            v.add("household_id", "must be a household id (UUID)");
        }
        let rel = relation(request.relation);
        if rel.is_none() {
            v.add("relation", "is required");
        }
        if let Err(status) = v.check() {
            return Err(self.reject(&ctx, status).await);
        }
        let (Some(personal_id), Some(target), Some(rel)) = (personal_id, target, rel) else {
            return Err(Status::internal("validation incomplete"));
        };
        let view = self
            .households
            .move_member(&ctx, &personal_id, &target, rel)
            .await?;
        Ok(Response::new(encode(view)))
    }
}
