//! The bulk import of citizens on a SQLite file, run directly on the writer connection's
//! handle (`dancu_kit::sqlite_direct`): the rows [`IdentityStore::import_citizens`] writes,
//! and the import's audit outbox rows, in one transaction of its own.
//!
//! Single-row prepared statements, bound from the rows as they are and stepped in a loop:
//! the multi-row statements of `import.rs` exist to save sqlx round trips, which this path
//! does not make. Tables are filled one after another (citizens, history, feed, residence
//! events), so each loop walks one table's B-trees; rows arrive in personal-ID order.

use super::import::{
    CITIZEN_COLUMNS, FEED_COLUMNS, HISTORY_COLUMNS, ImportRow, RESIDENCE_COLUMNS, insert_sql,
};
use super::{CitizenRow, IdentityStore, ResidenceEventRow};
use dancu_audit_client::{OUTBOX_TABLE, OutboxRow};
use dancu_kit::sqlite_direct::{self, rusqlite};
use rusqlite::{Statement, params};
use sea_orm::sqlx::SqlitePool;
use sea_orm::{DatabaseBackend, DbErr};
use std::collections::HashSet;

/// One row of `columns` into `table`, as `import.rs` writes them (`INSERT OR FAIL`).
fn single_row(table: &str, columns: &[&str]) -> String {
    insert_sql(DatabaseBackend::Sqlite, table, columns, 1)
}

impl IdentityStore {
    /// The writer connection's pool, when writes may run directly on SQLite's handle (the
    /// store is a SQLite file); `None` on PostgreSQL and in-memory SQLite.
    pub fn direct_writer(&self) -> Option<&SqlitePool> {
        self.checkpointer
            .as_ref()
            .map(|_| self.writer.get_sqlite_connection_pool())
    }

    /// Imports `rows` as [`IdentityStore::import_citizens`] does (by `actor` at `now`, with
    /// `reason` in each first history entry) and inserts `outbox` (the import's audit
    /// events), all in one transaction on `writer` (from [`IdentityStore::direct_writer`]),
    /// committed before this returns. Returns the personal IDs newly registered.
    pub async fn import_citizens_direct(
        &self,
        writer: &SqlitePool,
        rows: Vec<ImportRow>,
        actor: &str,
        now: i64,
        reason: &str,
        outbox: Vec<OutboxRow>,
    ) -> Result<HashSet<String>, DbErr> {
        let inserted = sqlite_direct::with_transaction(writer, |txn| {
            let mut inserted = HashSet::with_capacity(rows.len());
            let mut new_rows = Vec::with_capacity(rows.len());
            let mut citizen = txn.prepare(&format!(
                "{} ON CONFLICT (personal_id) DO NOTHING",
                single_row("citizens", &CITIZEN_COLUMNS)
            ))?;
            for row in &rows {
                // A personal ID already registered, or repeated within the group, changes
                // nothing the second time.
                if insert_citizen(&mut citizen, &row.citizen)? == 1 {
                    inserted.insert(row.citizen.personal_id.clone());
                    new_rows.push(row);
                }
            }
            let mut history = txn.prepare(&single_row("citizen_history", &HISTORY_COLUMNS))?;
            for row in &new_rows {
                history.execute(params![row.citizen.personal_id, 1, now, actor, "", reason])?;
            }
            let mut feed = txn.prepare(&single_row("change_events", &FEED_COLUMNS))?;
            for row in &new_rows {
                feed.execute(params![
                    row.citizen.personal_id,
                    "registered",
                    now,
                    "",
                    "",
                    "",
                    ""
                ])?;
            }
            let mut residence = txn.prepare(&single_row("residence_events", &RESIDENCE_COLUMNS))?;
            for event in new_rows.iter().flat_map(|row| &row.residences) {
                insert_residence(&mut residence, event)?;
            }
            let mut staged = txn.prepare(&single_row(
                OUTBOX_TABLE,
                &["event_id", "payload", "created_us"],
            ))?;
            for row in &outbox {
                staged.execute(params![row.event_id, row.payload, row.created_us])?;
            }
            Ok(inserted)
        })
        .await?;
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.wake();
        }
        // Freeing a group's strings took 3 % of the commit task: the next group need not
        // wait for it.
        tokio::task::spawn_blocking(move || drop(rows));
        Ok(inserted)
    }
}

/// Binds `row` in the order of [`CITIZEN_COLUMNS`] and steps; the number of rows inserted.
fn insert_citizen(statement: &mut Statement<'_>, row: &CitizenRow) -> rusqlite::Result<usize> {
    statement.execute(params![
        row.personal_id,
        row.full_name,
        row.name_key,
        row.sex,
        row.birth_date,
        row.birth_year,
        row.place_of_birth,
        row.created_by,
        row.created_us,
        row.version,
        row.other_names,
        row.place_of_birth_registration,
        row.home_town,
        row.ethnicity,
        row.religion,
        row.nationality,
        row.blood_type,
        row.old_id_number,
        row.father_id,
        row.mother_id,
        row.spouse_id,
        row.children_ids,
        row.legal_rep_id,
        row.marital_status,
        row.phone,
        row.email,
        row.life_status,
        row.life_status_date,
        row.updated_us,
        row.updated_by,
        row.perm_commune,
        row.perm_province,
        row.temp_commune,
        row.temp_province,
        row.temp_until,
        row.household_id,
    ])
}

/// Binds `event` in the order of [`RESIDENCE_COLUMNS`] and steps.
fn insert_residence(
    statement: &mut Statement<'_>,
    event: &ResidenceEventRow,
) -> rusqlite::Result<usize> {
    statement.execute(params![
        event.event_id,
        event.personal_id,
        event.kind,
        event.commune_code,
        event.province_code,
        event.address,
        event.start_date,
        event.end_date,
        event.host_name,
        event.supervision,
        event.destination,
        event.mandatory,
        event.recorded_us,
        event.recorded_by,
    ])
}
