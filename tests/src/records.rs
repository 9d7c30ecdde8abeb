//! Subject-management helpers: subjects, classifications, timelines and movement alerts.

use crate::Cluster;
use crate::api::request;
use dancu_proto::common::v1::Date;
use dancu_proto::records::v1::create_subject_request::Person;
use dancu_proto::records::v1::{
    AddClassificationRequest, Classification, CreateSubjectRequest, ListMovementAlertsRequest,
    MovementAlert, SourceKind, SourceReference, Subject, SubjectClassification,
};

/// Purpose officers declare in the records tests.
pub const PURPOSE: &str = "investigation";
/// Case reference the records tests declare.
pub const CASE: &str = "12/VKS-HS";

/// A judgment-enforcement source issued by `unit`.
pub fn source(unit: &str) -> SourceReference {
    SourceReference {
        kind: SourceKind::JudgmentEnforcement as i32,
        reference: "45/QD-THA".to_owned(),
        issuing_unit: unit.to_owned(),
    }
}

/// A full date.
pub fn day(year: i32, month: i32, day: i32) -> Date {
    Date { year, month, day }
}

impl Cluster {
    /// Creates a citizen subject as `token` (purpose [`PURPOSE`], case [`CASE`]).
    pub async fn create_subject(
        &self,
        token: &str,
        personal_id: &str,
    ) -> Result<Subject, tonic::Status> {
        self.records()
            .create_subject(request(
                CreateSubjectRequest {
                    person: Some(Person::PersonalId(personal_id.to_owned())),
                    source: Some(source("TAND-HN")),
                },
                token,
                Some(PURPOSE),
                Some(CASE),
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    /// Adds an open-ended classification from `start` as `token`.
    pub async fn classify(
        &self,
        token: &str,
        subject_id: &str,
        classification: Classification,
        start: Date,
        end: Option<Date>,
    ) -> Result<SubjectClassification, tonic::Status> {
        self.records()
            .add_classification(request(
                AddClassificationRequest {
                    subject_id: subject_id.to_owned(),
                    classification: classification as i32,
                    start_date: Some(start),
                    end_date: end,
                    legal_basis: "Điều 65 Bộ luật Hình sự 2015".to_owned(),
                    source: Some(source("TAND-HN")),
                },
                token,
                Some(PURPOSE),
                Some(CASE),
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    /// All movement alerts of the caller's unit.
    pub async fn movement_alerts(&self, token: &str) -> Result<Vec<MovementAlert>, tonic::Status> {
        let mut all = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = self
                .records()
                .list_movement_alerts(request(
                    ListMovementAlertsRequest {
                        page_size: 100,
                        page_token,
                    },
                    token,
                    Some(PURPOSE),
                    Some(CASE),
                ))
                .await?
                .into_inner();
            all.extend(page.alerts);
            if page.next_page_token.is_empty() {
                return Ok(all);
            }
            page_token = page.next_page_token;
        }
    }
}
