//! The identity service as records sees it: a directory answering "does this person exist,
//! and what are their name and date of birth", asked over gRPC on the caller's behalf.

use super::RecordsError;
use chrono::NaiveDate;
use dancu_domain::PersonalId;
use dancu_kit::call::{CASE_HEADER, CallContext, PURPOSE_HEADER};
use dancu_kit::client::TracedChannel;
use dancu_proto::identity::v1::GetCitizenRequest;
use dancu_proto::identity::v1::identity_service_client::IdentityServiceClient;
use tonic::Code;
use tonic::metadata::MetadataValue;

/// What records keeps of a person at the time it records a fact.
#[derive(Clone, Debug)]
pub struct PersonSnapshot {
    /// Full name.
    pub full_name: String,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
}

/// Client of identity's register.
#[derive(Clone)]
pub struct IdentityDirectory {
    client: IdentityServiceClient<TracedChannel>,
}

impl IdentityDirectory {
    /// A directory reaching identity at `endpoint`.
    pub fn new(endpoint: &str) -> Result<Self, dancu_kit::client::ClientError> {
        Ok(Self {
            client: IdentityServiceClient::new(dancu_kit::client::traced_channel(endpoint)?),
        })
    }

    /// Looks the person up as the caller (their token, purpose and case travel along, so
    /// identity audits the lookup under the caller's name).
    pub async fn snapshot(
        &self,
        ctx: &CallContext,
        personal_id: &PersonalId,
    ) -> Result<PersonSnapshot, RecordsError> {
        let mut request = tonic::Request::new(GetCitizenRequest {
            personal_id: personal_id.as_str().to_owned(),
        });
        let metadata = request.metadata_mut();
        let bearer = MetadataValue::try_from(format!("Bearer {}", ctx.principal.token))
            .map_err(|_| RecordsError::IdentityUnavailable)?;
        metadata.insert("authorization", bearer);
        metadata.insert(
            PURPOSE_HEADER,
            MetadataValue::from_static(ctx.purpose.as_str()),
        );
        if let Some(case) = &ctx.case_reference
            && let Ok(value) = MetadataValue::try_from(case.as_str())
        {
            metadata.insert(CASE_HEADER, value);
        }
        let citizen = match self.client.clone().get_citizen(request).await {
            Ok(response) => response.into_inner(),
            Err(status) => {
                return Err(match status.code() {
                    Code::NotFound => RecordsError::PersonUnknown,
                    Code::PermissionDenied | Code::Unauthenticated | Code::InvalidArgument => {
                        RecordsError::IdentityDenied(status)
                    }
                    code => {
                        tracing::warn!(?code, "identity lookup failed");
                        RecordsError::IdentityUnavailable
                    }
                });
            }
        };
        let date_of_birth = citizen
            .date_of_birth
            .as_ref()
            .and_then(dancu_kit::convert::date_from_proto)
            .ok_or(RecordsError::IdentityUnavailable)?;
        Ok(PersonSnapshot {
            full_name: citizen.full_name,
            date_of_birth,
        })
    }
}
