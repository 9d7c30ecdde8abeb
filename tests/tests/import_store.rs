//! The store side of the citizen import on SQLite, where its statements are `INSERT OR
//! FAIL` (no statement journal): a constraint the upsert does not cover, violated in the
//! middle of a transaction, fails the call; the rollback leaves nothing of the transaction
//! behind; and the same pooled connection then begins and commits the next import as
//! usual. Runs on a SQLite file under every backend (the statements differ on PostgreSQL).

use dancu_identity::store::{CitizenRow, IdentityStore, ImportRow, ResidenceEventRow};
use sea_orm::TransactionTrait;

fn row(personal_id: &str, event_id: &str) -> ImportRow {
    ImportRow {
        citizen: CitizenRow {
            personal_id: personal_id.to_owned(),
            full_name: "Nguyễn Văn An".to_owned(),
            name_key: "nguyen van an".to_owned(),
            sex: "male".to_owned(),
            birth_date: "1990-03-14".to_owned(),
            birth_year: 1990,
            life_status: "alive".to_owned(),
            perm_commune: "01001".to_owned(),
            perm_province: "01".to_owned(),
            version: 1,
            ..CitizenRow::default()
        },
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
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("identity.db").display()
    );
    // Writes run on the file's one writer connection: the retry runs on the connection
    // that saw the violation.
    let store = IdentityStore::open(&url, 1, 64).await.expect("store");
    let ids = ["001090000001", "001090000002"];

    // Two new citizens whose residence events share an id: the citizens go in, the
    // residence statement violates the unique event id.
    let txn = store.begin_write().await.expect("begin");
    let failed = store
        .import_citizens(
            &txn,
            vec![row(ids[0], "e1"), row(ids[1], "e1")],
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
            vec![row(ids[0], "e1"), row(ids[1], "e2")],
            "admin",
            1,
            "bulk import",
        )
        .await
        .expect("import");
    txn.commit().await.expect("commit");
    assert_eq!(inserted.len(), 2);
    assert_eq!(citizens(&store, &ids).await, 2);

    // A nested `begin` would fail or become a savepoint if the connection still counted
    // the failed transaction as open; a plain read-write transaction commits.
    let txn = store.connection().begin().await.expect("begin");
    txn.commit().await.expect("commit");
}
