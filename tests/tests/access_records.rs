//! End to end: subject records readable inside the owning unit's jurisdiction, outside only
//! by break-glass, "suspicious signs" only for investigators and reconnaissance officers;
//! refusals are PERMISSION_DENIED, name nobody, and are audited.

use dancu_e2e::Cluster;
use dancu_e2e::access::{JUSTIFICATION, break_glass};
use dancu_e2e::api::{request, sample_record};
use dancu_e2e::population::{date, person};
use dancu_proto::common::v1::Sex;
use dancu_proto::records::v1::{Classification, GetSubjectRecordRequest, SubjectRecord};

const SUBJECT: &str = "001090000201";
const CASE: &str = "12/VKS-HS";

async fn read(
    cluster: &Cluster,
    token: &str,
    id: &str,
    purpose: &str,
    case: Option<&str>,
    justification: Option<&str>,
) -> Result<SubjectRecord, tonic::Status> {
    let mut call = request(
        GetSubjectRecordRequest { id: id.to_owned() },
        token,
        Some(purpose),
        case,
    );
    if let Some(j) = justification {
        call = break_glass(call, j);
    }
    cluster
        .records()
        .get_subject_record(call)
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_follow_the_owning_unit_and_the_classification() {
    let cluster = Cluster::start().await;
    let (admin, _) = cluster.admin_login().await;
    cluster
        .register(
            &admin,
            person(SUBJECT, "Trần Văn Bình", Sex::Male, date(1990, 1, 2)),
        )
        .await
        .expect("register");
    cluster
        .settle(&admin, SUBJECT, "01001")
        .await
        .expect("settle");
    let owner = cluster
        .officer(&admin, "inv.badinh", "CAX-01001", &["investigator"], None)
        .await;
    let neighbour = cluster
        .officer(&admin, "inv.hoankiem", "CAX-01002", &["investigator"], None)
        .await;
    let province = cluster
        .officer(&admin, "inv.hanoi", "CAT-01", &["investigator"], None)
        .await;
    let registrar = cluster
        .officer(
            &admin,
            "reg.badinh",
            "CAX-01001",
            &["residence_registrar"],
            None,
        )
        .await;
    let analyst = cluster
        .officer(&admin, "analyst.badinh", "CAX-01001", &["analyst"], None)
        .await;

    let create = |token: String, classification: Classification, purpose: &'static str| {
        let records = cluster.records();
        async move {
            let mut record = sample_record(SUBJECT);
            record.classification = classification as i32;
            records
                .clone()
                .create_subject_record(request(record, &token, Some(purpose), Some(CASE)))
                .await
                .map(tonic::Response::into_inner)
        }
    };
    let criminal = create(
        owner.token().to_owned(),
        Classification::Criminal,
        "investigation",
    )
    .await
    .expect("investigator creates");
    let suspicious = create(
        owner.token().to_owned(),
        Classification::SuspiciousSigns,
        "investigation",
    )
    .await
    .expect("investigator creates suspicious signs");
    // A registrar may not record suspicious signs; an analyst records nothing.
    let refused = create(
        registrar.token().to_owned(),
        Classification::SuspiciousSigns,
        "administrative_violation",
    )
    .await
    .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    let refused = create(
        analyst.token().to_owned(),
        Classification::Criminal,
        "data_quality",
    )
    .await
    .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);

    // Owner's commune and the province above read it; the neighbouring commune does not,
    // unless it breaks glass.
    for token in [owner.token(), province.token()] {
        let got = read(
            &cluster,
            token,
            &criminal.id,
            "investigation",
            Some(CASE),
            None,
        )
        .await
        .expect("in jurisdiction");
        assert_eq!(got.owning_unit, "CAX-01001");
    }
    let denied = read(
        &cluster,
        neighbour.token(),
        &criminal.id,
        "investigation",
        Some(CASE),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);
    assert!(!denied.message().contains(SUBJECT) && !denied.message().contains("Trần"));
    read(
        &cluster,
        neighbour.token(),
        &criminal.id,
        "investigation",
        Some(CASE),
        Some(JUSTIFICATION),
    )
    .await
    .expect("break-glass");

    // Suspicious signs: investigators yes, the registrar and analyst of the same commune no.
    read(
        &cluster,
        owner.token(),
        &suspicious.id,
        "investigation",
        Some(CASE),
        None,
    )
    .await
    .expect("investigator reads suspicious signs");
    for (token, purpose) in [
        (registrar.token(), "residence_management"),
        (analyst.token(), "data_quality"),
    ] {
        let denied = read(&cluster, token, &suspicious.id, purpose, None, None)
            .await
            .unwrap_err();
        assert_eq!(denied.code(), tonic::Code::PermissionDenied, "{purpose}");
    }
    // The registrar reads the criminal record of their commune; declaring
    // "investigation" is refused before anything is read.
    read(
        &cluster,
        registrar.token(),
        &criminal.id,
        "residence_management",
        None,
        None,
    )
    .await
    .expect("registrar reads a record of the commune");
    let wrong_purpose = read(
        &cluster,
        registrar.token(),
        &criminal.id,
        "investigation",
        Some(CASE),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(wrong_purpose.code(), tonic::Code::PermissionDenied);

    // Denials are audited under the subject, with the refusing officer.
    let events = cluster.events_about(&admin, SUBJECT, 12).await;
    let denied: Vec<(&str, &str)> = events
        .iter()
        .filter(|e| e.service == "records" && e.outcome == "PERMISSION_DENIED")
        .map(|e| (e.actor_id.as_str(), e.rpc.as_str()))
        .collect();
    for officer in [&neighbour, &registrar, &analyst] {
        assert!(
            denied.iter().any(|(actor, _)| *actor == officer.officer.id),
            "no denial audited for {}: {denied:?}",
            officer.officer.username
        );
    }
    cluster.shutdown().await;
}
