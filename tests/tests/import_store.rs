//! The store side of the citizen import on a SQLite file, under every backend (the
//! statements differ on PostgreSQL). Both ways it writes must fail whole on a constraint
//! the upsert does not cover, violated in the middle of a transaction, and leave the one
//! writer connection ready for the next import:
//! - `import_citizens` in a caller's transaction (multi-row `INSERT OR FAIL`, no statement
//!   journal; the rollback leaves nothing behind);
//! - `commit_citizen_import`, which on a SQLite file runs its own transaction directly on
//!   the writer's handle, with the import's audit outbox rows.

use dancu_audit_client::OutboxRow;
use dancu_identity::store::{IdentityStore, ImportRow, ResidenceEventRow};
use sea_orm::{DbErr, TransactionTrait};

fn row(personal_id: &str, event_id: &str) -> ImportRow {
    ImportRow {
        citizen: dancu_e2e::citizen_row(personal_id, "01001"),
        residences: vec![ResidenceEventRow {
            seq: 0,
            event_id: event_id.to_owned(),
            personal_id: personal_id.to_owned(),
            kind: "permanent".to_owned(),
            commune_code: "01001".to_owned(),
            province_code: "01".to_owned(),
            address: "Số 1 Lê Lợi".to_owned(),
            start_date: "2010-01-01".to_owned(),
            end_date: String::new(),
            host_name: String::new(),
            supervision: "none".to_owned(),
            destination: String::new(),
            mandatory: false,
            recorded_us: 1,
            recorded_by: "admin".to_owned(),
        }],
    }
}

/// `rows` borrowed, as the store takes them.
fn refs(rows: &[ImportRow]) -> Vec<&ImportRow> {
    rows.iter().collect()
}

/// One row per personal ID of `ids`, with the residence event ids of `events`.
fn rows(ids: [&str; 2], events: [&str; 2]) -> Vec<ImportRow> {
    ids.iter()
        .zip(events)
        .map(|(id, event)| row(id, event))
        .collect()
}

async fn citizens(store: &IdentityStore, ids: &[&str]) -> usize {
    let mut found = 0;
    for id in ids {
        if store.citizen(id).await.expect("read").is_some() {
            found += 1;
        }
    }
    found
}

#[tokio::test]
async fn a_violation_fails_the_import_whole_and_the_connection_imports_again() {
    // Writes run on the file's one writer connection: the retry runs on the connection
    // that saw the violation.
    let (_dir, store) = dancu_e2e::identity_store_on_file(1).await;
    let ids = ["001090000001", "001090000002"];

    // Two new citizens whose residence events share an id: the citizens go in, the
    // residence statement violates the unique event id.
    let txn = store.begin_write().await.expect("begin");
    let failed = store
        .import_citizens(
            &txn,
            &refs(&rows(ids, ["e1", "e1"])),
            "admin",
            1,
            "bulk import",
        )
        .await;
    let error = failed.expect_err("the duplicate event id fails the import");
    assert!(error.to_string().contains("UNIQUE"), "{error}");
    txn.rollback()
        .await
        .expect("the transaction is still open and rolls back");
    assert_eq!(citizens(&store, &ids).await, 0, "nothing of it is kept");

    let txn = store
        .begin_write()
        .await
        .expect("begin again on the same connection");
    let inserted = store
        .import_citizens(
            &txn,
            &refs(&rows(ids, ["e1", "e2"])),
            "admin",
            1,
            "bulk import",
        )
        .await
        .expect("import");
    txn.commit().await.expect("commit");
    assert_eq!(inserted, [true, true]);
    assert_eq!(citizens(&store, &ids).await, 2);

    // A nested `begin` would fail or become a savepoint if the connection still counted
    // the failed transaction as open; a plain read-write transaction commits.
    let txn = store.connection().begin().await.expect("begin");
    txn.commit().await.expect("commit");
}

fn outbox_row(event_id: &str) -> OutboxRow {
    OutboxRow {
        event_id: event_id.to_owned(),
        payload: vec![1, 2, 3],
        created_us: 1,
    }
}

/// `commit_citizen_import` of `rows(ids, events)` by `admin` at `now`, with one audit
/// outbox row per id of `outbox`.
async fn commit(
    store: &IdentityStore,
    ids: [&str; 2],
    events: [&str; 2],
    now: i64,
    outbox: &[&str],
) -> Result<Vec<bool>, DbErr> {
    let outbox = outbox.iter().map(|id| outbox_row(id)).collect();
    store
        .commit_citizen_import(
            &refs(&rows(ids, events)),
            "admin",
            now,
            "bulk import",
            outbox,
        )
        .await
}

#[tokio::test]
async fn the_direct_import_commits_whole_with_its_outbox_rows_or_not_at_all() {
    let (_dir, store) = dancu_e2e::identity_store_on_file(2).await;
    let ids = ["001090000001", "001090000002"];

    let failed = commit(&store, ids, ["e1", "e1"], 1, &["audit-1"]).await;
    let error = failed.expect_err("the duplicate event id fails the import");
    assert!(error.to_string().contains("UNIQUE"), "{error}");
    assert_eq!(citizens(&store, &ids).await, 0, "no citizen is kept");
    assert_eq!(outbox_rows(&store).await, 0, "no audit row is kept");

    let inserted = commit(&store, ids, ["e1", "e2"], 1, &["audit-1"])
        .await
        .expect("the writer imports again");
    assert_eq!(inserted, [true, true]);
    assert_eq!(citizens(&store, &ids).await, 2);
    assert_eq!(
        outbox_rows(&store).await,
        1,
        "the audit row committed with them"
    );

    // Run again, the same rows change nothing; sea-orm's transactions go on as usual on
    // the writer connection.
    let again = commit(&store, ids, ["e3", "e4"], 2, &[])
        .await
        .expect("second run");
    assert_eq!(again, [false, false], "nothing new");
    // A personal ID offered twice in one group registers once, from its first row.
    let twice = ["001090000003", "001090000003"];
    let repeated = commit(&store, twice, ["e5", "e6"], 3, &[])
        .await
        .expect("repeated id");
    assert_eq!(repeated, [true, false]);
    assert_eq!(residence_events(&store, "001090000003").await, ["e5"]);
    let txn = store.begin_write().await.expect("begin on the writer");
    txn.commit().await.expect("commit");
}

async fn outbox_rows(store: &IdentityStore) -> i64 {
    use sea_orm::ConnectionTrait;
    let db = store.connection();
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT count(*) FROM audit_outbox",
        ))
        .await
        .expect("query")
        .expect("row");
    row.try_get_by_index(0).expect("count")
}

/// The residence event ids of `personal_id`, in the order they were recorded.
async fn residence_events(store: &IdentityStore, personal_id: &str) -> Vec<String> {
    use sea_orm::ConnectionTrait;
    let db = store.connection();
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DatabaseBackend::Postgres => {
            "SELECT event_id FROM residence_events WHERE personal_id = $1 ORDER BY seq"
        }
        _ => "SELECT event_id FROM residence_events WHERE personal_id = ? ORDER BY seq",
    };
    db.query_all_raw(sea_orm::Statement::from_sql_and_values(
        backend,
        sql,
        [personal_id.into()],
    ))
    .await
    .expect("query")
    .iter()
    .map(|row| row.try_get_by_index(0).expect("event id"))
    .collect()
}
