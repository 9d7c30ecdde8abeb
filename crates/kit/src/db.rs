//! Opening a service's own database: SQLite (WAL) by default, PostgreSQL when the URL
//! says `postgres://`. Pool sizes are set deliberately: sea-orm's SQLite default of one
//! connection serialises every read.

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};
use std::time::Duration;

/// SQLite page cache per connection, in KiB.
const SQLITE_CACHE_KIB: u32 = 32 * 1024;
/// WAL pages after which a committing connection copies the WAL back into the database
/// file (SQLite's default is 1,000, i.e. 4 MiB). A bulk-import batch dirties more than
/// that, so the default checkpoints after every batch and copies hot index pages again
/// each time; at 10,000 (40 MiB) a page rewritten by several commits is copied once.
const SQLITE_WAL_AUTOCHECKPOINT_PAGES: u32 = 10_000;

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
        options.map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
                // Upper bound of the page cache per connection (SQLite's default is
                // 2 MiB). Every service's indexes outgrow 2 MiB at national scale (the
                // register's name and commune indexes on 1M citizens, the audit log's
                // eight indexes); pages are allocated only as they are used, so a small
                // database stays small. Worst case per service: this × the pool size.
                .pragma("cache_size", format!("-{SQLITE_CACHE_KIB}"))
                .pragma(
                    "wal_autocheckpoint",
                    SQLITE_WAL_AUTOCHECKPOINT_PAGES.to_string(),
                )
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
mod tests {
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
