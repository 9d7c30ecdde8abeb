//! End to end: refresh tokens rotate on use (a replay voids them all), logout revokes the
//! access token everywhere, and signing keys rotate without refusing any valid token.

use dancu_e2e::Cluster;
use dancu_e2e::access::until_unauthenticated;
use dancu_e2e::api::request;
use dancu_proto::identity::v1::{
    ListPublicKeysRequest, LogoutRequest, RefreshRequest, RotateSigningKeyRequest,
};
use dancu_proto::records::v1::GetSubjectRecordRequest;
use std::time::Duration;

async fn records_status(cluster: &Cluster, token: &str) -> tonic::Code {
    match cluster
        .records()
        .get_subject_record(request(
            GetSubjectRecordRequest {
                id: uuid::Uuid::now_v7().to_string(),
            },
            token,
            Some("investigation"),
            Some("12/VKS-HS"),
        ))
        .await
    {
        Ok(_) => tonic::Code::Ok,
        Err(status) => status.code(),
    }
}

fn kid(token: &str) -> String {
    jsonwebtoken::decode_header(token)
        .expect("jwt header")
        .kid
        .expect("kid")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_rotates_and_a_replay_voids_the_family() {
    let cluster = Cluster::start().await;
    let (admin, _) = cluster.admin_login().await;
    let officer = cluster
        .officer(&admin, "inv.refresh", "CAT-01", &["investigator"], None)
        .await;
    let first = officer.login.refresh_token.clone();
    assert!(!first.is_empty());
    let refresh = |token: String| {
        let auth = cluster.auth();
        async move {
            auth.clone()
                .refresh(RefreshRequest {
                    refresh_token: token,
                })
                .await
                .map(tonic::Response::into_inner)
        }
    };
    let second = refresh(first.clone()).await.expect("refresh");
    assert_ne!(second.refresh_token, first);
    assert_eq!(second.area, "01");
    assert_eq!(second.roles, ["investigator"]);
    assert_eq!(
        records_status(&cluster, &second.access_token).await,
        tonic::Code::NotFound
    );
    // The first refresh token is spent; presenting it again voids the second one too.
    let replay = refresh(first).await.unwrap_err();
    assert_eq!(replay.code(), tonic::Code::Unauthenticated);
    assert_eq!(
        refresh(second.refresh_token).await.unwrap_err().code(),
        tonic::Code::Unauthenticated
    );
    for bad in ["", "not-a-token"] {
        let status = refresh(bad.to_owned()).await.unwrap_err();
        let expected = if bad.is_empty() {
            tonic::Code::InvalidArgument
        } else {
            tonic::Code::Unauthenticated
        };
        assert_eq!(status.code(), expected);
    }
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_revokes_the_token_everywhere() {
    let cluster = Cluster::start().await;
    let (admin, _) = cluster.admin_login().await;
    let officer = cluster
        .officer(&admin, "inv.logout", "CAT-01", &["investigator"], None)
        .await;
    let token = officer.token().to_owned();
    assert_eq!(
        records_status(&cluster, &token).await,
        tonic::Code::NotFound
    );
    cluster
        .auth()
        .logout(request(
            LogoutRequest {
                refresh_token: officer.login.refresh_token.clone(),
            },
            &token,
            None,
            None,
        ))
        .await
        .expect("logout");
    let gone = until_unauthenticated(Duration::from_secs(5), || async {
        match records_status(&cluster, &token).await {
            tonic::Code::Unauthenticated => Err(tonic::Status::unauthenticated("revoked")),
            _ => Ok(()),
        }
    })
    .await;
    assert!(gone.is_some(), "records still accepts a logged-out token");
    let refreshed = cluster
        .auth()
        .refresh(RefreshRequest {
            refresh_token: officer.login.refresh_token.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(refreshed.code(), tonic::Code::Unauthenticated);
    // Another session of the same officer is unaffected.
    let again = cluster.login("inv.logout").await.expect("login again");
    assert_eq!(
        records_status(&cluster, &again.access_token).await,
        tonic::Code::NotFound
    );
    // Logout needs a token.
    let anonymous = cluster
        .auth()
        .logout(LogoutRequest::default())
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), tonic::Code::Unauthenticated);
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_keys_rotate_without_downtime() {
    let cluster = Cluster::start().await;
    let (admin, _) = cluster.admin_login().await;
    let officer = cluster
        .officer(&admin, "inv.rotate", "CAT-01", &["investigator"], None)
        .await;
    let old_token = officer.token().to_owned();
    let old_kid = kid(&old_token);
    assert_eq!(
        records_status(&cluster, &old_token).await,
        tonic::Code::NotFound
    );

    // Only a system administrator rotates.
    let refused = cluster
        .auth()
        .rotate_signing_key(request(RotateSigningKeyRequest {}, &old_token, None, None))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    let rotated = cluster
        .auth()
        .rotate_signing_key(request(RotateSigningKeyRequest {}, &admin, None, None))
        .await
        .expect("rotate")
        .into_inner();
    assert_ne!(rotated.kid, old_kid);
    // Published at once, alongside the old key.
    let published: Vec<String> = cluster
        .auth()
        .list_public_keys(ListPublicKeysRequest {})
        .await
        .expect("keys")
        .into_inner()
        .keys
        .into_iter()
        .map(|k| k.kid)
        .collect();
    assert!(published.contains(&rotated.kid) && published.contains(&old_kid));
    // Until it activates, tokens are still signed with the old key; after, with the new
    // one. Tokens of both keys are accepted throughout.
    let early = cluster.login("inv.rotate").await.expect("login");
    assert_eq!(kid(&early.access_token), old_kid);
    tokio::time::sleep(Duration::from_millis(3_200)).await;
    let late = cluster.login("inv.rotate").await.expect("login");
    assert_eq!(kid(&late.access_token), rotated.kid);
    for token in [&old_token, &early.access_token, &late.access_token] {
        assert_eq!(records_status(&cluster, token).await, tonic::Code::NotFound);
    }
    cluster.shutdown().await;
}
