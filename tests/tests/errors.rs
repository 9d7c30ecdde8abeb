//! Every bad input and failure of the vertical slice yields a clear gRPC error — never a
//! panic, `INTERNAL`, or internal text — and nothing half-written.

use dancu_e2e::Cluster;
use dancu_e2e::api::{request, sample_citizen, sample_record};
use dancu_kit::config::ServiceKind;
use dancu_proto::audit::v1::{AppendEventsRequest, AuditEvent, ListEventsRequest};
use dancu_proto::common::v1::{Date, Sex};
use dancu_proto::identity::v1::{Citizen, GetCitizenRequest, LoginRequest, RegisterCitizenRequest};
use dancu_proto::records::v1::{GetSubjectRecordRequest, SourceReference};
use tonic::{Code, Status};
use tonic_types::StatusExt;

/// The fields named by the status's `google.rpc.BadRequest` detail.
fn violated_fields(status: &Status) -> Vec<String> {
    status
        .get_error_details()
        .bad_request()
        .map(|b| b.field_violations.iter().map(|v| v.field.clone()).collect())
        .unwrap_or_default()
}

fn assert_invalid(status: &Status, field: &str) {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(
        violated_fields(status).iter().any(|f| f == field),
        "expected a violation on {field}, got {:?}",
        violated_fields(status)
    );
}

fn register(citizen: Citizen) -> RegisterCitizenRequest {
    RegisterCitizenRequest {
        citizen: Some(citizen),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_is_required_and_checked() {
    let cluster = Cluster::start().await;
    let (token, _) = cluster.admin_login().await;

    // No token at all, on every service.
    let get = GetCitizenRequest {
        personal_id: "001090123456".to_owned(),
    };
    let status = cluster
        .identity()
        .get_citizen(get.clone())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    let status = cluster
        .records()
        .get_subject_record(GetSubjectRecordRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    let status = cluster
        .audit()
        .list_events(ListEventsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);

    // Garbage, a tampered payload, and a token signed by an unknown key.
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] = format!("{}x", parts[1]);
    let tampered = parts.join(".");
    let foreign = "eyJhbGciOiJFZERTQSIsImtpZCI6InVua25vd24ifQ.eyJzdWIiOiJ4In0.c2ln";
    for bad in ["not-a-jwt", tampered.as_str(), foreign] {
        for status in [
            cluster
                .identity()
                .get_citizen(request(
                    get.clone(),
                    bad,
                    Some("residence_management"),
                    None,
                ))
                .await
                .unwrap_err(),
            cluster
                .audit()
                .list_events(request(ListEventsRequest::default(), bad, None, None))
                .await
                .unwrap_err(),
        ] {
            assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
            assert!(!status.message().contains(bad), "the token is not echoed");
        }
    }

    // Wrong password and unknown user look the same; empty fields are named.
    for (username, password) in [("admin", "wrong"), ("nobody", "wrong")] {
        let status = cluster
            .auth()
            .login(LoginRequest {
                username: username.to_owned(),
                password: password.to_owned(),
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated);
        assert_eq!(status.message(), "invalid username or password");
    }
    let status = cluster
        .auth()
        .login(LoginRequest::default())
        .await
        .unwrap_err();
    assert_invalid(&status, "username");
    assert_invalid(&status, "password");

    // Auditors' and services' operations are not open to everyone.
    let event = AuditEvent {
        event_id: uuid::Uuid::now_v7().to_string(),
        ..Default::default()
    };
    let status = cluster
        .audit()
        .append_events(request(
            AppendEventsRequest {
                events: vec![event],
            },
            &token,
            None,
            None,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);

    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purpose_is_required_before_any_data_is_read() {
    let cluster = Cluster::start().await;
    let (token, _) = cluster.admin_login().await;
    let get = GetCitizenRequest {
        personal_id: "001090123456".to_owned(),
    };
    for (purpose, case, field) in [
        (None, None, "x-dancu-purpose"),
        (Some("curiosity"), None, "x-dancu-purpose"),
        (Some("investigation"), None, "x-dancu-case"),
        (Some("investigation"), Some("bad case!"), "x-dancu-case"),
    ] {
        let status = cluster
            .identity()
            .get_citizen(request(get.clone(), &token, purpose, case))
            .await
            .unwrap_err();
        assert_invalid(&status, field);
        let status = cluster
            .records()
            .create_subject_record(request(
                sample_record("001090123456"),
                &token,
                purpose,
                case,
            ))
            .await
            .unwrap_err();
        assert_invalid(&status, field);
    }
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn citizen_input_is_validated_field_by_field() {
    let cluster = Cluster::start().await;
    let (token, _) = cluster.admin_login().await;
    let purpose = Some("residence_management");
    let with_id = |id: &str| sample_citizen(id);

    let cases: Vec<(&str, Citizen, &str)> = vec![
        ("too short", with_id("00109012345"), "citizen.personal_id"),
        ("too long", with_id("0010901234567"), "citizen.personal_id"),
        ("non-digits", with_id("00109012345A"), "citizen.personal_id"),
        (
            "unknown province 003",
            with_id("003090123456"),
            "citizen.personal_id",
        ),
        // Digit 4 = 1: a woman born in the 1900s, but the citizen is male.
        ("sex digit", with_id("001190123456"), "citizen.personal_id"),
        // Digit 4 = 2: born in the 2000s, but the date says 1990.
        (
            "century digit",
            with_id("001290123456"),
            "citizen.personal_id",
        ),
        // Digits 5-6 = 91, but born in 1990.
        (
            "year digits",
            with_id("001091123456"),
            "citizen.personal_id",
        ),
        (
            "empty name",
            Citizen {
                full_name: "   ".to_owned(),
                ..with_id("001090123456")
            },
            "citizen.full_name",
        ),
        (
            "no sex",
            Citizen {
                sex: Sex::Unspecified as i32,
                ..with_id("001090123456")
            },
            "citizen.sex",
        ),
        (
            "no birth date",
            Citizen {
                date_of_birth: None,
                ..with_id("001090123456")
            },
            "citizen.date_of_birth",
        ),
        (
            "30 February",
            Citizen {
                date_of_birth: Some(Date {
                    year: 1990,
                    month: 2,
                    day: 30,
                }),
                ..with_id("001090123456")
            },
            "citizen.date_of_birth",
        ),
        (
            "future birth date",
            Citizen {
                date_of_birth: Some(Date {
                    year: 2099,
                    month: 1,
                    day: 1,
                }),
                ..with_id("001299123456")
            },
            "citizen.date_of_birth",
        ),
    ];
    for (what, citizen, field) in cases {
        let status = cluster
            .identity()
            .register_citizen(request(register(citizen), &token, purpose, None))
            .await
            .expect_err(what);
        assert_invalid(&status, field);
        assert!(
            !status.message().contains("0010"),
            "{what}: no personal ID in messages"
        );
    }
    let status = cluster
        .identity()
        .register_citizen(request(
            RegisterCitizenRequest::default(),
            &token,
            purpose,
            None,
        ))
        .await
        .unwrap_err();
    assert_invalid(&status, "citizen");

    // Lookups: malformed → INVALID_ARGUMENT, unknown → NOT_FOUND.
    let status = cluster.get_citizen(&token, "12345").await.unwrap_err();
    assert_invalid(&status, "personal_id");
    let status = cluster
        .get_citizen(&token, "001090999999")
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);

    // Duplicates → ALREADY_EXISTS, with no storage text.
    cluster
        .register_sample(&token, "001090123456")
        .await
        .expect("first registration");
    let status = cluster
        .register_sample(&token, "001090123456")
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    let message = status.message().to_lowercase();
    for leak in ["insert", "constraint", "sql", "unique"] {
        assert!(!message.contains(leak), "storage text leaked: {message}");
    }
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_checks_the_person_and_writes_nothing_on_failure() {
    let mut cluster = Cluster::start().await;
    let (token, _) = cluster.admin_login().await;
    let purpose = Some("judgment_enforcement");
    let case = Some("THA-1");

    // Bad input, field by field.
    let mut no_class = sample_record("001090123456");
    no_class.classification = 0;
    let mut no_source = sample_record("001090123456");
    no_source.source = None;
    let mut bad_source = sample_record("001090123456");
    bad_source.source = Some(SourceReference {
        kind: 0,
        reference: String::new(),
        issuing_unit: "bad unit!".to_owned(),
    });
    for (request_body, fields) in [
        (sample_record("0010901"), vec!["personal_id"]),
        (no_class, vec!["classification"]),
        (no_source, vec!["source"]),
        (
            bad_source,
            vec!["source.kind", "source.reference", "source.issuing_unit"],
        ),
    ] {
        let status = cluster
            .records()
            .create_subject_record(request(request_body, &token, purpose, case))
            .await
            .unwrap_err();
        for field in fields {
            assert_invalid(&status, field);
        }
    }
    for (id, code) in [
        ("not-a-uuid", Code::InvalidArgument),
        ("01890a5d-ac96-774b-bcce-b302099a8057", Code::NotFound),
    ] {
        let status = cluster
            .records()
            .get_subject_record(request(
                GetSubjectRecordRequest { id: id.to_owned() },
                &token,
                purpose,
                case,
            ))
            .await
            .unwrap_err();
        assert_eq!(status.code(), code);
    }

    // A person identity does not know → FAILED_PRECONDITION.
    let status = cluster
        .records()
        .create_subject_record(request(
            sample_record("001090123456"),
            &token,
            purpose,
            case,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);

    // Identity down → UNAVAILABLE, nothing written.
    cluster
        .register_sample(&token, "001090123456")
        .await
        .expect("register");
    cluster.stop(ServiceKind::Identity).await;
    let status = cluster
        .records()
        .create_subject_record(request(
            sample_record("001090123456"),
            &token,
            purpose,
            case,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    let store = dancu_records::store::RecordsStore::open(
        &cluster.config.database_url(ServiceKind::Records),
        1,
    )
    .await
    .expect("open records store");
    assert_eq!(store.count().await.expect("count"), 0, "nothing written");

    // Back up: the same call succeeds and writes exactly one record.
    cluster.restart(ServiceKind::Identity).await;
    cluster
        .records()
        .create_subject_record(request(
            sample_record("001090123456"),
            &token,
            purpose,
            case,
        ))
        .await
        .expect("create once identity is back");
    assert_eq!(store.count().await.expect("count"), 1);
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_append_is_idempotent_and_validated() {
    let cluster = Cluster::start().await;
    let (admin, _) = cluster.admin_login().await;
    let service = cluster
        .auth()
        .login(LoginRequest {
            username: "svc-records".to_owned(),
            password: cluster.config.service_secret.clone().expect("secret"),
        })
        .await
        .expect("service login")
        .into_inner()
        .access_token;
    let event = AuditEvent {
        event_id: uuid::Uuid::now_v7().to_string(),
        occur_time: Some(prost_types::Timestamp {
            seconds: 1_800_000_000,
            nanos: 0,
        }),
        service: "records".to_owned(),
        actor_id: "officer-1".to_owned(),
        actor_unit: "CAHN".to_owned(),
        rpc: "/x/Y".to_owned(),
        resource_type: "subject_record".to_owned(),
        subject: "001090123456".to_owned(),
        purpose: "investigation".to_owned(),
        outcome: "OK".to_owned(),
        ..Default::default()
    };
    let batch = AppendEventsRequest {
        events: vec![event.clone(), event.clone()],
    };
    let first = cluster
        .audit()
        .append_events(request(batch.clone(), &service, None, None))
        .await
        .expect("append")
        .into_inner();
    assert_eq!((first.accepted, first.duplicates), (1, 1));
    let second = cluster
        .audit()
        .append_events(request(batch, &service, None, None))
        .await
        .expect("append again")
        .into_inner();
    assert_eq!((second.accepted, second.duplicates), (0, 2));

    let at = |seconds| Some(prost_types::Timestamp { seconds, nanos: 0 });
    let within = ListEventsRequest {
        subject: "001090123456".to_owned(),
        start_time: at(1_799_999_999),
        end_time: at(1_800_000_001),
        ..Default::default()
    };
    let listed = cluster
        .list_events(&admin, within)
        .await
        .expect("list")
        .events;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].event_id, event.event_id);
    let before = ListEventsRequest {
        end_time: at(1_799_999_999),
        actor_id: "officer-1".to_owned(),
        ..Default::default()
    };
    let outside = cluster
        .list_events(&admin, before)
        .await
        .expect("list")
        .events;
    assert!(outside.is_empty(), "time filter excludes the event");

    let broken = AuditEvent {
        event_id: "nope".to_owned(),
        subject: "12".to_owned(),
        ..Default::default()
    };
    let status = cluster
        .audit()
        .append_events(request(
            AppendEventsRequest {
                events: vec![broken],
            },
            &service,
            None,
            None,
        ))
        .await
        .unwrap_err();
    for field in [
        "events[0].event_id",
        "events[0].service",
        "events[0].occur_time",
        "events[0].subject",
    ] {
        assert_invalid(&status, field);
    }
    let status = cluster
        .audit()
        .append_events(request(
            AppendEventsRequest { events: vec![] },
            &service,
            None,
            None,
        ))
        .await
        .unwrap_err();
    assert_invalid(&status, "events");
    for (list, field) in [
        (
            ListEventsRequest {
                page_token: "garbage".to_owned(),
                ..Default::default()
            },
            "page_token",
        ),
        (
            ListEventsRequest {
                page_size: -1,
                ..Default::default()
            },
            "page_size",
        ),
        (
            ListEventsRequest {
                subject: "1".to_owned(),
                ..Default::default()
            },
            "subject",
        ),
    ] {
        let status = cluster.list_events(&admin, list).await.unwrap_err();
        assert_invalid(&status, field);
    }
    cluster.shutdown().await;
}
