//! One name index (migration m0006): searches by name, with or without a year of birth,
//! read `idx_citizens_name_year` in its order (by year of birth, then personal ID) without
//! a sort, continue after a (year, personal ID) cursor, and the migration is reversible.
//! Runs on a SQLite file under every backend: the query plans asserted are SQLite's.

use dancu_identity::store::{CitizenRow, CitizenSearch, IdentityStore, Migrator, SearchAfter};
use sea_orm::{ConnectionTrait, Statement};
use sea_orm_migration::MigratorTrait;

/// Whether an index named `name` exists.
async fn index_exists(store: &IdentityStore, name: &str) -> bool {
    store
        .connection()
        .query_one_raw(Statement::from_sql_and_values(
            sea_orm::DatabaseBackend::Sqlite,
            "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?",
            [name.into()],
        ))
        .await
        .expect("query")
        .is_some()
}

fn born(personal_id: &str, year: i32) -> CitizenRow {
    CitizenRow {
        birth_date: format!("{year}-03-14"),
        birth_year: year,
        ..dancu_e2e::citizen_row(personal_id, "01002")
    }
}

#[tokio::test]
async fn name_searches_read_one_index_in_year_then_id_order_and_the_migration_reverses() {
    let (_dir, store) = dancu_e2e::identity_store_on_file(2).await;
    assert!(index_exists(&store, "idx_citizens_name_year").await);
    assert!(
        !index_exists(&store, "idx_citizens_name_id").await,
        "dropped by m0006"
    );
    let today = "2026-06-01";
    let by_name = CitizenSearch {
        name_key: "nguyen van an".to_owned(),
        ..Default::default()
    };
    let plans = store
        .explain_search(&by_name, today)
        .await
        .expect("plans")
        .join("\n");
    assert!(
        plans.contains("idx_citizens_name_year") && !plans.contains("TEMP B-TREE"),
        "a name-only search reads the index in order, without a sort:\n{plans}"
    );

    // Personal-ID order and year order differ: 079… is born first.
    store
        .insert_citizens(
            store.connection(),
            vec![
                born("001090000001", 1990),
                born("001091000002", 1991),
                born("079089000003", 1989),
                born("001090000004", 1990),
            ],
        )
        .await
        .expect("insert");
    let ids = |rows: Vec<CitizenRow>| -> Vec<String> {
        rows.into_iter().map(|r| r.personal_id).collect()
    };
    let first = store
        .search_citizens(&by_name, today, None, 2)
        .await
        .expect("first page");
    assert_eq!(ids(first), ["079089000003", "001090000001"]);
    let after = SearchAfter {
        birth_year: 1990,
        personal_id: "001090000001".to_owned(),
    };
    let next = store
        .search_citizens(&by_name, today, Some(&after), 2)
        .await
        .expect("next page");
    assert_eq!(ids(next), ["001090000004", "001091000002"]);
    // With a year, the page continues within that year.
    let in_1990 = CitizenSearch {
        birth_year: Some(1990),
        ..by_name.clone()
    };
    let next = store
        .search_citizens(&in_1990, today, Some(&after), 10)
        .await
        .expect("next page of 1990");
    assert_eq!(ids(next), ["001090000004"]);

    // Down: the name-only index again; up: gone again, with the same answers.
    Migrator::down(store.connection(), Some(1))
        .await
        .expect("down");
    assert!(index_exists(&store, "idx_citizens_name_id").await);
    Migrator::up(store.connection(), None).await.expect("up");
    assert!(!index_exists(&store, "idx_citizens_name_id").await);
    let first = store
        .search_citizens(&by_name, today, None, 2)
        .await
        .expect("first page");
    assert_eq!(ids(first), ["079089000003", "001090000001"]);
}
