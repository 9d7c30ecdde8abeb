//! The bulk import of citizens on a SQLite file, run directly on the writer connection's
//! handle (`dancu_kit::sqlite_direct`): the rows [`IdentityStore::import_citizens`] writes,
//! and the import's audit outbox rows, in one transaction of its own.
//!
//! Prepared statements of [`ROWS_PER_INSERT`] rows, bound from the rows' [`Field`]s (the
//! same lists the statements of `import.rs` bind). Tables are filled one after another
//! (citizens, history, feed, residence events), so each loop walks one table's B-trees;
//! rows arrive in personal-ID order. The citizens' statements return the personal IDs they
//! inserted, which tells the new rows from those already registered.

use super::IdentityStore;
use super::import::{
    CITIZEN_COLUMNS, FEED_COLUMNS, Field, HISTORY_COLUMNS, ImportRow, OUTBOX_COLUMNS,
    RESIDENCE_COLUMNS, citizen_fields, feed_fields, history_fields, insert_sql, outbox_fields,
    residence_fields,
};
use dancu_audit_client::{OUTBOX_TABLE, OutboxRow};
use dancu_kit::sqlite_direct::{self, rusqlite};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Statement, ToSql, params_from_iter};
use sea_orm::{DatabaseBackend, DbErr};

impl ToSql for Field<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match *self {
            Field::Text(s) | Field::OptText(Some(s)) => ValueRef::Text(s.as_bytes()),
            Field::Int(n) => ValueRef::Integer(i64::from(n)),
            Field::BigInt(n) | Field::OptBigInt(Some(n)) => ValueRef::Integer(n),
            Field::Bool(b) => ValueRef::Integer(i64::from(b)),
            Field::Bytes(b) => ValueRef::Blob(b),
            Field::OptText(None) | Field::OptBigInt(None) => ValueRef::Null,
        }))
    }
}

/// Rows per statement: each statement opens a cursor on its table and on every index of
/// it, and on a table with `AUTOINCREMENT` reads and writes `sqlite_sequence`, once, so
/// single-row statements paid that once per row. (Measured: about an eighth of the commit's
/// samples went to opening and closing cursors, finishing statements and finding each
/// table's last row.)
const ROWS_PER_INSERT: usize = 64;

/// Prepares the insert of `rows` rows of `columns` into `table`, as `import.rs` writes
/// them (`INSERT OR FAIL`), followed by `tail`.
fn prepare<'c>(
    txn: &'c rusqlite::Transaction<'_>,
    table: &str,
    columns: &[&str],
    rows: usize,
    tail: &str,
) -> rusqlite::Result<Statement<'c>> {
    let sql = insert_sql(DatabaseBackend::Sqlite, table, columns, rows);
    txn.prepare(&format!("{sql}{tail}"))
}

/// `rows` in chunks of [`ROWS_PER_INSERT`] (the last one shorter), each with the statement
/// that inserts a chunk of its size (`INSERT OR FAIL … VALUES …` into `table`, followed by
/// `tail`): `each(statement, chunk)` runs it.
fn in_chunks<'r, T: 'r>(
    txn: &rusqlite::Transaction<'_>,
    table: &str,
    columns: &[&str],
    tail: &str,
    rows: impl Iterator<Item = T>,
    mut each: impl FnMut(&mut Statement<'_>, &[T]) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    let mut full = prepare(txn, table, columns, ROWS_PER_INSERT, tail)?;
    let mut chunk = Vec::with_capacity(ROWS_PER_INSERT);
    for row in rows {
        chunk.push(row);
        if chunk.len() == ROWS_PER_INSERT {
            each(&mut full, &chunk)?;
            chunk.clear();
        }
    }
    if !chunk.is_empty() {
        let mut rest = prepare(txn, table, columns, chunk.len(), tail)?;
        each(&mut rest, &chunk)?;
    }
    Ok(())
}

/// Inserts `rows` (each its values in the order of `columns`) into `table`,
/// [`ROWS_PER_INSERT`] rows a statement.
fn insert_all<'r, const N: usize>(
    txn: &rusqlite::Transaction<'_>,
    table: &str,
    columns: &[&str; N],
    rows: impl Iterator<Item = [Field<'r>; N]>,
) -> rusqlite::Result<()> {
    in_chunks(txn, table, columns, "", rows, |statement, chunk| {
        statement.execute(params_from_iter(chunk.iter().flatten()))?;
        Ok(())
    })
}

/// How many rows ahead of the one being inserted [`prefetch`] reaches.
const PREFETCH_AHEAD: usize = 8;

/// Asks the CPU to start loading the bytes of `fields` into its cache.
///
/// A group's strings were decoded on another thread up to a group earlier and are cold by
/// the time they are bound; SQLite's copy of them, stalled on memory, was a tenth of the
/// import's samples (a third of that with the prefetch). Asked for a few rows ahead, the
/// loads overlap the inserts of the rows between. Strings longer than a cache line are
/// rare here; only their first line is asked for.
fn prefetch(fields: &[Field<'_>]) {
    for field in fields {
        let bytes = match *field {
            Field::Text(s) | Field::OptText(Some(s)) => s.as_bytes(),
            Field::Bytes(b) => b,
            _ => continue,
        };
        sqlite_direct::prefetch(bytes);
    }
}

/// `rows` in order, asking for the fields of the row [`PREFETCH_AHEAD`] places ahead of
/// each as it is handed out.
fn prefetched<'r, T, const N: usize>(
    rows: &'r [T],
    fields: impl Fn(&'r T) -> [Field<'r>; N],
) -> impl Iterator<Item = &'r T> {
    rows.iter().enumerate().map(move |(index, row)| {
        if let Some(ahead) = rows.get(index + PREFETCH_AHEAD) {
            prefetch(&fields(ahead));
        }
        row
    })
}

impl IdentityStore {
    /// [`IdentityStore::commit_citizen_import`] on a SQLite file: everything in one
    /// transaction on the writer connection.
    pub(super) async fn import_citizens_direct(
        &self,
        rows: &[&ImportRow],
        actor: &str,
        now: i64,
        reason: &str,
        outbox: Vec<OutboxRow>,
    ) -> Result<Vec<bool>, DbErr> {
        let writer = self.writer.get_sqlite_connection_pool();
        sqlite_direct::with_transaction(writer, |txn| {
            let registered = insert_citizens(txn, rows, now)?;
            let new_rows: Vec<&ImportRow> = rows
                .iter()
                .zip(&registered)
                .filter_map(|(row, &new)| new.then_some(*row))
                .collect();
            let ids = || new_rows.iter().map(|row| row.citizen.personal_id.as_str());
            let history = ids().map(|id| history_fields(id, now, actor, reason));
            insert_all(txn, "citizen_history", &HISTORY_COLUMNS, history)?;
            let feed = ids().map(|id| feed_fields(id, now));
            insert_all(txn, "change_events", &FEED_COLUMNS, feed)?;
            let events: Vec<_> = new_rows.iter().flat_map(|row| &row.residences).collect();
            let residences = prefetched(&events, |event| residence_fields(event, now))
                .map(|event| residence_fields(event, now));
            insert_all(txn, "residence_events", &RESIDENCE_COLUMNS, residences)?;
            insert_all(
                txn,
                OUTBOX_TABLE,
                &OUTBOX_COLUMNS,
                outbox.iter().map(outbox_fields),
            )?;
            Ok(registered)
        })
        .await
    }
}

/// Inserts the citizens of `rows` not yet registered, created at `now`; for each row in
/// order, whether it registered a new citizen. A personal ID already registered, or
/// repeated within `rows`, changes nothing the second time.
fn insert_citizens(
    txn: &rusqlite::Transaction<'_>,
    rows: &[&ImportRow],
    now: i64,
) -> rusqlite::Result<Vec<bool>> {
    let mut registered = Vec::with_capacity(rows.len());
    let tail = " ON CONFLICT (personal_id) DO NOTHING RETURNING personal_id";
    let rows = prefetched(rows, |row| citizen_fields(&row.citizen, now));
    in_chunks(
        txn,
        "citizens",
        &CITIZEN_COLUMNS,
        tail,
        rows,
        |statement, chunk| {
            let fields = chunk
                .iter()
                .flat_map(|row| citizen_fields(&row.citizen, now));
            let mut returned = statement.query(params_from_iter(fields))?;
            // The rows come back in no set order: each marks the first row of the chunk with
            // its personal ID (a later one in the chunk was the repeat).
            let start = registered.len();
            registered.resize(start + chunk.len(), false);
            while let Some(row) = returned.next()? {
                let id = row.get_ref(0)?.as_str()?;
                if let Some(at) = chunk.iter().position(|r| r.citizen.personal_id == id) {
                    registered[start + at] = true;
                }
            }
            Ok(())
        },
    )?;
    Ok(registered)
}
