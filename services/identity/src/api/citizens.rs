//! `dancu.identity.v1.IdentityService`: the population register.

use crate::app::{Citizen, Citizens};
use dancu_domain::PersonalId;
use dancu_kit::call::CallContext;
use dancu_kit::convert::{
    date_from_proto, date_to_proto, sex_from_proto, sex_to_proto, timestamp_from_us,
};
use dancu_kit::error::{FieldViolations, invalid_field};
use dancu_proto::identity::v1 as pb;
use dancu_proto::identity::v1::identity_service_server::IdentityService;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// Longest accepted place of birth, in characters.
const MAX_PLACE_CHARS: usize = 200;

/// Implements `dancu.identity.v1.IdentityService`.
pub struct IdentityApi {
    citizens: Arc<Citizens>,
}

impl IdentityApi {
    /// The API over the register.
    pub fn new(citizens: Arc<Citizens>) -> Self {
        Self { citizens }
    }

    /// Audits a call rejected for bad input, then returns the rejection.
    async fn reject(&self, ctx: &CallContext, status: Status) -> Status {
        match self.citizens.audit(ctx, None, status.code()).await {
            Ok(()) => status,
            Err(e) => e.into(),
        }
    }
}

#[tonic::async_trait]
impl IdentityService for IdentityApi {
    async fn register_citizen(
        &self,
        request: Request<pb::RegisterCitizenRequest>,
    ) -> Result<Response<pb::Citizen>, Status> {
        let ctx = CallContext::from_request(
            &request,
            "/dancu.identity.v1.IdentityService/RegisterCitizen",
        )?;
        let citizen = match validate_citizen(request.into_inner().citizen) {
            Ok(citizen) => citizen,
            Err(status) => return Err(self.reject(&ctx, status).await),
        };
        let citizen = self.citizens.register(&ctx, citizen).await?;
        Ok(Response::new(to_proto(citizen)))
    }

    async fn get_citizen(
        &self,
        request: Request<pb::GetCitizenRequest>,
    ) -> Result<Response<pb::Citizen>, Status> {
        let ctx =
            CallContext::from_request(&request, "/dancu.identity.v1.IdentityService/GetCitizen")?;
        let personal_id = match PersonalId::parse(request.get_ref().personal_id.trim()) {
            Ok(id) => id,
            Err(e) => {
                return Err(self
                    .reject(&ctx, invalid_field("personal_id", e.to_string()))
                    .await);
            }
        };
        let citizen = self.citizens.get(&ctx, &personal_id).await?;
        Ok(Response::new(to_proto(citizen)))
    }
}

/// Validates every field of a citizen to register, reporting all violations at once.
fn validate_citizen(citizen: Option<pb::Citizen>) -> Result<Citizen, Status> {
    let Some(citizen) = citizen else {
        return Err(invalid_field("citizen", "is required"));
    };
    let mut violations = FieldViolations::new();
    let personal_id = PersonalId::parse(citizen.personal_id.trim())
        .map_err(|e| violations.add("citizen.personal_id", e.to_string()))
        .ok();
    let full_name = dancu_domain::normalize_full_name(&citizen.full_name)
        .map_err(|e| violations.add("citizen.full_name", e.to_string()))
        .ok();
    let sex = sex_from_proto(citizen.sex);
    if sex.is_none() {
        violations.add("citizen.sex", "is required (SEX_MALE or SEX_FEMALE)");
    }
    let today = chrono::Utc::now().date_naive();
    let date_of_birth = match &citizen.date_of_birth {
        None => {
            violations.add("citizen.date_of_birth", "is required");
            None
        }
        Some(date) => match date_from_proto(date) {
            None => {
                violations.add("citizen.date_of_birth", "is not a real calendar date");
                None
            }
            Some(date) => dancu_domain::validate_birth_date(date, today)
                .map(|()| date)
                .map_err(|e| violations.add("citizen.date_of_birth", e.to_string()))
                .ok(),
        },
    };
    let place_of_birth = citizen.place_of_birth.trim().to_owned();
    if place_of_birth.chars().count() > MAX_PLACE_CHARS {
        violations.add(
            "citizen.place_of_birth",
            format!("must be at most {MAX_PLACE_CHARS} characters"),
        );
    }
    if let (Some(id), Some(sex), Some(date)) = (&personal_id, sex, date_of_birth) {
        use chrono::Datelike;
        if let Err(mismatch) = id.check_consistent(sex, date.year()) {
            violations.add("citizen.personal_id", mismatch.to_string());
        }
    }
    violations.check()?;
    match (personal_id, full_name, sex, date_of_birth) {
        (Some(personal_id), Some(full_name), Some(sex), Some(date_of_birth)) => Ok(Citizen {
            personal_id,
            full_name,
            sex,
            date_of_birth,
            place_of_birth,
            created_us: 0,
            version: 0,
        }),
        _ => Err(Status::internal("validation incomplete")),
    }
}

fn to_proto(citizen: Citizen) -> pb::Citizen {
    pb::Citizen {
        personal_id: citizen.personal_id.as_str().to_owned(),
        full_name: citizen.full_name,
        sex: sex_to_proto(citizen.sex) as i32,
        date_of_birth: Some(date_to_proto(citizen.date_of_birth)),
        place_of_birth: citizen.place_of_birth,
        create_time: Some(timestamp_from_us(citizen.created_us)),
        etag: format!("\"{}\"", citizen.version),
    }
}
