//! Foreigners and accommodation declarations: every bad input is refused with
//! `INVALID_ARGUMENT` naming the field, nothing is written, and the refusal is audited.

use dancu_e2e::Cluster;
use dancu_e2e::api::request;
use dancu_e2e::register::{
    PURPOSE, assert_code, assert_invalid, check_out, declare, list_foreigners as list, proto_date,
    register_foreigner as register, sample_declaration, sample_foreigner, stays, stays_in,
    time_from_now, vietnam_today,
};
use dancu_proto::common::v1::Date;
use dancu_proto::identity::v1::{
    AccommodationDeclaration, CheckOutAccommodationRequest, DeclareAccommodationRequest, Foreigner,
    GetForeignerRequest, ListForeignersRequest, RegisterForeignerRequest,
};
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_named_field_by_field() {
    let cluster = Cluster::start().await;
    let (token, officer) = cluster.admin_login().await;

    let invalid = |f: fn(&mut Foreigner), field: &'static str| (f, field);
    let cases = [
        invalid(|f| f.nationality.clear(), "foreigner.nationality"),
        invalid(|f| f.nationality = "XYZ".into(), "foreigner.nationality"),
        invalid(|f| f.nationality = "KO".into(), "foreigner.nationality"),
        invalid(|f| f.nationality = "VNM".into(), "foreigner.nationality"),
        invalid(|f| f.passport_number.clear(), "foreigner.passport_number"),
        invalid(
            |f| f.passport_number = "AB-1".into(),
            "foreigner.passport_number",
        ),
        invalid(|f| f.full_name = "R2D2".into(), "foreigner.full_name"),
        invalid(|f| f.sex = 0, "foreigner.sex"),
        invalid(|f| f.date_of_birth = None, "foreigner.date_of_birth"),
        invalid(
            |f| {
                f.date_of_birth = Some(Date {
                    year: 1990,
                    month: 2,
                    day: 30,
                })
            },
            "foreigner.date_of_birth",
        ),
        invalid(
            |f| {
                f.date_of_birth = Some(Date {
                    year: 2999,
                    month: 1,
                    day: 1,
                })
            },
            "foreigner.date_of_birth",
        ),
        invalid(|f| f.entry_document = None, "foreigner.entry_document"),
        invalid(
            |f| f.entry_document.as_mut().unwrap().r#type = 0,
            "foreigner.entry_document.type",
        ),
        invalid(
            |f| f.entry_document.as_mut().unwrap().number = "№ 1".into(),
            "foreigner.entry_document.number",
        ),
        invalid(
            |f| f.entry_document.as_mut().unwrap().valid_from = None,
            "foreigner.entry_document.valid_from",
        ),
        invalid(
            |f| f.entry_document.as_mut().unwrap().valid_until = None,
            "foreigner.entry_document.valid_until",
        ),
        invalid(
            |f| {
                let d = f.entry_document.as_mut().unwrap();
                d.valid_until = Some(proto_date(vietnam_today() - chrono::Days::new(400)));
            },
            "foreigner.entry_document.valid_until",
        ),
    ];
    for (mutate, field) in cases {
        let mut foreigner = sample_foreigner("B1234567");
        mutate(&mut foreigner);
        let status = register(&cluster, &token, foreigner).await.unwrap_err();
        assert_invalid(&status, field);
        assert!(!status.message().contains("B1234567"), "no personal data");
    }
    let status = cluster
        .foreigners()
        .register_foreigner(request(
            RegisterForeignerRequest { foreigner: None },
            &token,
            Some(PURPOSE),
            None,
        ))
        .await
        .unwrap_err();
    assert_invalid(&status, "foreigner");
    // A passport without nationality: the violation names the nationality.
    let mut no_nationality = sample_foreigner("B1234567");
    no_nationality.nationality = "   ".to_owned();
    let status = register(&cluster, &token, no_nationality)
        .await
        .unwrap_err();
    assert_eq!(
        dancu_e2e::register::violated_fields(&status),
        ["foreigner.nationality"]
    );
    // Nothing was written by the refusals.
    let all = list(&cluster, &token, ListForeignersRequest::default())
        .await
        .unwrap();
    assert!(all.foreigners.is_empty());

    let guest = register(&cluster, &token, sample_foreigner("B1234567"))
        .await
        .unwrap();
    // Every refusal was audited with its code, and the registration that followed.
    let events = cluster
        .events_for_rpc(
            &token,
            &officer,
            "/dancu.identity.v1.ForeignerService/RegisterForeigner",
            20,
        )
        .await;
    let refused = events
        .iter()
        .filter(|e| e.outcome == "INVALID_ARGUMENT")
        .count();
    assert_eq!((refused, events.len()), (19, 20));
    let bad_declaration = |f: fn(&mut AccommodationDeclaration), field: &'static str| (f, field);
    let cases = [
        bad_declaration(|d| d.foreigner_id = "x".into(), "declaration.foreigner_id"),
        bad_declaration(|d| d.foreigner_id.clear(), "declaration.foreigner_id"),
        bad_declaration(|d| d.host_name = " ".into(), "declaration.host_name"),
        bad_declaration(|d| d.host_name = "a".repeat(201), "declaration.host_name"),
        bad_declaration(
            |d| d.commune_code = "99999".into(),
            "declaration.commune_code",
        ),
        bad_declaration(|d| d.commune_code.clear(), "declaration.commune_code"),
        bad_declaration(|d| d.address.clear(), "declaration.address"),
        bad_declaration(|d| d.address = "a\u{7}b".into(), "declaration.address"),
        bad_declaration(|d| d.arrival_time = None, "declaration.arrival_time"),
        bad_declaration(
            |d| d.arrival_time = Some(time_from_now(2 * 3600)),
            "declaration.arrival_time",
        ),
        bad_declaration(
            |d| {
                d.arrival_time = Some(prost_types::Timestamp {
                    seconds: 0,
                    nanos: -1,
                })
            },
            "declaration.arrival_time",
        ),
        bad_declaration(
            |d| d.planned_departure_time = None,
            "declaration.planned_departure_time",
        ),
        bad_declaration(
            |d| d.planned_departure_time = Some(time_from_now(-5 * 3600)),
            "declaration.planned_departure_time",
        ),
    ];
    for (mutate, field) in cases {
        let mut declaration = sample_declaration(&guest.id, 2);
        mutate(&mut declaration);
        let status = declare(&cluster, &token, declaration).await.unwrap_err();
        assert_invalid(&status, field);
    }
    let status = cluster
        .foreigners()
        .declare_accommodation(request(
            DeclareAccommodationRequest { declaration: None },
            &token,
            Some(PURPOSE),
            None,
        ))
        .await
        .unwrap_err();
    assert_invalid(&status, "declaration");

    // Listing and lookup parameters.
    for (req, field) in [
        (stays_in("", 0, ""), "commune_code"),
        (stays_in("0100", 0, ""), "commune_code"),
        (stays_in("01001", -1, ""), "page_size"),
        (stays_in("01001", 0, "garbage"), "page_token"),
    ] {
        assert_invalid(&stays(&cluster, &token, req).await.unwrap_err(), field);
    }
    for (req, field) in [
        (
            ListForeignersRequest {
                nationality: "ZZZ".into(),
                ..Default::default()
            },
            "nationality",
        ),
        (
            ListForeignersRequest {
                passport_number: "!".into(),
                ..Default::default()
            },
            "passport_number",
        ),
        (
            ListForeignersRequest {
                page_size: -5,
                ..Default::default()
            },
            "page_size",
        ),
        (
            ListForeignersRequest {
                page_token: "nope".into(),
                ..Default::default()
            },
            "page_token",
        ),
    ] {
        assert_invalid(&list(&cluster, &token, req).await.unwrap_err(), field);
    }
    let status = cluster
        .foreigners()
        .get_foreigner(request(
            GetForeignerRequest { id: "42".into() },
            &token,
            Some(PURPOSE),
            None,
        ))
        .await
        .unwrap_err();
    assert_invalid(&status, "id");
    let status = check_out(
        &cluster,
        &token,
        CheckOutAccommodationRequest {
            declaration_id: String::new(),
            check_out_time: None,
        },
    )
    .await
    .unwrap_err();
    assert_invalid(&status, "declaration_id");

    // Purpose and token are required.
    let status = cluster
        .foreigners()
        .list_current_stays(request(stays_in("01001", 0, ""), &token, None, None))
        .await
        .unwrap_err();
    assert_invalid(&status, "x-dancu-purpose");
    let status = cluster
        .foreigners()
        .list_current_stays(stays_in("01001", 0, ""))
        .await
        .unwrap_err();
    assert_code(&status, Code::Unauthenticated);

    cluster.shutdown().await;
}
