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
    RESIDENCE_COLUMNS, citizen_fields, feed_fields, history_fields, insert_sql, new_rows,
    outbox_fields, registered_in, residence_fields,
};
use dancu_audit_client::{OUTBOX_TABLE, OutboxRow};
use dancu_kit::sqlite_direct::{self, rusqlite};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Statement, ToSql, params_from_iter};
use sea_orm::{DatabaseBackend, DbErr};
use std::ops::Range;

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

/// Runs `each(statement, range)` for the positions of `rows` rows in ranges of
/// [`ROWS_PER_INSERT`] (the last one shorter), each with the statement that inserts that
/// many rows of `columns` into `table` (`INSERT OR FAIL … VALUES …`, followed by `tail`).
fn in_chunks(
    txn: &rusqlite::Transaction<'_>,
    table: &str,
    columns: &[&str],
    tail: &str,
    rows: usize,
    mut each: impl FnMut(&mut Statement<'_>, Range<usize>) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    let mut full = None;
    for start in (0..rows).step_by(ROWS_PER_INSERT) {
        let end = rows.min(start + ROWS_PER_INSERT);
        if end - start == ROWS_PER_INSERT {
            let statement = match &mut full {
                Some(statement) => statement,
                None => full.insert(prepare(txn, table, columns, ROWS_PER_INSERT, tail)?),
            };
            each(statement, start..end)?;
        } else {
            let mut rest = prepare(txn, table, columns, end - start, tail)?;
            each(&mut rest, start..end)?;
        }
    }
    Ok(())
}

/// Inserts `rows` (the values of each given by `fields`, in the order of `columns`) into
/// `table`, [`ROWS_PER_INSERT`] rows a statement.
fn insert_rows<'r, T, const N: usize>(
    txn: &rusqlite::Transaction<'_>,
    table: &str,
    columns: &[&str; N],
    rows: &'r [T],
    fields: impl Fn(&'r T) -> [Field<'r>; N] + Copy,
) -> rusqlite::Result<()> {
    in_chunks(txn, table, columns, "", rows.len(), |statement, range| {
        statement.execute(params_from_iter(bound(rows, range, fields)))?;
        Ok(())
    })
}

/// How many rows ahead of the one being inserted [`prefetch`] reaches.
const PREFETCH_AHEAD: usize = 8;

/// Asks the CPU to start loading the bytes of `fields` into its cache.
///
/// A group's strings were decoded on another thread up to a group earlier and are cold by
/// the time they are bound; SQLite's copy of them, stalled on memory, was a tenth of the
/// import's samples (a third of that with the prefetch). Asked for a few rows ahead while
/// a row is bound, the loads overlap the binding of the rows between. Strings longer than a cache line are
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

/// The values of `rows[range]` (each row's given by `fields`), in order, asking for those
/// of the row [`PREFETCH_AHEAD`] places ahead of each as it is bound.
fn bound<'r, T, const N: usize>(
    rows: &'r [T],
    range: Range<usize>,
    fields: impl Fn(&'r T) -> [Field<'r>; N] + Copy,
) -> impl Iterator<Item = Field<'r>> {
    range.flat_map(move |index| {
        if let Some(ahead) = rows.get(index + PREFETCH_AHEAD) {
            prefetch(&fields(ahead));
        }
        fields(&rows[index])
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
            let new_rows = new_rows(rows, &registered);
            insert_rows(txn, "citizen_history", &HISTORY_COLUMNS, &new_rows, |row| {
                history_fields(&row.citizen.personal_id, now, actor, reason)
            })?;
            insert_rows(txn, "change_events", &FEED_COLUMNS, &new_rows, |row| {
                feed_fields(&row.citizen.personal_id, now)
            })?;
            let events: Vec<_> = new_rows.iter().flat_map(|row| &row.residences).collect();
            insert_rows(
                txn,
                "residence_events",
                &RESIDENCE_COLUMNS,
                &events,
                |event| residence_fields(event, now),
            )?;
            insert_rows(txn, OUTBOX_TABLE, &OUTBOX_COLUMNS, &outbox, outbox_fields)?;
            Ok(registered)
        })
        .await
    }
}

/// Inserts the citizens of `rows` not yet registered, created at `now`; for each row in
/// order, whether it registered a new citizen ([`registered_in`]).
fn insert_citizens(
    txn: &rusqlite::Transaction<'_>,
    rows: &[&ImportRow],
    now: i64,
) -> rusqlite::Result<Vec<bool>> {
    let mut registered = Vec::with_capacity(rows.len());
    let tail = " ON CONFLICT (personal_id) DO NOTHING RETURNING personal_id";
    in_chunks(
        txn,
        "citizens",
        &CITIZEN_COLUMNS,
        tail,
        rows.len(),
        |statement, range| {
            let fields = bound(rows, range.clone(), |row| citizen_fields(&row.citizen, now));
            let values = params_from_iter(fields);
            let returned = statement
                .query_map(values, |row| row.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            registered.extend(registered_in(&rows[range], returned));
            Ok(())
        },
    )?;
    Ok(registered)
}
