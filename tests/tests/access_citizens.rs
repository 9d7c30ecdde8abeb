//! End to end: who sees which citizen, how much of them, and why — full view in the
//! officer's commune, minimal view elsewhere, break-glass, masking by purpose, self/family
//! flag, purposes that do not fit the role, and a disabled officer locked out everywhere
//! within 5 seconds.

use dancu_e2e::Cluster;
use dancu_e2e::access::{JUSTIFICATION, break_glass, until_unauthenticated};
use dancu_e2e::api::request;
use dancu_e2e::population::{date, person};
use dancu_proto::common::v1::Sex;
use dancu_proto::identity::v1::{
    BloodType, Citizen, DisableOfficerRequest, FamilyLinks, GetCitizenRequest,
    SearchCitizensRequest,
};
use std::time::Duration;

/// Resident of Phường Ba Đình (01001).
const BA_DINH: &str = "001090000101";
/// Resident of Phường Hoàn Kiếm (01002).
const HOAN_KIEM: &str = "001192000102";
/// Resident of Phường Sài Gòn (79001), Hồ Chí Minh City.
const SAI_GON: &str = "079090000103";
/// The registrar's own personal ID (a resident of Ba Đình too).
const REGISTRAR_SELF: &str = "001088000104";

fn detailed(personal_id: &str, sex: Sex, year: i32) -> Citizen {
    Citizen {
        religion: "Phật giáo".to_owned(),
        blood_type: BloodType::O as i32,
        phone: "0912345678".to_owned(),
        email: "nguoi.dan@example.vn".to_owned(),
        place_of_birth: "Hà Nội".to_owned(),
        ..person(personal_id, "Nguyễn Văn An", sex, date(year, 5, 17))
    }
}

async fn populate(cluster: &Cluster, admin: &str) {
    let mut ba_dinh = detailed(BA_DINH, Sex::Male, 1990);
    ba_dinh.family = Some(FamilyLinks {
        father_id: REGISTRAR_SELF.to_owned(),
        ..FamilyLinks::default()
    });
    for (citizen, commune) in [
        (detailed(REGISTRAR_SELF, Sex::Male, 1988), "01001"),
        (ba_dinh, "01001"),
        (detailed(HOAN_KIEM, Sex::Female, 1992), "01002"),
        (detailed(SAI_GON, Sex::Male, 1990), "79001"),
    ] {
        let id = citizen.personal_id.clone();
        cluster.register(admin, citizen).await.expect("register");
        cluster.settle(admin, &id, commune).await.expect("settle");
    }
}

async fn get(
    cluster: &Cluster,
    token: &str,
    personal_id: &str,
    purpose: &str,
    case: Option<&str>,
    justification: Option<&str>,
) -> Result<tonic::Response<Citizen>, tonic::Status> {
    let mut call = request(
        GetCitizenRequest {
            personal_id: personal_id.to_owned(),
        },
        token,
        Some(purpose),
        case,
    );
    if let Some(justification) = justification {
        call = break_glass(call, justification);
    }
    cluster.identity().get_citizen(call).await
}

fn meta<'a>(response: &'a tonic::Response<Citizen>, key: &str) -> &'a str {
    response
        .metadata()
        .get(key)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_follow_jurisdiction_purpose_and_break_glass() {
    let cluster = Cluster::start().await;
    let (admin, _) = cluster.admin_login().await;
    populate(&cluster, &admin).await;
    let registrar = cluster
        .officer(
            &admin,
            "registrar.badinh",
            "CAX-01001",
            &["residence_registrar"],
            Some(REGISTRAR_SELF),
        )
        .await;
    let investigator = cluster
        .officer(
            &admin,
            "investigator.badinh",
            "CAX-01001",
            &["investigator"],
            None,
        )
        .await;
    let auditor = cluster
        .officer(&admin, "auditor.c06", "BCA-C06", &["auditor"], None)
        .await;
    assert_eq!(registrar.login.area, "01001");

    // A resident of the officer's own commune: full view, nothing masked for residence
    // management.
    let full = get(
        &cluster,
        registrar.token(),
        HOAN_KIEM,
        "residence_management",
        None,
        None,
    )
    .await
    .expect("minimal read");
    assert_eq!(meta(&full, "x-dancu-view"), "minimal");
    let own = get(
        &cluster,
        registrar.token(),
        BA_DINH,
        "residence_management",
        None,
        None,
    )
    .await
    .expect("full read");
    assert_eq!(meta(&own, "x-dancu-view"), "full");
    assert_eq!(meta(&own, "x-dancu-masked"), "");
    assert_eq!(
        meta(&own, "x-dancu-policies"),
        "person.full.in_jurisdiction"
    );
    let citizen = own.into_inner();
    assert_eq!(citizen.religion, "Phật giáo");
    assert_eq!(citizen.phone, "0912345678");
    assert_eq!(
        citizen
            .residence
            .as_ref()
            .map(|r| r.current_commune_code.as_str()),
        Some("01001")
    );

    // A resident of another commune: minimal view — name, date of birth, nothing else.
    let other = full.into_inner();
    assert_eq!(other.full_name, "Nguyễn Văn An");
    assert_eq!(other.date_of_birth, Some(date(1992, 5, 17)));
    assert!(other.religion.is_empty() && other.phone.is_empty() && other.email.is_empty());
    assert!(
        other.place_of_birth.is_empty()
            && other
                .residence
                .is_none_or(|r| r.current_commune_code.is_empty())
    );
    assert_eq!(other.blood_type, BloodType::Unspecified as i32);

    // Investigation in the commune: religion masked, phone and family shown.
    let masked = get(
        &cluster,
        investigator.token(),
        BA_DINH,
        "investigation",
        Some("12/VKS-HS"),
        None,
    )
    .await
    .expect("investigation read");
    assert_eq!(meta(&masked, "x-dancu-masked"), "religion");
    let masked = masked.into_inner();
    assert!(masked.religion.is_empty());
    assert_eq!(masked.phone, "0912345678");
    assert_eq!(
        masked.family.map(|f| f.father_id),
        Some(REGISTRAR_SELF.to_owned())
    );

    // Outside the commune: minimal, unless the investigator breaks glass with a case
    // reference and a justification — then full view, flagged.
    let outside = get(
        &cluster,
        investigator.token(),
        SAI_GON,
        "investigation",
        Some("12/VKS-HS"),
        None,
    )
    .await
    .expect("minimal");
    assert_eq!(meta(&outside, "x-dancu-view"), "minimal");
    let glass = get(
        &cluster,
        investigator.token(),
        SAI_GON,
        "investigation",
        Some("12/VKS-HS"),
        Some(JUSTIFICATION),
    )
    .await
    .expect("break-glass read");
    assert_eq!(meta(&glass, "x-dancu-view"), "full");
    assert_eq!(meta(&glass, "x-dancu-flags"), "break_glass");
    assert_eq!(meta(&glass, "x-dancu-policies"), "person.full.break_glass");
    assert_eq!(glass.into_inner().phone, "0912345678");

    // Break-glass needs a case reference and a real justification.
    let no_case = get(
        &cluster,
        investigator.token(),
        SAI_GON,
        "identity_verification",
        None,
        Some(JUSTIFICATION),
    )
    .await
    .expect_err("no case");
    assert_eq!(no_case.code(), tonic::Code::InvalidArgument);
    let short = get(
        &cluster,
        investigator.token(),
        SAI_GON,
        "investigation",
        Some("12/VKS-HS"),
        Some("urgent"),
    )
    .await
    .expect_err("too short");
    assert_eq!(short.code(), tonic::Code::InvalidArgument);

    // Self and family lookups are flagged.
    let me = get(
        &cluster,
        registrar.token(),
        REGISTRAR_SELF,
        "residence_management",
        None,
        None,
    )
    .await
    .expect("self");
    assert_eq!(meta(&me, "x-dancu-flags"), "self_or_family");
    let son = get(
        &cluster,
        registrar.token(),
        BA_DINH,
        "residence_management",
        None,
        None,
    )
    .await
    .expect("family");
    assert_eq!(meta(&son, "x-dancu-flags"), "self_or_family");

    // A registrar cannot declare "investigation"; an auditor reads no person. Neither
    // refusal names the person or reveals whether they exist.
    for (token, purpose, case) in [
        (registrar.token(), "investigation", Some("12/VKS-HS")),
        (auditor.token(), "audit_review", None),
    ] {
        for subject in [SAI_GON, "001090999999"] {
            let denied = get(&cluster, token, subject, purpose, case, None)
                .await
                .expect_err("denied");
            assert_eq!(denied.code(), tonic::Code::PermissionDenied, "{purpose}");
            assert!(!denied.message().contains(subject), "{}", denied.message());
            assert!(!denied.message().contains("Nguyễn"));
        }
    }
    let denied = get(
        &cluster,
        registrar.token(),
        SAI_GON,
        "investigation",
        Some("12/VKS-HS"),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(
        denied.message(),
        "your roles may not declare the purpose investigation"
    );

    // Searches answer with the same views: the registrar's search over Hà Nội gives full
    // views of Ba Đình residents and minimal views of the others.
    let found = cluster
        .identity()
        .search_citizens(request(
            SearchCitizensRequest {
                full_name: "nguyen van an".to_owned(),
                province_code: "01".to_owned(),
                ..Default::default()
            },
            registrar.token(),
            Some("residence_management"),
            None,
        ))
        .await
        .expect("search")
        .into_inner()
        .citizens;
    let phones: Vec<(&str, &str)> = found
        .iter()
        .map(|c| (c.personal_id.as_str(), c.phone.as_str()))
        .collect();
    assert!(phones.contains(&(BA_DINH, "0912345678")), "{phones:?}");
    assert!(phones.contains(&(HOAN_KIEM, "")), "{phones:?}");

    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_officer_is_rejected_everywhere_within_five_seconds() {
    let cluster = Cluster::start().await;
    let (admin, _) = cluster.admin_login().await;
    populate(&cluster, &admin).await;
    let officer = cluster
        .officer(
            &admin,
            "registrar.leaving",
            "CAX-01001",
            &["residence_registrar"],
            None,
        )
        .await;
    let token = officer.token().to_owned();
    get(
        &cluster,
        &token,
        BA_DINH,
        "residence_management",
        None,
        None,
    )
    .await
    .expect("works before");
    // Records verifies (and caches) the token too.
    let records_call = || {
        let records = cluster.records();
        let token = token.clone();
        async move {
            records
                .clone()
                .get_subject_record(request(
                    dancu_proto::records::v1::GetSubjectRecordRequest {
                        id: uuid::Uuid::now_v7().to_string(),
                    },
                    &token,
                    Some("residence_management"),
                    None,
                ))
                .await
        }
    };
    assert_eq!(
        records_call().await.unwrap_err().code(),
        tonic::Code::NotFound
    );

    let disabled = cluster
        .admin()
        .disable_officer(request(
            DisableOfficerRequest {
                officer_id: officer.officer.id.clone(),
            },
            &admin,
            None,
            None,
        ))
        .await
        .expect("disable")
        .into_inner();
    assert!(disabled.disabled);
    let limit = Duration::from_secs(5);
    let at_identity = until_unauthenticated(limit, || {
        get(
            &cluster,
            &token,
            BA_DINH,
            "residence_management",
            None,
            None,
        )
    })
    .await;
    assert!(
        at_identity.is_some(),
        "identity still accepts the token after 5 s"
    );
    let at_records = until_unauthenticated(limit, records_call).await;
    assert!(
        at_records.is_some(),
        "records still accepts the token after 5 s"
    );
    // Nor can the officer log in again or refresh.
    assert_eq!(
        cluster.login("registrar.leaving").await.unwrap_err().code(),
        tonic::Code::Unauthenticated
    );
    let refreshed = cluster
        .auth()
        .refresh(dancu_proto::identity::v1::RefreshRequest {
            refresh_token: officer.login.refresh_token.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(refreshed.code(), tonic::Code::Unauthenticated);
    cluster.shutdown().await;
}
