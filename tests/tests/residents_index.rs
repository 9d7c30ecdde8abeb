//! The index of temporary residents (migration m0005): partial, so that citizens without a
//! temporary residence have no entry in it; used by both halves of a residents listing;
//! and reversible. Runs on a SQLite file under every backend: the query plan asserted is
//! SQLite's (PostgreSQL's planner prefers a scan on a table this small).

use dancu_identity::store::{CitizenRow, IdentityStore, Migrator};
use sea_orm::{ConnectionTrait, Statement};
use sea_orm_migration::MigratorTrait;

/// The stored definition of the index.
async fn index_sql(store: &IdentityStore) -> String {
    let row = store
        .connection()
        .query_one_raw(Statement::from_string(
            sea_orm::DatabaseBackend::Sqlite,
            "SELECT sql FROM sqlite_master WHERE name = 'idx_citizens_temp_commune'",
        ))
        .await
        .expect("query")
        .expect("the index exists");
    row.try_get_by_index::<String>(0).expect("sql")
}

fn citizen(personal_id: &str, temporary: Option<(&str, &str)>) -> CitizenRow {
    let (temp_commune, temp_until) = temporary.unwrap_or(("", ""));
    CitizenRow {
        temp_commune: temp_commune.to_owned(),
        temp_province: if temp_commune.is_empty() { "" } else { "01" }.to_owned(),
        temp_until: temp_until.to_owned(),
        ..dancu_e2e::citizen_row(personal_id, "01002")
    }
}

#[tokio::test]
async fn the_temporary_residents_index_is_partial_used_and_reversible() {
    let (_dir, store) = dancu_e2e::identity_store_on_file(2).await;
    assert!(
        index_sql(&store).await.contains("WHERE temp_commune <> ''"),
        "partial after the migrations"
    );

    let today = "2026-06-01";
    let plans = store
        .explain_residents("01001", today)
        .await
        .expect("plans");
    let plans = plans.join("\n");
    assert!(
        plans.contains("idx_citizens_temp_commune") && plans.contains("idx_citizens_perm_commune"),
        "each half of a residents listing reads its own index:\n{plans}"
    );

    // Residents are found through it: a temporary resident of 01001 (in force), one whose
    // temporary residence there has ended, and a permanent resident of elsewhere.
    store
        .insert_citizens(
            store.connection(),
            vec![
                citizen("001090000001", Some(("01001", "2027-01-01"))),
                citizen("001090000002", Some(("01001", "2026-01-01"))),
                citizen("001090000003", None),
            ],
        )
        .await
        .expect("insert");
    let ids = |rows: Vec<CitizenRow>| -> Vec<String> {
        rows.into_iter().map(|r| r.personal_id).collect()
    };
    let here = store
        .residents("01001", today, "", 10)
        .await
        .expect("residents");
    assert_eq!(ids(here), ["001090000001"]);
    let home = store
        .residents("01002", today, "", 10)
        .await
        .expect("residents");
    assert_eq!(ids(home), ["001090000002", "001090000003"]);

    // Down (m0006, then this m0005): the full index again; up: partial again, with the
    // same answers.
    Migrator::down(store.connection(), Some(2))
        .await
        .expect("down");
    assert!(
        !index_sql(&store).await.contains("WHERE"),
        "full after down"
    );
    Migrator::up(store.connection(), None).await.expect("up");
    assert!(index_sql(&store).await.contains("WHERE temp_commune <> ''"));
    let here = store
        .residents("01001", today, "", 10)
        .await
        .expect("residents");
    assert_eq!(ids(here), ["001090000001"]);
}
