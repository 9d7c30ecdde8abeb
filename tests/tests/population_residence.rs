//! Residence and movement end to end: permanent and temporary residence, notices of stay,
//! temporary absence, the derived current residence and the movement history.

use dancu_e2e::Cluster;
use dancu_e2e::api::request;
use dancu_e2e::population::{PURPOSE, date, person, violated_fields};
use dancu_proto::common::v1::{Date, Sex};
use dancu_proto::identity::v1::{
    Citizen, DeclareResidenceRequest, GetResidenceRequest, LifeStatus, ListResidenceEventsRequest,
    ResidenceKind, Supervision, UpdateCitizenRequest,
};
use tonic::Code;

const AN: &str = "001090000001";
const BA_DINH: &str = "01001";
const HAI_CHAU: &str = "48001";

fn day(offset_days: i64) -> Date {
    use chrono::Datelike;
    let d = chrono::Utc::now().date_naive() + chrono::Duration::days(offset_days);
    date(d.year(), d.month() as i32, d.day() as i32)
}

fn declaration(kind: ResidenceKind, commune: &str) -> DeclareResidenceRequest {
    DeclareResidenceRequest {
        personal_id: AN.to_owned(),
        kind: kind as i32,
        commune_code: commune.to_owned(),
        address: "Số 12 đường Bạch Đằng".to_owned(),
        ..Default::default()
    }
}

async fn residence(cluster: &Cluster, token: &str) -> dancu_proto::identity::v1::Residence {
    cluster
        .residence()
        .get_residence(request(
            GetResidenceRequest {
                personal_id: AN.to_owned(),
            },
            token,
            Some(PURPOSE),
            None,
        ))
        .await
        .expect("get residence")
        .into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn movement_is_recorded_and_current_residence_derived() {
    let cluster = Cluster::start().await;
    let (token, admin) = cluster.admin_login().await;
    cluster
        .register(
            &token,
            person(AN, "Nguyễn Văn An", Sex::Male, date(1990, 5, 17)),
        )
        .await
        .expect("register");

    let permanent = cluster
        .settle(&token, AN, BA_DINH)
        .await
        .expect("permanent");
    assert_eq!(permanent.province_code, "01");
    assert_eq!(permanent.recorded_by, admin);

    let temporary = cluster
        .declare(
            &token,
            DeclareResidenceRequest {
                start_date: Some(day(-10)),
                end_date: Some(day(300)),
                ..declaration(ResidenceKind::Temporary, HAI_CHAU)
            },
        )
        .await
        .expect("temporary");
    let stay = cluster
        .declare(
            &token,
            DeclareResidenceRequest {
                start_date: Some(day(0)),
                end_date: Some(day(3)),
                host_name: "Khách sạn Sông Hàn".to_owned(),
                ..declaration(ResidenceKind::Stay, "48002")
            },
        )
        .await
        .expect("stay");
    let absence = cluster
        .declare(
            &token,
            DeclareResidenceRequest {
                commune_code: String::new(),
                address: String::new(),
                start_date: Some(day(0)),
                end_date: Some(day(5)),
                supervision: Supervision::Probation as i32,
                destination: "Đà Nẵng".to_owned(),
                ..declaration(ResidenceKind::Absence, "")
            },
        )
        .await
        .expect("absence");
    assert_eq!(
        absence.commune_code, BA_DINH,
        "absent from the permanent commune"
    );
    assert!(
        absence.mandatory,
        "on probation: mandatory from the first day"
    );
    let short_unsupervised = cluster
        .declare(
            &token,
            DeclareResidenceRequest {
                start_date: Some(day(10)),
                end_date: Some(day(40)),
                ..declaration(ResidenceKind::Absence, BA_DINH)
            },
        )
        .await
        .expect("voluntary absence");
    assert!(!short_unsupervised.mandatory);

    let now = residence(&cluster, &token).await;
    assert_eq!(now.current_commune_code, HAI_CHAU);
    assert_eq!(now.permanent.unwrap().event_id, permanent.event_id);
    assert_eq!(now.temporary.unwrap().event_id, temporary.event_id);
    assert_eq!(now.stays.len(), 1);
    assert_eq!(now.stays[0].event_id, stay.event_id);
    // The later absence starts in ten days, so today's is the probation one.
    assert!(now.absence.is_none() || now.absence.as_ref().unwrap().event_id == absence.event_id);

    let citizen = cluster.get_citizen(&token, AN).await.unwrap();
    assert_eq!(citizen.residence.unwrap().current_commune_code, HAI_CHAU);

    // The whole history, in order, across pages.
    let mut events = Vec::new();
    let mut token_page = String::new();
    loop {
        let page = cluster
            .residence()
            .list_residence_events(request(
                ListResidenceEventsRequest {
                    personal_id: AN.to_owned(),
                    page_size: 2,
                    page_token: token_page.clone(),
                },
                &token,
                Some(PURPOSE),
                None,
            ))
            .await
            .expect("history")
            .into_inner();
        events.extend(page.events);
        if page.next_page_token.is_empty() {
            break;
        }
        token_page = page.next_page_token;
    }
    let ids: Vec<_> = events.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            permanent.event_id.as_str(),
            temporary.event_id.as_str(),
            stay.event_id.as_str(),
            absence.event_id.as_str(),
            short_unsupervised.event_id.as_str()
        ]
    );
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_temporary_residence_stops_counting() {
    let cluster = Cluster::start().await;
    let (token, _) = cluster.admin_login().await;
    cluster
        .register(
            &token,
            person(AN, "Nguyễn Văn An", Sex::Male, date(1990, 5, 17)),
        )
        .await
        .unwrap();
    cluster.settle(&token, AN, BA_DINH).await.unwrap();
    cluster
        .declare(
            &token,
            DeclareResidenceRequest {
                start_date: Some(day(-100)),
                end_date: Some(day(-1)),
                ..declaration(ResidenceKind::Temporary, HAI_CHAU)
            },
        )
        .await
        .expect("temporary residence that ended yesterday");
    let now = residence(&cluster, &token).await;
    assert!(now.temporary.is_none());
    assert_eq!(now.current_commune_code, BA_DINH);
    let citizen = cluster.get_citizen(&token, AN).await.unwrap();
    let summary = citizen.residence.unwrap();
    assert_eq!(summary.current_commune_code, BA_DINH);
    assert!(summary.temporary_commune_code.is_empty());
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_declarations_are_refused_and_nothing_is_written() {
    let cluster = Cluster::start().await;
    let (token, _) = cluster.admin_login().await;
    cluster
        .register(
            &token,
            person(AN, "Nguyễn Văn An", Sex::Male, date(1990, 5, 17)),
        )
        .await
        .unwrap();

    let absence_without_home = cluster
        .declare(&token, declaration(ResidenceKind::Absence, ""))
        .await
        .expect_err("no permanent residence yet");
    assert_eq!(absence_without_home.code(), Code::FailedPrecondition);

    cluster.settle(&token, AN, BA_DINH).await.unwrap();
    let invalid = [
        (
            "no kind",
            declaration(ResidenceKind::Unspecified, BA_DINH),
            "kind",
        ),
        (
            "unknown commune",
            declaration(ResidenceKind::Permanent, "99999"),
            "commune_code",
        ),
        (
            "no address",
            DeclareResidenceRequest {
                address: String::new(),
                ..declaration(ResidenceKind::Permanent, BA_DINH)
            },
            "address",
        ),
        (
            "temporary over two years",
            DeclareResidenceRequest {
                start_date: Some(day(-1)),
                end_date: Some(day(800)),
                ..declaration(ResidenceKind::Temporary, HAI_CHAU)
            },
            "end_date",
        ),
        (
            "temporary under 30 days",
            DeclareResidenceRequest {
                start_date: Some(day(-1)),
                end_date: Some(day(10)),
                ..declaration(ResidenceKind::Temporary, HAI_CHAU)
            },
            "end_date",
        ),
        (
            "temporary without end",
            declaration(ResidenceKind::Temporary, HAI_CHAU),
            "end_date",
        ),
        (
            "temporary in the permanent commune",
            DeclareResidenceRequest {
                start_date: Some(day(-1)),
                end_date: Some(day(100)),
                ..declaration(ResidenceKind::Temporary, BA_DINH)
            },
            "commune_code",
        ),
        (
            "stay of 30 days",
            DeclareResidenceRequest {
                start_date: Some(day(0)),
                end_date: Some(day(29)),
                host_name: "Nhà nghỉ Hoa Sen".to_owned(),
                ..declaration(ResidenceKind::Stay, HAI_CHAU)
            },
            "end_date",
        ),
        (
            "stay without host",
            DeclareResidenceRequest {
                start_date: Some(day(0)),
                end_date: Some(day(2)),
                ..declaration(ResidenceKind::Stay, HAI_CHAU)
            },
            "host_name",
        ),
        (
            "end before start",
            DeclareResidenceRequest {
                start_date: Some(day(0)),
                end_date: Some(day(-3)),
                ..declaration(ResidenceKind::Absence, BA_DINH)
            },
            "end_date",
        ),
        (
            "partial start date",
            DeclareResidenceRequest {
                start_date: Some(date(2024, 5, 0)),
                ..declaration(ResidenceKind::Permanent, BA_DINH)
            },
            "start_date",
        ),
        (
            "permanent residence from the future",
            DeclareResidenceRequest {
                start_date: Some(day(10)),
                ..declaration(ResidenceKind::Permanent, HAI_CHAU)
            },
            "start_date",
        ),
        (
            "bad personal id",
            DeclareResidenceRequest {
                personal_id: "12".to_owned(),
                ..declaration(ResidenceKind::Permanent, BA_DINH)
            },
            "personal_id",
        ),
    ];
    for (label, req, field) in invalid {
        let status = cluster.declare(&token, req).await.expect_err(label);
        assert_eq!(status.code(), Code::InvalidArgument, "{label}: {status:?}");
        assert!(
            violated_fields(&status).iter().any(|f| f == field),
            "{label}: {:?}",
            violated_fields(&status)
        );
    }
    let history = cluster
        .residence()
        .list_residence_events(request(
            ListResidenceEventsRequest {
                personal_id: AN.to_owned(),
                ..Default::default()
            },
            &token,
            Some(PURPOSE),
            None,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        history.events.len(),
        1,
        "only the permanent residence was written"
    );

    let unknown = cluster
        .declare(
            &token,
            DeclareResidenceRequest {
                personal_id: "001090000099".to_owned(),
                ..declaration(ResidenceKind::Permanent, BA_DINH)
            },
        )
        .await
        .expect_err("unregistered person");
    assert_eq!(unknown.code(), Code::FailedPrecondition);
    assert!(!unknown.message().contains("001090000099"));

    // A deceased person no longer moves.
    cluster
        .identity()
        .update_citizen(request(
            UpdateCitizenRequest {
                citizen: Some(Citizen {
                    life_status: LifeStatus::Deceased as i32,
                    life_status_date: Some(day(-1)),
                    ..person(AN, "", Sex::Unspecified, date(1990, 1, 1))
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["life_status".to_owned()],
                }),
                etag: "\"1\"".to_owned(),
                reason: "giấy chứng tử".to_owned(),
            },
            &token,
            Some(PURPOSE),
            None,
        ))
        .await
        .expect("record death");
    let dead = cluster
        .declare(&token, declaration(ResidenceKind::Permanent, HAI_CHAU))
        .await
        .expect_err("deceased");
    assert_eq!(dead.code(), Code::FailedPrecondition);
    let get_unknown = cluster
        .residence()
        .get_residence(request(
            GetResidenceRequest {
                personal_id: "001090000099".to_owned(),
            },
            &token,
            Some(PURPOSE),
            None,
        ))
        .await
        .expect_err("unknown person");
    assert_eq!(get_unknown.code(), Code::NotFound);
    cluster.shutdown().await;
}
