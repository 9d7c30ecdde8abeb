//! Opening a service's own database: SQLite (WAL) by default, PostgreSQL when the URL
//! says `postgres://`. Pool sizes are set deliberately: sea-orm's SQLite default of one
//! connection serialises every read.

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};
use std::time::Duration;

/// SQLite page cache per connection, in KiB.
const SQLITE_CACHE_KIB: u32 = 32 * 1024;
/// WAL bytes after which a committing connection copies the WAL back into the database
/// file (SQLite's default is 1,000 pages, 4 MiB at its default page size). A bulk-import
/// batch dirties more than that, so the default checkpoints after every batch and copies
/// hot index pages again each time; at 40 MiB a page rewritten by several commits is
/// copied once. Set in pages of the file's own size ([`set_wal_autocheckpoint`]).
const SQLITE_WAL_AUTOCHECKPOINT_BYTES: u64 = 40 << 20;
/// Page size of the SQLite files this creates; a file keeps the page size it was created
/// with. SQLite's default is 4 KiB. With 16 KiB, the B-trees of a 1,000,000-citizen
/// register are a level shallower and split a quarter as often: replaying the bulk import's
/// inserts alone took 16.3 s instead of 25.9 s (docs/benchmarks.md).
const SQLITE_PAGE_SIZE: u32 = 16_384;
/// How long a writer waits for SQLite's write lock (or for the writer connection).
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connects to `url` with at most `max_connections` pooled connections, creating the
/// SQLite file (and its directory) when needed.
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections.max(1))
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false);
    if url.starts_with("sqlite:") {
        if let Some(dir) = sqlite_parent_dir(url) {
            std::fs::create_dir_all(dir)
                .map_err(|e| DbErr::Custom(format!("cannot create data directory: {e}")))?;
        }
        options
            .map_sqlx_sqlite_opts(|opts| {
                // Upper bound of the page cache per connection (SQLite's default is
                // 2 MiB). Every service's indexes outgrow 2 MiB at national scale (the
                // register's name and commune indexes on 1M citizens, the audit log's
                // eight indexes); pages are allocated only as they are used, so a small
                // database stays small. Worst case per service: this × the pool size.
                sqlite_options(opts).pragma("cache_size", format!("-{SQLITE_CACHE_KIB}"))
            })
            .map_sqlx_sqlite_pool_opts(|pool| {
                pool.after_connect(|conn, _| {
                    Box::pin(set_wal_autocheckpoint(
                        conn,
                        SQLITE_WAL_AUTOCHECKPOINT_BYTES,
                    ))
                })
            });
    }
    if url.starts_with("postgres") {
        options.map_sqlx_postgres_pool_opts(|pool| {
            pool.after_connect(|conn, _| {
                Box::pin(async move { crate::pg_socket::set_nodelay(conn).await.map(|_| ()) })
            })
        });
    }
    Database::connect(options).await
}

/// Opens the dedicated writer of a SQLite file: a pool of one connection with a page cache
/// of `cache_mib` MiB, through which a service runs its write transactions, and starts a
/// [`Checkpointer`] on `readers` (the service's pool) for it. `None` for PostgreSQL and for
/// in-memory SQLite (a second pool would not share the database).
///
/// Why one connection: in WAL mode, a SQLite connection throws its whole page cache away
/// whenever another connection has committed since its last transaction, so writes spread
/// over a pool each start cold. A connection through which all writes pass keeps its cache,
/// however large, and a bulk import can run directly on it (`crate::sqlite_direct`).
/// SQLite admits one writer at a time anyway, so writers now queue for this connection (as
/// long as the busy timeout) instead of for the file's lock.
pub async fn connect_sqlite_writer(
    url: &str,
    cache_mib: u32,
    readers: &DatabaseConnection,
) -> Result<Option<(DatabaseConnection, Checkpointer)>, DbErr> {
    if !url.starts_with("sqlite:") || url.contains(":memory:") || url.contains("mode=memory") {
        return Ok(None);
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(1)
        .min_connections(1)
        .connect_timeout(SQLITE_BUSY_TIMEOUT)
        .acquire_timeout(SQLITE_BUSY_TIMEOUT)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(move |opts| {
            sqlite_options(opts).pragma("cache_size", format!("-{}", u64::from(cache_mib) * 1024))
        })
        .map_sqlx_sqlite_pool_opts(|pool| {
            pool.after_connect(|conn, _| {
                Box::pin(set_wal_autocheckpoint(conn, WRITER_AUTOCHECKPOINT_BYTES))
            })
        });
    let writer = Database::connect(options).await?;
    let checkpointer = Checkpointer::spawn(readers.get_sqlite_connection_pool().clone());
    Ok(Some((writer, checkpointer)))
}

/// WAL bytes after which a dedicated writer checkpoints by itself: the fallback when its
/// [`Checkpointer`] falls behind (a bulk import's commit alone may write 400 MiB).
const WRITER_AUTOCHECKPOINT_BYTES: u64 = 1 << 30;
/// Least time between two background checkpoints.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);
/// Longest time between two background checkpoints while the writer exists.
const CHECKPOINT_IDLE: Duration = Duration::from_secs(1);

/// Copies committed WAL frames of a SQLite file into the database file in the background
/// (`PRAGMA wal_checkpoint(PASSIVE)`, which never waits for readers or the writer), on a
/// pooled connection: after commits it is woken for, at most every 100 ms, and at least
/// every second. The copy and its `fsync` then run beside the writer's next transaction
/// instead of inside its commit (SQLite's automatic checkpoint), where they took a sixth of
/// a bulk import's time. The task ends when the `Checkpointer` is dropped.
#[derive(Debug)]
pub struct Checkpointer {
    wakes: tokio::sync::mpsc::Sender<()>,
}

impl Checkpointer {
    /// Starts checkpointing the database of `pool`.
    pub fn spawn(pool: sea_orm::sqlx::SqlitePool) -> Self {
        let (wakes, mut woken) = tokio::sync::mpsc::channel(1);
        tokio::spawn(async move {
            loop {
                // Woken, or a second without a wake-up: checkpoint. Gone: stop.
                if let Ok(None) = tokio::time::timeout(CHECKPOINT_IDLE, woken.recv()).await {
                    break;
                }
                if let Err(error) = sea_orm::sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&pool)
                    .await
                {
                    tracing::warn!(%error, "background WAL checkpoint failed; the writer checkpoints instead");
                }
                tokio::time::sleep(CHECKPOINT_EVERY).await;
            }
        });
        Self { wakes }
    }

    /// Asks for a checkpoint soon (after a commit); a no-op when one is already asked for.
    pub fn wake(&self) {
        let _ = self.wakes.try_send(());
    }
}

/// The settings every SQLite connection of a service shares.
fn sqlite_options(opts: SqliteConnectOptions) -> SqliteConnectOptions {
    opts.page_size(SQLITE_PAGE_SIZE)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .foreign_keys(true)
}

/// Sets `conn`'s automatic checkpoint to `bytes` of WAL, counted in the pages of its file
/// (`PRAGMA wal_autocheckpoint` takes pages, and a file created before 16 KiB pages keeps
/// 4 KiB ones).
pub async fn set_wal_autocheckpoint(
    conn: &mut sea_orm::sqlx::SqliteConnection,
    bytes: u64,
) -> Result<(), sea_orm::sqlx::Error> {
    let page_size: i64 = sea_orm::sqlx::query_scalar("PRAGMA page_size")
        .fetch_one(&mut *conn)
        .await?;
    let pages = bytes / u64::try_from(page_size).unwrap_or(4096).max(512);
    // A number formatted into the statement: nothing to inject.
    let statement = format!("PRAGMA wal_autocheckpoint = {pages}");
    sea_orm::sqlx::query(sea_orm::sqlx::AssertSqlSafe(statement))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Connects like [`connect`], then applies the pending migrations of `M`.
pub async fn open_migrated<M: sea_orm_migration::MigratorTrait>(
    url: &str,
    max_connections: u32,
) -> Result<DatabaseConnection, DbErr> {
    let db = connect(url, max_connections).await?;
    M::up(&db, None).await?;
    Ok(db)
}

/// The directory of a `sqlite://path?...` file URL, if it has one.
fn sqlite_parent_dir(url: &str) -> Option<&std::path::Path> {
    let path = url
        .trim_start_matches("sqlite:")
        .trim_start_matches("//")
        .split('?')
        .next()?;
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    std::path::Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn sqlite_dirs() {
        assert_eq!(
            sqlite_parent_dir("sqlite://data/identity.db?mode=rwc"),
            Some(std::path::Path::new("data"))
        );
        assert_eq!(sqlite_parent_dir("sqlite::memory:"), None);
        assert_eq!(sqlite_parent_dir("sqlite://x.db"), None);
    }

    #[tokio::test]
    async fn the_writer_keeps_its_own_connection_and_is_checkpointed_in_the_background() {
        use sea_orm::ConnectionTrait;
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("w.db");
        let url = format!("sqlite://{}?mode=rwc", file.display());
        let readers = connect(&url, 2).await.expect("connects");
        assert!(
            connect_sqlite_writer("sqlite::memory:", 8, &readers)
                .await
                .expect("no error")
                .is_none(),
            "an in-memory database has no separate writer"
        );
        let (writer, checkpointer) = connect_sqlite_writer(&url, 8, &readers)
            .await
            .expect("connects")
            .expect("a file has a writer");
        writer
            .execute_unprepared(
                "CREATE TABLE t (v TEXT); \
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) \
                 INSERT INTO t SELECT hex(randomblob(32)) FROM n",
            )
            .await
            .expect("writes");
        // The rows went to the WAL; the writer itself checkpoints only past 1 GiB of it,
        // so the background checkpointer is what copies them into the file.
        checkpointer.wake();
        let mut size = 0;
        for _ in 0..50 {
            size = std::fs::metadata(&file).expect("file").len();
            if size > 1_000_000 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            size > 1_000_000,
            "the WAL was copied into the file ({size} bytes)"
        );
        assert_eq!(
            rows_of_t(&readers).await,
            20_000,
            "readers see what the writer committed"
        );
    }

    /// `PRAGMA name` on `db`, as an integer.
    async fn pragma(db: &DatabaseConnection, name: &str) -> i64 {
        integer(db, &format!("PRAGMA {name}")).await
    }

    /// The page size of the SQLite file at `url`, and the automatic checkpoints (in pages)
    /// of its pooled connections and of its writer.
    async fn page_size_and_checkpoints(url: &str) -> (i64, i64, i64) {
        let readers = connect(url, 2).await.expect("connects");
        let (writer, _checkpointer) = connect_sqlite_writer(url, 8, &readers)
            .await
            .expect("connects")
            .expect("a file has a writer");
        (
            pragma(&readers, "page_size").await,
            pragma(&readers, "wal_autocheckpoint").await,
            pragma(&writer, "wal_autocheckpoint").await,
        )
    }

    #[tokio::test]
    async fn new_files_get_16_kib_pages_and_checkpoints_count_bytes_in_the_files_pages() {
        use sea_orm::ConnectionTrait;
        use sea_orm::sqlx::ConnectOptions as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}/new.db?mode=rwc", dir.path().display());
        connect(&url, 1)
            .await
            .expect("creates")
            .execute_unprepared("CREATE TABLE t (v TEXT)")
            .await
            .expect("table");
        // 40 MiB and 1 GiB of WAL.
        assert_eq!(
            page_size_and_checkpoints(&url).await,
            (16_384, 2_560, 65_536)
        );

        // A file made with SQLite's default page size keeps it; the thresholds follow.
        let old = dir.path().join("old.db");
        let mut conn = sea_orm::sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&old)
            .create_if_missing(true)
            .page_size(4096)
            .connect()
            .await
            .expect("creates");
        sea_orm::sqlx::query("CREATE TABLE t (v TEXT)")
            .execute(&mut conn)
            .await
            .expect("table");
        drop(conn);
        let url = format!("sqlite://{}?mode=rwc", old.display());
        assert_eq!(
            page_size_and_checkpoints(&url).await,
            (4096, 10_240, 262_144)
        );
    }

    /// The number of rows in the test table `t`.
    pub(crate) async fn rows_of_t(db: &DatabaseConnection) -> i64 {
        integer(db, "SELECT count(*) FROM t").await
    }

    /// The integer `sql` returns first.
    async fn integer(db: &DatabaseConnection, sql: &str) -> i64 {
        use sea_orm::ConnectionTrait;
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                sql,
            ))
            .await
            .expect("query")
            .expect("row");
        row.try_get_by_index(0).expect("integer")
    }

    #[tokio::test]
    async fn opens_sqlite_in_wal_mode() {
        use sea_orm::{ConnectionTrait, Statement};
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}/sub/t.db?mode=rwc", dir.path().display());
        let db = connect(&url, 2).await.expect("connects");
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "PRAGMA journal_mode",
            ))
            .await
            .expect("query")
            .expect("row");
        let mode: String = row.try_get_by_index(0).expect("text");
        assert_eq!(mode.to_lowercase(), "wal");
    }
}
