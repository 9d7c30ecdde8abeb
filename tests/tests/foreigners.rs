//! Foreigners end to end: registration (unique by nationality and passport), lookup,
//! listing, accommodation declarations with lateness, check-out, who stays in a commune
//! now — bad input named field by field, and every call audited.

use dancu_e2e::Cluster;
use dancu_e2e::api::request;
use dancu_e2e::register::{
    PURPOSE, assert_code, assert_invalid, check_out, declare, list_foreigners as list,
    register_foreigner as register, sample_declaration, sample_foreigner, stays, stays_in,
    time_from_now,
};
use dancu_proto::identity::v1::{
    CheckOutAccommodationRequest, EntryDocumentType, Foreigner, GetForeignerRequest,
    ListForeignersRequest,
};
use tonic::Code;

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
