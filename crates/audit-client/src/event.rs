//! Building the audit event of a call.

use dancu_kit::call::CallContext;
use dancu_proto::audit::v1::{AuditEvent, Decision};
use opentelemetry::trace::TraceContextExt;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// What a call touched, beyond who made it and why.
#[derive(Clone, Copy, Debug)]
pub struct Touched<'a> {
    /// Type of resource, e.g. `citizen`, `subject_record`.
    pub resource_type: &'a str,
    /// The person concerned (personal ID), if the call named a valid one.
    pub subject: Option<&'a str>,
    /// Id of a non-person resource, e.g. a subject record id.
    pub resource_id: Option<&'a str>,
}

/// How the call was authorized, when a policy decided it. The default records no
/// decision, no policies and no break-glass use.
#[derive(Clone, Debug, Default)]
pub struct Authorization {
    /// The decision, if a policy was evaluated.
    pub decision: Option<bool>,
    /// Ids of the policies that decided.
    pub policy_ids: Vec<String>,
    /// The break-glass justification, if the caller invoked break-glass access.
    pub break_glass: Option<String>,
}

/// The audit event of a call by `ctx` to `service`, touching `touched`, ending with
/// `outcome`. The id is a fresh UUIDv7 (time-ordered; the idempotency key).
pub fn new_event(
    service: &str,
    ctx: &CallContext,
    touched: Touched<'_>,
    outcome: tonic::Code,
) -> AuditEvent {
    new_event_with(service, ctx, touched, outcome, &Authorization::default())
}

/// Like [`new_event`], also recording how the call was authorized.
pub fn new_event_with(
    service: &str,
    ctx: &CallContext,
    touched: Touched<'_>,
    outcome: tonic::Code,
    authorization: &Authorization,
) -> AuditEvent {
    let now = chrono::Utc::now();
    let decision = match authorization.decision {
        None => Decision::Unspecified,
        Some(true) => Decision::Allow,
        Some(false) => Decision::Deny,
    };
    AuditEvent {
        event_id: uuid::Uuid::now_v7().to_string(),
        occur_time: Some(prost_types::Timestamp {
            seconds: now.timestamp(),
            nanos: now.timestamp_subsec_nanos() as i32,
        }),
        service: service.to_owned(),
        actor_id: ctx.principal.id.clone(),
        actor_unit: ctx.principal.unit.clone(),
        rpc: ctx.rpc.to_owned(),
        resource_type: touched.resource_type.to_owned(),
        subject: touched.subject.unwrap_or_default().to_owned(),
        subject_hash: String::new(),
        purpose: ctx.purpose.as_str().to_owned(),
        case_reference: ctx.case_reference.clone().unwrap_or_default(),
        outcome: code_name(outcome).to_owned(),
        trace_id: ctx.trace_id.clone().unwrap_or_default(),
        resource_id: touched.resource_id.unwrap_or_default().to_owned(),
        accept_time: None,
        decision: decision as i32,
        policy_ids: authorization.policy_ids.clone(),
        break_glass_justification: authorization.break_glass.clone().unwrap_or_default(),
        client_address: ctx.client_address.clone().unwrap_or_default(),
        span_id: current_span_id().unwrap_or_default(),
        leaf_index: 0,
    }
}

/// The W3C span id of the current span, when traced.
fn current_span_id() -> Option<String> {
    let context = tracing::Span::current().context();
    let span_context = context.span().span_context().clone();
    span_context
        .is_valid()
        .then(|| span_context.span_id().to_string())
}

/// The canonical upper-case name of a gRPC status code, e.g. `NOT_FOUND`.
pub fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code;
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}
