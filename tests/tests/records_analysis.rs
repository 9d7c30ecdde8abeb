//! Analysis end to end: hotspot figures checked against a small hand-computed dataset, the
//! risk indicator with its reasons, the data-quality scorecard before and after the
//! re-validation job, jurisdiction limits and bad input.

use chrono::{Duration, NaiveDate};
use dancu_e2e::Cluster;
use dancu_e2e::api::request;
use dancu_e2e::population::{date, person, violated_fields};
use dancu_e2e::records::{CASE, PURPOSE};
use dancu_e2e::register::{proto_date, vietnam_today};
use dancu_kit::config::ServiceKind;
use dancu_proto::common::v1::Sex;
use dancu_proto::records::v1::analysis_service_client::AnalysisServiceClient;
use dancu_proto::records::v1::{
    AppendTimelineEntryRequest, AreaHotspot, AreaLevel, Classification, GetHotspotsRequest,
    GetRiskIndicatorRequest, GetScorecardRequest, HotspotReport, QualityDimension,
    RevalidateSubjectsRequest, RiskLevel, Scorecard, SourceKind, SourceReference,
    TimelineEntryKind,
};
use sea_orm::ConnectionTrait;
use tonic::Code;

/// Residents of 01001: the first five; of 01002: the last four.
const PEOPLE: [(&str, &str, &str); 9] = [
    ("001090000401", "Nguyễn Văn An", "01001"),
    ("001090000402", "Trần Văn Bình", "01001"),
    ("001090000403", "Lê Thị Cúc", "01001"),
    ("001090000404", "Phạm Văn Dũng", "01001"),
    ("001090000405", "Hoàng Thị Em", "01001"),
    ("001090000406", "Vũ Văn Giang", "01002"),
    ("001090000407", "Đặng Thị Hoa", "01002"),
    ("001090000408", "Bùi Văn Khánh", "01002"),
    ("001090000409", "Đỗ Thị Lan", "01002"),
];
const AN: &str = "001090000401";
const BINH: &str = "001090000402";
const GIANG: &str = "001090000406";

fn analysis(cluster: &Cluster) -> AnalysisServiceClient<dancu_kit::client::TracedChannel> {
    AnalysisServiceClient::new(dancu_e2e::channel(&cluster.endpoint(ServiceKind::Records)))
}

fn days_ago(today: NaiveDate, days: i64) -> dancu_proto::common::v1::Date {
    proto_date(today - Duration::days(days))
}

async fn hotspots(
    cluster: &Cluster,
    token: &str,
    message: GetHotspotsRequest,
) -> Result<HotspotReport, tonic::Status> {
    analysis(cluster)
        .get_hotspots(request(message, token, Some(PURPOSE), Some(CASE)))
        .await
        .map(tonic::Response::into_inner)
}

async fn scorecard(cluster: &Cluster, token: &str, unit: &str) -> Result<Scorecard, tonic::Status> {
    analysis(cluster)
        .get_scorecard(request(
            GetScorecardRequest {
                unit: unit.to_owned(),
                max_offences: 0,
            },
            token,
            Some(PURPOSE),
            Some(CASE),
        ))
        .await
        .map(tonic::Response::into_inner)
}

fn passed(card: &Scorecard, dimension: QualityDimension) -> i64 {
    card.scores
        .iter()
        .find(|s| s.dimension == dimension as i32)
        .expect("every dimension scored")
        .passed
}

fn area<'a>(report: &'a HotspotReport, code: &str) -> &'a AreaHotspot {
    report
        .areas
        .iter()
        .find(|a| a.area_code == code)
        .unwrap_or_else(|| panic!("area {code} reported"))
}

fn count(list: &[dancu_proto::records::v1::CodeCount], code: &str) -> i64 {
    list.iter().find(|c| c.code == code).map_or(0, |c| c.count)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hotspots_risk_and_scorecards_match_hand_computed_figures() {
    let cluster = Cluster::start().await;
    let (admin, _) = cluster.admin_login().await;
    for (id, name, commune) in PEOPLE {
        cluster
            .register(&admin, person(id, name, Sex::Male, date(1990, 1, 2)))
            .await
            .expect("register");
        cluster.settle(&admin, id, commune).await.expect("settle");
    }
    let owner = cluster
        .officer(&admin, "inv.badinh", "CAX-01001", &["investigator"], None)
        .await;
    let neighbour = cluster
        .officer(&admin, "inv.hoankiem", "CAX-01002", &["investigator"], None)
        .await;
    let province = cluster
        .officer(&admin, "inv.hanoi", "CAT-01", &["investigator"], None)
        .await;
    let today = vietnam_today();

    // An (01001): criminal since 5 days ago, arrested 3 and 10 days ago.
    // Bình (01001): drug-related since 40 days ago (the window before the current one).
    // Giang (01002): post-rehabilitation since 100 days ago (the fourth window back).
    let an = cluster.create_subject(owner.token(), AN).await.expect("an");
    let binh = cluster
        .create_subject(owner.token(), BINH)
        .await
        .expect("binh");
    let giang = cluster
        .create_subject(neighbour.token(), GIANG)
        .await
        .expect("giang");
    cluster
        .classify(
            owner.token(),
            &an.id,
            Classification::Criminal,
            days_ago(today, 5),
            None,
        )
        .await
        .expect("classify an");
    cluster
        .classify(
            owner.token(),
            &binh.id,
            Classification::DrugRelated,
            days_ago(today, 40),
            None,
        )
        .await
        .expect("classify binh");
    cluster
        .classify(
            neighbour.token(),
            &giang.id,
            Classification::PostRehabilitation,
            days_ago(today, 100),
            None,
        )
        .await
        .expect("classify giang");
    for days in [3, 10] {
        cluster
            .records()
            .append_timeline_entry(request(
                AppendTimelineEntryRequest {
                    subject_id: an.id.clone(),
                    kind: TimelineEntryKind::Arrest as i32,
                    occur_date: Some(days_ago(today, days)),
                    summary: "Bắt quả tang".to_owned(),
                    source: Some(SourceReference {
                        kind: SourceKind::Investigation as i32,
                        reference: "7/QD-CSDT".to_owned(),
                        issuing_unit: "CAX-01001".to_owned(),
                    }),
                    corrects_entry_id: String::new(),
                },
                owner.token(),
                Some(PURPOSE),
                Some(CASE),
            ))
            .await
            .expect("arrest");
    }

    // Windows of 30 days ending today, a baseline of three earlier windows.
    let asked = GetHotspotsRequest {
        window_days: 30,
        baseline_windows: 3,
        ..Default::default()
    };
    let report = hotspots(&cluster, province.token(), asked.clone())
        .await
        .expect("hotspots");
    assert_eq!(report.window_end, Some(proto_date(today)));
    assert_eq!(report.window_start, Some(days_ago(today, 29)));
    assert_eq!(
        report
            .areas
            .iter()
            .map(|a| a.area_code.as_str())
            .collect::<Vec<_>>(),
        ["01001", "01002"]
    );
    let badinh = area(&report, "01001");
    assert_eq!(badinh.residents, 5);
    assert_eq!(badinh.active_subjects, 2);
    assert_eq!(count(&badinh.active_by_classification, "criminal"), 1);
    assert_eq!(count(&badinh.active_by_classification, "drug_related"), 1);
    // New facts now: An's classification (judgment enforcement) and two arrests.
    assert_eq!(badinh.new_facts, 3);
    assert_eq!(
        count(&badinh.new_facts_by_source, "judgment_enforcement"),
        1
    );
    assert_eq!(count(&badinh.new_facts_by_source, "investigation"), 2);
    assert_eq!(badinh.previous_new_facts, [1, 0, 0]);
    assert_eq!(badinh.active_rate_per_1000, Some(400.0));
    assert_eq!(badinh.new_fact_rate_per_1000, Some(600.0));
    // Mean 1/3, sd √(2/9) ≈ 0.471, spread max(0.471, √(1/3) ≈ 0.577, 1) = 1:
    // z = (3 − 1/3) / 1 = 8/3 > 2, with at least 3 facts → rising.
    assert!((badinh.baseline_mean - 1.0 / 3.0).abs() < 1e-9);
    assert!((badinh.baseline_sd - (2.0f64 / 9.0).sqrt()).abs() < 1e-9);
    assert!((badinh.z_score - 8.0 / 3.0).abs() < 1e-9);
    assert!(badinh.rising);
    let hoankiem = area(&report, "01002");
    assert_eq!(hoankiem.residents, 4);
    assert_eq!(hoankiem.active_subjects, 1);
    assert_eq!(hoankiem.active_rate_per_1000, Some(250.0));
    assert_eq!(hoankiem.new_facts, 0);
    assert_eq!(hoankiem.previous_new_facts, [0, 0, 1]);
    assert!(!hoankiem.rising);

    // Per province: the two communes together.
    let by_province = hotspots(
        &cluster,
        province.token(),
        GetHotspotsRequest {
            level: AreaLevel::Province as i32,
            ..asked.clone()
        },
    )
    .await
    .expect("per province");
    assert_eq!(by_province.areas.len(), 1);
    let hanoi = &by_province.areas[0];
    assert_eq!(
        (
            hanoi.area_code.as_str(),
            hanoi.residents,
            hanoi.active_subjects,
            hanoi.new_facts
        ),
        ("01", 9, 3, 3)
    );
    assert_eq!(hanoi.previous_new_facts, [1, 0, 1]);

    // A commune officer sees their commune only; another province is refused.
    let own = hotspots(&cluster, neighbour.token(), asked.clone())
        .await
        .expect("commune officer");
    assert_eq!(
        own.areas
            .iter()
            .map(|a| a.area_code.as_str())
            .collect::<Vec<_>>(),
        ["01002"]
    );
    let elsewhere = hotspots(
        &cluster,
        province.token(),
        GetHotspotsRequest {
            province_code: "79".to_owned(),
            ..asked.clone()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(elsewhere.code(), Code::PermissionDenied, "{elsewhere:?}");
    let bad = hotspots(
        &cluster,
        province.token(),
        GetHotspotsRequest {
            window_days: 400,
            baseline_windows: -1,
            province_code: "1".to_owned(),
            level: 9,
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&bad),
        ["window_days", "baseline_windows", "province_code", "level"]
    );

    // Risk: criminal in force (30) and two recent arrests (2 × 15) → 60, high.
    let risk = analysis(&cluster)
        .get_risk_indicator(request(
            GetRiskIndicatorRequest {
                subject_id: an.id.clone(),
            },
            owner.token(),
            Some(PURPOSE),
            Some(CASE),
        ))
        .await
        .expect("risk")
        .into_inner();
    assert_eq!(risk.score, 60);
    assert_eq!(risk.level, RiskLevel::High as i32);
    let reasons: Vec<(&str, i32)> = risk
        .reasons
        .iter()
        .map(|r| (r.code.as_str(), r.points))
        .collect();
    assert_eq!(reasons, [("class:criminal", 30), ("fact:arrest", 30)]);
    let risk_of = |token: String, id: String| {
        let mut client = analysis(&cluster);
        async move {
            client
                .get_risk_indicator(request(
                    GetRiskIndicatorRequest { subject_id: id },
                    &token,
                    Some(PURPOSE),
                    Some(CASE),
                ))
                .await
        }
    };
    let foreign = risk_of(neighbour.token().to_owned(), an.id.clone())
        .await
        .unwrap_err();
    assert_eq!(foreign.code(), Code::PermissionDenied);
    let missing = risk_of(
        owner.token().to_owned(),
        "0192f0c0-0000-7000-8000-000000000000".to_owned(),
    )
    .await
    .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    let malformed = risk_of(owner.token().to_owned(), "x".to_owned())
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&malformed), ["subject_id"]);

    // Scorecard before any re-validation: nobody is "correct" yet; the rest passes.
    let card = scorecard(&cluster, owner.token(), "")
        .await
        .expect("scorecard");
    assert_eq!(card.unit, "CAX-01001");
    assert_eq!(card.subjects, 2);
    assert_eq!(passed(&card, QualityDimension::Correct), 0);
    assert_eq!(passed(&card, QualityDimension::Complete), 2);
    assert_eq!(passed(&card, QualityDimension::Clean), 2);
    assert_eq!(passed(&card, QualityDimension::Live), 2);
    assert!(card.oldest_validation_time.is_none());

    // Records holds a wrong name for Bình; re-validation finds it.
    let store = sea_orm::Database::connect(cluster.config.database_url(ServiceKind::Records))
        .await
        .expect("open the records database");
    store
        .execute_unprepared(&format!(
            "UPDATE subjects SET snapshot_full_name = 'Trần Văn Bính' WHERE id = '{}'",
            binh.id
        ))
        .await
        .expect("corrupt the snapshot");
    let found = analysis(&cluster)
        .revalidate_subjects(request(
            RevalidateSubjectsRequest::default(),
            owner.token(),
            Some(PURPOSE),
            Some(CASE),
        ))
        .await
        .expect("revalidate")
        .into_inner();
    assert_eq!(
        (
            found.checked,
            found.matched,
            found.mismatched,
            found.unknown
        ),
        (2, 1, 1, 0)
    );
    // The neighbouring unit keeps An as a subject too: a duplicate.
    cluster
        .create_subject(neighbour.token(), AN)
        .await
        .expect("second unit");
    let card = scorecard(&cluster, province.token(), "CAX-01001")
        .await
        .expect("scorecard from the province");
    assert_eq!(passed(&card, QualityDimension::Correct), 1);
    assert_eq!(passed(&card, QualityDimension::Clean), 1);
    assert!(card.oldest_validation_time.is_some());
    let offences: Vec<(&str, i32)> = card
        .offences
        .iter()
        .map(|o| (o.subject_id.as_str(), o.dimension))
        .collect();
    assert!(offences.contains(&(binh.id.as_str(), QualityDimension::Correct as i32)));
    assert!(offences.contains(&(an.id.as_str(), QualityDimension::Clean as i32)));
    assert_eq!(card.total_offences, 2);
    for offence in &card.offences {
        for (id, name, _) in PEOPLE {
            assert!(!offence.reason.contains(id) && !offence.reason.contains(name));
        }
    }

    // Another commune's unit may not read this unit's scorecard; bad unit codes are refused.
    let denied = scorecard(&cluster, neighbour.token(), "CAX-01001")
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let bad = scorecard(&cluster, owner.token(), "CAX 01001!")
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&bad), ["unit"]);

    // Every analysis call is audited under its RPC.
    let events = cluster
        .events_for_rpc(
            &admin,
            &province.officer.id,
            "/dancu.records.v1.AnalysisService/GetHotspots",
            3,
        )
        .await;
    assert!(events.len() >= 3, "hotspot calls audited");
    cluster.shutdown().await;
}
