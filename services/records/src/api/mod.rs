//! The gRPC face of the records service: decode and validate requests, call the use
//! cases, map results and the one error enum to gRPC.

mod analysis;
mod import;
mod subjects;

pub use analysis::AnalysisApi;
pub use import::ImportApi;

use crate::app::{
    Classification, NewSubjectRecord, RecordsError, Source, SourceKind, SubjectCases,
    SubjectRecord, SubjectRecords,
};
use dancu_domain::PersonalId;
use dancu_kit::call::CallContext;
use dancu_kit::convert::{date_to_proto, timestamp_from_us};
use dancu_kit::error::{FieldViolations, invalid_field, storage};
use dancu_kit::paging::next_page_token;
use dancu_proto::records::v1 as pb;
use dancu_proto::records::v1::records_service_server::RecordsService;
use std::pin::Pin;
use std::sync::Arc;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status};

/// Longest accepted unit code.
const MAX_UNIT_CHARS: usize = 32;

impl From<RecordsError> for Status {
    fn from(error: RecordsError) -> Self {
        match error {
            RecordsError::NotFound => Status::not_found("no subject record with this id"),
            RecordsError::Missing(what) => Status::not_found(format!("no {what} with this id")),
            RecordsError::AlreadySubject => Status::already_exists(
                "the person is already a subject of your unit; add classifications to it",
            ),
            RecordsError::Invalid(violations) => {
                let mut all = FieldViolations::new();
                for (field, description) in violations {
                    all.add(field, description);
                }
                all.into_status()
            }
            RecordsError::PersonUnknown => Status::failed_precondition(
                "the person is not in the population register; register them in identity first",
            ),
            RecordsError::IdentityUnavailable => {
                Status::unavailable("the identity service is unavailable; nothing was written")
            }
            RecordsError::IdentityDenied(status) => Status::new(
                status.code(),
                format!("identity refused the lookup: {}", status.message()),
            ),
            // Names no person and does not say whether the record's subject exists.
            RecordsError::Denied => Status::permission_denied(
                "your roles, unit, purpose or case do not allow this operation on subject records",
            ),
            RecordsError::Policy(e) => {
                tracing::error!(error = %e, "authorization policy failed");
                Status::internal("internal error")
            }
            RecordsError::Storage(e) => storage(&e),
            RecordsError::AuditUnavailable => {
                Status::unavailable("auditing is unavailable (audit backlog full); retry later")
            }
            RecordsError::Corrupt(field) => {
                tracing::error!(field, "corrupt subject record row");
                Status::internal("internal error")
            }
        }
    }
}

/// Implements `dancu.records.v1.RecordsService`.
pub struct RecordsApi {
    records: Arc<SubjectRecords>,
    subjects: Arc<SubjectCases>,
}

/// Full method name of a records RPC.
macro_rules! rpc {
    ($name:literal) => {
        concat!("/dancu.records.v1.RecordsService/", $name)
    };
}

impl RecordsApi {
    /// The API over the use cases.
    pub fn new(records: Arc<SubjectRecords>, subjects: Arc<SubjectCases>) -> Self {
        Self { records, subjects }
    }

    /// `checked` as it is, or — when the input was refused — the refusal, after auditing
    /// it as a subject call.
    async fn checked<T>(&self, ctx: &CallContext, checked: Result<T, Status>) -> Result<T, Status> {
        let status = match checked {
            Ok(valid) => return Ok(valid),
            Err(status) => status,
        };
        match self.subjects.audit(ctx, None, None, status.code()).await {
            Ok(()) => Err(status),
            Err(e) => Err(e.into()),
        }
    }

    /// Audits a call rejected for bad input, then returns the rejection.
    async fn reject(&self, ctx: &CallContext, status: Status) -> Status {
        match self.records.audit(ctx, None, None, status.code()).await {
            Ok(()) => status,
            Err(e) => e.into(),
        }
    }
}

#[tonic::async_trait]
impl RecordsService for RecordsApi {
    type WatchMovementAlertsStream =
        Pin<Box<dyn Stream<Item = Result<pb::MovementAlert, Status>> + Send>>;

    async fn create_subject(
        &self,
        request: Request<pb::CreateSubjectRequest>,
    ) -> Result<Response<pb::Subject>, Status> {
        let ctx = CallContext::from_request(&request, rpc!("CreateSubject"))?;
        let new = self
            .checked(&ctx, subjects::create(request.into_inner()))
            .await?;
        let subject = self.subjects.create(&ctx, new).await?;
        Ok(Response::new(subjects::subject_to_proto(subject)))
    }

    async fn get_subject(
        &self,
        request: Request<pb::GetSubjectRequest>,
    ) -> Result<Response<pb::Subject>, Status> {
        let ctx = CallContext::from_request(&request, rpc!("GetSubject"))?;
        let mut violations = FieldViolations::new();
        let id = subjects::uuid("id", &request.get_ref().id, &mut violations);
        self.checked(&ctx, violations.check()).await?;
        let subject = self.subjects.get(&ctx, &id).await?;
        Ok(Response::new(subjects::subject_to_proto(subject)))
    }

    async fn list_subjects(
        &self,
        request: Request<pb::ListSubjectsRequest>,
    ) -> Result<Response<pb::ListSubjectsResponse>, Status> {
        let ctx = CallContext::from_request(&request, rpc!("ListSubjects"))?;
        let (filter, size, after) = self
            .checked(&ctx, subjects::list(request.get_ref()))
            .await?;
        let page = self
            .subjects
            .list(&ctx, filter, after.as_deref(), size)
            .await?;
        Ok(Response::new(pb::ListSubjectsResponse {
            subjects: page
                .items
                .into_iter()
                .map(subjects::subject_to_proto)
                .collect(),
            next_page_token: next_page_token(subjects::SUBJECTS_PAGE, page.next.as_deref()),
        }))
    }

    async fn add_classification(
        &self,
        request: Request<pb::AddClassificationRequest>,
    ) -> Result<Response<pb::SubjectClassification>, Status> {
        let ctx = CallContext::from_request(&request, rpc!("AddClassification"))?;
        let new = self
            .checked(&ctx, subjects::add_class(request.into_inner()))
            .await?;
        let class = self.subjects.add_classification(&ctx, new).await?;
        Ok(Response::new(subjects::class_to_proto(class)))
    }

    async fn end_classification(
        &self,
        request: Request<pb::EndClassificationRequest>,
    ) -> Result<Response<pb::SubjectClassification>, Status> {
        let ctx = CallContext::from_request(&request, rpc!("EndClassification"))?;
        let (id, end) = self
            .checked(&ctx, subjects::end_class(request.get_ref()))
            .await?;
        let class = self.subjects.end_classification(&ctx, &id, end).await?;
        Ok(Response::new(subjects::class_to_proto(class)))
    }

    async fn append_timeline_entry(
        &self,
        request: Request<pb::AppendTimelineEntryRequest>,
    ) -> Result<Response<pb::TimelineEntry>, Status> {
        let ctx = CallContext::from_request(&request, rpc!("AppendTimelineEntry"))?;
        let new = self
            .checked(&ctx, subjects::append(request.into_inner()))
            .await?;
        let entry = self.subjects.append_entry(&ctx, new).await?;
        Ok(Response::new(subjects::entry_to_proto(entry)))
    }

    async fn list_timeline_entries(
        &self,
        request: Request<pb::ListTimelineEntriesRequest>,
    ) -> Result<Response<pb::ListTimelineEntriesResponse>, Status> {
        let ctx = CallContext::from_request(&request, rpc!("ListTimelineEntries"))?;
        let message = request.get_ref();
        let mut violations = FieldViolations::new();
        let subject_id = subjects::uuid("subject_id", &message.subject_id, &mut violations);
        // Tokens are bound to the subject's timeline.
        let kind = format!("{}:{subject_id}", subjects::TIMELINE_PAGE);
        let (size, after) = subjects::page(
            &kind,
            message.page_size,
            &message.page_token,
            &mut violations,
        );
        self.checked(&ctx, violations.check()).await?;
        let page = self
            .subjects
            .timeline(&ctx, &subject_id, after.as_deref(), size)
            .await?;
        Ok(Response::new(pb::ListTimelineEntriesResponse {
            entries: page
                .items
                .into_iter()
                .map(subjects::entry_to_proto)
                .collect(),
            next_page_token: next_page_token(&kind, page.next.as_deref()),
        }))
    }

    async fn list_movement_alerts(
        &self,
        request: Request<pb::ListMovementAlertsRequest>,
    ) -> Result<Response<pb::ListMovementAlertsResponse>, Status> {
        let ctx = CallContext::from_request(&request, rpc!("ListMovementAlerts"))?;
        let message = request.get_ref();
        let mut violations = FieldViolations::new();
        let (size, after) = subjects::page(
            subjects::ALERTS_PAGE,
            message.page_size,
            &message.page_token,
            &mut violations,
        );
        self.checked(&ctx, violations.check()).await?;
        let page = self
            .subjects
            .list_alerts(&ctx, after.as_deref(), size)
            .await?;
        Ok(Response::new(pb::ListMovementAlertsResponse {
            alerts: page
                .items
                .into_iter()
                .map(subjects::alert_to_proto)
                .collect(),
            next_page_token: next_page_token(subjects::ALERTS_PAGE, page.next.as_deref()),
        }))
    }

    async fn watch_movement_alerts(
        &self,
        request: Request<pb::WatchMovementAlertsRequest>,
    ) -> Result<Response<Self::WatchMovementAlertsStream>, Status> {
        let ctx = CallContext::from_request(&request, rpc!("WatchMovementAlerts"))?;
        let after = request.get_ref().after_alert_id.trim().to_owned();
        let after = if after.is_empty() {
            None
        } else {
            let mut violations = FieldViolations::new();
            let id = subjects::uuid("after_alert_id", &after, &mut violations);
            self.checked(&ctx, violations.check()).await?;
            Some(id)
        };
        let alerts = self.subjects.watch_alerts(&ctx, after).await?;
        let stream = tokio_stream::wrappers::ReceiverStream::new(alerts)
            .map(|item| item.map(subjects::alert_to_proto).map_err(Status::from));
        Ok(Response::new(Box::pin(stream)))
    }

    async fn create_subject_record(
        &self,
        request: Request<pb::CreateSubjectRecordRequest>,
    ) -> Result<Response<pb::SubjectRecord>, Status> {
        let ctx = CallContext::from_request(
            &request,
            "/dancu.records.v1.RecordsService/CreateSubjectRecord",
        )?;
        let new = match validate_create(request.into_inner()) {
            Ok(new) => new,
            Err(status) => return Err(self.reject(&ctx, status).await),
        };
        let record = self.records.create(&ctx, new).await?;
        Ok(Response::new(to_proto(record)))
    }

    async fn get_subject_record(
        &self,
        request: Request<pb::GetSubjectRecordRequest>,
    ) -> Result<Response<pb::SubjectRecord>, Status> {
        let ctx = CallContext::from_request(
            &request,
            "/dancu.records.v1.RecordsService/GetSubjectRecord",
        )?;
        let id = request.get_ref().id.trim();
        if uuid::Uuid::parse_str(id).is_err() {
            return Err(self
                .reject(&ctx, invalid_field("id", "must be a UUID"))
                .await);
        }
        let record = self.records.get(&ctx, id).await?;
        Ok(Response::new(to_proto(record)))
    }
}

fn validate_create(request: pb::CreateSubjectRecordRequest) -> Result<NewSubjectRecord, Status> {
    let mut violations = FieldViolations::new();
    let personal_id = PersonalId::parse(request.personal_id.trim())
        .map_err(|e| violations.add("personal_id", e.to_string()))
        .ok();
    let classification = classification_from_proto(request.classification);
    if classification.is_none() {
        violations.add(
            "classification",
            "is required and must be a known classification",
        );
    }
    let source = match request.source {
        None => {
            violations.add("source", "is required");
            None
        }
        Some(source) => validate_source(source, &mut violations),
    };
    violations.check()?;
    match (personal_id, classification, source) {
        (Some(personal_id), Some(classification), Some(source)) => Ok(NewSubjectRecord {
            personal_id,
            classification,
            source,
        }),
        _ => Err(Status::internal("validation incomplete")),
    }
}

pub(crate) fn validate_source(
    source: pb::SourceReference,
    violations: &mut FieldViolations,
) -> Option<Source> {
    let kind = source_kind_from_proto(source.kind);
    if kind.is_none() {
        violations.add("source.kind", "is required and must be a known source kind");
    }
    let reference = dancu_domain::validate_case_reference(&source.reference)
        .map_err(|e| violations.add("source.reference", e.to_string()))
        .ok();
    let unit = source.issuing_unit.trim();
    let unit_ok = !unit.is_empty()
        && unit.len() <= MAX_UNIT_CHARS
        && unit
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !unit_ok {
        violations.add(
            "source.issuing_unit",
            format!("must be a unit code of 1 to {MAX_UNIT_CHARS} ASCII letters, digits, '-', '_' or '.'"),
        );
    }
    Some(Source {
        kind: kind?,
        reference: reference?,
        issuing_unit: unit_ok.then(|| unit.to_owned())?,
    })
}

pub(crate) const CLASSIFICATION_MAP: [(pb::Classification, Classification); 9] = [
    (pb::Classification::Criminal, Classification::Criminal),
    (pb::Classification::DrugRelated, Classification::DrugRelated),
    (
        pb::Classification::PriorConviction,
        Classification::PriorConviction,
    ),
    (
        pb::Classification::PriorViolation,
        Classification::PriorViolation,
    ),
    (
        pb::Classification::SuspiciousSigns,
        Classification::SuspiciousSigns,
    ),
    (
        pb::Classification::CommunityEducation,
        Classification::CommunityEducation,
    ),
    (
        pb::Classification::PostRehabilitation,
        Classification::PostRehabilitation,
    ),
    (pb::Classification::Bail, Classification::Bail),
    (pb::Classification::Probation, Classification::Probation),
];
pub(crate) const SOURCE_KIND_MAP: [(pb::SourceKind, SourceKind); 4] = [
    (pb::SourceKind::Investigation, SourceKind::Investigation),
    (
        pb::SourceKind::JudgmentEnforcement,
        SourceKind::JudgmentEnforcement,
    ),
    (pb::SourceKind::Operational, SourceKind::Operational),
    (
        pb::SourceKind::AdministrativeViolation,
        SourceKind::AdministrativeViolation,
    ),
];

pub(crate) fn classification_from_proto(value: i32) -> Option<Classification> {
    let wire = pb::Classification::try_from(value).ok()?;
    CLASSIFICATION_MAP
        .iter()
        .find(|(p, _)| *p == wire)
        .map(|(_, c)| *c)
}

pub(crate) fn source_kind_from_proto(value: i32) -> Option<SourceKind> {
    let wire = pb::SourceKind::try_from(value).ok()?;
    SOURCE_KIND_MAP
        .iter()
        .find(|(p, _)| *p == wire)
        .map(|(_, k)| *k)
}

fn to_proto(record: SubjectRecord) -> pb::SubjectRecord {
    let classification = CLASSIFICATION_MAP
        .iter()
        .find(|(_, c)| *c == record.classification)
        .map(|(p, _)| *p as i32)
        .unwrap_or_default();
    let kind = SOURCE_KIND_MAP
        .iter()
        .find(|(_, k)| *k == record.source.kind)
        .map(|(p, _)| *p as i32)
        .unwrap_or_default();
    pb::SubjectRecord {
        id: record.id,
        personal_id: record.personal_id.as_str().to_owned(),
        classification,
        source: Some(pb::SourceReference {
            kind,
            reference: record.source.reference,
            issuing_unit: record.source.issuing_unit,
        }),
        snapshot_full_name: record.snapshot_full_name,
        snapshot_date_of_birth: Some(date_to_proto(record.snapshot_date_of_birth)),
        owning_unit: record.owning_unit,
        created_by: record.created_by,
        create_time: Some(timestamp_from_us(record.created_us)),
    }
}
