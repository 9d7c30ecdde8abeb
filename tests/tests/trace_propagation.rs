//! One trace across services: a `CreateSubjectRecord` call, the `GetCitizen` records makes
//! to identity, and the audit appends they trigger are all exported over OTLP to an
//! in-process collector with one trace id and the right parent links. (Its own test
//! binary: the tracer provider is process-global.)

use dancu_e2e::Cluster;
use dancu_e2e::api::{request, sample_record};
use dancu_e2e::collector::{Collector, find};
use dancu_kit::config::LogFormat;
use dancu_kit::telemetry::{self, SpanExport};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_trace_spans_records_identity_and_audit() {
    let (collector, endpoint) = Collector::start().await;
    let telemetry = telemetry::init(
        "dancu-trace-test",
        LogFormat::Pretty,
        "warn",
        SpanExport::Otlp(endpoint),
    )
    .expect("telemetry");

    let cluster = Cluster::start().await;
    let (token, _) = cluster.admin_login().await;
    cluster
        .register_sample(&token, "001090123456")
        .await
        .expect("register");
    cluster
        .records()
        .create_subject_record(request(
            sample_record("001090123456"),
            &token,
            Some("judgment_enforcement"),
            Some("THA-7"),
        ))
        .await
        .expect("create record");

    let telemetry = Arc::new(telemetry);
    let mut spans = Vec::new();
    for _ in 0..100 {
        let flushing = telemetry.clone();
        tokio::task::spawn_blocking(move || flushing.flush())
            .await
            .expect("flush");
        spans = collector.spans();
        if !find(
            &spans,
            "dancu.records.v1.RecordsService/CreateSubjectRecord",
            "records",
        )
        .is_empty()
            && find(&spans, "dancu.audit.v1.AuditService/AppendEvents", "audit").len() >= 3
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let records = find(
        &spans,
        "dancu.records.v1.RecordsService/CreateSubjectRecord",
        "records",
    );
    assert_eq!(records.len(), 1, "one records server span");
    let records = records[0];
    let trace = &records.trace_id;
    assert_eq!(trace.len(), 16);

    let lookups: Vec<&Span> = find(
        &spans,
        "dancu.identity.v1.IdentityService/GetCitizen",
        "identity",
    )
    .into_iter()
    .filter(|s| &s.trace_id == trace)
    .collect();
    assert_eq!(lookups.len(), 1, "records' lookup joins its trace");
    let lookup = lookups[0];
    assert_eq!(
        lookup.parent_span_id, records.span_id,
        "identity span is a child of records"
    );

    let appends: Vec<&Span> = find(&spans, "dancu.audit.v1.AuditService/AppendEvents", "audit")
        .into_iter()
        .filter(|s| &s.trace_id == trace)
        .collect();
    assert!(
        appends.iter().any(|s| s.parent_span_id == records.span_id),
        "records' audit append is a child of the records span"
    );
    assert!(
        appends.iter().any(|s| s.parent_span_id == lookup.span_id),
        "identity's audit append is a child of the identity span"
    );

    // No personal data in span attributes.
    for span in &spans {
        for kv in &span.attributes {
            if let Some(Some(Value::StringValue(value))) = kv.value.as_ref().map(|v| &v.value) {
                assert!(
                    !value.contains("001090123456"),
                    "personal ID in span attribute {}",
                    kv.key
                );
                assert!(
                    !value.contains(&token),
                    "token in span attribute {}",
                    kv.key
                );
            }
        }
    }
    cluster.shutdown().await;
}
