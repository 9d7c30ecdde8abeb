//! Foreigners end to end: registration (unique by nationality and passport), lookup,
//! listing, accommodation declarations with lateness, check-out, who stays in a commune
//! now — bad input named field by field, and every call audited.

use dancu_e2e::Cluster;
use dancu_e2e::api::request;
use dancu_e2e::register::{
    PURPOSE, assert_code, assert_invalid, proto_date, sample_declaration, sample_foreigner,
    time_from_now, vietnam_today,
};
use dancu_proto::common::v1::Date;
use dancu_proto::identity::v1::{
    AccommodationDeclaration, CheckOutAccommodationRequest, DeclareAccommodationRequest,
    EntryDocumentType, Foreigner, GetForeignerRequest, ListCurrentStaysRequest,
    ListCurrentStaysResponse, ListForeignersRequest, ListForeignersResponse,
    RegisterForeignerRequest,
};
use tonic::{Code, Status};

async fn register(cluster: &Cluster, token: &str, f: Foreigner) -> Result<Foreigner, Status> {
    cluster
        .foreigners()
        .register_foreigner(request(
            RegisterForeignerRequest { foreigner: Some(f) },
            token,
            Some(PURPOSE),
            None,
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn declare(
    cluster: &Cluster,
    token: &str,
    d: AccommodationDeclaration,
) -> Result<AccommodationDeclaration, Status> {
    cluster
        .foreigners()
        .declare_accommodation(request(
            DeclareAccommodationRequest {
                declaration: Some(d),
            },
            token,
            Some(PURPOSE),
            None,
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn check_out(
    cluster: &Cluster,
    token: &str,
    req: CheckOutAccommodationRequest,
) -> Result<AccommodationDeclaration, Status> {
    cluster
        .foreigners()
        .check_out_accommodation(request(req, token, Some(PURPOSE), None))
        .await
        .map(tonic::Response::into_inner)
}

async fn stays(
    cluster: &Cluster,
    token: &str,
    req: ListCurrentStaysRequest,
) -> Result<ListCurrentStaysResponse, Status> {
    cluster
        .foreigners()
        .list_current_stays(request(req, token, Some(PURPOSE), None))
        .await
        .map(tonic::Response::into_inner)
}

async fn list(
    cluster: &Cluster,
    token: &str,
    req: ListForeignersRequest,
) -> Result<ListForeignersResponse, Status> {
    cluster
        .foreigners()
        .list_foreigners(request(req, token, Some(PURPOSE), None))
        .await
        .map(tonic::Response::into_inner)
}

fn stays_in(commune: &str, page_size: i32, page_token: &str) -> ListCurrentStaysRequest {
    ListCurrentStaysRequest {
        commune_code: commune.to_owned(),
        page_size,
        page_token: page_token.to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_get_and_list_foreigners() {
    let cluster = Cluster::start().await;
    let (token, officer) = cluster.admin_login().await;

    let registered = register(&cluster, &token, sample_foreigner("m1234567"))
        .await
        .expect("register");
    assert!(!registered.id.is_empty());
    assert_eq!(registered.passport_number, "M1234567");
    assert_eq!(registered.nationality, "KOR");
    assert_eq!(registered.full_name, "Kim Min-jun");
    assert!(registered.create_time.is_some());
    let fetched = cluster
        .foreigners()
        .get_foreigner(request(
            GetForeignerRequest {
                id: registered.id.clone(),
            },
            &token,
            Some(PURPOSE),
            None,
        ))
        .await
        .expect("get")
        .into_inner();
    assert_eq!(fetched, registered);

    // Unique by nationality and passport number (case-insensitive); the same number
    // under another nationality is another person.
    let mut same = sample_foreigner("M1234567");
    same.nationality = "kor".to_owned();
    assert_code(
        &register(&cluster, &token, same).await.unwrap_err(),
        Code::AlreadyExists,
    );
    let mut french = sample_foreigner("M1234567");
    french.nationality = "FRA".to_owned();
    french.full_name = "Élodie Martin".to_owned();
    let french = register(&cluster, &token, french).await.expect("french");

    // A permanent residence card may be open-ended.
    let mut resident = sample_foreigner("P7654321");
    resident.nationality = "USA".to_owned();
    let document = resident.entry_document.as_mut().unwrap();
    document.r#type = EntryDocumentType::PermanentResidenceCard as i32;
    document.valid_until = None;
    let resident = register(&cluster, &token, resident)
        .await
        .expect("resident");
    assert_eq!(resident.entry_document.unwrap().valid_until, None);

    // Listing: registration order, pages, filters.
    let page = list(
        &cluster,
        &token,
        ListForeignersRequest {
            page_size: 2,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(page.foreigners.len(), 2);
    assert_eq!(page.foreigners[0].id, registered.id);
    assert_eq!(page.foreigners[1].id, french.id);
    let rest = list(
        &cluster,
        &token,
        ListForeignersRequest {
            page_size: 2,
            page_token: page.next_page_token.clone(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(rest.foreigners.len(), 1);
    assert!(rest.next_page_token.is_empty());
    let koreans = list(
        &cluster,
        &token,
        ListForeignersRequest {
            nationality: "kor".to_owned(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(koreans.foreigners.len(), 1);
    let by_passport = list(
        &cluster,
        &token,
        ListForeignersRequest {
            passport_number: "m1234567".to_owned(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(by_passport.foreigners.len(), 2);

    // Unknown id.
    let status = cluster
        .foreigners()
        .get_foreigner(request(
            GetForeignerRequest {
                id: uuid::Uuid::now_v7().to_string(),
            },
            &token,
            Some(PURPOSE),
            None,
        ))
        .await
        .unwrap_err();
    assert_code(&status, Code::NotFound);

    // Audited: the registration names the new foreigner; the refused duplicate too.
    let events = cluster
        .events_for_rpc(
            &token,
            &officer,
            "/dancu.identity.v1.ForeignerService/RegisterForeigner",
            4,
        )
        .await;
    let mut outcomes: Vec<&str> = events.iter().map(|e| e.outcome.as_str()).collect();
    outcomes.sort();
    assert_eq!(outcomes, ["ALREADY_EXISTS", "OK", "OK", "OK"]);
    assert!(events.iter().any(|e| e.resource_id == registered.id));
    assert!(events.iter().all(|e| e.resource_type == "foreigner"));
    let gets = cluster
        .events_for_rpc(
            &token,
            &officer,
            "/dancu.identity.v1.ForeignerService/GetForeigner",
            2,
        )
        .await;
    assert_eq!(gets.len(), 2);

    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declarations_lateness_check_out_and_current_stays() {
    let cluster = Cluster::start().await;
    let (token, officer) = cluster.admin_login().await;
    let mut guests = Vec::new();
    for passport in ["A0000001", "A0000002", "A0000003", "A0000004"] {
        guests.push(
            register(&cluster, &token, sample_foreigner(passport))
                .await
                .unwrap(),
        );
    }

    // On time (2 h after arrival), late (13 h), and late-but-remote within 24 h.
    let on_time = declare(&cluster, &token, sample_declaration(&guests[0].id, 2))
        .await
        .unwrap();
    assert!(!on_time.late);
    assert!(on_time.receive_time.is_some());
    assert!(on_time.check_out_time.is_none());
    let late = declare(&cluster, &token, sample_declaration(&guests[1].id, 13))
        .await
        .unwrap();
    assert!(late.late);
    let mut remote = sample_declaration(&guests[2].id, 13);
    remote.remote_area = true;
    let remote = declare(&cluster, &token, remote).await.unwrap();
    assert!(!remote.late);
    let mut remote_late = sample_declaration(&guests[3].id, 25);
    remote_late.remote_area = true;
    remote_late.commune_code = "01002".to_owned();
    let remote_late = declare(&cluster, &token, remote_late).await.unwrap();
    assert!(remote_late.late);

    // A stay that has ended (planned departure passed) and one elsewhere do not count.
    let mut ended = sample_declaration(&guests[3].id, 48);
    ended.planned_departure_time = Some(time_from_now(-3600));
    declare(&cluster, &token, ended).await.unwrap();

    // Who stays in 01001 now: three, in the order received, two per page.
    let first = stays(&cluster, &token, stays_in("01001", 2, ""))
        .await
        .unwrap();
    assert_eq!(first.stays.len(), 2);
    assert!(!first.next_page_token.is_empty());
    let second = stays(
        &cluster,
        &token,
        stays_in("01001", 2, &first.next_page_token),
    )
    .await
    .unwrap();
    assert_eq!(second.stays.len(), 1);
    assert!(second.next_page_token.is_empty());
    let ids: Vec<String> = first
        .stays
        .iter()
        .chain(&second.stays)
        .map(|s| s.declaration.as_ref().unwrap().id.clone())
        .collect();
    assert_eq!(
        ids,
        [on_time.id.clone(), late.id.clone(), remote.id.clone()]
    );
    assert_eq!(
        first.stays[0].foreigner.as_ref().unwrap().id,
        guests[0].id,
        "each stay carries its foreigner"
    );

    // Check-out ends the stay; twice is refused.
    let out = check_out(
        &cluster,
        &token,
        CheckOutAccommodationRequest {
            declaration_id: late.id.clone(),
            check_out_time: None,
        },
    )
    .await
    .unwrap();
    assert!(out.check_out_time.is_some());
    let status = check_out(
        &cluster,
        &token,
        CheckOutAccommodationRequest {
            declaration_id: late.id.clone(),
            check_out_time: None,
        },
    )
    .await
    .unwrap_err();
    assert_code(&status, Code::FailedPrecondition);
    let now = stays(&cluster, &token, stays_in("01001", 0, ""))
        .await
        .unwrap();
    let ids: Vec<String> = now
        .stays
        .iter()
        .map(|s| s.declaration.as_ref().unwrap().id.clone())
        .collect();
    assert_eq!(ids, [on_time.id.clone(), remote.id.clone()]);

    // Check-out before the arrival, in the future, or of an unknown declaration.
    for (time, field) in [
        (time_from_now(-3 * 3600), "check_out_time"),
        (time_from_now(3600), "check_out_time"),
    ] {
        let status = check_out(
            &cluster,
            &token,
            CheckOutAccommodationRequest {
                declaration_id: on_time.id.clone(),
                check_out_time: Some(time),
            },
        )
        .await
        .unwrap_err();
        assert_invalid(&status, field);
    }
    let status = check_out(
        &cluster,
        &token,
        CheckOutAccommodationRequest {
            declaration_id: uuid::Uuid::now_v7().to_string(),
            check_out_time: None,
        },
    )
    .await
    .unwrap_err();
    assert_code(&status, Code::NotFound);

    // A declaration for an unregistered foreigner.
    let status = declare(
        &cluster,
        &token,
        sample_declaration(&uuid::Uuid::now_v7().to_string(), 1),
    )
    .await
    .unwrap_err();
    assert_code(&status, Code::FailedPrecondition);

    // Audited: declarations by id, the stays listing by commune.
    let events = cluster
        .events_for_rpc(
            &token,
            &officer,
            "/dancu.identity.v1.ForeignerService/DeclareAccommodation",
            6,
        )
        .await;
    assert_eq!(events.len(), 6);
    assert!(events.iter().any(|e| e.resource_id == late.id));
    let listing = cluster
        .events_for_rpc(
            &token,
            &officer,
            "/dancu.identity.v1.ForeignerService/ListCurrentStays",
            3,
        )
        .await;
    assert!(listing.iter().all(|e| e.resource_id == "01001"));

    cluster.shutdown().await;
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_registrations_and_check_outs_apply_once() {
    let cluster = Cluster::start().await;
    let (token, _) = cluster.admin_login().await;

    let results = futures::future::join_all(
        (0..6).map(|_| register(&cluster, &token, sample_foreigner("C7777777"))),
    )
    .await;
    let registered: Vec<&Foreigner> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(registered.len(), 1, "{results:?}");
    for status in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_code(status, Code::AlreadyExists);
    }

    let declaration = declare(&cluster, &token, sample_declaration(&registered[0].id, 1))
        .await
        .unwrap();
    let results = futures::future::join_all((0..6).map(|_| {
        check_out(
            &cluster,
            &token,
            CheckOutAccommodationRequest {
                declaration_id: declaration.id.clone(),
                check_out_time: None,
            },
        )
    }))
    .await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    for status in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_code(status, Code::FailedPrecondition);
    }

    cluster.shutdown().await;
}
