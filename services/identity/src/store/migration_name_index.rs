//! Migration m0006: one name index instead of two.
//!
//! Citizens had `idx_citizens_name_year (name_key, birth_year, personal_id)` for searches
//! by name and year of birth, and `idx_citizens_name_id (name_key, personal_id)` for
//! searches by name alone, in personal-ID order. Every new citizen inserted an entry at a
//! random place in both; replaying a 1,000,000-citizen bulk import, the second cost 27 %
//! of SQLite's work (`docs/benchmarks.md`). Searches by name alone now read the first
//! index too, and so list people by year of birth, then personal ID.

use sea_orm_migration::prelude::*;

/// Drops the name-only index.
pub struct OneNameIndex;

impl MigrationName for OneNameIndex {
    fn name(&self) -> &str {
        "m0006_one_name_index"
    }
}

/// The index this migration drops.
const INDEX: &str = "idx_citizens_name_id";

#[async_trait::async_trait]
impl MigrationTrait for OneNameIndex {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(&format!("DROP INDEX IF EXISTS {INDEX}"))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "CREATE INDEX {INDEX} ON citizens (name_key, personal_id)"
            ))
            .await?;
        Ok(())
    }
}
