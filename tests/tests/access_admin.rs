//! End to end: the seeded unit tree, and unit administration — system administrators
//! anywhere, unit administrators only within their own subtree, with clear errors.

use dancu_e2e::Cluster;
use dancu_e2e::access::OFFICER_PASSWORD;
use dancu_e2e::api::request;
use dancu_e2e::population::violated_fields;
use dancu_proto::identity::v1::{
    ChangeRoleRequest, CreateOfficerRequest, CreateUnitRequest, DisableOfficerRequest,
    ListOfficersRequest, ListUnitsRequest, Unit,
};

fn officer_request(username: &str, unit: &str, roles: &[&str]) -> CreateOfficerRequest {
    CreateOfficerRequest {
        username: username.to_owned(),
        initial_password: OFFICER_PASSWORD.to_owned(),
        unit_code: unit.to_owned(),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        personal_id: String::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unit_administrators_act_only_within_their_subtree() {
    let cluster = Cluster::start().await;
    let (admin, _) = cluster.admin_login().await;
    let admin_client = cluster.admin();

    // Seeded: the Ministry, C06, 34 provincial police, the demonstration communes.
    let units = admin_client
        .clone()
        .list_units(request(ListUnitsRequest::default(), &admin, None, None))
        .await
        .expect("list")
        .into_inner()
        .units;
    let codes: Vec<&str> = units.iter().map(|u| u.code.as_str()).collect();
    assert!(codes.contains(&"BCA") && codes.contains(&"BCA-C06") && codes.contains(&"CAX-01001"));
    assert_eq!(codes.iter().filter(|c| c.starts_with("CAT-")).count(), 34);
    let hanoi = units
        .iter()
        .find(|u| u.code == "CAT-01")
        .expect("Hà Nội police");
    assert_eq!(
        (hanoi.parent_code.as_str(), hanoi.area_code.as_str()),
        ("BCA", "01")
    );

    let unit_admin = cluster
        .officer(&admin, "admin.hanoi", "CAT-01", &["unit_admin"], None)
        .await;
    let ua = unit_admin.token();

    // Within the subtree: a new commune-level team, an officer there, a role granted.
    let team = admin_client
        .clone()
        .create_unit(request(
            CreateUnitRequest {
                unit: Some(Unit {
                    code: "CAX-01001-TT".to_owned(),
                    name: "Tổ công tác Ba Đình".to_owned(),
                    parent_code: "CAX-01001".to_owned(),
                    area_code: "01001".to_owned(),
                }),
            },
            ua,
            None,
            None,
        ))
        .await
        .expect("unit admin creates a unit in the subtree")
        .into_inner();
    assert_eq!(team.parent_code, "CAX-01001");
    let officer = admin_client
        .clone()
        .create_officer(request(
            officer_request("reg.team", "CAX-01001-TT", &["residence_registrar"]),
            ua,
            None,
            None,
        ))
        .await
        .expect("unit admin creates an officer")
        .into_inner();
    let granted = admin_client
        .clone()
        .grant_role(request(
            ChangeRoleRequest {
                officer_id: officer.id.clone(),
                role: "investigator".to_owned(),
            },
            ua,
            None,
            None,
        ))
        .await
        .expect("grant")
        .into_inner();
    assert_eq!(granted.roles, ["investigator", "residence_registrar"]);
    let login = cluster
        .login("reg.team")
        .await
        .expect("new officer logs in");
    assert_eq!(
        (login.unit.as_str(), login.area.as_str()),
        ("CAX-01001-TT", "01001")
    );
    let listed = admin_client
        .clone()
        .list_officers(request(ListOfficersRequest::default(), ua, None, None))
        .await
        .expect("list officers")
        .into_inner()
        .officers;
    let names: Vec<&str> = listed.iter().map(|o| o.username.as_str()).collect();
    assert_eq!(names, ["admin.hanoi", "reg.team"]);

    // Outside the subtree, or granting system administration: PERMISSION_DENIED.
    let outside = [
        admin_client
            .clone()
            .create_officer(request(
                officer_request("x.hcm", "CAT-79", &[]),
                ua,
                None,
                None,
            ))
            .await
            .map(|_| ()),
        admin_client
            .clone()
            .create_officer(request(
                officer_request("x.root", "CAX-01001", &["system_admin"]),
                ua,
                None,
                None,
            ))
            .await
            .map(|_| ()),
        admin_client
            .clone()
            .list_units(request(
                ListUnitsRequest {
                    root_code: "BCA".to_owned(),
                },
                ua,
                None,
                None,
            ))
            .await
            .map(|_| ()),
        admin_client
            .clone()
            .grant_role(request(
                ChangeRoleRequest {
                    officer_id: officer.id.clone(),
                    role: "system_admin".to_owned(),
                },
                ua,
                None,
                None,
            ))
            .await
            .map(|_| ()),
    ];
    for (i, result) in outside.into_iter().enumerate() {
        assert_eq!(
            result.unwrap_err().code(),
            tonic::Code::PermissionDenied,
            "case {i}"
        );
    }
    // An officer of C06 is outside Hà Nội's subtree.
    let c06 = cluster
        .officer(&admin, "inv.c06", "BCA-C06", &["investigator"], None)
        .await;
    let refused = admin_client
        .clone()
        .disable_officer(request(
            DisableOfficerRequest {
                officer_id: c06.officer.id.clone(),
            },
            ua,
            None,
            None,
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    // Investigators administer nothing.
    let refused = admin_client
        .clone()
        .create_officer(request(
            officer_request("x.inv", "BCA-C06", &[]),
            c06.token(),
            None,
            None,
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);

    // Bad input → INVALID_ARGUMENT naming the fields; unknown unit → NOT_FOUND; taken
    // username or code → ALREADY_EXISTS.
    let bad = admin_client
        .clone()
        .create_officer(request(
            CreateOfficerRequest {
                username: "X".to_owned(),
                initial_password: "short".to_owned(),
                unit_code: "bad code!".to_owned(),
                roles: vec!["superuser".to_owned()],
                personal_id: "123".to_owned(),
            },
            &admin,
            None,
            None,
        ))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), tonic::Code::InvalidArgument);
    assert_eq!(
        violated_fields(&bad),
        [
            "username",
            "initial_password",
            "unit_code",
            "personal_id",
            "roles[0]"
        ]
    );
    let missing = admin_client
        .clone()
        .create_officer(request(
            officer_request("x.nowhere", "CAX-99999", &[]),
            &admin,
            None,
            None,
        ))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), tonic::Code::NotFound);
    let taken = admin_client
        .clone()
        .create_officer(request(
            officer_request("reg.team", "CAT-01", &[]),
            &admin,
            None,
            None,
        ))
        .await
        .unwrap_err();
    assert_eq!(taken.code(), tonic::Code::AlreadyExists);
    let bad_area = admin_client
        .clone()
        .create_unit(request(
            CreateUnitRequest {
                unit: Some(Unit {
                    code: "CAX-X".to_owned(),
                    name: "X".to_owned(),
                    parent_code: "CAT-01".to_owned(),
                    area_code: "99999".to_owned(),
                }),
            },
            &admin,
            None,
            None,
        ))
        .await
        .unwrap_err();
    assert_eq!(bad_area.code(), tonic::Code::InvalidArgument);
    let duplicate = admin_client
        .clone()
        .create_unit(request(
            CreateUnitRequest { unit: Some(team) },
            &admin,
            None,
            None,
        ))
        .await
        .unwrap_err();
    assert_eq!(duplicate.code(), tonic::Code::AlreadyExists);
    // Administration is audited, granted or refused, under the acting officer.
    let mut summary = Vec::new();
    for _ in 0..100 {
        let events = cluster
            .list_events(
                &admin,
                dancu_proto::audit::v1::ListEventsRequest {
                    actor_id: unit_admin.officer.id.clone(),
                    ..Default::default()
                },
            )
            .await
            .expect("list events")
            .events;
        summary = events
            .into_iter()
            .map(|e| (e.rpc, e.outcome, e.purpose))
            .collect();
        if summary.len() >= 7 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let has = |rpc: &str, outcome: &str| {
        summary.iter().any(|(r, o, p)| {
            r == &format!("/dancu.identity.v1.AdminService/{rpc}")
                && o == outcome
                && p == "system_administration"
        })
    };
    assert!(has("CreateUnit", "OK"), "{summary:?}");
    assert!(has("CreateOfficer", "OK"), "{summary:?}");
    assert!(has("GrantRole", "OK"), "{summary:?}");
    assert!(has("CreateOfficer", "PERMISSION_DENIED"), "{summary:?}");
    assert!(has("GrantRole", "PERMISSION_DENIED"), "{summary:?}");
    assert!(has("DisableOfficer", "PERMISSION_DENIED"), "{summary:?}");
    let no_token = admin_client
        .clone()
        .list_units(ListUnitsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(no_token.code(), tonic::Code::Unauthenticated);
    cluster.shutdown().await;
}
