//! Migration m0005: the index of temporary residents holds only people with a temporary
//! residence.
//!
//! `idx_citizens_temp_commune (temp_commune, personal_id)` had an entry for every citizen,
//! although most have no temporary residence (`temp_commune = ''`). Those entries served no
//! query, yet each new citizen inserted one at a random place in the index: a page
//! rewritten per row at every commit of a bulk import. As a partial index
//! (`WHERE temp_commune <> ''`, the same text in SQLite and PostgreSQL) it holds only the
//! people a residents listing can find through it; the listing's query repeats the
//! condition so that both planners may use the index.

use sea_orm_migration::prelude::*;

/// Makes the temporary-residents index partial.
pub struct TemporaryResidentsIndex;

impl MigrationName for TemporaryResidentsIndex {
    fn name(&self) -> &str {
        "m0005_temporary_residents_index"
    }
}

/// The index's name (unchanged by this migration).
const INDEX: &str = "idx_citizens_temp_commune";

#[async_trait::async_trait]
impl MigrationTrait for TemporaryResidentsIndex {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        replace_index(manager, "WHERE temp_commune <> ''").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        replace_index(manager, "").await
    }
}

/// Drops the index and creates it again over the same columns, with `condition` (a
/// `WHERE` clause, or empty). One call, so both statements run on the same connection:
/// on SQLite, another pooled connection could still hold the schema from before the drop
/// and refuse the creation.
async fn replace_index(manager: &SchemaManager<'_>, condition: &str) -> Result<(), DbErr> {
    manager
        .get_connection()
        .execute_unprepared(&format!(
            "DROP INDEX {INDEX}; \
             CREATE INDEX {INDEX} ON citizens (temp_commune, personal_id) {condition}"
        ))
        .await?;
    Ok(())
}
