//! Bulk import: many citizens, their first history entries, change-feed entries and
//! residence events in a few multi-row statements.
//!
//! The statements are written by hand (one placeholder per value) rather than through the
//! query builder, which costs more CPU than the database does for 500-row inserts. Citizens
//! go in with `ON CONFLICT (personal_id) DO NOTHING RETURNING personal_id` on both
//! backends, so the insert itself tells which rows are new; only those get history, feed and
//! residence rows. Re-running an import therefore changes nothing.

use super::{CitizenRow, IdentityStore, ResidenceEventRow};
use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement, Value};
use std::collections::HashSet;

/// Rows per INSERT statement (SQLite allows 32,766 values per statement; citizens have 36
/// columns).
pub(super) const ROWS_PER_STATEMENT: usize = 500;

/// The feed lock of `feed.rs` (PostgreSQL serialises feed appends with it).
const FEED_LOCK_KEY: i64 = super::feed::FEED_LOCK_KEY;

/// One citizen to import, with its residence events (oldest first).
#[derive(Debug, Clone)]
pub struct ImportRow {
    /// The citizen row, with the current residence already derived.
    pub citizen: CitizenRow,
    /// Residence events.
    pub residences: Vec<ResidenceEventRow>,
}

pub(super) const CITIZEN_COLUMNS: [&str; 36] = [
    "personal_id",
    "full_name",
    "name_key",
    "sex",
    "birth_date",
    "birth_year",
    "place_of_birth",
    "created_by",
    "created_us",
    "version",
    "other_names",
    "place_of_birth_registration",
    "home_town",
    "ethnicity",
    "religion",
    "nationality",
    "blood_type",
    "old_id_number",
    "father_id",
    "mother_id",
    "spouse_id",
    "children_ids",
    "legal_rep_id",
    "marital_status",
    "phone",
    "email",
    "life_status",
    "life_status_date",
    "updated_us",
    "updated_by",
    "perm_commune",
    "perm_province",
    "temp_commune",
    "temp_province",
    "temp_until",
    "household_id",
];

fn citizen_values(row: CitizenRow, out: &mut Vec<Value>) {
    let text = |s: String| Value::String(Some(s));
    out.extend([
        text(row.personal_id),
        text(row.full_name),
        text(row.name_key),
        text(row.sex),
        text(row.birth_date),
        Value::Int(Some(row.birth_year)),
        text(row.place_of_birth),
        text(row.created_by),
        Value::BigInt(Some(row.created_us)),
        Value::BigInt(Some(row.version)),
        text(row.other_names),
        text(row.place_of_birth_registration),
        text(row.home_town),
        text(row.ethnicity),
        text(row.religion),
        text(row.nationality),
        text(row.blood_type),
        text(row.old_id_number),
        text(row.father_id),
        text(row.mother_id),
        text(row.spouse_id),
        text(row.children_ids),
        text(row.legal_rep_id),
        text(row.marital_status),
        text(row.phone),
        text(row.email),
        text(row.life_status),
        text(row.life_status_date),
        Value::BigInt(Some(row.updated_us)),
        text(row.updated_by),
        text(row.perm_commune),
        text(row.perm_province),
        text(row.temp_commune),
        text(row.temp_province),
        text(row.temp_until),
        text(row.household_id),
    ]);
}

/// The columns of an imported citizen's first history entry.
pub(super) const HISTORY_COLUMNS: [&str; 6] = [
    "personal_id",
    "version",
    "changed_us",
    "changed_by",
    "fields",
    "reason",
];

/// The columns of an imported citizen's `registered` change-feed entry.
pub(super) const FEED_COLUMNS: [&str; 7] = [
    "personal_id",
    "kind",
    "change_us",
    "fields",
    "residence_kind",
    "commune_code",
    "reference_id",
];

pub(super) const RESIDENCE_COLUMNS: [&str; 14] = [
    "event_id",
    "personal_id",
    "kind",
    "commune_code",
    "province_code",
    "address",
    "start_date",
    "end_date",
    "host_name",
    "supervision",
    "destination",
    "mandatory",
    "recorded_us",
    "recorded_by",
];

fn residence_values(row: ResidenceEventRow, out: &mut Vec<Value>) {
    let text = |s: String| Value::String(Some(s));
    out.extend([
        text(row.event_id),
        text(row.personal_id),
        text(row.kind),
        text(row.commune_code),
        text(row.province_code),
        text(row.address),
        text(row.start_date),
        text(row.end_date),
        text(row.host_name),
        text(row.supervision),
        text(row.destination),
        Value::Bool(Some(row.mandatory)),
        Value::BigInt(Some(row.recorded_us)),
        text(row.recorded_by),
    ]);
}

/// `INSERT INTO table (columns) VALUES (…), (…)` for `rows` rows, with the backend's
/// placeholders; on SQLite `INSERT OR FAIL`.
///
/// `OR FAIL`: a constraint violation ends the statement with an error and keeps what the
/// statement wrote before it, which the import never keeps (any error rolls the whole
/// transaction back). With the default `ABORT`, SQLite must be able to undo a failing
/// multi-row statement alone, so it first copies every page the statement changes into a
/// statement journal (a temporary file past 64 KiB): 6–16 % of the writer thread's time in
/// a profile of a 1,000,000-citizen import. `OR FAIL` rather than the audit log's
/// `OR ROLLBACK`: the transaction stays open after a violation, so it ends through the
/// usual rollback and the pooled connection's transaction state stays right. The upsert
/// clauses (`ON CONFLICT … DO NOTHING`) still decide the conflicts they name.
pub(super) fn insert_sql(
    backend: DatabaseBackend,
    table: &str,
    columns: &[&str],
    rows: usize,
) -> String {
    let verb = match backend {
        DatabaseBackend::Sqlite => "INSERT OR FAIL",
        _ => "INSERT",
    };
    let mut sql = format!("{verb} INTO {table} ({}) VALUES ", columns.join(", "));
    sql.reserve(rows * columns.len() * 5);
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..columns.len() {
            if c > 0 {
                sql.push_str(", ");
            }
            n += 1;
            match backend {
                DatabaseBackend::Postgres => {
                    sql.push('$');
                    sql.push_str(&n.to_string());
                }
                _ => sql.push('?'),
            }
        }
        sql.push(')');
    }
    sql
}

impl IdentityStore {
    /// Inserts the citizens of `rows` not yet registered, through `conn` (a write
    /// transaction), each with its first history entry (`reason`, by `actor` at `now`), a
    /// `registered` change-feed entry and its residence events. Returns the personal IDs
    /// newly registered; the others were already there (or repeated in `rows`) and are left
    /// unchanged.
    pub async fn import_citizens<C: ConnectionTrait>(
        &self,
        conn: &C,
        rows: Vec<ImportRow>,
        actor: &str,
        now: i64,
        reason: &str,
    ) -> Result<HashSet<String>, DbErr> {
        let backend = conn.get_database_backend();
        let mut inserted = HashSet::new();
        let mut residences = Vec::new();
        let mut pending: Vec<ImportRow> = rows;
        while !pending.is_empty() {
            let rest = pending.split_off(pending.len().min(ROWS_PER_STATEMENT));
            let chunk = std::mem::replace(&mut pending, rest);
            let mut values = Vec::with_capacity(chunk.len() * CITIZEN_COLUMNS.len());
            let mut chunk_residences = Vec::new();
            for row in chunk {
                chunk_residences.push((row.citizen.personal_id.clone(), row.residences));
                citizen_values(row.citizen, &mut values);
            }
            let sql = format!(
                "{} ON CONFLICT (personal_id) DO NOTHING RETURNING personal_id",
                insert_sql(
                    backend,
                    "citizens",
                    &CITIZEN_COLUMNS,
                    chunk_residences.len()
                )
            );
            let returned = conn
                .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
                .await?;
            let mut new_here = HashSet::with_capacity(returned.len());
            for row in returned {
                new_here.insert(row.try_get_by_index::<String>(0)?);
            }
            for (personal_id, events) in chunk_residences {
                // A personal ID repeated within one import is new only the first time.
                if new_here.contains(&personal_id) && !inserted.contains(&personal_id) {
                    residences.extend(events);
                    inserted.insert(personal_id);
                }
            }
        }
        let mut ids: Vec<&String> = inserted.iter().collect();
        ids.sort();
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let mut values = Vec::with_capacity(chunk.len() * 6);
            for id in chunk {
                values.extend([
                    Value::String(Some((*id).clone())),
                    Value::BigInt(Some(1)),
                    Value::BigInt(Some(now)),
                    Value::String(Some(actor.to_owned())),
                    Value::String(Some(String::new())),
                    Value::String(Some(reason.to_owned())),
                ]);
            }
            let sql = insert_sql(backend, "citizen_history", &HISTORY_COLUMNS, chunk.len());
            conn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
                .await?;
        }
        if !ids.is_empty() && backend == DatabaseBackend::Postgres {
            conn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({FEED_LOCK_KEY})"))
                .await?;
        }
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let mut values = Vec::with_capacity(chunk.len() * 8);
            for id in chunk {
                values.extend([
                    Value::String(Some((*id).clone())),
                    Value::String(Some("registered".to_owned())),
                    Value::BigInt(Some(now)),
                    Value::String(Some(String::new())),
                    Value::String(Some(String::new())),
                    Value::String(Some(String::new())),
                    Value::String(Some(String::new())),
                ]);
            }
            let sql = insert_sql(backend, "change_events", &FEED_COLUMNS, chunk.len());
            conn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
                .await?;
        }
        insert_all(
            conn,
            "residence_events",
            &RESIDENCE_COLUMNS,
            residences,
            residence_values,
        )
        .await?;
        Ok(inserted)
    }
}

/// Inserts `rows` into `table`, [`ROWS_PER_STATEMENT`] rows a statement, each row's values
/// (in the order of `columns`) written by `values`.
pub(super) async fn insert_all<C: ConnectionTrait, R>(
    conn: &C,
    table: &str,
    columns: &[&str],
    rows: impl IntoIterator<Item = R>,
    values: fn(R, &mut Vec<Value>),
) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut bound = Vec::with_capacity(ROWS_PER_STATEMENT * columns.len());
        let mut count = 0;
        for row in rows.by_ref().take(ROWS_PER_STATEMENT) {
            values(row, &mut bound);
            count += 1;
        }
        let sql = insert_sql(backend, table, columns, count);
        conn.execute_raw(Statement::from_sql_and_values(backend, sql, bound))
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::insert_sql;
    use sea_orm::DatabaseBackend;

    #[test]
    fn placeholders_per_backend() {
        assert_eq!(
            insert_sql(DatabaseBackend::Sqlite, "t", &["a", "b"], 2),
            "INSERT OR FAIL INTO t (a, b) VALUES (?, ?), (?, ?)"
        );
        assert_eq!(
            insert_sql(DatabaseBackend::Postgres, "t", &["a", "b"], 2),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"
        );
    }
}
