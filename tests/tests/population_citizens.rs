//! The citizen register end to end: the full record, partial dates, updates with etags
//! and history, life status, searches, resident lists and counts — and bad input.

use dancu_e2e::Cluster;
use dancu_e2e::api::request;
use dancu_e2e::population::{PURPOSE, date, person, violated_fields};
use dancu_proto::common::v1::Sex;
use dancu_proto::identity::v1::{
    BloodType, Citizen, CountResidentsRequest, DeclareResidenceRequest, FamilyLinks,
    GetCitizenRequest, LifeStatus, ListCitizenHistoryRequest, ListResidentsRequest, MaritalStatus,
    ResidenceKind, SearchCitizensRequest, UpdateCitizenRequest,
};
use tonic::Code;

const AN: &str = "001090000001"; // male, 1990, born in Hà Nội
const BICH: &str = "001192000002"; // female, 1992
const CUONG: &str = "079085000003"; // male, 1985, born in Hồ Chí Minh
const BA_DINH: &str = "01001";
const HOAN_KIEM: &str = "01002";

fn full_citizen() -> Citizen {
    Citizen {
        other_names: vec!["Tí".to_owned()],
        place_of_birth: "Phường Ba Đình, Hà Nội".to_owned(),
        place_of_birth_registration: "UBND phường Ba Đình".to_owned(),
        home_town: "Xã Sóc Sơn, Hà Nội".to_owned(),
        ethnicity: "Kinh".to_owned(),
        religion: "Không".to_owned(),
        nationality: "VNM".to_owned(),
        blood_type: BloodType::O as i32,
        old_id_number: "012345678".to_owned(),
        family: Some(FamilyLinks {
            father_id: "001060000010".to_owned(),
            mother_id: "001165000011".to_owned(),
            spouse_id: BICH.to_owned(),
            children_ids: vec!["001215000012".to_owned()],
            legal_representative_id: String::new(),
        }),
        marital_status: MaritalStatus::Married as i32,
        phone: "+84 912 345 678".to_owned(),
        email: "an.nguyen@example.vn".to_owned(),
        ..person(AN, "Nguyễn Văn Ân", Sex::Male, date(1990, 5, 17))
    }
}

async fn update(
    cluster: &Cluster,
    token: &str,
    citizen: Citizen,
    paths: &[&str],
    etag: &str,
) -> Result<Citizen, tonic::Status> {
    cluster
        .identity()
        .update_citizen(request(
            UpdateCitizenRequest {
                citizen: Some(citizen),
                update_mask: Some(prost_types::FieldMask {
                    paths: paths.iter().map(|p| (*p).to_owned()).collect(),
                }),
                etag: etag.to_owned(),
                reason: "đính chính theo giấy khai sinh".to_owned(),
            },
            token,
            Some(PURPOSE),
            None,
        ))
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_record_round_trips_and_updates_keep_history() {
    let cluster = Cluster::start().await;
    let (token, admin) = cluster.admin_login().await;

    let registered = cluster
        .register(&token, full_citizen())
        .await
        .expect("register");
    assert_eq!(registered.phone, "0912345678", "phone normalised");
    assert_eq!(registered.life_status, LifeStatus::Alive as i32);
    assert_eq!(registered.etag, "\"1\"");
    let fetched = cluster.get_citizen(&token, AN).await.expect("get");
    assert_eq!(fetched, registered);
    assert_eq!(
        fetched.family.as_ref().unwrap().children_ids,
        ["001215000012"]
    );
    assert_eq!(fetched.blood_type, BloodType::O as i32);

    // A change with the current etag succeeds and bumps it.
    let changed = update(
        &cluster,
        &token,
        Citizen {
            email: "an@example.vn".to_owned(),
            religion: String::new(),
            ..person(AN, "", Sex::Unspecified, date(1990, 1, 1))
        },
        &["email", "religion"],
        &fetched.etag,
    )
    .await
    .expect("update");
    assert_eq!(changed.email, "an@example.vn");
    assert_eq!(changed.religion, "");
    assert_eq!(changed.full_name, "Nguyễn Văn Ân", "unmasked fields kept");
    assert_eq!(changed.etag, "\"2\"");

    // The stale etag is refused and nothing changes.
    let stale = update(
        &cluster,
        &token,
        Citizen {
            email: "x@example.vn".to_owned(),
            ..person(AN, "", Sex::Unspecified, date(1990, 1, 1))
        },
        &["email"],
        &fetched.etag,
    )
    .await
    .expect_err("stale etag");
    assert_eq!(stale.code(), Code::Aborted);
    assert_eq!(
        cluster.get_citizen(&token, AN).await.unwrap().email,
        "an@example.vn"
    );

    // Death before birth is refused; a death after it is recorded.
    let dead_before_born = update(
        &cluster,
        &token,
        Citizen {
            life_status: LifeStatus::Deceased as i32,
            life_status_date: Some(date(1989, 0, 0)),
            ..person(AN, "", Sex::Unspecified, date(1990, 1, 1))
        },
        &["life_status"],
        &changed.etag,
    )
    .await
    .expect_err("death before birth");
    assert_eq!(dead_before_born.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&dead_before_born),
        ["citizen.life_status_date"]
    );

    let deceased = update(
        &cluster,
        &token,
        Citizen {
            life_status: LifeStatus::Deceased as i32,
            life_status_date: Some(date(2026, 3, 0)),
            ..person(AN, "", Sex::Unspecified, date(1990, 1, 1))
        },
        &["life_status", "life_status_date"],
        &changed.etag,
    )
    .await
    .expect("record death");
    assert_eq!(deceased.life_status, LifeStatus::Deceased as i32);
    assert_eq!(deceased.life_status_date, Some(date(2026, 3, 0)));

    let history = cluster
        .identity()
        .list_citizen_history(request(
            ListCitizenHistoryRequest {
                personal_id: AN.to_owned(),
                page_size: 2,
                ..Default::default()
            },
            &token,
            Some(PURPOSE),
            None,
        ))
        .await
        .expect("history")
        .into_inner();
    assert_eq!(history.changes.len(), 2);
    assert_eq!(history.changes[0].version, 1);
    assert_eq!(history.changes[0].reason, "registration");
    assert_eq!(history.changes[1].fields, ["email", "religion"]);
    assert_eq!(history.changes[1].changed_by, admin);
    let rest = cluster
        .identity()
        .list_citizen_history(request(
            ListCitizenHistoryRequest {
                personal_id: AN.to_owned(),
                page_size: 2,
                page_token: history.next_page_token.clone(),
            },
            &token,
            Some(PURPOSE),
            None,
        ))
        .await
        .expect("history page 2")
        .into_inner();
    assert_eq!(rest.changes.len(), 1);
    assert_eq!(rest.changes[0].fields, ["life_status"]);
    assert!(rest.next_page_token.is_empty());

    // Every call above was audited about the person.
    let events = cluster.events_about(&token, AN, 8).await;
    assert!(events.len() >= 8, "{} events", events.len());
    assert!(events.iter().any(|e| e.outcome == "ABORTED"));
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_birth_dates_are_accepted() {
    let cluster = Cluster::start().await;
    let (token, _) = cluster.admin_login().await;
    let year_only = cluster
        .register(
            &token,
            person(CUONG, "Lê Văn Cường", Sex::Male, date(1985, 0, 0)),
        )
        .await
        .expect("year-only birth date");
    assert_eq!(year_only.date_of_birth, Some(date(1985, 0, 0)));
    let year_month = cluster
        .register(
            &token,
            person(BICH, "Trần Thị Bích", Sex::Female, date(1992, 7, 0)),
        )
        .await
        .expect("year-month birth date");
    assert_eq!(year_month.date_of_birth, Some(date(1992, 7, 0)));
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_residents_and_counts() {
    let cluster = Cluster::start().await;
    let (token, _) = cluster.admin_login().await;
    let people = [
        ("001090000001", "Nguyễn Văn Ân", Sex::Male, 1990, BA_DINH),
        ("001090000002", "Nguyễn Văn An", Sex::Male, 1990, HOAN_KIEM),
        ("001091000003", "NGUYỄN VĂN ÂN", Sex::Male, 1991, BA_DINH),
        ("001190000004", "Trần Thị Bích", Sex::Female, 1990, BA_DINH),
    ];
    for (id, name, sex, year, commune) in people {
        cluster
            .register(&token, person(id, name, sex, date(year, 1, 1)))
            .await
            .expect("register");
        cluster.settle(&token, id, commune).await.expect("settle");
    }
    let search = |full_name: &str, birth_year: i32, commune: &str, page_token: &str| {
        let cluster = &cluster;
        let token = token.clone();
        let req = SearchCitizensRequest {
            full_name: full_name.to_owned(),
            birth_year,
            commune_code: commune.to_owned(),
            page_size: 2,
            page_token: page_token.to_owned(),
            ..Default::default()
        };
        async move {
            cluster
                .identity()
                .search_citizens(request(req, &token, Some(PURPOSE), None))
                .await
                .map(tonic::Response::into_inner)
        }
    };
    let ids = |r: &dancu_proto::identity::v1::SearchCitizensResponse| {
        r.citizens
            .iter()
            .map(|c| c.personal_id.clone())
            .collect::<Vec<_>>()
    };
    // Born in Hồ Chí Minh City a year earlier: first by year of birth, last by ID.
    cluster
        .register(
            &token,
            person("079089000005", "Nguyễn Văn An", Sex::Male, date(1989, 5, 5)),
        )
        .await
        .expect("register");
    // Case and diacritics do not matter; results come by year of birth, then personal ID,
    // two per page.
    let page = search("nguyen van an", 0, "", "").await.expect("search");
    assert_eq!(ids(&page), ["079089000005", "001090000001"]);
    let page2 = search("nguyen van an", 0, "", &page.next_page_token)
        .await
        .expect("page 2");
    assert_eq!(ids(&page2), ["001090000002", "001091000003"]);
    let page3 = search("nguyen van an", 0, "", &page2.next_page_token)
        .await
        .expect("page 3");
    assert!(ids(&page3).is_empty());
    assert!(page3.next_page_token.is_empty());
    let by_year = search("Nguyễn Văn Ân", 1991, "", "")
        .await
        .expect("by year");
    assert_eq!(ids(&by_year), ["001091000003"]);
    let by_commune = search("NGUYEN VAN AN", 1990, HOAN_KIEM, "")
        .await
        .expect("by commune");
    assert_eq!(ids(&by_commune), ["001090000002"]);

    // Temporary residence elsewhere moves a person to that commune while it is in force;
    // an expired one no longer counts.
    let today = chrono::Utc::now().date_naive();
    use chrono::Datelike;
    let start = today - chrono::Duration::days(40);
    cluster
        .declare(
            &token,
            DeclareResidenceRequest {
                personal_id: "001190000004".to_owned(),
                kind: ResidenceKind::Temporary as i32,
                commune_code: HOAN_KIEM.to_owned(),
                address: "Số 5 Hàng Bài".to_owned(),
                start_date: Some(date(start.year(), start.month() as i32, start.day() as i32)),
                end_date: Some(date(today.year() + 1, today.month() as i32, 1)),
                ..Default::default()
            },
        )
        .await
        .expect("temporary residence");
    cluster
        .declare(
            &token,
            DeclareResidenceRequest {
                personal_id: "001091000003".to_owned(),
                kind: ResidenceKind::Temporary as i32,
                commune_code: HOAN_KIEM.to_owned(),
                address: "Số 9 Tràng Tiền".to_owned(),
                start_date: Some(date(2024, 1, 1)),
                end_date: Some(date(2024, 6, 30)),
                ..Default::default()
            },
        )
        .await
        .expect("expired temporary residence");

    let residents = |commune: &str| {
        let cluster = &cluster;
        let token = token.clone();
        let req = ListResidentsRequest {
            commune_code: commune.to_owned(),
            ..Default::default()
        };
        async move {
            cluster
                .identity()
                .list_residents(request(req, &token, Some(PURPOSE), None))
                .await
                .expect("residents")
                .into_inner()
                .citizens
                .into_iter()
                .map(|c| c.personal_id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(residents(BA_DINH).await, ["001090000001", "001091000003"]);
    assert_eq!(residents(HOAN_KIEM).await, ["001090000002", "001190000004"]);
    let bich = cluster.get_citizen(&token, "001190000004").await.unwrap();
    let residence = bich.residence.unwrap();
    assert_eq!(residence.current_commune_code, HOAN_KIEM);
    assert_eq!(residence.permanent_commune_code, BA_DINH);
    assert_eq!(residence.current_province_code, "01");

    let counts = cluster
        .identity()
        .count_residents(request(
            CountResidentsRequest {
                province_code: "01".to_owned(),
            },
            &token,
            Some(PURPOSE),
            None,
        ))
        .await
        .expect("counts")
        .into_inner();
    let pairs: Vec<_> = counts
        .communes
        .iter()
        .map(|c| (c.commune_code.as_str(), c.residents))
        .collect();
    assert_eq!(pairs, [(BA_DINH, 2), (HOAN_KIEM, 2)]);
    assert_eq!(counts.total, 4);
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_names_the_field_and_writes_nothing() {
    let cluster = Cluster::start().await;
    let (token, _) = cluster.admin_login().await;
    let base = || person(AN, "Nguyễn Văn Ân", Sex::Male, date(1990, 5, 17));
    let cases: Vec<(&str, Citizen, &str)> = vec![
        (
            "day without month",
            Citizen {
                date_of_birth: Some(date(1990, 0, 5)),
                ..base()
            },
            "citizen.date_of_birth",
        ),
        (
            "bad phone",
            Citizen {
                phone: "12345".to_owned(),
                ..base()
            },
            "citizen.phone",
        ),
        (
            "bad email",
            Citizen {
                email: "an@".to_owned(),
                ..base()
            },
            "citizen.email",
        ),
        (
            "bad nationality",
            Citizen {
                nationality: "Vietnam".to_owned(),
                ..base()
            },
            "citizen.nationality",
        ),
        (
            "old id not 9 digits",
            Citizen {
                old_id_number: "12345".to_owned(),
                ..base()
            },
            "citizen.old_id_number",
        ),
        (
            "bad family id",
            Citizen {
                family: Some(FamilyLinks {
                    father_id: "123".to_owned(),
                    ..Default::default()
                }),
                ..base()
            },
            "citizen.family.father_id",
        ),
        (
            "self as spouse",
            Citizen {
                family: Some(FamilyLinks {
                    spouse_id: AN.to_owned(),
                    ..Default::default()
                }),
                ..base()
            },
            "citizen.family",
        ),
        (
            "deceased without date",
            Citizen {
                life_status: LifeStatus::Deceased as i32,
                ..base()
            },
            "citizen.life_status_date",
        ),
        (
            "death before birth",
            Citizen {
                life_status: LifeStatus::Deceased as i32,
                life_status_date: Some(date(1980, 1, 1)),
                ..base()
            },
            "citizen.life_status_date",
        ),
        (
            "unknown blood type",
            Citizen {
                blood_type: 42,
                ..base()
            },
            "citizen.blood_type",
        ),
        (
            "empty other name",
            Citizen {
                other_names: vec![" ".to_owned()],
                ..base()
            },
            "citizen.other_names[0]",
        ),
    ];
    for (label, citizen, field) in cases {
        let status = cluster.register(&token, citizen).await.expect_err(label);
        assert_eq!(status.code(), Code::InvalidArgument, "{label}");
        assert!(
            violated_fields(&status).iter().any(|f| f == field),
            "{label}: {:?}",
            violated_fields(&status)
        );
        assert!(
            !status.message().contains(AN),
            "{label}: message leaks the ID"
        );
    }
    let missing = cluster
        .get_citizen(&token, AN)
        .await
        .expect_err("nothing written");
    assert_eq!(missing.code(), Code::NotFound);

    cluster.register(&token, base()).await.expect("register");
    let etag = "\"1\"";
    for (label, paths, etag, reason_field) in [
        ("empty mask", vec![], etag, "update_mask"),
        (
            "unknown field",
            vec!["personal_id"],
            etag,
            "update_mask.paths[0]",
        ),
        ("no etag", vec!["email"], "", "etag"),
    ] {
        let status = update(&cluster, &token, base(), &paths, etag)
            .await
            .expect_err(label);
        assert_eq!(status.code(), Code::InvalidArgument, "{label}");
        assert!(
            violated_fields(&status).iter().any(|f| f == reason_field),
            "{label}"
        );
    }
    let unknown = update(
        &cluster,
        &token,
        person(BICH, "Trần Thị Bích", Sex::Female, date(1992, 1, 1)),
        &["email"],
        etag,
    )
    .await
    .expect_err("unknown person");
    assert_eq!(unknown.code(), Code::NotFound);
    let sex_mismatch = update(
        &cluster,
        &token,
        Citizen {
            sex: Sex::Female as i32,
            ..base()
        },
        &["sex"],
        etag,
    )
    .await
    .expect_err("sex against the personal ID");
    assert_eq!(sex_mismatch.code(), Code::InvalidArgument);
    assert_eq!(
        cluster.get_citizen(&token, AN).await.unwrap().etag,
        etag,
        "nothing written"
    );

    let searches = [
        (
            SearchCitizensRequest {
                full_name: " ".to_owned(),
                ..Default::default()
            },
            "full_name",
        ),
        (
            SearchCitizensRequest {
                full_name: "An".to_owned(),
                birth_year: 1800,
                ..Default::default()
            },
            "birth_year",
        ),
        (
            SearchCitizensRequest {
                full_name: "An".to_owned(),
                commune_code: "99999".to_owned(),
                ..Default::default()
            },
            "commune_code",
        ),
        (
            SearchCitizensRequest {
                full_name: "An".to_owned(),
                province_code: "99".to_owned(),
                ..Default::default()
            },
            "province_code",
        ),
        (
            SearchCitizensRequest {
                full_name: "An".to_owned(),
                page_size: 501,
                ..Default::default()
            },
            "page_size",
        ),
        (
            SearchCitizensRequest {
                full_name: "An".to_owned(),
                page_token: "garbage".to_owned(),
                ..Default::default()
            },
            "page_token",
        ),
        // A token of the search before 2026-11-30, which continued after a personal ID.
        (
            SearchCitizensRequest {
                full_name: "An".to_owned(),
                page_token: dancu_kit::paging::encode_token("search", "001090000001"),
                ..Default::default()
            },
            "page_token",
        ),
        // This list's kind, but no year of birth before the personal ID.
        (
            SearchCitizensRequest {
                full_name: "An".to_owned(),
                page_token: dancu_kit::paging::encode_token("citizen-search", "001090000001"),
                ..Default::default()
            },
            "page_token",
        ),
    ];
    for (req, field) in searches {
        let status = cluster
            .identity()
            .search_citizens(request(req, &token, Some(PURPOSE), None))
            .await
            .expect_err(field);
        assert_eq!(status.code(), Code::InvalidArgument, "{field}");
        assert_eq!(violated_fields(&status), [field]);
    }
    let residents = cluster
        .identity()
        .list_residents(request(
            ListResidentsRequest::default(),
            &token,
            Some(PURPOSE),
            None,
        ))
        .await
        .expect_err("no commune");
    assert_eq!(violated_fields(&residents), ["commune_code"]);
    let history = cluster
        .identity()
        .list_citizen_history(request(
            ListCitizenHistoryRequest {
                personal_id: BICH.to_owned(),
                ..Default::default()
            },
            &token,
            Some(PURPOSE),
            None,
        ))
        .await
        .expect_err("history of nobody");
    assert_eq!(history.code(), Code::NotFound);
    let no_purpose = cluster
        .identity()
        .get_citizen(request(
            GetCitizenRequest {
                personal_id: AN.to_owned(),
            },
            &token,
            None,
            None,
        ))
        .await
        .expect_err("no purpose");
    assert_eq!(no_purpose.code(), Code::InvalidArgument);
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_register_assigns_unused_personal_ids() {
    use dancu_proto::identity::v1::RegisterCitizenRequest;
    let cluster = Cluster::start().await;
    let (token, _) = cluster.admin_login().await;
    let newborn = || person("", "Võ Thị Hạnh", Sex::Female, date(2025, 2, 3));
    let register = |citizen: Citizen, code: &str| {
        let cluster = &cluster;
        let token = token.clone();
        let req = RegisterCitizenRequest {
            citizen: Some(citizen),
            birth_registration_code: code.to_owned(),
        };
        async move {
            cluster
                .identity()
                .register_citizen(request(req, &token, Some(PURPOSE), None))
                .await
                .map(tonic::Response::into_inner)
        }
    };
    let first = register(newborn(), "079").await.expect("assigned");
    let second = register(newborn(), "079").await.expect("assigned again");
    for assigned in [&first, &second] {
        // Hồ Chí Minh (079), 2000s female (3), born 2025 (25).
        assert!(
            assigned.personal_id.starts_with("079325"),
            "{}",
            assigned.personal_id
        );
        assert_eq!(assigned.personal_id.len(), 12);
    }
    assert_ne!(first.personal_id, second.personal_id);
    assert_eq!(
        cluster
            .get_citizen(&token, &first.personal_id)
            .await
            .unwrap(),
        first
    );

    for (label, citizen, code) in [
        ("no ID and no code", newborn(), ""),
        ("unknown code", newborn(), "003"),
        (
            "ID and code",
            person(BICH, "Trần Thị Bích", Sex::Female, date(1992, 1, 1)),
            "001",
        ),
    ] {
        let status = register(citizen, code).await.expect_err(label);
        assert_eq!(status.code(), Code::InvalidArgument, "{label}");
        assert!(
            violated_fields(&status).contains(&"birth_registration_code".to_owned()),
            "{label}: {:?}",
            violated_fields(&status)
        );
    }
    cluster.shutdown().await;
}
