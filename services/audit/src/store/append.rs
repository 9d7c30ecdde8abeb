//! The append path of the log, in raw SQL on the database's own driver (sqlx): it runs for
//! every accepted event, so it skips the query builder and the active models.
//!
//! - SQLite: prepared multi-row `INSERT OR ROLLBACK … VALUES (…), (…)` statements of
//!   [`SQLITE_ROWS`] rows (cached per connection by sqlx, so a full chunk is parsed once per
//!   connection);
//! - PostgreSQL: one `INSERT … SELECT * FROM UNNEST($1::text[], …)` per table and batch,
//!   whatever its size (one prepared statement, one round trip).
//!
//! Everything of one append (events, leaves, alerts) commits in one transaction.
//!
//! On a SQLite file the appends run on one dedicated connection ([`SqliteWriter`]): the
//! log has a single writer anyway, and a connection that alone writes keeps its page cache
//! (a pooled one would find it stale after every other connection's commit). Its WAL is
//! copied back into the database file by a background task on another connection
//! ([`Checkpointer`]), so that copy and its `fsync` run beside the appends instead of
//! inside them; the writer checkpoints itself only if that task falls far behind.

use super::{PlacedEvent, StoredAlert};
use dancu_kit::db::Checkpointer;
use sea_orm::sqlx::{self, Postgres, Sqlite};
use sea_orm::{ConnAcquireErr, DatabaseConnection, DbBackend, DbErr, RuntimeErr};
pub(super) use sqlx::PgPool;
pub(super) use sqlx::sqlite::SqliteConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteSynchronous};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection};
use std::collections::HashSet;
use std::str::FromStr;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

/// Rows per SQLite multi-row INSERT of events (19 parameters each: 1,900 of SQLite's
/// 32,766).
const SQLITE_ROWS: usize = 100;
/// Rows per SQLite multi-row INSERT of leaves (2 parameters each).
const SQLITE_LEAF_ROWS: usize = 500;
/// Ids per SQLite de-duplication query.
const SQLITE_IDS: usize = 500;
/// Page cache of the writer connection, in KiB (the log's indexes are hot for it alone).
const WRITER_CACHE_KIB: u32 = 64 * 1024;
/// WAL bytes after which the writer checkpoints by itself (the fallback when the
/// background checkpointer falls behind; SQLite's default is 1,000 pages).
const WRITER_AUTOCHECKPOINT_BYTES: u64 = 80 << 20;

/// Opens the writer connection with `options` and its automatic checkpoint.
async fn connect_writer(options: &SqliteConnectOptions) -> Result<SqliteConnection, DbErr> {
    let mut conn = options.connect().await.map_err(sqlx_conn_err)?;
    dancu_kit::db::set_wal_autocheckpoint(&mut conn, WRITER_AUTOCHECKPOINT_BYTES)
        .await
        .map_err(sqlx_conn_err)?;
    Ok(conn)
}

/// The connection appends run on, with the channel that wakes the checkpointer.
pub(super) struct SqliteWriter {
    /// The connection; `None` after a failed append until the next one reconnects.
    conn: tokio::sync::Mutex<Option<SqliteConnection>>,
    /// How to open it again.
    options: SqliteConnectOptions,
    checkpointer: Checkpointer,
}

impl SqliteWriter {
    /// Opens the writer connection to the SQLite file of `url` and starts the background
    /// checkpointer on `pool` (it ends when the writer is dropped). `None` for in-memory
    /// databases, which a second connection would not share.
    pub(super) async fn open(url: &str, pool: &SqlitePool) -> Result<Option<Self>, DbErr> {
        if url.contains(":memory:") || url.contains("mode=memory") {
            return Ok(None);
        }
        let options = SqliteConnectOptions::from_str(url)
            .map_err(sqlx_conn_err)?
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true)
            .pragma("cache_size", format!("-{WRITER_CACHE_KIB}"));
        let conn = connect_writer(&options).await?;
        let checkpointer = Checkpointer::spawn(pool.clone());
        Ok(Some(Self {
            conn: tokio::sync::Mutex::new(Some(conn)),
            options,
            checkpointer,
        }))
    }

    /// Runs `work` on the writer connection, first opening it again if an earlier run
    /// failed. A connection whose work failed is closed, not used again: SQLite may have
    /// ended the transaction by itself (`OR ROLLBACK`, a full disk), and sqlx's count of
    /// open transactions on that connection would then be off by one.
    pub(super) async fn run<R>(
        &self,
        work: impl AsyncFnOnce(&mut SqliteConnection) -> Result<R, DbErr>,
    ) -> Result<R, DbErr> {
        let mut slot = self.conn.lock().await;
        let conn = match slot.as_mut() {
            Some(conn) => conn,
            None => slot.insert(connect_writer(&self.options).await?),
        };
        let result = work(conn).await;
        if result.is_err()
            && let Some(conn) = slot.take()
        {
            let _ = conn.close().await;
        }
        result
    }
}

/// Runs `work` on a pooled SQLite connection (an in-memory database has no dedicated
/// writer), closing that connection if the work failed, as [`SqliteWriter::run`] does.
pub(super) async fn run_pooled<R>(
    pool: &SqlitePool,
    work: impl AsyncFnOnce(&mut SqliteConnection) -> Result<R, DbErr>,
) -> Result<R, DbErr> {
    let mut conn = pool.acquire().await.map_err(db_err)?;
    let result = work(&mut conn).await;
    if result.is_err() {
        let _ = conn.close().await;
    }
    result
}

fn sqlx_conn_err(e: sqlx::Error) -> DbErr {
    DbErr::Conn(RuntimeErr::SqlxError(e.into()))
}

/// The stored columns of an event, in insert order.
const EVENT_COLUMNS: &str = "event_id, occur_time_us, accept_time_us, service, actor_id, \
    actor_unit, rpc, resource_type, resource_id, subject_hash, purpose, case_reference, \
    outcome, trace_id, leaf_index, break_glass, decision, policy_ids, client_address";
/// Number of [`EVENT_COLUMNS`].
const EVENT_COLUMN_COUNT: usize = 19;

/// The error sea-orm would report for `e`: pool exhaustion and lost connections as
/// connection errors (answered `UNAVAILABLE`), the rest as execution errors.
pub(super) fn db_err(e: sqlx::Error) -> DbErr {
    match e {
        sqlx::Error::PoolTimedOut => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
        sqlx::Error::PoolClosed => DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => DbErr::Conn(RuntimeErr::SqlxError(e.into())),
        _ => DbErr::Exec(RuntimeErr::SqlxError(e.into())),
    }
}

/// `INSERT OR ROLLBACK INTO table (columns) VALUES (?, …), …` with `rows` rows of `width`
/// parameters (only constants and placeholders: nothing from a request enters the SQL
/// text).
///
/// `OR ROLLBACK`: a constraint violation (an event id or leaf index already stored, which
/// only a second writer on the same file can cause) ends the whole transaction, as the
/// append wants anyway. With the default `ABORT`, SQLite must be able to undo a failing
/// multi-row statement alone, so it copies every page the statement touches into a
/// statement journal first: that copy cost about a quarter of the writer thread's time
/// (`docs/benchmarks.md`, "Append path v4", says how that was measured).
fn values_sql(table: &str, columns: &str, width: usize, rows: usize) -> Arc<str> {
    let row = format!("({})", vec!["?"; width].join(", "));
    format!(
        "INSERT OR ROLLBACK INTO {table} ({columns}) VALUES {}",
        vec![row.as_str(); rows].join(", ")
    )
    .into()
}

/// The statement of `rows` rows: the full-chunk one built once, shorter ones on demand.
fn chunk_sql(
    full: &LazyLock<Arc<str>>,
    full_rows: usize,
    rows: usize,
    build: impl FnOnce() -> Arc<str>,
) -> AssertSqlSafe<Arc<str>> {
    AssertSqlSafe(if rows == full_rows {
        Arc::clone(full)
    } else {
        build()
    })
}

static EVENTS_SQL: LazyLock<Arc<str>> = LazyLock::new(|| {
    values_sql(
        "audit_events",
        EVENT_COLUMNS,
        EVENT_COLUMN_COUNT,
        SQLITE_ROWS,
    )
});
static LEAVES_SQL: LazyLock<Arc<str>> =
    LazyLock::new(|| values_sql("audit_leaves", "leaf_index, leaf_hash", 2, SQLITE_LEAF_ROWS));
static IDS_SQL: LazyLock<Arc<str>> = LazyLock::new(|| ids_sql(SQLITE_IDS));

fn ids_sql(n: usize) -> Arc<str> {
    format!(
        "SELECT event_id FROM audit_events WHERE event_id IN ({})",
        vec!["?"; n].join(", ")
    )
    .into()
}

/// Which of `ids` are already stored.
pub(super) async fn existing_ids(
    db: &DatabaseConnection,
    ids: &[String],
) -> Result<HashSet<String>, DbErr> {
    let mut found = HashSet::new();
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let rows: Vec<(String,)> =
                sqlx::query_as("SELECT event_id FROM audit_events WHERE event_id = ANY($1)")
                    .bind(ids)
                    .fetch_all(db.get_postgres_connection_pool())
                    .await
                    .map_err(db_err)?;
            found.extend(rows.into_iter().map(|(id,)| id));
        }
        _ => {
            // A pooled reader, not the writer: the next batch is checked while the writer
            // commits the previous one (the log keeps in-flight ids in memory).
            let mut conn = db
                .get_sqlite_connection_pool()
                .acquire()
                .await
                .map_err(db_err)?;
            for chunk in ids.chunks(SQLITE_IDS) {
                let sql = chunk_sql(&IDS_SQL, SQLITE_IDS, chunk.len(), || ids_sql(chunk.len()));
                let mut query = sqlx::query_as::<Sqlite, (String,)>(sql);
                for id in chunk {
                    query = query.bind(id.as_str());
                }
                let rows = query.fetch_all(&mut *conn).await.map_err(db_err)?;
                found.extend(rows.into_iter().map(|(id,)| id));
            }
        }
    }
    Ok(found)
}

/// A batch ready to be stored: its statements built (SQLite) or its columns gathered
/// (PostgreSQL), so that storing it is only the database's work. The log prepares the
/// next batch while the previous one commits.
pub struct PreparedAppend(Prepared);

enum Prepared {
    Sqlite(Vec<SqliteInsert>),
    Postgres {
        columns: Box<EventColumns>,
        accept_time_us: i64,
        alerts: Vec<StoredAlert>,
    },
}

type SqliteInsert = sqlx::query::Query<'static, Sqlite, sqlx::sqlite::SqliteArguments>;

/// Prepares placed events, their leaves and the alerts they raised for [`commit`].
pub(super) fn prepare(
    backend: DbBackend,
    events: Vec<PlacedEvent>,
    accept_time_us: i64,
    alerts: Vec<StoredAlert>,
) -> PreparedAppend {
    PreparedAppend(match backend {
        DbBackend::Postgres => Prepared::Postgres {
            columns: Box::new(EventColumns::of(events)),
            accept_time_us,
            alerts,
        },
        _ => Prepared::Sqlite(sqlite_statements(events, accept_time_us, alerts)),
    })
}

/// Stores a prepared batch in one transaction.
pub(super) async fn commit(
    db: &DatabaseConnection,
    writer: Option<&SqliteWriter>,
    prepared: PreparedAppend,
) -> Result<(), DbErr> {
    match prepared.0 {
        Prepared::Postgres {
            columns,
            accept_time_us,
            alerts,
        } => {
            append_postgres(
                db.get_postgres_connection_pool(),
                *columns,
                accept_time_us,
                alerts,
            )
            .await
        }
        // As in `SqliteWriter::run`, a connection whose append failed is not used again.
        Prepared::Sqlite(statements) => match writer {
            Some(writer) => {
                writer
                    .run(async move |conn| run_sqlite(conn, statements).await)
                    .await?;
                writer.checkpointer.wake();
                Ok(())
            }
            None => {
                run_pooled(db.get_sqlite_connection_pool(), async move |conn| {
                    run_sqlite(conn, statements).await
                })
                .await
            }
        },
    }
}

async fn run_sqlite(
    conn: &mut SqliteConnection,
    statements: Vec<SqliteInsert>,
) -> Result<(), DbErr> {
    let mut tx = conn.begin().await.map_err(db_err)?;
    for statement in statements {
        statement.execute(&mut *tx).await.map_err(db_err)?;
    }
    tx.commit().await.map_err(db_err)
}

/// The INSERT statements of a batch: leaves, events, alerts.
fn sqlite_statements(
    events: Vec<PlacedEvent>,
    accept_time_us: i64,
    alerts: Vec<StoredAlert>,
) -> Vec<SqliteInsert> {
    let mut statements = Vec::new();
    for chunk in events.chunks(SQLITE_LEAF_ROWS) {
        let sql = chunk_sql(&LEAVES_SQL, SQLITE_LEAF_ROWS, chunk.len(), || {
            values_sql("audit_leaves", "leaf_index, leaf_hash", 2, chunk.len())
        });
        let mut query = sqlx::query::<Sqlite>(sql);
        for p in chunk {
            query = query.bind(p.leaf_index).bind(p.leaf_hash.to_vec());
        }
        statements.push(query);
    }
    let mut events = events.into_iter().peekable();
    while events.peek().is_some() {
        let chunk: Vec<PlacedEvent> = events.by_ref().take(SQLITE_ROWS).collect();
        let sql = chunk_sql(&EVENTS_SQL, SQLITE_ROWS, chunk.len(), || {
            values_sql(
                "audit_events",
                EVENT_COLUMNS,
                EVENT_COLUMN_COUNT,
                chunk.len(),
            )
        });
        let mut query = sqlx::query::<Sqlite>(sql);
        for p in chunk {
            let e = p.event;
            query = query
                .bind(e.event_id)
                .bind(e.occur_time_us)
                .bind(accept_time_us)
                .bind(e.service)
                .bind(e.actor_id)
                .bind(e.actor_unit)
                .bind(e.rpc)
                .bind(e.resource_type)
                .bind(e.resource_id)
                .bind(e.subject_hash)
                .bind(e.purpose)
                .bind(e.case_reference)
                .bind(e.outcome)
                .bind(e.trace_id)
                .bind(p.leaf_index)
                .bind(e.break_glass)
                .bind(e.decision)
                .bind(e.policy_ids.join("\n"))
                .bind(e.client_address);
        }
        statements.push(query);
    }
    for alert in alerts {
        statements.push(
            sqlx::query::<Sqlite>(
                "INSERT OR ROLLBACK INTO audit_alerts (alert_id, kind, create_time_us, \
                 event_id, leaf_index, actor_id, actor_unit, detail) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(alert.alert_id)
            .bind(alert.kind)
            .bind(alert.create_time_us)
            .bind(alert.event_id)
            .bind(alert.leaf_index)
            .bind(alert.actor_id)
            .bind(alert.actor_unit)
            .bind(alert.detail),
        );
    }
    statements
}

/// Column-wise copy of a batch, for `UNNEST`.
#[derive(Default)]
struct EventColumns {
    event_id: Vec<String>,
    occur_time_us: Vec<i64>,
    service: Vec<String>,
    actor_id: Vec<String>,
    actor_unit: Vec<String>,
    rpc: Vec<String>,
    resource_type: Vec<String>,
    resource_id: Vec<String>,
    subject_hash: Vec<String>,
    purpose: Vec<String>,
    case_reference: Vec<String>,
    outcome: Vec<String>,
    trace_id: Vec<String>,
    leaf_index: Vec<i64>,
    break_glass: Vec<String>,
    decision: Vec<String>,
    policy_ids: Vec<String>,
    client_address: Vec<String>,
    leaf_hash: Vec<Vec<u8>>,
}

impl EventColumns {
    fn of(events: Vec<PlacedEvent>) -> Self {
        let mut c = Self::default();
        for p in events {
            let e = p.event;
            c.event_id.push(e.event_id);
            c.occur_time_us.push(e.occur_time_us);
            c.service.push(e.service);
            c.actor_id.push(e.actor_id);
            c.actor_unit.push(e.actor_unit);
            c.rpc.push(e.rpc);
            c.resource_type.push(e.resource_type);
            c.resource_id.push(e.resource_id);
            c.subject_hash.push(e.subject_hash);
            c.purpose.push(e.purpose);
            c.case_reference.push(e.case_reference);
            c.outcome.push(e.outcome);
            c.trace_id.push(e.trace_id);
            c.leaf_index.push(p.leaf_index);
            c.break_glass.push(e.break_glass);
            c.decision.push(e.decision);
            c.policy_ids.push(e.policy_ids.join("\n"));
            c.client_address.push(e.client_address);
            c.leaf_hash.push(p.leaf_hash.to_vec());
        }
        c
    }
}

async fn append_postgres(
    pool: &sqlx::PgPool,
    c: EventColumns,
    accept_time_us: i64,
    alerts: Vec<StoredAlert>,
) -> Result<(), DbErr> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    sqlx::query::<Postgres>(
        "INSERT INTO audit_leaves (leaf_index, leaf_hash) \
         SELECT * FROM UNNEST($1::bigint[], $2::bytea[])",
    )
    .bind(&c.leaf_index)
    .bind(&c.leaf_hash)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    sqlx::query::<Postgres>(
        "INSERT INTO audit_events (event_id, occur_time_us, accept_time_us, service, \
         actor_id, actor_unit, rpc, resource_type, resource_id, subject_hash, purpose, \
         case_reference, outcome, trace_id, leaf_index, break_glass, decision, policy_ids, \
         client_address) \
         SELECT u.event_id, u.occur_time_us, $3, u.service, u.actor_id, u.actor_unit, u.rpc, \
         u.resource_type, u.resource_id, u.subject_hash, u.purpose, u.case_reference, \
         u.outcome, u.trace_id, u.leaf_index, u.break_glass, u.decision, u.policy_ids, \
         u.client_address \
         FROM UNNEST($1::text[], $2::bigint[], $4::text[], $5::text[], $6::text[], \
         $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], \
         $13::text[], $14::text[], $15::bigint[], $16::text[], $17::text[], $18::text[], \
         $19::text[]) AS u(event_id, occur_time_us, service, actor_id, actor_unit, rpc, \
         resource_type, resource_id, subject_hash, purpose, case_reference, outcome, \
         trace_id, leaf_index, break_glass, decision, policy_ids, client_address)",
    )
    .bind(&c.event_id)
    .bind(&c.occur_time_us)
    .bind(accept_time_us)
    .bind(&c.service)
    .bind(&c.actor_id)
    .bind(&c.actor_unit)
    .bind(&c.rpc)
    .bind(&c.resource_type)
    .bind(&c.resource_id)
    .bind(&c.subject_hash)
    .bind(&c.purpose)
    .bind(&c.case_reference)
    .bind(&c.outcome)
    .bind(&c.trace_id)
    .bind(&c.leaf_index)
    .bind(&c.break_glass)
    .bind(&c.decision)
    .bind(&c.policy_ids)
    .bind(&c.client_address)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    for alert in alerts {
        sqlx::query::<Postgres>(
            "INSERT INTO audit_alerts (alert_id, kind, create_time_us, event_id, leaf_index, \
             actor_id, actor_unit, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(alert.alert_id)
        .bind(alert.kind)
        .bind(alert.create_time_us)
        .bind(alert.event_id)
        .bind(alert.leaf_index)
        .bind(alert.actor_id)
        .bind(alert.actor_unit)
        .bind(alert.detail)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }
    tx.commit().await.map_err(db_err)
}
