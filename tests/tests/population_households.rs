//! Households end to end: creation, one head, moving members, and bad input.

use dancu_e2e::Cluster;
use dancu_e2e::api::request;
use dancu_e2e::population::{PURPOSE, date, person, violated_fields};
use dancu_proto::common::v1::Sex;
use dancu_proto::identity::v1::{
    CreateHouseholdRequest, GetHouseholdRequest, Household, HouseholdMember, HouseholdRelation,
    MoveMemberRequest,
};
use tonic::Code;

const HEAD: &str = "001070000001"; // male, 1970
const WIFE: &str = "001172000002"; // female, 1972
const SON: &str = "001095000003"; // male, 1995
const OTHER_HEAD: &str = "001080000004"; // male, 1980
const BA_DINH: &str = "01001";

fn member(personal_id: &str, relation: HouseholdRelation) -> HouseholdMember {
    HouseholdMember {
        personal_id: personal_id.to_owned(),
        relation: relation as i32,
        join_time: None,
    }
}

async fn create(
    cluster: &Cluster,
    token: &str,
    members: Vec<HouseholdMember>,
) -> Result<Household, tonic::Status> {
    cluster
        .households()
        .create_household(request(
            CreateHouseholdRequest {
                commune_code: BA_DINH.to_owned(),
                address: "Số 3 Phan Đình Phùng".to_owned(),
                members,
            },
            token,
            Some(PURPOSE),
            None,
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn move_member(
    cluster: &Cluster,
    token: &str,
    personal_id: &str,
    household_id: &str,
    relation: HouseholdRelation,
) -> Result<Household, tonic::Status> {
    cluster
        .households()
        .move_member(request(
            MoveMemberRequest {
                personal_id: personal_id.to_owned(),
                household_id: household_id.to_owned(),
                relation: relation as i32,
            },
            token,
            Some(PURPOSE),
            None,
        ))
        .await
        .map(tonic::Response::into_inner)
}

fn members(household: &Household) -> Vec<(String, i32)> {
    household
        .members
        .iter()
        .map(|m| (m.personal_id.clone(), m.relation))
        .collect()
}

async fn register_family(cluster: &Cluster, token: &str) {
    for (id, name, sex, year) in [
        (HEAD, "Phạm Văn Hùng", Sex::Male, 1970),
        (WIFE, "Lê Thị Hoa", Sex::Female, 1972),
        (SON, "Phạm Văn Minh", Sex::Male, 1995),
        (OTHER_HEAD, "Võ Văn Tâm", Sex::Male, 1980),
    ] {
        cluster
            .register(token, person(id, name, sex, date(year, 1, 1)))
            .await
            .expect("register");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn households_are_created_and_members_move() {
    let cluster = Cluster::start().await;
    let (token, _) = cluster.admin_login().await;
    register_family(&cluster, &token).await;

    let home = create(
        &cluster,
        &token,
        vec![
            member(SON, HouseholdRelation::Child),
            member(HEAD, HouseholdRelation::Head),
            member(WIFE, HouseholdRelation::Spouse),
        ],
    )
    .await
    .expect("create");
    assert_eq!(
        members(&home),
        [
            (HEAD.to_owned(), HouseholdRelation::Head as i32),
            (SON.to_owned(), HouseholdRelation::Child as i32),
            (WIFE.to_owned(), HouseholdRelation::Spouse as i32),
        ],
        "head first, then by personal ID"
    );
    let fetched = cluster
        .households()
        .get_household(request(
            GetHouseholdRequest {
                household_id: home.household_id.clone(),
            },
            &token,
            Some(PURPOSE),
            None,
        ))
        .await
        .expect("get")
        .into_inner();
    assert_eq!(fetched, home);
    assert_eq!(
        cluster.get_citizen(&token, SON).await.unwrap().household_id,
        home.household_id
    );

    // A person already in a household changes household with MoveMember.
    let other = create(
        &cluster,
        &token,
        vec![member(OTHER_HEAD, HouseholdRelation::Head)],
    )
    .await
    .expect("second household");
    let moved = move_member(
        &cluster,
        &token,
        SON,
        &other.household_id,
        HouseholdRelation::Other,
    )
    .await
    .expect("move");
    assert_eq!(moved.members.len(), 2);
    assert_eq!(
        cluster.get_citizen(&token, SON).await.unwrap().household_id,
        other.household_id
    );
    let home_now = cluster
        .households()
        .get_household(request(
            GetHouseholdRequest {
                household_id: home.household_id.clone(),
            },
            &token,
            Some(PURPOSE),
            None,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(home_now.members.len(), 2, "the son left");

    // The head cannot leave members behind; a household takes no second head.
    let head_leaves = move_member(
        &cluster,
        &token,
        HEAD,
        &other.household_id,
        HouseholdRelation::Other,
    )
    .await
    .expect_err("head with members");
    assert_eq!(head_leaves.code(), Code::FailedPrecondition);
    let second_head = move_member(
        &cluster,
        &token,
        WIFE,
        &other.household_id,
        HouseholdRelation::Head,
    )
    .await
    .expect_err("second head");
    assert_eq!(second_head.code(), Code::FailedPrecondition);
    let same = move_member(
        &cluster,
        &token,
        SON,
        &other.household_id,
        HouseholdRelation::Child,
    )
    .await
    .expect_err("already there");
    assert_eq!(same.code(), Code::FailedPrecondition);
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_households_are_refused_and_nothing_is_written() {
    let cluster = Cluster::start().await;
    let (token, _) = cluster.admin_login().await;
    register_family(&cluster, &token).await;

    let invalid = [
        ("no members", vec![], "members"),
        (
            "two heads",
            vec![
                member(HEAD, HouseholdRelation::Head),
                member(WIFE, HouseholdRelation::Head),
            ],
            "members[1].relation",
        ),
        (
            "no head",
            vec![member(WIFE, HouseholdRelation::Spouse)],
            "members",
        ),
        (
            "listed twice",
            vec![
                member(HEAD, HouseholdRelation::Head),
                member(HEAD, HouseholdRelation::Child),
            ],
            "members[1].personal_id",
        ),
        (
            "no relation",
            vec![
                member(HEAD, HouseholdRelation::Head),
                member(WIFE, HouseholdRelation::Unspecified),
            ],
            "members[1].relation",
        ),
        (
            "bad id",
            vec![member("x", HouseholdRelation::Head)],
            "members[0].personal_id",
        ),
    ];
    for (label, members, field) in invalid {
        let status = create(&cluster, &token, members).await.expect_err(label);
        assert_eq!(status.code(), Code::InvalidArgument, "{label}");
        assert!(
            violated_fields(&status).iter().any(|f| f == field),
            "{label}: {:?}",
            violated_fields(&status)
        );
    }
    let unregistered = create(
        &cluster,
        &token,
        vec![
            member(HEAD, HouseholdRelation::Head),
            member("001090000099", HouseholdRelation::Child),
        ],
    )
    .await
    .expect_err("unregistered member");
    assert_eq!(unregistered.code(), Code::FailedPrecondition);
    assert!(unregistered.message().contains("members[1]"));
    assert!(!unregistered.message().contains("001090000099"));
    assert!(
        cluster
            .get_citizen(&token, HEAD)
            .await
            .unwrap()
            .household_id
            .is_empty(),
        "the head was not written either"
    );

    let home = create(
        &cluster,
        &token,
        vec![member(HEAD, HouseholdRelation::Head)],
    )
    .await
    .expect("create");
    let twice = create(
        &cluster,
        &token,
        vec![member(HEAD, HouseholdRelation::Head)],
    )
    .await
    .expect_err("already in a household");
    assert_eq!(twice.code(), Code::FailedPrecondition);

    let not_found = cluster
        .households()
        .get_household(request(
            GetHouseholdRequest {
                household_id: uuid::Uuid::new_v4().to_string(),
            },
            &token,
            Some(PURPOSE),
            None,
        ))
        .await
        .expect_err("no such household");
    assert_eq!(not_found.code(), Code::NotFound);
    let bad_id = cluster
        .households()
        .get_household(request(
            GetHouseholdRequest {
                household_id: "nope".to_owned(),
            },
            &token,
            Some(PURPOSE),
            None,
        ))
        .await
        .expect_err("malformed id");
    assert_eq!(violated_fields(&bad_id), ["household_id"]);
    let move_nowhere = move_member(
        &cluster,
        &token,
        WIFE,
        &uuid::Uuid::new_v4().to_string(),
        HouseholdRelation::Spouse,
    )
    .await
    .expect_err("no such household");
    assert_eq!(move_nowhere.code(), Code::NotFound);
    let move_bad = move_member(&cluster, &token, "1", "x", HouseholdRelation::Unspecified)
        .await
        .expect_err("bad move");
    assert_eq!(
        violated_fields(&move_bad),
        ["personal_id", "household_id", "relation"]
    );
    let joined = move_member(
        &cluster,
        &token,
        WIFE,
        &home.household_id,
        HouseholdRelation::Spouse,
    )
    .await
    .expect("a person in no household can join one");
    assert_eq!(joined.members.len(), 2);
    cluster.shutdown().await;
}
