//! Every service answers the standard health check (SERVING once its store is ready) and
//! server reflection in both v1 and v1alpha, without a token.

use dancu_e2e::{Cluster, channel};
use dancu_kit::config::ServiceKind;
use futures::StreamExt;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

async fn check(endpoint: &str, service: &str) -> Result<i32, tonic::Status> {
    HealthClient::new(channel(endpoint))
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await
        .map(|r| r.into_inner().status)
}

/// Lists the services a server advertises through one version of the reflection API (the
/// two versions have identical shapes but distinct generated types).
macro_rules! list_services {
    ($version:ident, $endpoint:expr) => {{
        use tonic_reflection::pb::$version::ServerReflectionRequest;
        use tonic_reflection::pb::$version::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::$version::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::$version::server_reflection_response::MessageResponse;
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut responses = ServerReflectionClient::new(channel($endpoint))
            .server_reflection_info(tokio_stream::iter([request]))
            .await
            .expect(concat!("reflection ", stringify!($version)))
            .into_inner();
        let response = responses.next().await.expect("one response").expect("ok");
        match response.message_response {
            Some(MessageResponse::ListServicesResponse(list)) => list
                .service
                .into_iter()
                .map(|s| s.name)
                .collect::<Vec<String>>(),
            other => panic!("unexpected reflection answer: {other:?}"),
        }
    }};
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_reflection_answer_on_every_service() {
    let mut cluster = Cluster::start().await;
    let expectations = [
        (
            ServiceKind::Identity,
            vec![
                "dancu.identity.v1.IdentityService",
                "dancu.identity.v1.AuthService",
                "dancu.identity.v1.CardService",
                "dancu.identity.v1.ForeignerService",
                "dancu.identity.v1.ImportService",
            ],
        ),
        (
            ServiceKind::Records,
            vec![
                "dancu.records.v1.RecordsService",
                "dancu.records.v1.AnalysisService",
                "dancu.records.v1.ImportService",
            ],
        ),
        (ServiceKind::Audit, vec!["dancu.audit.v1.AuditService"]),
    ];
    for (kind, services) in &expectations {
        let endpoint = cluster.endpoint(*kind);
        assert_eq!(
            check(&endpoint, "").await.expect("overall health"),
            ServingStatus::Serving as i32
        );
        for service in services {
            assert_eq!(
                check(&endpoint, service).await.expect("service health"),
                ServingStatus::Serving as i32
            );
        }
        let unknown = check(&endpoint, "no.such.Service").await.unwrap_err();
        assert_eq!(unknown.code(), tonic::Code::NotFound);

        for listed in [
            list_services!(v1, &endpoint),
            list_services!(v1alpha, &endpoint),
        ] {
            for service in services {
                assert!(
                    listed.iter().any(|s| s == service),
                    "{service} missing from {listed:?}"
                );
            }
            assert!(
                listed.iter().any(|s| s == "grpc.health.v1.Health"),
                "{listed:?}"
            );
        }
    }

    // A stopped service stops answering; a restarted one is SERVING again on its data.
    cluster.stop(ServiceKind::Audit).await;
    assert!(
        check(&cluster.endpoint(ServiceKind::Audit), "")
            .await
            .is_err()
    );
    cluster.restart(ServiceKind::Audit).await;
    assert_eq!(
        check(&cluster.endpoint(ServiceKind::Audit), "")
            .await
            .expect("health after restart"),
        ServingStatus::Serving as i32
    );
    cluster.shutdown().await;
}
