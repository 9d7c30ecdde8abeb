//! Bulk import: many citizens, their first history entries, change-feed entries and
//! residence events in a few multi-row statements.
//!
//! The statements are written by hand (one placeholder per value) rather than through the
//! query builder, which costs more CPU than the database does for 500-row inserts. Citizens
//! go in with `ON CONFLICT (personal_id) DO NOTHING RETURNING personal_id` on both
//! backends, so the insert itself tells which rows are new; only those get history, feed and
//! residence rows. Re-running an import therefore changes nothing.

use super::{CitizenRow, IdentityStore, ResidenceEventRow};
use dancu_audit_client::{OUTBOX_TABLE, OutboxRow};
use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement, Value};
use std::collections::HashSet;

/// Rows per INSERT statement (SQLite allows 32,766 values per statement; citizens have 36
/// columns).
pub(super) const ROWS_PER_STATEMENT: usize = 500;

/// The feed lock of `feed.rs` (PostgreSQL serialises feed appends with it).
const FEED_LOCK_KEY: i64 = super::feed::FEED_LOCK_KEY;

/// One citizen to import, with its residence events (oldest first). Its times (created,
/// updated, recorded) are those of the import's commit, whatever the rows carry.
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

/// One column value of a row to insert, borrowed from the row: the one list of a table's
/// values in the order of its columns, which both the multi-row statements here and the
/// direct SQLite path (`import_direct.rs`) bind.
#[derive(Debug, Clone, Copy)]
pub(super) enum Field<'a> {
    /// Text.
    Text(&'a str),
    /// A 32-bit integer.
    Int(i32),
    /// A 64-bit integer.
    BigInt(i64),
    /// A boolean.
    Bool(bool),
    /// Bytes.
    Bytes(&'a [u8]),
    /// Text or NULL.
    OptText(Option<&'a str>),
    /// A 64-bit integer or NULL.
    OptBigInt(Option<i64>),
}

impl From<Field<'_>> for Value {
    fn from(field: Field<'_>) -> Self {
        match field {
            Field::Text(s) => Value::String(Some(s.to_owned())),
            Field::Int(n) => Value::Int(Some(n)),
            Field::BigInt(n) => Value::BigInt(Some(n)),
            Field::Bool(b) => Value::Bool(Some(b)),
            Field::Bytes(b) => Value::Bytes(Some(b.to_vec())),
            Field::OptText(s) => Value::String(s.map(str::to_owned)),
            Field::OptBigInt(n) => Value::BigInt(n),
        }
    }
}

/// The values of `row`, created and last updated at `now`, in the order of
/// [`CITIZEN_COLUMNS`].
pub(super) fn citizen_fields(row: &CitizenRow, now: i64) -> [Field<'_>; 36] {
    [
        Field::Text(&row.personal_id),
        Field::Text(&row.full_name),
        Field::Text(&row.name_key),
        Field::Text(&row.sex),
        Field::Text(&row.birth_date),
        Field::Int(row.birth_year),
        Field::Text(&row.place_of_birth),
        Field::Text(&row.created_by),
        Field::BigInt(now),
        Field::BigInt(row.version),
        Field::Text(&row.other_names),
        Field::Text(&row.place_of_birth_registration),
        Field::Text(&row.home_town),
        Field::Text(&row.ethnicity),
        Field::Text(&row.religion),
        Field::Text(&row.nationality),
        Field::Text(&row.blood_type),
        Field::Text(&row.old_id_number),
        Field::Text(&row.father_id),
        Field::Text(&row.mother_id),
        Field::Text(&row.spouse_id),
        Field::Text(&row.children_ids),
        Field::Text(&row.legal_rep_id),
        Field::Text(&row.marital_status),
        Field::Text(&row.phone),
        Field::Text(&row.email),
        Field::Text(&row.life_status),
        Field::Text(&row.life_status_date),
        Field::BigInt(now),
        Field::Text(&row.updated_by),
        Field::Text(&row.perm_commune),
        Field::Text(&row.perm_province),
        Field::Text(&row.temp_commune),
        Field::Text(&row.temp_province),
        Field::Text(&row.temp_until),
        Field::Text(&row.household_id),
    ]
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

/// The values of `row`, recorded at `now`, in the order of [`RESIDENCE_COLUMNS`].
pub(super) fn residence_fields(row: &ResidenceEventRow, now: i64) -> [Field<'_>; 14] {
    [
        Field::Text(&row.event_id),
        Field::Text(&row.personal_id),
        Field::Text(&row.kind),
        Field::Text(&row.commune_code),
        Field::Text(&row.province_code),
        Field::Text(&row.address),
        Field::Text(&row.start_date),
        Field::Text(&row.end_date),
        Field::Text(&row.host_name),
        Field::Text(&row.supervision),
        Field::Text(&row.destination),
        Field::Bool(row.mandatory),
        Field::BigInt(now),
        Field::Text(&row.recorded_by),
    ]
}

/// The values of an imported citizen's first history entry, in the order of
/// [`HISTORY_COLUMNS`]: version 1, changed by `actor` at `now` for `reason`.
pub(super) fn history_fields<'a>(
    personal_id: &'a str,
    now: i64,
    actor: &'a str,
    reason: &'a str,
) -> [Field<'a>; 6] {
    [
        Field::Text(personal_id),
        Field::BigInt(1),
        Field::BigInt(now),
        Field::Text(actor),
        Field::Text(""),
        Field::Text(reason),
    ]
}

/// The values of an imported citizen's `registered` change-feed entry at `now`, in the
/// order of [`FEED_COLUMNS`].
pub(super) fn feed_fields(personal_id: &str, now: i64) -> [Field<'_>; 7] {
    [
        Field::Text(personal_id),
        Field::Text("registered"),
        Field::BigInt(now),
        Field::Text(""),
        Field::Text(""),
        Field::Text(""),
        Field::Text(""),
    ]
}

/// The columns of an audit outbox row a write inserts itself.
pub(super) const OUTBOX_COLUMNS: [&str; 3] = ["event_id", "payload", "created_us"];

/// The values of `row` in the order of [`OUTBOX_COLUMNS`].
pub(super) fn outbox_fields(row: &OutboxRow) -> [Field<'_>; 3] {
    [
        Field::Text(&row.event_id),
        Field::Bytes(&row.payload),
        Field::BigInt(row.created_us),
    ]
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

/// For each row of `chunk`, whether the insert of the chunk that returned the personal IDs
/// `returned` (in any order) registered it: a returned ID registered the first row of the
/// chunk with it; a later row with the same ID was a repeat.
pub(super) fn registered_in(
    chunk: &[&ImportRow],
    returned: impl IntoIterator<Item = String>,
) -> Vec<bool> {
    let returned: HashSet<String> = returned.into_iter().collect();
    let mut seen = HashSet::with_capacity(returned.len());
    chunk
        .iter()
        .map(|row| {
            let id = row.citizen.personal_id.as_str();
            returned.contains(id) && seen.insert(id)
        })
        .collect()
}

/// The rows of `rows` that `registered` (a flag per row) says were registered.
pub(super) fn new_rows<'a>(rows: &[&'a ImportRow], registered: &[bool]) -> Vec<&'a ImportRow> {
    rows.iter()
        .zip(registered)
        .filter_map(|(row, &new)| new.then_some(*row))
        .collect()
}

impl IdentityStore {
    /// Inserts the citizens of `rows` not yet registered, through `conn` (a write
    /// transaction), each with its first history entry (`reason`, by `actor` at `now`), a
    /// `registered` change-feed entry and its residence events, all stamped with `now`
    /// whatever times the rows carry. Returns, for each row in order, whether it
    /// registered a new citizen; the others were already there (or came earlier in
    /// `rows`) and are left unchanged.
    pub async fn import_citizens<C: ConnectionTrait>(
        &self,
        conn: &C,
        rows: &[&ImportRow],
        actor: &str,
        now: i64,
        reason: &str,
    ) -> Result<Vec<bool>, DbErr> {
        let backend = conn.get_database_backend();
        let mut registered = Vec::with_capacity(rows.len());
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let mut values = Vec::with_capacity(chunk.len() * CITIZEN_COLUMNS.len());
            for row in chunk {
                values.extend(citizen_fields(&row.citizen, now).map(Value::from));
            }
            let sql = format!(
                "{} ON CONFLICT (personal_id) DO NOTHING RETURNING personal_id",
                insert_sql(backend, "citizens", &CITIZEN_COLUMNS, chunk.len())
            );
            let returned = conn
                .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
                .await?
                .iter()
                .map(|row| row.try_get_by_index::<String>(0))
                .collect::<Result<Vec<_>, _>>()?;
            registered.extend(registered_in(chunk, returned));
        }
        let new_rows = new_rows(rows, &registered);
        let mut ids: Vec<&str> = new_rows
            .iter()
            .map(|row| row.citizen.personal_id.as_str())
            .collect();
        ids.sort_unstable();
        insert_all(
            conn,
            "citizen_history",
            &HISTORY_COLUMNS,
            ids.iter().map(|id| history_fields(id, now, actor, reason)),
        )
        .await?;
        if !ids.is_empty() && backend == DatabaseBackend::Postgres {
            conn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({FEED_LOCK_KEY})"))
                .await?;
        }
        insert_all(
            conn,
            "change_events",
            &FEED_COLUMNS,
            ids.iter().map(|id| feed_fields(id, now)),
        )
        .await?;
        insert_all(
            conn,
            "residence_events",
            &RESIDENCE_COLUMNS,
            new_rows
                .iter()
                .flat_map(|row| &row.residences)
                .map(|event| residence_fields(event, now)),
        )
        .await?;
        Ok(registered)
    }
}

/// Inserts `rows` (each its values in the order of `columns`) into `table`,
/// [`ROWS_PER_STATEMENT`] rows a statement.
///
/// The values are bound before the returned future starts, so the future holds no borrowed
/// row and no closure of the caller's (which would keep it from being `Send`).
pub(super) fn insert_all<'a, C: ConnectionTrait, const N: usize>(
    conn: &C,
    table: &str,
    columns: &[&str; N],
    rows: impl IntoIterator<Item = [Field<'a>; N]>,
) -> impl Future<Output = Result<(), DbErr>> + Send {
    let backend = conn.get_database_backend();
    let statements: Vec<Statement> = bound_chunks(rows)
        .into_iter()
        .map(|(count, values)| {
            let sql = insert_sql(backend, table, columns, count);
            Statement::from_sql_and_values(backend, sql, values)
        })
        .collect();
    async move {
        for statement in statements {
            conn.execute_raw(statement).await?;
        }
        Ok(())
    }
}

/// `rows` as the values of successive statements of at most [`ROWS_PER_STATEMENT`] rows:
/// (rows in the statement, their values in order).
pub(super) fn bound_chunks<'a, const N: usize>(
    rows: impl IntoIterator<Item = [Field<'a>; N]>,
) -> Vec<(usize, Vec<Value>)> {
    let mut chunks = Vec::new();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut values = Vec::with_capacity(ROWS_PER_STATEMENT * N);
        let mut count = 0;
        for row in rows.by_ref().take(ROWS_PER_STATEMENT) {
            values.extend(row.map(Value::from));
            count += 1;
        }
        chunks.push((count, values));
    }
    chunks
}

impl IdentityStore {
    /// Imports `rows` as [`IdentityStore::import_citizens`] does (by `actor` at `now`,
    /// with `reason` in each first history entry) together with `outbox`, the import's
    /// audit outbox rows, in one transaction of its own, committed before this returns.
    /// Returns, for each row in order, whether it registered a new citizen.
    ///
    /// On a SQLite file it runs directly on the writer connection (`import_direct.rs`);
    /// otherwise through [`IdentityStore::import_citizens`] in a write transaction.
    pub async fn commit_citizen_import(
        &self,
        rows: &[&ImportRow],
        actor: &str,
        now: i64,
        reason: &str,
        outbox: Vec<OutboxRow>,
    ) -> Result<Vec<bool>, DbErr> {
        if let Some(checkpointer) = &self.checkpointer {
            let registered = self
                .import_citizens_direct(rows, actor, now, reason, outbox)
                .await?;
            checkpointer.wake();
            return Ok(registered);
        }
        let txn = self.begin_write().await?;
        let registered = self.import_citizens(&txn, rows, actor, now, reason).await?;
        insert_all(
            &txn,
            OUTBOX_TABLE,
            &OUTBOX_COLUMNS,
            outbox.iter().map(outbox_fields),
        )
        .await?;
        txn.commit().await?;
        Ok(registered)
    }
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
