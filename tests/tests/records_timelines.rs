//! Foreign subjects (verified by passport and nationality) and timelines end to end:
//! append-only entries, corrections naming the entry they correct, paginated reads bound
//! to the subject, reads outside the jurisdiction refused.

use dancu_e2e::Cluster;
use dancu_e2e::api::request;
use dancu_e2e::population::violated_fields;
use dancu_e2e::records::{CASE, PURPOSE, day, source};
use dancu_e2e::register::{register_foreigner, sample_foreigner};
use dancu_proto::records::v1::create_subject_request::Person;
use dancu_proto::records::v1::{
    AppendTimelineEntryRequest, CreateSubjectRequest, ForeignerKey, ListTimelineEntriesRequest,
    SubjectKind, TimelineEntryKind,
};
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_subjects_and_append_only_timelines() {
    let cluster = Cluster::start().await;
    let (admin, _) = cluster.admin_login().await;
    register_foreigner(&cluster, &admin, sample_foreigner("M1234567"))
        .await
        .expect("register foreigner");
    let owner = cluster
        .officer(&admin, "inv.badinh", "CAX-01001", &["investigator"], None)
        .await;
    let neighbour = cluster
        .officer(&admin, "inv.hoankiem", "CAX-01002", &["investigator"], None)
        .await;
    let create = |passport: &str| {
        let records = cluster.records();
        let request = request(
            CreateSubjectRequest {
                person: Some(Person::Foreigner(ForeignerKey {
                    passport_number: passport.to_owned(),
                    nationality: "kor".to_owned(),
                })),
                source: Some(source("CAT-01")),
            },
            owner.token(),
            Some(PURPOSE),
            Some(CASE),
        );
        async move {
            records
                .clone()
                .create_subject(request)
                .await
                .map(tonic::Response::into_inner)
        }
    };
    let kim = create("m1234567").await.expect("foreigner subject");
    assert_eq!(kim.kind, SubjectKind::Foreigner as i32);
    assert_eq!(kim.personal_id, "");
    let key = kim.foreigner.clone().expect("key");
    assert_eq!(
        (key.passport_number.as_str(), key.nationality.as_str()),
        ("M1234567", "KOR")
    );
    assert_eq!(kim.snapshot.expect("snapshot").full_name, "Kim Min-jun");
    let unknown = create("X9999999").await.unwrap_err();
    assert_eq!(unknown.code(), Code::FailedPrecondition, "{unknown:?}");

    // Timeline: append-only, corrections point at what they correct.
    let append = |kind: TimelineEntryKind, summary: &str, corrects: &str| {
        let records = cluster.records();
        let request = request(
            AppendTimelineEntryRequest {
                subject_id: kim.id.clone(),
                kind: kind as i32,
                occur_date: Some(day(2025, 3, 4)),
                summary: summary.to_owned(),
                source: Some(source("CAX-01001")),
                corrects_entry_id: corrects.to_owned(),
            },
            owner.token(),
            Some(PURPOSE),
            Some(CASE),
        );
        async move {
            records
                .clone()
                .append_timeline_entry(request)
                .await
                .map(tonic::Response::into_inner)
        }
    };
    let arrest = append(TimelineEntryKind::Arrest, "Bắt quả tang", "")
        .await
        .expect("arrest");
    let check_in = append(TimelineEntryKind::SupervisionCheckIn, "Trình diện", "")
        .await
        .expect("check-in");
    let correction = append(TimelineEntryKind::Arrest, "Bắt theo lệnh", &arrest.id)
        .await
        .expect("correction");
    assert_eq!(correction.corrects_entry_id, arrest.id);
    let bad = append(TimelineEntryKind::Unspecified, " ", "not-a-uuid")
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&bad),
        ["kind", "summary", "corrects_entry_id"]
    );
    let stray = append(
        TimelineEntryKind::Charge,
        "Khởi tố",
        &uuid::Uuid::now_v7().to_string(),
    )
    .await
    .unwrap_err();
    assert_eq!(violated_fields(&stray), ["corrects_entry_id"]);

    let timeline = |token: String, page_token: String| {
        let records = cluster.records();
        let request = request(
            ListTimelineEntriesRequest {
                subject_id: kim.id.clone(),
                page_size: 2,
                page_token,
            },
            &token,
            Some(PURPOSE),
            Some(CASE),
        );
        async move {
            records
                .clone()
                .list_timeline_entries(request)
                .await
                .map(tonic::Response::into_inner)
        }
    };
    let first = timeline(owner.token().to_owned(), String::new())
        .await
        .expect("page 1");
    assert_eq!(first.entries.len(), 2);
    let second = timeline(owner.token().to_owned(), first.next_page_token.clone())
        .await
        .expect("page 2");
    let ids: Vec<String> = first
        .entries
        .iter()
        .chain(&second.entries)
        .map(|e| e.id.clone())
        .collect();
    assert_eq!(ids, [arrest.id, check_in.id, correction.id]);
    assert!(second.next_page_token.is_empty());
    let denied = timeline(neighbour.token().to_owned(), String::new())
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let wrong_token = cluster
        .records()
        .list_timeline_entries(request(
            ListTimelineEntriesRequest {
                subject_id: uuid::Uuid::now_v7().to_string(),
                page_size: 2,
                page_token: first.next_page_token,
            },
            owner.token(),
            Some(PURPOSE),
            Some(CASE),
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&wrong_token), ["page_token"]);
    cluster.shutdown().await;
}
