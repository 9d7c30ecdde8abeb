//! Resident counts per commune, asked of identity (`CountResidents`) on the caller's
//! behalf, so identity audits the count under the caller's name.

use crate::app::identity::lookup_error;
use crate::app::{Asker, IdentityDirectory, RecordsError};
use dancu_kit::call::CallContext;
use dancu_kit::client::TracedChannel;
use dancu_proto::identity::v1::CountResidentsRequest;
use dancu_proto::identity::v1::identity_service_client::IdentityServiceClient;
use std::collections::HashMap;

/// Client of identity's resident counts.
#[derive(Clone)]
pub struct ResidentCounts {
    client: IdentityServiceClient<TracedChannel>,
}

impl ResidentCounts {
    /// A client of identity at `endpoint`.
    pub fn new(endpoint: &str) -> Result<Self, dancu_kit::client::ClientError> {
        Ok(Self {
            client: IdentityServiceClient::new(dancu_kit::client::traced_channel(endpoint)?),
        })
    }

    /// Residents per commune code, in `province` (2-digit code) or everywhere.
    pub async fn per_commune(
        &self,
        ctx: &CallContext,
        province: Option<&str>,
    ) -> Result<HashMap<String, u64>, RecordsError> {
        let request = IdentityDirectory::request(
            &Asker::Caller(ctx),
            CountResidentsRequest {
                province_code: province.unwrap_or_default().to_owned(),
            },
        )?;
        let counts = self
            .client
            .clone()
            .count_residents(request)
            .await
            .map_err(lookup_error)?
            .into_inner();
        Ok(counts
            .communes
            .into_iter()
            .map(|c| (c.commune_code, u64::try_from(c.residents).unwrap_or(0)))
            .collect())
    }
}
