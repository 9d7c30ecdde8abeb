//! The outbox relay's span links to the audited call: when audit was down, the event
//! reaches the audit service through the relay, and the relay's `audit.relay` span carries
//! a link to the span of the call that produced the event. (Its own test binary: the
//! tracer provider is process-global.)

use dancu_e2e::Cluster;
use dancu_kit::config::{LogFormat, ServiceKind};
use dancu_kit::telemetry::{self, SpanExport};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;

/// The collector's trace service, keeping every span it receives.
#[derive(Clone, Default)]
struct Collector {
    spans: Arc<Mutex<Vec<Span>>>,
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut spans = self.spans.lock().expect("lock");
        for resource in request.into_inner().resource_spans {
            for scope in resource.scope_spans {
                spans.extend(scope.spans);
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

fn attribute<'a>(span: &'a Span, key: &str) -> Option<&'a str> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| match &v.value {
            Some(Value::StringValue(s)) => Some(s.as_str()),
            _ => None,
        })
}

fn find<'a>(spans: &'a [Span], name: &str, service: &str) -> Vec<&'a Span> {
    spans
        .iter()
        .filter(|s| s.name == name && attribute(s, "dancu.service") == Some(service))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_spans_link_to_the_audited_calls() {
    let collector = Collector::default();
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind collector");
    let address = listener.local_addr().expect("address");
    let server = collector.clone();
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(server))
            .serve_with_incoming(TcpListenerStream::new(listener))
            .await
    });
    let telemetry = telemetry::init(
        "dancu-relay-links-test",
        LogFormat::Pretty,
        "warn",
        SpanExport::Otlp(format!("http://{address}")),
    )
    .expect("telemetry");

    let mut cluster = Cluster::start_with(|config| {
        config.audit_outbox.relay_max_backoff_ms = 300;
    })
    .await;
    let (token, _) = cluster.admin_login().await;
    cluster
        .register_sample(&token, "001090123456")
        .await
        .expect("register");
    cluster.wait_for_tree_size(&token, 1).await;
    cluster.stop(ServiceKind::Audit).await;
    cluster
        .get_citizen(&token, "001090123456")
        .await
        .expect("get while audit is down");
    cluster.restart(ServiceKind::Audit).await;
    cluster.wait_for_tree_size(&token, 2).await;

    let telemetry = Arc::new(telemetry);
    let mut linked = false;
    for _ in 0..100 {
        let flushing = telemetry.clone();
        tokio::task::spawn_blocking(move || flushing.flush())
            .await
            .expect("flush");
        let spans = collector.spans.lock().expect("lock").clone();
        let calls = find(
            &spans,
            "dancu.identity.v1.IdentityService/GetCitizen",
            "identity",
        );
        let relays: Vec<&Span> = spans.iter().filter(|s| s.name == "audit.relay").collect();
        if let Some(call) = calls.first() {
            linked = relays.iter().any(|relay| {
                relay
                    .links
                    .iter()
                    .any(|l| l.trace_id == call.trace_id && l.span_id == call.span_id)
            });
        }
        if linked {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(linked, "a relay span links to the GetCitizen call's span");
    cluster.shutdown().await;
}
