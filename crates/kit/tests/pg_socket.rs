//! PostgreSQL connections opened by `dancu_kit::db::connect` have `TCP_NODELAY` set, where
//! a bare sqlx 0.9.0 connection does not (the regression `dancu_kit::pg_socket` works
//! around; when this test finds it set on the bare connection too, sqlx has been fixed and
//! the module can go). Runs when `DANCU_TEST_POSTGRES_URL` names a server over TCP, as in
//! CI's PostgreSQL pass; there is nothing to check on SQLite.

use sea_orm::sqlx::{Connection, PgConnection};

#[tokio::test]
async fn postgres_connections_are_opened_with_tcp_nodelay() {
    let Ok(url) = std::env::var("DANCU_TEST_POSTGRES_URL") else {
        return;
    };
    let db = dancu_kit::db::connect(&url, 2).await.expect("connect");
    let mut pooled = db
        .get_postgres_connection_pool()
        .acquire()
        .await
        .expect("a pooled connection");
    assert_eq!(
        dancu_kit::pg_socket::nodelay(&mut pooled)
            .await
            .expect("query"),
        Some(true),
        "the pool's connections send without waiting for acknowledgements"
    );

    let mut bare = PgConnection::connect(&url).await.expect("bare connection");
    assert_eq!(
        dancu_kit::pg_socket::nodelay(&mut bare)
            .await
            .expect("query"),
        Some(false),
        "sqlx itself still leaves Nagle's algorithm on"
    );
    assert!(
        dancu_kit::pg_socket::set_nodelay(&mut bare)
            .await
            .expect("query")
    );
    assert_eq!(
        dancu_kit::pg_socket::nodelay(&mut bare)
            .await
            .expect("query"),
        Some(true)
    );
}
