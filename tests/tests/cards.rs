//! Identity cards end to end: issue, renew, report lost, revoke, state and history,
//! expiry at the milestone ages, illegal transitions, bad input — and the audit trail.

use dancu_e2e::Cluster;
use dancu_e2e::api::request;
use dancu_e2e::register::{
    PURPOSE, add_months, assert_code, assert_invalid, proto_date, vietnam_today,
};
use dancu_proto::identity::v1::{
    CardEventType, CardState, GetCardRequest, IdentityCard, IssueCardRequest,
    ListCardEventsRequest, RenewCardRequest, ReportCardLostRequest, RevokeCardRequest,
};
use tonic::{Code, Status};

async fn issue(
    cluster: &Cluster,
    token: &str,
    req: IssueCardRequest,
) -> Result<IdentityCard, Status> {
    cluster
        .cards()
        .issue_card(request(req, token, Some(PURPOSE), None))
        .await
        .map(tonic::Response::into_inner)
}

fn issue_req(personal_id: &str) -> IssueCardRequest {
    IssueCardRequest {
        personal_id: personal_id.to_owned(),
        ..Default::default()
    }
}

async fn renew(
    cluster: &Cluster,
    token: &str,
    personal_id: &str,
    etag: &str,
) -> Result<IdentityCard, Status> {
    let req = RenewCardRequest {
        personal_id: personal_id.to_owned(),
        etag: etag.to_owned(),
        reason: "age milestone".to_owned(),
    };
    cluster
        .cards()
        .renew_card(request(req, token, Some(PURPOSE), None))
        .await
        .map(tonic::Response::into_inner)
}

async fn report_lost(
    cluster: &Cluster,
    token: &str,
    personal_id: &str,
) -> Result<IdentityCard, Status> {
    let req = ReportCardLostRequest {
        personal_id: personal_id.to_owned(),
        ..Default::default()
    };
    cluster
        .cards()
        .report_card_lost(request(req, token, Some(PURPOSE), None))
        .await
        .map(tonic::Response::into_inner)
}

async fn revoke(
    cluster: &Cluster,
    token: &str,
    personal_id: &str,
    reason: &str,
) -> Result<IdentityCard, Status> {
    let req = RevokeCardRequest {
        personal_id: personal_id.to_owned(),
        reason: reason.to_owned(),
        ..Default::default()
    };
    cluster
        .cards()
        .revoke_card(request(req, token, Some(PURPOSE), None))
        .await
        .map(tonic::Response::into_inner)
}

async fn get(cluster: &Cluster, token: &str, personal_id: &str) -> Result<IdentityCard, Status> {
    let req = GetCardRequest {
        personal_id: personal_id.to_owned(),
    };
    cluster
        .cards()
        .get_card(request(req, token, Some(PURPOSE), None))
        .await
        .map(tonic::Response::into_inner)
}

fn state(card: &IdentityCard) -> CardState {
    CardState::try_from(card.state).expect("known state")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn card_lifecycle_with_history_and_audit() {
    let cluster = Cluster::start().await;
    let (token, officer) = cluster.admin_login().await;
    let today = vietnam_today();
    // 30 years and ten days old: the next milestone is 40.
    let birth = add_months(today, -360).pred_opt().unwrap() - chrono::Days::new(9);
    let id = cluster.register_born(&token, birth, 1).await;

    // No card yet.
    assert_code(
        &get(&cluster, &token, &id).await.unwrap_err(),
        Code::NotFound,
    );

    let card = issue(&cluster, &token, issue_req(&id))
        .await
        .expect("issue");
    assert_eq!(card.card_number, id);
    assert_eq!(state(&card), CardState::Active);
    assert_eq!(card.issue_date, Some(proto_date(today)));
    assert_eq!(card.expire_date, Some(proto_date(add_months(birth, 480))));
    assert_eq!(get(&cluster, &token, &id).await.expect("get"), card);

    // Issuing again is refused: the card must be renewed instead.
    let status = issue(&cluster, &token, issue_req(&id)).await.unwrap_err();
    assert_code(&status, Code::FailedPrecondition);
    assert!(status.message().contains("renew"), "{status:?}");

    // A stale etag is refused; the current one works.
    assert_code(
        &renew(&cluster, &token, &id, "\"99\"").await.unwrap_err(),
        Code::Aborted,
    );
    let renewed = renew(&cluster, &token, &id, &card.etag)
        .await
        .expect("renew");
    assert_eq!(state(&renewed), CardState::Active);
    assert_ne!(renewed.etag, card.etag);

    // Lost: once, not twice; a lost card is not renewed but replaced.
    let lost = report_lost(&cluster, &token, &id)
        .await
        .expect("report lost");
    assert_eq!(state(&lost), CardState::Lost);
    let status = report_lost(&cluster, &token, &id).await.unwrap_err();
    assert_code(&status, Code::FailedPrecondition);
    assert_eq!(status.message(), "the card is already reported lost");
    let status = renew(&cluster, &token, &id, "").await.unwrap_err();
    assert_code(&status, Code::FailedPrecondition);
    let replaced = issue(&cluster, &token, issue_req(&id))
        .await
        .expect("replace");
    assert_eq!(state(&replaced), CardState::Active);

    // Revoked: a reason is required; afterwards no renewal, loss or second revocation.
    assert_invalid(
        &revoke(&cluster, &token, &id, " ").await.unwrap_err(),
        "reason",
    );
    let revoked = revoke(
        &cluster,
        &token,
        &id,
        "Decision 12/QD-CA: loss of nationality",
    )
    .await
    .expect("revoke");
    assert_eq!(state(&revoked), CardState::Revoked);
    for status in [
        renew(&cluster, &token, &id, "").await.unwrap_err(),
        report_lost(&cluster, &token, &id).await.unwrap_err(),
        revoke(&cluster, &token, &id, "again").await.unwrap_err(),
    ] {
        assert_code(&status, Code::FailedPrecondition);
    }
    assert_eq!(
        state(&get(&cluster, &token, &id).await.unwrap()),
        CardState::Revoked
    );

    // The history: every accepted change, in order, by whom.
    let events = cluster
        .cards()
        .list_card_events(request(
            ListCardEventsRequest {
                personal_id: id.clone(),
            },
            &token,
            Some(PURPOSE),
            None,
        ))
        .await
        .expect("events")
        .into_inner()
        .events;
    let kinds: Vec<CardEventType> = events
        .iter()
        .map(|e| CardEventType::try_from(e.r#type).unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            CardEventType::Issued,
            CardEventType::Renewed,
            CardEventType::ReportedLost,
            CardEventType::Issued,
            CardEventType::Revoked
        ]
    );
    assert_eq!(
        events.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    assert!(events.iter().all(|e| e.actor_id == officer));
    assert_eq!(events[1].reason, "age milestone");
    assert_eq!(events[4].reason, "Decision 12/QD-CA: loss of nationality");

    // Every call is audited against the holder, refusals with their code.
    let audit = cluster.events_about(&token, &id, 18).await;
    let outcomes = |rpc: &str| -> Vec<String> {
        audit
            .iter()
            .filter(|e| e.rpc == format!("/dancu.identity.v1.CardService/{rpc}"))
            .map(|e| e.outcome.clone())
            .collect()
    };
    let mut issue_outcomes = outcomes("IssueCard");
    issue_outcomes.sort();
    assert_eq!(issue_outcomes, ["FAILED_PRECONDITION", "OK", "OK"]);
    let mut lost_outcomes = outcomes("ReportCardLost");
    lost_outcomes.sort();
    assert_eq!(
        lost_outcomes,
        ["FAILED_PRECONDITION", "FAILED_PRECONDITION", "OK"]
    );
    assert!(outcomes("RenewCard").contains(&"ABORTED".to_owned()));
    assert!(outcomes("RevokeCard").contains(&"INVALID_ARGUMENT".to_owned()));
    assert!(outcomes("GetCard").contains(&"NOT_FOUND".to_owned()));
    assert_eq!(outcomes("ListCardEvents"), ["OK"]);
    let card_calls: Vec<_> = audit
        .iter()
        .filter(|e| e.rpc.starts_with("/dancu.identity.v1.CardService/"))
        .collect();
    assert_eq!(card_calls.len(), 17);
    assert!(
        card_calls
            .iter()
            .all(|e| e.resource_type == "identity_card")
    );
    assert!(card_calls.iter().all(|e| e.purpose == PURPOSE));

    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_follows_the_milestone_ages() {
    let cluster = Cluster::start().await;
    let (token, _) = cluster.admin_login().await;
    let today = vietnam_today();

    // 18 years old: expires at 25.
    let birth = add_months(today, -18 * 12 - 1);
    let id = cluster.register_born(&token, birth, 11).await;
    let card = issue(&cluster, &token, issue_req(&id)).await.unwrap();
    assert_eq!(
        card.expire_date,
        Some(proto_date(add_months(birth, 25 * 12)))
    );

    // 23 years and 6 months old: within two years of 25, so valid until 40.
    let birth = add_months(today, -(23 * 12 + 6));
    let id = cluster.register_born(&token, birth, 12).await;
    let card = issue(&cluster, &token, issue_req(&id)).await.unwrap();
    assert_eq!(
        card.expire_date,
        Some(proto_date(add_months(birth, 40 * 12)))
    );

    // 45 years old: expires at 60.
    let birth = add_months(today, -45 * 12);
    let id = cluster.register_born(&token, birth, 13).await;
    let card = issue(&cluster, &token, issue_req(&id)).await.unwrap();
    assert_eq!(
        card.expire_date,
        Some(proto_date(add_months(birth, 60 * 12)))
    );

    // 59 years old (within two years of 60) and 70 years old: never expires.
    for (years, serial) in [(59, 14), (70, 15)] {
        let birth = add_months(today, -years * 12);
        let id = cluster.register_born(&token, birth, serial).await;
        let card = issue(&cluster, &token, issue_req(&id)).await.unwrap();
        assert_eq!(card.expire_date, None, "issued at {years}");
        assert_eq!(state(&card), CardState::Active);
    }

    // 10 years old: refused without a guardian's request; with one, valid until 14.
    let birth = add_months(today, -10 * 12);
    let id = cluster.register_born(&token, birth, 16).await;
    let status = issue(&cluster, &token, issue_req(&id)).await.unwrap_err();
    assert_code(&status, Code::FailedPrecondition);
    assert!(status.message().contains("14"), "{status:?}");
    let card = issue(
        &cluster,
        &token,
        IssueCardRequest {
            personal_id: id.clone(),
            guardian_request: true,
            reason: "requested by the mother".to_owned(),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        card.expire_date,
        Some(proto_date(add_months(birth, 14 * 12)))
    );

    // Time passes: once the expiry date has come the card reads EXPIRED, may be reported
    // lost or renewed, and renewal dates it from today.
    let birth = add_months(today, -30 * 12);
    let id = cluster.register_born(&token, birth, 17).await;
    issue(&cluster, &token, issue_req(&id)).await.unwrap();
    cluster.set_card_expiry(&id, today).await;
    let card = get(&cluster, &token, &id).await.unwrap();
    assert_eq!(state(&card), CardState::Expired);
    let status = issue(&cluster, &token, issue_req(&id)).await.unwrap_err();
    assert_code(&status, Code::FailedPrecondition);
    let renewed = renew(&cluster, &token, &id, &card.etag).await.unwrap();
    assert_eq!(state(&renewed), CardState::Active);
    assert_eq!(renewed.issue_date, Some(proto_date(today)));
    assert_eq!(
        renewed.expire_date,
        Some(proto_date(add_months(birth, 40 * 12)))
    );
    cluster
        .set_card_expiry(&id, today.pred_opt().unwrap())
        .await;
    let lost = report_lost(&cluster, &token, &id).await.unwrap();
    assert_eq!(state(&lost), CardState::Lost);

    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_and_unknown_people_are_refused() {
    let cluster = Cluster::start().await;
    let (token, _) = cluster.admin_login().await;

    // Malformed personal IDs, on every method, named as `personal_id`.
    for bad in ["", "123", "00109012345X", "999090123456"] {
        assert_invalid(
            &issue(&cluster, &token, issue_req(bad)).await.unwrap_err(),
            "personal_id",
        );
        assert_invalid(
            &renew(&cluster, &token, bad, "").await.unwrap_err(),
            "personal_id",
        );
        assert_invalid(
            &report_lost(&cluster, &token, bad).await.unwrap_err(),
            "personal_id",
        );
        assert_invalid(
            &revoke(&cluster, &token, bad, "x").await.unwrap_err(),
            "personal_id",
        );
        assert_invalid(
            &get(&cluster, &token, bad).await.unwrap_err(),
            "personal_id",
        );
        let status = cluster
            .cards()
            .list_card_events(request(
                ListCardEventsRequest {
                    personal_id: bad.to_owned(),
                },
                &token,
                Some(PURPOSE),
                None,
            ))
            .await
            .unwrap_err();
        assert_invalid(&status, "personal_id");
    }

    // A well-formed personal ID of nobody in the register: no card can be issued, and
    // there is nothing to renew, lose, revoke, read or list.
    let nobody = "001090999999";
    let status = issue(&cluster, &token, issue_req(nobody))
        .await
        .unwrap_err();
    assert_code(&status, Code::FailedPrecondition);
    assert_eq!(
        status.message(),
        "the person is not in the population register"
    );
    let status = renew(&cluster, &token, nobody, "").await.unwrap_err();
    assert_code(&status, Code::FailedPrecondition);
    for status in [
        report_lost(&cluster, &token, nobody).await.unwrap_err(),
        revoke(&cluster, &token, nobody, "x").await.unwrap_err(),
        get(&cluster, &token, nobody).await.unwrap_err(),
    ] {
        assert_code(&status, Code::NotFound);
        assert!(
            !status.message().contains(nobody),
            "no personal data in errors"
        );
    }

    // Bad etags, over-long reasons, a missing purpose.
    let id = cluster
        .register_born(&token, add_months(vietnam_today(), -30 * 12), 21)
        .await;
    issue(&cluster, &token, issue_req(&id)).await.unwrap();
    assert_invalid(
        &renew(&cluster, &token, &id, "abc").await.unwrap_err(),
        "etag",
    );
    assert_invalid(
        &renew(&cluster, &token, &id, "\"0\"").await.unwrap_err(),
        "etag",
    );
    let status = revoke(&cluster, &token, &id, &"x".repeat(501))
        .await
        .unwrap_err();
    assert_invalid(&status, "reason");
    let status = cluster
        .cards()
        .get_card(request(
            GetCardRequest {
                personal_id: id.clone(),
            },
            &token,
            None,
            None,
        ))
        .await
        .unwrap_err();
    assert_invalid(&status, "x-dancu-purpose");
    // Nothing half-written: the card is untouched by the refused calls.
    let card = get(&cluster, &token, &id).await.unwrap();
    assert_eq!(state(&card), CardState::Active);
    assert_eq!(card.etag, "\"1\"");

    // No token at all.
    let status = cluster
        .cards()
        .get_card(GetCardRequest {
            personal_id: id.clone(),
        })
        .await
        .unwrap_err();
    assert_code(&status, Code::Unauthenticated);

    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_changes_apply_once() {
    let cluster = Cluster::start().await;
    let (token, _) = cluster.admin_login().await;
    let id = cluster
        .register_born(&token, add_months(vietnam_today(), -30 * 12), 31)
        .await;

    // Eight officers issue the same first card at once: one card, one event.
    let issues =
        futures::future::join_all((0..8).map(|_| issue(&cluster, &token, issue_req(&id)))).await;
    let ok = issues.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 1, "{issues:?}");
    for status in issues.iter().filter_map(|r| r.as_ref().err()) {
        assert!(
            matches!(status.code(), Code::FailedPrecondition | Code::Aborted),
            "{status:?}"
        );
    }

    // Eight report it lost at once: exactly one succeeds, the others are refused cleanly.
    let reports =
        futures::future::join_all((0..8).map(|_| report_lost(&cluster, &token, &id))).await;
    assert_eq!(
        reports.iter().filter(|r| r.is_ok()).count(),
        1,
        "{reports:?}"
    );
    for status in reports.iter().filter_map(|r| r.as_ref().err()) {
        assert!(
            matches!(status.code(), Code::FailedPrecondition | Code::Aborted),
            "{status:?}"
        );
    }
    let events = cluster
        .cards()
        .list_card_events(request(
            ListCardEventsRequest {
                personal_id: id.clone(),
            },
            &token,
            Some(PURPOSE),
            None,
        ))
        .await
        .unwrap()
        .into_inner()
        .events;
    assert_eq!(events.len(), 2, "one issue and one loss, no forked history");

    cluster.shutdown().await;
}
