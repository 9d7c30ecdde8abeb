//! Subjects end to end: created only for people identity knows, with a snapshot of
//! identity data; several classifications per subject, overlaps and contradictions refused
//! with field violations; lists within the jurisdiction, filtered and paginated; every call
//! audited; identity down → UNAVAILABLE and nothing written. Foreign subjects and
//! timelines: `records_timelines.rs`.

use dancu_e2e::Cluster;
use dancu_e2e::access::break_glass;
use dancu_e2e::api::request;
use dancu_e2e::population::{date, person, violated_fields};
use dancu_e2e::records::{CASE, PURPOSE, day, source};
use dancu_kit::config::ServiceKind;
use dancu_proto::common::v1::Sex;
use dancu_proto::records::v1::create_subject_request::Person;
use dancu_proto::records::v1::{
    Classification, ClassificationStatus, CreateSubjectRequest, EndClassificationRequest,
    GetSubjectRequest, ListSubjectsRequest, Subject, SubjectKind,
};
use tonic::Code;

const AN: &str = "001090000301";
const BINH: &str = "001090000302";
const CUONG: &str = "001090000303";
const UNKNOWN: &str = "001090000399";

async fn records_store(cluster: &Cluster) -> dancu_records::store::RecordsStore {
    dancu_records::store::RecordsStore::open(&cluster.config.database_url(ServiceKind::Records), 1)
        .await
        .expect("open records store")
}

async fn get(cluster: &Cluster, token: &str, id: &str) -> Result<Subject, tonic::Status> {
    cluster
        .records()
        .get_subject(request(
            GetSubjectRequest { id: id.to_owned() },
            token,
            Some(PURPOSE),
            Some(CASE),
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn list(
    cluster: &Cluster,
    token: &str,
    filter: ListSubjectsRequest,
) -> Result<Vec<Subject>, tonic::Status> {
    let mut all = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = cluster
            .records()
            .list_subjects(request(
                ListSubjectsRequest {
                    page_size: 1,
                    page_token,
                    ..filter.clone()
                },
                token,
                Some(PURPOSE),
                Some(CASE),
            ))
            .await?
            .into_inner();
        assert!(page.subjects.len() <= 1, "page size honoured");
        all.extend(page.subjects);
        if page.next_page_token.is_empty() {
            return Ok(all);
        }
        page_token = page.next_page_token;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subjects_are_verified_snapshotted_classified_and_listed_in_jurisdiction() {
    let mut cluster = Cluster::start().await;
    let (admin, _) = cluster.admin_login().await;
    for (id, name, commune) in [
        (AN, "Nguyễn Văn An", "01001"),
        (BINH, "Trần Văn Bình", "01001"),
        (CUONG, "Lê Văn Cường", "01002"),
    ] {
        cluster
            .register(&admin, person(id, name, Sex::Male, date(1990, 1, 2)))
            .await
            .expect("register");
        cluster.settle(&admin, id, commune).await.expect("settle");
    }
    let owner = cluster
        .officer(&admin, "inv.badinh", "CAX-01001", &["investigator"], None)
        .await;
    let neighbour = cluster
        .officer(&admin, "inv.hoankiem", "CAX-01002", &["investigator"], None)
        .await;
    let province = cluster
        .officer(&admin, "inv.hanoi", "CAT-01", &["investigator"], None)
        .await;

    // Created with a snapshot of identity data, owned by the creating officer's unit.
    let an = cluster
        .create_subject(owner.token(), AN)
        .await
        .expect("create subject");
    assert_eq!(an.kind, SubjectKind::Citizen as i32);
    assert_eq!(an.personal_id, AN);
    assert_eq!(an.owning_unit, "CAX-01001");
    assert_eq!(an.owning_area, "01001");
    let snapshot = an.snapshot.clone().expect("snapshot");
    assert_eq!(snapshot.full_name, "Nguyễn Văn An");
    assert_eq!(snapshot.date_of_birth, Some(date(1990, 1, 2)));
    assert_eq!(snapshot.residence_commune, "01001");
    assert_eq!(an.source.as_ref().expect("source").issuing_unit, "TAND-HN");
    let binh = cluster
        .create_subject(owner.token(), BINH)
        .await
        .expect("create");
    let cuong = cluster
        .create_subject(neighbour.token(), CUONG)
        .await
        .expect("create");

    // The same person twice in one unit.
    let twice = cluster.create_subject(owner.token(), AN).await.unwrap_err();
    assert_eq!(twice.code(), Code::AlreadyExists, "{twice:?}");

    // Unknown person → FAILED_PRECONDITION, nothing written.
    let store = records_store(&cluster).await;
    let before = store.count_subject_facts().await.expect("count");
    let unknown = cluster
        .create_subject(owner.token(), UNKNOWN)
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::FailedPrecondition, "{unknown:?}");
    assert!(unknown.message().contains("not in the population register"));
    assert!(!unknown.message().contains(UNKNOWN));
    assert_eq!(store.count_subject_facts().await.expect("count"), before);

    // Bad input → INVALID_ARGUMENT naming each field.
    let bad = cluster
        .records()
        .create_subject(request(
            CreateSubjectRequest {
                person: Some(Person::PersonalId("12345".to_owned())),
                source: None,
            },
            owner.token(),
            Some(PURPOSE),
            Some(CASE),
        ))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&bad), ["personal_id", "source"]);
    let bad = cluster
        .records()
        .create_subject(request(
            CreateSubjectRequest {
                person: None,
                source: Some(source("X")),
            },
            owner.token(),
            Some(PURPOSE),
            Some(CASE),
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&bad), ["person"]);

    // Several classifications; overlap and contradiction refused with field violations.
    let post = cluster
        .classify(
            owner.token(),
            &an.id,
            Classification::PostRehabilitation,
            day(2025, 1, 1),
            None,
        )
        .await
        .expect("post-rehabilitation");
    assert_eq!(post.status, ClassificationStatus::Active as i32);
    assert_eq!(post.owning_unit, "CAX-01001");
    cluster
        .classify(
            owner.token(),
            &an.id,
            Classification::PriorConviction,
            day(2020, 3, 1),
            Some(day(2024, 12, 31)),
        )
        .await
        .expect("prior conviction, ended");
    let overlap = cluster
        .classify(
            owner.token(),
            &an.id,
            Classification::PostRehabilitation,
            day(2025, 6, 1),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(overlap.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&overlap), ["start_date"]);
    let contradiction = cluster
        .classify(
            owner.token(),
            &an.id,
            Classification::Bail,
            day(2025, 6, 1),
            Some(day(2025, 7, 1)),
        )
        .await
        .unwrap_err();
    assert_eq!(contradiction.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&contradiction), ["classification"]);
    let backwards = cluster
        .classify(
            owner.token(),
            &an.id,
            Classification::Criminal,
            day(2025, 6, 1),
            Some(day(2025, 5, 1)),
        )
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&backwards), ["end_date"]);
    let future = cluster
        .classify(
            owner.token(),
            &an.id,
            Classification::Criminal,
            day(2999, 1, 1),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&future), ["start_date"]);
    // The neighbouring commune may not classify a subject it does not own.
    let foreign = cluster
        .classify(
            neighbour.token(),
            &an.id,
            Classification::Criminal,
            day(2025, 1, 1),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(foreign.code(), Code::PermissionDenied);
    let missing = cluster
        .classify(
            owner.token(),
            &uuid::Uuid::now_v7().to_string(),
            Classification::Criminal,
            day(2025, 1, 1),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);

    // Suspicious signs for Bình, recorded by the investigator.
    cluster
        .classify(
            owner.token(),
            &binh.id,
            Classification::SuspiciousSigns,
            day(2025, 2, 1),
            None,
        )
        .await
        .expect("suspicious signs");
    cluster
        .classify(
            owner.token(),
            &binh.id,
            Classification::DrugRelated,
            day(2025, 2, 1),
            None,
        )
        .await
        .expect("drug related");

    // Read: with all classifications, inside the jurisdiction; outside only by
    // break-glass.
    let read = get(&cluster, owner.token(), &an.id).await.expect("get");
    assert_eq!(read.classifications.len(), 2);
    let statuses: Vec<i32> = read.classifications.iter().map(|c| c.status).collect();
    assert_eq!(
        statuses,
        [
            ClassificationStatus::Active as i32,
            ClassificationStatus::Ended as i32
        ]
    );
    get(&cluster, province.token(), &an.id)
        .await
        .expect("province reads");
    let denied = get(&cluster, neighbour.token(), &an.id).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert!(!denied.message().contains(AN));
    cluster
        .records()
        .get_subject(break_glass(
            request(
                GetSubjectRequest { id: an.id.clone() },
                neighbour.token(),
                Some(PURPOSE),
                Some(CASE),
            ),
            "Subject fled into this commune, urgent verification",
        ))
        .await
        .expect("break-glass read");
    let absent = get(&cluster, owner.token(), &uuid::Uuid::now_v7().to_string())
        .await
        .unwrap_err();
    assert_eq!(absent.code(), Code::NotFound);
    let malformed = get(&cluster, owner.token(), "nope").await.unwrap_err();
    assert_eq!(violated_fields(&malformed), ["id"]);

    // Suspicious signs are left out for a registrar of the same commune, who may not
    // list by that class either.
    let registrar = cluster
        .officer(
            &admin,
            "reg.badinh",
            "CAX-01001",
            &["residence_registrar"],
            None,
        )
        .await;
    let seen = cluster
        .records()
        .get_subject(request(
            GetSubjectRequest {
                id: binh.id.clone(),
            },
            registrar.token(),
            Some("residence_management"),
            None,
        ))
        .await
        .expect("registrar reads")
        .into_inner();
    let classes: Vec<i32> = seen
        .classifications
        .iter()
        .map(|c| c.classification)
        .collect();
    assert_eq!(classes, [Classification::DrugRelated as i32]);
    let as_investigator = get(&cluster, owner.token(), &binh.id).await.expect("get");
    assert_eq!(as_investigator.classifications.len(), 2);
    let refused = cluster
        .records()
        .list_subjects(request(
            ListSubjectsRequest {
                classification: Classification::SuspiciousSigns as i32,
                ..Default::default()
            },
            registrar.token(),
            Some("residence_management"),
            None,
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);

    // End a classification.
    let ended = cluster
        .records()
        .end_classification(request(
            EndClassificationRequest {
                id: post.id.clone(),
                end_date: Some(day(2025, 12, 31)),
            },
            owner.token(),
            Some(PURPOSE),
            Some(CASE),
        ))
        .await
        .expect("end")
        .into_inner();
    assert_eq!(ended.status, ClassificationStatus::Ended as i32);
    assert_eq!(ended.end_date, Some(day(2025, 12, 31)));
    let again = cluster
        .records()
        .end_classification(request(
            EndClassificationRequest {
                id: post.id.clone(),
                end_date: Some(day(2025, 12, 31)),
            },
            owner.token(),
            Some(PURPOSE),
            Some(CASE),
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&again), ["id"]);
    let end = |id: String, end_date| {
        let records = cluster.records();
        let request = request(
            EndClassificationRequest {
                id,
                end_date: Some(end_date),
            },
            owner.token(),
            Some(PURPOSE),
            Some(CASE),
        );
        async move { records.clone().end_classification(request).await }
    };
    let unknown_class = end(uuid::Uuid::now_v7().to_string(), day(2025, 12, 31))
        .await
        .unwrap_err();
    assert_eq!(unknown_class.code(), Code::NotFound);
    let drug_class = get(&cluster, owner.token(), &binh.id)
        .await
        .expect("get")
        .classifications
        .into_iter()
        .find(|c| c.classification == Classification::DrugRelated as i32)
        .expect("drug class");
    let too_early = end(drug_class.id.clone(), day(2025, 1, 1))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&too_early), ["end_date"]);
    let future_end = end(drug_class.id, day(2999, 1, 1)).await.unwrap_err();
    assert_eq!(violated_fields(&future_end), ["end_date"]);
    // The regime ended: another supervision may start after it.
    cluster
        .classify(
            owner.token(),
            &an.id,
            Classification::Probation,
            day(2026, 1, 1),
            None,
        )
        .await
        .expect("probation after the regime ended");

    // Lists: only inside the jurisdiction, filtered, paginated.
    let ids = |subjects: Vec<Subject>| subjects.into_iter().map(|s| s.id).collect::<Vec<_>>();
    let mine = list(&cluster, owner.token(), ListSubjectsRequest::default())
        .await
        .expect("list");
    assert_eq!(ids(mine), [an.id.as_str(), binh.id.as_str()]);
    let all = list(&cluster, province.token(), ListSubjectsRequest::default())
        .await
        .expect("list province");
    assert_eq!(
        ids(all),
        [an.id.as_str(), binh.id.as_str(), cuong.id.as_str()]
    );
    let drugs = list(
        &cluster,
        province.token(),
        ListSubjectsRequest {
            classification: Classification::DrugRelated as i32,
            ..Default::default()
        },
    )
    .await
    .expect("by class");
    assert_eq!(ids(drugs), [binh.id.as_str()]);
    let supervised_now = list(
        &cluster,
        owner.token(),
        ListSubjectsRequest {
            classification: Classification::Probation as i32,
            status: ClassificationStatus::Active as i32,
            ..Default::default()
        },
    )
    .await
    .expect("by class and status");
    assert_eq!(ids(supervised_now), [an.id.as_str()]);
    let ended_convictions = list(
        &cluster,
        owner.token(),
        ListSubjectsRequest {
            classification: Classification::PriorConviction as i32,
            status: ClassificationStatus::Ended as i32,
            ..Default::default()
        },
    )
    .await
    .expect("ended");
    assert_eq!(ids(ended_convictions), [an.id.as_str()]);
    let in_hoan_kiem = list(
        &cluster,
        province.token(),
        ListSubjectsRequest {
            commune: "01002".to_owned(),
            ..Default::default()
        },
    )
    .await
    .expect("by commune");
    assert_eq!(ids(in_hoan_kiem), [cuong.id.as_str()]);
    let by_unit = list(
        &cluster,
        province.token(),
        ListSubjectsRequest {
            owning_unit: "CAX-01002".to_owned(),
            ..Default::default()
        },
    )
    .await
    .expect("by unit");
    assert_eq!(ids(by_unit), [cuong.id.as_str()]);
    let bad_filter = list(
        &cluster,
        owner.token(),
        ListSubjectsRequest {
            commune: "99999".to_owned(),
            page_token: "bogus".to_owned(),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(bad_filter.code(), Code::InvalidArgument);

    // Reads and writes were audited under the subject.
    let events = cluster.events_about(&admin, AN, 10).await;
    let rpcs: Vec<&str> = events.iter().map(|e| e.rpc.as_str()).collect();
    for rpc in [
        "CreateSubject",
        "AddClassification",
        "GetSubject",
        "EndClassification",
    ] {
        assert!(
            rpcs.iter().any(|r| r.ends_with(rpc)),
            "{rpc} audited: {rpcs:?}"
        );
    }

    // Identity down → UNAVAILABLE, nothing written.
    let before = store.count_subject_facts().await.expect("count");
    cluster.stop(ServiceKind::Identity).await;
    let down = cluster
        .create_subject(province.token(), CUONG)
        .await
        .unwrap_err();
    assert_eq!(down.code(), Code::Unavailable, "{down:?}");
    assert_eq!(store.count_subject_facts().await.expect("count"), before);
    cluster.shutdown().await;
}
