//! Clients and sample data for the population register's services (residence, households,
//! change feed) and the richer citizen calls.

use crate::Cluster;
use crate::api::request;
use dancu_kit::client::TracedChannel;
use dancu_kit::config::ServiceKind;
use dancu_proto::common::v1::{Date, Sex};
use dancu_proto::identity::v1::change_feed_service_client::ChangeFeedServiceClient;
use dancu_proto::identity::v1::household_service_client::HouseholdServiceClient;
use dancu_proto::identity::v1::residence_service_client::ResidenceServiceClient;
use dancu_proto::identity::v1::{
    Citizen, DeclareResidenceRequest, RegisterCitizenRequest, ResidenceEvent, ResidenceKind,
};

/// The purpose used by register tests.
pub const PURPOSE: &str = "residence_management";

/// A full date.
pub fn date(year: i32, month: i32, day: i32) -> Date {
    Date { year, month, day }
}

/// A minimal valid citizen: `personal_id` must match `sex` and the year of `born`.
pub fn person(personal_id: &str, full_name: &str, sex: Sex, born: Date) -> Citizen {
    Citizen {
        personal_id: personal_id.to_owned(),
        full_name: full_name.to_owned(),
        sex: sex as i32,
        date_of_birth: Some(born),
        ..Citizen::default()
    }
}

impl Cluster {
    /// Client of identity's residence service.
    pub fn residence(&self) -> ResidenceServiceClient<TracedChannel> {
        ResidenceServiceClient::new(crate::channel(&self.endpoint(ServiceKind::Identity)))
    }

    /// Client of identity's household service.
    pub fn households(&self) -> HouseholdServiceClient<TracedChannel> {
        HouseholdServiceClient::new(crate::channel(&self.endpoint(ServiceKind::Identity)))
    }

    /// Client of identity's change feed.
    pub fn change_feed(&self) -> ChangeFeedServiceClient<TracedChannel> {
        ChangeFeedServiceClient::new(crate::channel(&self.endpoint(ServiceKind::Identity)))
    }

    /// Registers `citizen` with purpose [`PURPOSE`].
    pub async fn register(&self, token: &str, citizen: Citizen) -> Result<Citizen, tonic::Status> {
        self.identity()
            .register_citizen(request(
                RegisterCitizenRequest {
                    citizen: Some(citizen),
                    ..Default::default()
                },
                token,
                Some(PURPOSE),
                None,
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    /// Declares a residence event with purpose [`PURPOSE`].
    pub async fn declare(
        &self,
        token: &str,
        declaration: DeclareResidenceRequest,
    ) -> Result<ResidenceEvent, tonic::Status> {
        self.residence()
            .declare_residence(request(declaration, token, Some(PURPOSE), None))
            .await
            .map(tonic::Response::into_inner)
    }

    /// Registers permanent residence in `commune` from 2020-01-01.
    pub async fn settle(
        &self,
        token: &str,
        personal_id: &str,
        commune: &str,
    ) -> Result<ResidenceEvent, tonic::Status> {
        self.declare(
            token,
            DeclareResidenceRequest {
                personal_id: personal_id.to_owned(),
                kind: ResidenceKind::Permanent as i32,
                commune_code: commune.to_owned(),
                address: "Số 1 Phố Huế".to_owned(),
                start_date: Some(date(2020, 1, 1)),
                ..Default::default()
            },
        )
        .await
    }
}

/// The field paths named by the BadRequest details of an INVALID_ARGUMENT status.
pub fn violated_fields(status: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt;
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}
