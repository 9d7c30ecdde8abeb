//! The bulk import of citizens on a SQLite file, run directly on the writer connection's
//! handle (`dancu_kit::sqlite_direct`): the rows [`IdentityStore::import_citizens`] writes,
//! and the import's audit outbox rows, in one transaction of its own.
//!
//! Single-row prepared statements, bound from the rows' [`Field`]s (the same lists the
//! multi-row statements bind) and stepped in a loop: the multi-row statements of
//! `import.rs` exist to save sqlx round trips, which this path does not make. Tables are
//! filled one after another (citizens, history, feed, residence events), so each loop walks
//! one table's B-trees; rows arrive in personal-ID order.

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

/// Prepares the single-row insert of `columns` into `table`, as `import.rs` writes them
/// (`INSERT OR FAIL`), followed by `tail`.
fn prepare<'c>(
    txn: &'c rusqlite::Transaction<'_>,
    table: &str,
    columns: &[&str],
    tail: &str,
) -> rusqlite::Result<Statement<'c>> {
    let sql = insert_sql(DatabaseBackend::Sqlite, table, columns, 1);
    txn.prepare(&format!("{sql}{tail}"))
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

/// Binds `fields` and steps; the number of rows inserted.
fn insert<const N: usize>(
    statement: &mut Statement<'_>,
    fields: [Field<'_>; N],
) -> rusqlite::Result<usize> {
    statement.execute(params_from_iter(fields))
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
            let mut registered = Vec::with_capacity(rows.len());
            let mut new_rows = Vec::with_capacity(rows.len());
            let tail = " ON CONFLICT (personal_id) DO NOTHING";
            let mut citizen = prepare(txn, "citizens", &CITIZEN_COLUMNS, tail)?;
            for &row in prefetched(rows, |row| citizen_fields(&row.citizen, now)) {
                // A personal ID already registered, or repeated within the group, changes
                // nothing the second time.
                let new = insert(&mut citizen, citizen_fields(&row.citizen, now))? == 1;
                registered.push(new);
                if new {
                    new_rows.push(row);
                }
            }
            let mut history = prepare(txn, "citizen_history", &HISTORY_COLUMNS, "")?;
            for row in &new_rows {
                let id = &row.citizen.personal_id;
                insert(&mut history, history_fields(id, now, actor, reason))?;
            }
            let mut feed = prepare(txn, "change_events", &FEED_COLUMNS, "")?;
            for row in &new_rows {
                insert(&mut feed, feed_fields(&row.citizen.personal_id, now))?;
            }
            let mut residence = prepare(txn, "residence_events", &RESIDENCE_COLUMNS, "")?;
            let events: Vec<_> = new_rows.iter().flat_map(|row| &row.residences).collect();
            for event in prefetched(&events, |event| residence_fields(event, now)) {
                insert(&mut residence, residence_fields(event, now))?;
            }
            let mut staged = prepare(txn, OUTBOX_TABLE, &OUTBOX_COLUMNS, "")?;
            for row in &outbox {
                insert(&mut staged, outbox_fields(row))?;
            }
            Ok(registered)
        })
        .await
    }
}
