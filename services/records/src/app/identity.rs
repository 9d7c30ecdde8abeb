//! The identity service as records sees it: a directory answering "does this person exist,
//! and what does the register hold about them", asked over gRPC on the caller's behalf (or,
//! for the change-feed follower, as records' service account).

use super::RecordsError;
use chrono::NaiveDate;
use dancu_domain::PersonalId;
use dancu_kit::call::{CASE_HEADER, CallContext, PURPOSE_HEADER};
use dancu_kit::client::TracedChannel;
use dancu_proto::identity::v1::foreigner_service_client::ForeignerServiceClient;
use dancu_proto::identity::v1::identity_service_client::IdentityServiceClient;
use dancu_proto::identity::v1::{Citizen, GetCitizenRequest, LifeStatus, ListForeignersRequest};
use tonic::Code;
use tonic::metadata::MetadataValue;

/// What records keeps of a person at the time it records a fact.
#[derive(Clone, Debug)]
pub struct PersonSnapshot {
    /// Full name.
    pub full_name: String,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// Commune of current residence, empty when identity did not show it.
    pub commune: String,
    /// `alive`, `deceased`, `missing`, or empty when unknown.
    pub life_status: &'static str,
    /// Identity's id of a foreigner; empty for citizens.
    pub foreigner_id: String,
}

/// Who asks identity: a caller (their token, purpose and case travel along) or records'
/// own service account.
pub enum Asker<'a> {
    /// An officer's call.
    Caller(&'a CallContext),
    /// Records' service account, with its token, declaring `identity_verification`.
    Service(&'a str),
}

/// Client of identity's register.
#[derive(Clone)]
pub struct IdentityDirectory {
    client: IdentityServiceClient<TracedChannel>,
    foreigners: ForeignerServiceClient<TracedChannel>,
}

fn life_status(citizen: &Citizen) -> &'static str {
    match LifeStatus::try_from(citizen.life_status) {
        Ok(LifeStatus::Deceased) => "deceased",
        Ok(LifeStatus::Missing) => "missing",
        Ok(LifeStatus::Alive) => "alive",
        _ => "",
    }
}

/// The records error of a failed identity lookup: not found, refused, or unavailable.
pub(crate) fn lookup_error(status: tonic::Status) -> RecordsError {
    match status.code() {
        Code::NotFound => RecordsError::PersonUnknown,
        Code::PermissionDenied | Code::Unauthenticated | Code::InvalidArgument => {
            RecordsError::IdentityDenied(status)
        }
        code => {
            tracing::warn!(?code, "identity lookup failed");
            RecordsError::IdentityUnavailable
        }
    }
}

impl IdentityDirectory {
    /// A directory reaching identity at `endpoint`.
    pub fn new(endpoint: &str) -> Result<Self, dancu_kit::client::ClientError> {
        let channel = dancu_kit::client::traced_channel(endpoint)?;
        Ok(Self {
            client: IdentityServiceClient::new(channel.clone()),
            foreigners: ForeignerServiceClient::new(channel),
        })
    }

    pub(crate) fn request<T>(
        asker: &Asker<'_>,
        message: T,
    ) -> Result<tonic::Request<T>, RecordsError> {
        let mut request = tonic::Request::new(message);
        let metadata = request.metadata_mut();
        let (token, purpose) = match asker {
            Asker::Caller(ctx) => (&ctx.principal.token[..], ctx.purpose.as_str()),
            Asker::Service(token) => (*token, "identity_verification"),
        };
        let bearer = MetadataValue::try_from(format!("Bearer {token}"))
            .map_err(|_| RecordsError::IdentityUnavailable)?;
        metadata.insert("authorization", bearer);
        metadata.insert(PURPOSE_HEADER, MetadataValue::from_static(purpose));
        if let Asker::Caller(ctx) = asker
            && let Some(case) = &ctx.case_reference
            && let Ok(value) = MetadataValue::try_from(case.as_str())
        {
            metadata.insert(CASE_HEADER, value);
        }
        Ok(request)
    }

    /// Looks the person up as the caller (their token, purpose and case travel along, so
    /// identity audits the lookup under the caller's name).
    pub async fn snapshot(
        &self,
        ctx: &CallContext,
        personal_id: &PersonalId,
    ) -> Result<PersonSnapshot, RecordsError> {
        self.citizen(&Asker::Caller(ctx), personal_id).await
    }

    /// Looks a citizen up as `asker`.
    pub async fn citizen(
        &self,
        asker: &Asker<'_>,
        personal_id: &PersonalId,
    ) -> Result<PersonSnapshot, RecordsError> {
        let request = Self::request(
            asker,
            GetCitizenRequest {
                personal_id: personal_id.as_str().to_owned(),
            },
        )?;
        let citizen = self
            .client
            .clone()
            .get_citizen(request)
            .await
            .map_err(lookup_error)?
            .into_inner();
        let date_of_birth = citizen
            .date_of_birth
            .as_ref()
            .and_then(dancu_kit::convert::date_from_proto)
            .ok_or(RecordsError::IdentityUnavailable)?;
        Ok(PersonSnapshot {
            life_status: life_status(&citizen),
            commune: citizen
                .residence
                .as_ref()
                .map(|r| r.current_commune_code.clone())
                .unwrap_or_default(),
            full_name: citizen.full_name,
            date_of_birth,
            foreigner_id: String::new(),
        })
    }

    /// Looks a foreigner up by passport and nationality (both normalised), as `asker`.
    pub async fn foreigner(
        &self,
        asker: &Asker<'_>,
        passport_number: &str,
        nationality: &str,
    ) -> Result<PersonSnapshot, RecordsError> {
        let request = Self::request(
            asker,
            ListForeignersRequest {
                nationality: nationality.to_owned(),
                passport_number: passport_number.to_owned(),
                page_size: 1,
                page_token: String::new(),
            },
        )?;
        let page = self
            .foreigners
            .clone()
            .list_foreigners(request)
            .await
            .map_err(lookup_error)?
            .into_inner();
        let foreigner = page
            .foreigners
            .into_iter()
            .next()
            .ok_or(RecordsError::PersonUnknown)?;
        let date_of_birth = foreigner
            .date_of_birth
            .as_ref()
            .and_then(dancu_kit::convert::date_from_proto)
            .ok_or(RecordsError::IdentityUnavailable)?;
        Ok(PersonSnapshot {
            full_name: foreigner.full_name,
            date_of_birth,
            commune: String::new(),
            life_status: "",
            foreigner_id: foreigner.id,
        })
    }
}
