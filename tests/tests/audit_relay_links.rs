//! The outbox relay's span links to the audited call: when audit was down, the event
//! reaches the audit service through the relay, and the relay's `audit.relay` span carries
//! a link to the span of the call that produced the event. (Its own test binary: the
//! tracer provider is process-global.)

use dancu_e2e::Cluster;
use dancu_e2e::collector::{Collector, find};
use dancu_kit::config::{LogFormat, ServiceKind};
use dancu_kit::telemetry::{self, SpanExport};
use opentelemetry_proto::tonic::trace::v1::Span;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_spans_link_to_the_audited_calls() {
    let (collector, endpoint) = Collector::start().await;
    let telemetry = telemetry::init(
        "dancu-relay-links-test",
        LogFormat::Pretty,
        "warn",
        SpanExport::Otlp(endpoint),
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
        let spans = collector.spans();
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
