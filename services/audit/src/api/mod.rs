//! The gRPC face of the audit service: decode and validate requests, check roles, map
//! results and errors to gRPC (one place: [`status`]).

mod alerts;
mod log;

pub use alerts::AlertsApi;
pub use log::LogApi;

use crate::app::{AuditError, AuditLog, SubmittedEvent, split_policy_ids};
use crate::store::{EventFilter, NewEvent, StoredEvent};
use dancu_domain::PersonalId;
use dancu_kit::auth::{ROLE_AUDITOR, ROLE_SERVICE, ROLE_SYSTEM_ADMIN, principal};
use dancu_kit::convert::{timestamp_from_us, timestamp_to_us};
use dancu_kit::error::{FieldViolations, invalid_field, storage};
use dancu_kit::paging;
use dancu_proto::audit::v1::audit_service_server::AuditService;
use dancu_proto::audit::v1::{
    AppendEventsRequest, AppendEventsResponse, AuditEvent, Decision, GetSubjectAccessReportRequest,
    GetSubjectAccessReportResponse, ListEventsRequest, ListEventsResponse, SubjectAccess,
};
use prost_types::Timestamp;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// Most events per AppendEvents batch.
pub const MAX_BATCH: usize = 1000;
/// Page size when the request gives none.
const DEFAULT_PAGE_SIZE: u64 = 100;
/// Largest page size.
const MAX_PAGE_SIZE: u64 = 1000;

/// Implements `dancu.audit.v1.AuditService`.
pub struct AuditApi {
    log: Arc<AuditLog>,
}

impl AuditApi {
    /// The API over `log`.
    pub fn new(log: Arc<AuditLog>) -> Self {
        Self { log }
    }
}

#[tonic::async_trait]
impl AuditService for AuditApi {
    async fn append_events(
        &self,
        request: Request<AppendEventsRequest>,
    ) -> Result<Response<AppendEventsResponse>, Status> {
        principal(&request)?.require_any_role(&[ROLE_SERVICE])?;
        let events = request.into_inner().events;
        let mut violations = FieldViolations::new();
        if events.is_empty() {
            violations.add("events", "at least one event is required");
        }
        if events.len() > MAX_BATCH {
            violations.add("events", format!("at most {MAX_BATCH} events per batch"));
        }
        let batch: Vec<SubmittedEvent> = events
            .into_iter()
            .enumerate()
            .filter_map(|(i, event)| validate_event(i, event, &mut violations))
            .collect();
        violations.check()?;
        let outcome = self.log.append(batch).await.map_err(status)?;
        Ok(Response::new(AppendEventsResponse {
            accepted: outcome.accepted as u32,
            duplicates: outcome.duplicates as u32,
        }))
    }

    async fn list_events(
        &self,
        request: Request<ListEventsRequest>,
    ) -> Result<Response<ListEventsResponse>, Status> {
        principal(&request)?.require_any_role(&[ROLE_AUDITOR, ROLE_SYSTEM_ADMIN])?;
        let request = request.into_inner();
        let mut violations = FieldViolations::new();
        let subject = non_empty(&request.subject).and_then(|s| match PersonalId::parse(s) {
            Ok(id) => Some(id),
            Err(e) => {
                violations.add("subject", e.to_string());
                None
            }
        });
        let from_us = timestamp_us(request.start_time.as_ref(), "start_time", &mut violations);
        let to_us = timestamp_us(request.end_time.as_ref(), "end_time", &mut violations);
        if let Some(purpose) = non_empty(&request.purpose)
            && purpose.parse::<dancu_domain::Purpose>().is_err()
        {
            violations.add("purpose", "is not a known purpose code");
        }
        let (page_size, after_seq) = page(
            "events",
            request.page_size,
            &request.page_token,
            &mut violations,
        );
        violations.check()?;
        let filter = EventFilter {
            actor_id: non_empty(&request.actor_id).map(str::to_owned),
            subject_hash: None,
            actor_unit: non_empty(&request.actor_unit).map(str::to_owned),
            purpose: non_empty(&request.purpose).map(str::to_owned),
            from_us,
            to_us,
            after_seq,
        };
        let (events, next) = self
            .log
            .list(filter, subject.as_ref(), page_size)
            .await
            .map_err(status)?;
        Ok(Response::new(ListEventsResponse {
            events: events.into_iter().map(to_proto).collect(),
            next_page_token: next_token("events", next),
        }))
    }

    /// Who may ask: auditors and administrators — the people who answer a data subject's
    /// request under the personal data protection law. Officers' ids and names never
    /// appear; units do.
    async fn get_subject_access_report(
        &self,
        request: Request<GetSubjectAccessReportRequest>,
    ) -> Result<Response<GetSubjectAccessReportResponse>, Status> {
        principal(&request)?.require_any_role(&[ROLE_AUDITOR, ROLE_SYSTEM_ADMIN])?;
        let request = request.into_inner();
        let mut violations = FieldViolations::new();
        let subject = match PersonalId::parse(request.subject.trim()) {
            Ok(id) => Some(id),
            Err(e) => {
                violations.add("subject", e.to_string());
                None
            }
        };
        let (page_size, after_seq) = page(
            "subject_report",
            request.page_size,
            &request.page_token,
            &mut violations,
        );
        violations.check()?;
        let filter = EventFilter {
            after_seq,
            ..EventFilter::default()
        };
        let (events, next) = self
            .log
            .list(filter, subject.as_ref(), page_size)
            .await
            .map_err(status)?;
        Ok(Response::new(GetSubjectAccessReportResponse {
            accesses: events
                .into_iter()
                .map(|e| SubjectAccess {
                    occur_time: Some(timestamp_from_us(e.occur_time_us)),
                    unit: e.actor_unit,
                    purpose: e.purpose,
                    service: e.service,
                    resource_type: e.resource_type,
                    outcome: e.outcome,
                })
                .collect(),
            next_page_token: next_token("subject_report", next),
        }))
    }
}

/// Maps the audit service's one error enum to gRPC.
pub(crate) fn status(error: AuditError) -> Status {
    match error {
        AuditError::Storage(e) => storage(&e),
        AuditError::Invalid { field, message } => invalid_field(field, message),
        AuditError::NotFound(what) => Status::not_found(what),
        AuditError::Retry(why) => Status::unavailable(why),
        AuditError::Corrupt(what) => {
            tracing::error!(%what, "audit log state is inconsistent");
            Status::data_loss("the audit log's stored state is inconsistent")
        }
    }
}

/// Checks `page_size` and decodes `page_token` (a `seq` or alert-id cursor) of the list
/// `kind`: the page size, and the cursor to continue after.
pub(crate) fn page(
    kind: &str,
    page_size: i32,
    page_token: &str,
    violations: &mut FieldViolations,
) -> (u64, Option<i64>) {
    let size = paging::page_size(page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        .map_err(|e| violations.add("page_size", e))
        .unwrap_or(DEFAULT_PAGE_SIZE);
    let after = match paging::decode_token(kind, page_token.trim()).map(|t| t.map(|k| k.parse())) {
        Ok(None) => None,
        Ok(Some(Ok(cursor))) => Some(cursor),
        _ => {
            violations.add("page_token", "is not a token this list issued");
            None
        }
    };
    (size, after)
}

/// The next-page token of the list `kind`, continuing after `cursor`.
pub(crate) fn next_token(kind: &str, cursor: Option<i64>) -> String {
    cursor
        .map(|c| paging::encode_token(kind, &c.to_string()))
        .unwrap_or_default()
}

fn non_empty(s: &str) -> Option<&str> {
    let s = s.trim();
    (!s.is_empty()).then_some(s)
}

/// Checks one submitted event; records violations under `events[i].<field>`.
fn validate_event(
    i: usize,
    e: AuditEvent,
    violations: &mut FieldViolations,
) -> Option<SubmittedEvent> {
    let field = |name: &str| format!("events[{i}].{name}");
    let mut ok = true;
    if uuid::Uuid::parse_str(&e.event_id).is_err() {
        violations.add(field("event_id"), "must be a UUID");
        ok = false;
    }
    for (name, value) in [
        ("service", &e.service),
        ("actor_id", &e.actor_id),
        ("rpc", &e.rpc),
        ("resource_type", &e.resource_type),
        ("outcome", &e.outcome),
    ] {
        if value.trim().is_empty() {
            violations.add(field(name), "is required");
            ok = false;
        }
    }
    let occur_time_us = match &e.occur_time {
        None => {
            violations.add(field("occur_time"), "is required");
            ok = false;
            0
        }
        Some(ts) => timestamp_us(Some(ts), &field("occur_time"), violations).unwrap_or_default(),
    };
    let subject = match non_empty(&e.subject) {
        None => None,
        Some(s) => match PersonalId::parse(s) {
            Ok(id) => Some(id),
            Err(err) => {
                violations.add(field("subject"), err.to_string());
                ok = false;
                None
            }
        },
    };
    let decision = match Decision::try_from(e.decision) {
        Ok(Decision::Unspecified) => String::new(),
        Ok(Decision::Allow) => "allow".to_owned(),
        Ok(Decision::Deny) => "deny".to_owned(),
        Err(_) => {
            violations.add(field("decision"), "is not a known decision");
            ok = false;
            String::new()
        }
    };
    if e.policy_ids
        .iter()
        .any(|id| id.trim().is_empty() || id.contains('\n'))
    {
        violations.add(field("policy_ids"), "ids must be non-empty single lines");
        ok = false;
    }
    ok.then(|| SubmittedEvent {
        event: NewEvent {
            event_id: e.event_id,
            occur_time_us,
            service: e.service,
            actor_id: e.actor_id,
            actor_unit: e.actor_unit,
            rpc: e.rpc,
            resource_type: e.resource_type,
            resource_id: e.resource_id,
            subject_hash: String::new(),
            purpose: e.purpose,
            case_reference: e.case_reference,
            outcome: e.outcome,
            trace_id: e.trace_id,
            break_glass: e.break_glass_justification,
            decision,
            policy_ids: e.policy_ids,
            client_address: e.client_address,
        },
        subject,
    })
}

/// Unix microseconds of a timestamp, recording a violation if it is out of range.
fn timestamp_us(
    ts: Option<&Timestamp>,
    field: &str,
    violations: &mut FieldViolations,
) -> Option<i64> {
    let us = timestamp_to_us(ts?);
    if us.is_none() {
        violations.add(field, "is not a valid timestamp");
    }
    us
}

/// The proto form of a stored event.
pub(crate) fn to_proto(e: StoredEvent) -> AuditEvent {
    let decision = match e.decision.as_str() {
        "allow" => Decision::Allow,
        "deny" => Decision::Deny,
        _ => Decision::Unspecified,
    };
    AuditEvent {
        event_id: e.event_id,
        occur_time: Some(timestamp_from_us(e.occur_time_us)),
        service: e.service,
        actor_id: e.actor_id,
        actor_unit: e.actor_unit,
        rpc: e.rpc,
        resource_type: e.resource_type,
        subject: String::new(),
        subject_hash: e.subject_hash,
        purpose: e.purpose,
        case_reference: e.case_reference,
        outcome: e.outcome,
        trace_id: e.trace_id,
        resource_id: e.resource_id,
        accept_time: Some(timestamp_from_us(e.accept_time_us)),
        decision: decision as i32,
        policy_ids: split_policy_ids(&e.policy_ids),
        break_glass_justification: e.break_glass,
        client_address: e.client_address,
        span_id: String::new(),
        leaf_index: e.leaf_index.unwrap_or_default() as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_and_reject_garbage() {
        let mut violations = FieldViolations::new();
        let token = next_token("events", Some(42));
        assert_eq!(
            page("events", 0, &token, &mut violations),
            (DEFAULT_PAGE_SIZE, Some(42))
        );
        assert!(violations.is_empty());
        assert_eq!(page("events", 0, "", &mut violations).1, None);
        assert!(violations.is_empty());
        assert_eq!(page("events", 0, "not-a-token", &mut violations).1, None);
        assert!(!violations.is_empty());
        let mut violations = FieldViolations::new();
        assert_eq!(
            page("alerts", 0, &token, &mut violations).1,
            None,
            "bound to its list"
        );
        assert!(!violations.is_empty());
    }

    #[test]
    fn timestamps_round_trip() {
        let ts = timestamp_from_us(1_700_000_000_123_456);
        let mut violations = FieldViolations::new();
        assert_eq!(
            timestamp_us(Some(&ts), "t", &mut violations),
            Some(1_700_000_000_123_456)
        );
        assert!(violations.is_empty());
    }
}
