//! Identity's audit events record the policy decision of every read ("which rule granted
//! this access"), break-glass reads carry their justification, and every register service
//! refuses — before reading anything, audited as a denial — a caller whose roles may not
//! declare the purpose or read people at all.

use dancu_e2e::Cluster;
use dancu_e2e::access::{JUSTIFICATION, break_glass};
use dancu_e2e::api::request;
use dancu_e2e::population::{date, person};
use dancu_proto::audit::v1::Decision;
use dancu_proto::common::v1::Sex;
use dancu_proto::identity::v1::{
    GetCitizenRequest, GetHouseholdRequest, GetResidenceRequest, WatchChangesRequest,
};
use tonic::Code;

const AN: &str = "001090000201";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_are_audited_with_their_decision_and_refusals_as_denials() {
    let cluster = Cluster::start().await;
    let (admin, _) = cluster.admin_login().await;
    cluster
        .register(
            &admin,
            person(AN, "Nguyễn Văn An", Sex::Male, date(1990, 5, 17)),
        )
        .await
        .unwrap();
    cluster.settle(&admin, AN, "79001").await.unwrap();

    // An investigator of Ba Đình reads a Sài Gòn resident with break-glass.
    let investigator = cluster
        .officer(&admin, "dieu.tra", "CAX-01001", &["investigator"], None)
        .await;
    let citizen = cluster
        .identity()
        .get_citizen(break_glass(
            request(
                GetCitizenRequest {
                    personal_id: AN.to_owned(),
                },
                investigator.token(),
                Some("investigation"),
                Some("VKS-2026-77"),
            ),
            JUSTIFICATION,
        ))
        .await
        .expect("break-glass read")
        .into_inner();
    assert_eq!(citizen.full_name, "Nguyễn Văn An");

    let events = cluster.events_about(&admin, AN, 3).await;
    let read = events
        .iter()
        .find(|e| e.rpc.ends_with("/GetCitizen") && e.actor_id == investigator.officer.id)
        .expect("the read is audited");
    assert_eq!(read.decision, Decision::Allow as i32);
    assert!(
        !read.policy_ids.is_empty(),
        "the deciding policies are named"
    );
    assert!(
        read.policy_ids.iter().any(|p| p.contains("break_glass")),
        "{:?}",
        read.policy_ids
    );
    assert_eq!(read.break_glass_justification, JUSTIFICATION);

    // An auditor may read no personal data, through any register service.
    let auditor = cluster
        .officer(&admin, "kiem.toan", "BCA", &["auditor"], None)
        .await;
    let token = auditor.token();
    let refusals = [
        cluster
            .identity()
            .get_citizen(request(
                GetCitizenRequest {
                    personal_id: AN.to_owned(),
                },
                token,
                Some("audit_review"),
                None,
            ))
            .await
            .map(|_| ()),
        cluster
            .residence()
            .get_residence(request(
                GetResidenceRequest {
                    personal_id: AN.to_owned(),
                },
                token,
                Some("audit_review"),
                None,
            ))
            .await
            .map(|_| ()),
        cluster
            .households()
            .get_household(request(
                GetHouseholdRequest {
                    household_id: uuid::Uuid::new_v4().to_string(),
                },
                token,
                Some("audit_review"),
                None,
            ))
            .await
            .map(|_| ()),
        cluster
            .change_feed()
            .watch_changes(request(
                WatchChangesRequest::default(),
                token,
                Some("audit_review"),
                None,
            ))
            .await
            .map(|_| ()),
    ];
    for (i, refusal) in refusals.into_iter().enumerate() {
        let status = refusal.expect_err("auditors read no personal data");
        assert_eq!(status.code(), Code::PermissionDenied, "call {i}");
        assert!(!status.message().contains(AN));
    }
    // The refusals are audited as denials by the auditor.
    let mut denials = 0;
    for _ in 0..100 {
        let listed = cluster
            .list_events(
                &admin,
                dancu_proto::audit::v1::ListEventsRequest {
                    actor_id: auditor.officer.id.clone(),
                    ..Default::default()
                },
            )
            .await
            .expect("list events")
            .events;
        denials = listed
            .iter()
            .filter(|e| e.outcome == "PERMISSION_DENIED" && e.decision == Decision::Deny as i32)
            .count();
        if denials >= 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(denials, 4);
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn residence_is_shown_only_inside_the_jurisdiction() {
    let cluster = Cluster::start().await;
    let (admin, _) = cluster.admin_login().await;
    cluster
        .register(
            &admin,
            person(AN, "Nguyễn Văn An", Sex::Male, date(1990, 5, 17)),
        )
        .await
        .unwrap();
    cluster.settle(&admin, AN, "79001").await.unwrap();
    let residence = |token: &str| {
        let cluster = &cluster;
        let token = token.to_owned();
        async move {
            cluster
                .residence()
                .get_residence(request(
                    GetResidenceRequest {
                        personal_id: AN.to_owned(),
                    },
                    &token,
                    Some("residence_management"),
                    None,
                ))
                .await
        }
    };
    let saigon = cluster
        .officer(
            &admin,
            "ho.khau.sg",
            "CAX-79001",
            &["residence_registrar"],
            None,
        )
        .await;
    let here = residence(saigon.token())
        .await
        .expect("own commune")
        .into_inner();
    assert_eq!(here.current_commune_code, "79001");
    let hanoi = cluster
        .officer(
            &admin,
            "ho.khau.hn",
            "CAX-01001",
            &["residence_registrar"],
            None,
        )
        .await;
    let elsewhere = residence(hanoi.token()).await.expect_err("another commune");
    assert_eq!(elsewhere.code(), Code::PermissionDenied);
    assert!(!elsewhere.message().contains("79001"));

    // The same holds for the person's card and household.
    use dancu_proto::identity::v1::{
        CreateHouseholdRequest, GetCardRequest, HouseholdMember, HouseholdRelation,
        IssueCardRequest,
    };
    cluster
        .cards()
        .issue_card(request(
            IssueCardRequest {
                personal_id: AN.to_owned(),
                ..Default::default()
            },
            &admin,
            Some("residence_management"),
            None,
        ))
        .await
        .expect("issue card");
    let household = cluster
        .households()
        .create_household(request(
            CreateHouseholdRequest {
                commune_code: "79001".to_owned(),
                address: "Số 2 Lê Lợi".to_owned(),
                members: vec![HouseholdMember {
                    personal_id: AN.to_owned(),
                    relation: HouseholdRelation::Head as i32,
                    join_time: None,
                }],
            },
            &admin,
            Some("residence_management"),
            None,
        ))
        .await
        .expect("household")
        .into_inner();
    for (token, allowed) in [(saigon.token(), true), (hanoi.token(), false)] {
        let card = cluster
            .cards()
            .get_card(request(
                GetCardRequest {
                    personal_id: AN.to_owned(),
                },
                token,
                Some("residence_management"),
                None,
            ))
            .await;
        let members = cluster
            .households()
            .get_household(request(
                GetHouseholdRequest {
                    household_id: household.household_id.clone(),
                },
                token,
                Some("residence_management"),
                None,
            ))
            .await;
        if allowed {
            card.expect("own commune: card");
            members.expect("own commune: household");
        } else {
            assert_eq!(card.expect_err("card").code(), Code::PermissionDenied);
            assert_eq!(
                members.expect_err("household").code(),
                Code::PermissionDenied
            );
        }
    }
    cluster.shutdown().await;
}
