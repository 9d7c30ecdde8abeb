//! One write transaction run synchronously, through rusqlite, on a SQLite connection that
//! sqlx opened and pools.
//!
//! sqlx runs each SQLite connection on a worker thread and sends it every statement over a
//! channel; the awaiting task builds the next statement's arguments while the worker waits,
//! and every argument is copied twice (into sqlx's arguments, then into SQLite). For a bulk
//! import of 1,000,000 citizens that round trip and copying cost about a third of the
//! writer's time and left it idle a fifth of the time. Here the work runs on the calling
//! thread with the connection's handle locked out of the worker (sqlx's
//! `lock_handle`), through rusqlite's safe API: prepared single-row statements, bound
//! from borrowed values, stepped in a loop. rusqlite is the crate made for that API; only
//! the hand-over of the handle is `unsafe`, in [`with_transaction`].

use sea_orm::sqlx::SqlitePool;
use sea_orm::{DbErr, RuntimeErr};

pub use rusqlite;

/// Runs `work` in one `BEGIN IMMEDIATE` transaction on a connection of `pool` (for a
/// writer pool, its only connection) and commits it if `work` succeeds; rolls it back
/// otherwise. A connection left inside a transaction (a failed rollback) is closed rather
/// than returned to the pool.
///
/// The calling thread blocks while `work` runs (under a multi-threaded tokio runtime,
/// through `block_in_place`, so other tasks move to other threads).
pub async fn with_transaction<R>(
    pool: &SqlitePool,
    work: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<R>,
) -> Result<R, DbErr> {
    let mut pooled = pool.acquire().await.map_err(sqlx_err)?;
    let mut handle = pooled.lock_handle().await.map_err(sqlx_err)?;
    let raw = handle.as_raw_handle();
    let (result, clean) = blocking(|| {
        #[allow(unsafe_code)]
        // SAFETY: `handle` keeps sqlx's worker thread away from the connection until it is
        // dropped, after `connection`; `from_handle` wraps the handle without taking
        // ownership, so dropping `connection` finalizes only the statements it prepared
        // and leaves the connection open for sqlx.
        let connection = unsafe { rusqlite::Connection::from_handle(raw.as_ptr()) };
        let mut connection = match connection {
            Ok(connection) => connection,
            Err(error) => return (Err(error), true),
        };
        let result = transaction(&mut connection, work);
        let clean = connection.is_autocommit();
        (result, clean)
    });
    drop(handle);
    if !clean {
        pooled.close_on_drop();
    }
    result.map_err(|e| DbErr::Exec(RuntimeErr::Internal(format!("SQLite: {e}"))))
}

fn transaction<R>(
    connection: &mut rusqlite::Connection,
    work: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<R>,
) -> rusqlite::Result<R> {
    let txn = connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    // Dropped without a commit (an error in `work`), the transaction rolls back.
    let result = work(&txn)?;
    txn.commit()?;
    Ok(result)
}

/// Asks the CPU to start loading the first cache line of `bytes`, without waiting for it:
/// for values about to be bound whose memory is likely cold. A no-op off x86-64 and for
/// empty slices. (No crate offers a safe prefetch; the intrinsic is `unsafe` only because
/// of its `#[target_feature]`, and SSE is part of every x86-64 CPU.)
pub fn prefetch(bytes: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    if !bytes.is_empty() {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        #[allow(unsafe_code)]
        // SAFETY: a prefetch is a hint: it never faults, reads nothing architecturally and
        // writes nothing; the pointer is in bounds anyway. SSE, the intrinsic's target
        // feature, is in the x86-64 baseline.
        unsafe {
            _mm_prefetch::<_MM_HINT_T0>(bytes.as_ptr().cast());
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = bytes;
}

/// Runs `work` on this thread, telling a multi-threaded tokio runtime first.
fn blocking<R>(work: impl FnOnce() -> R) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        _ => work(),
    }
}

fn sqlx_err(e: sea_orm::sqlx::Error) -> DbErr {
    match e {
        sea_orm::sqlx::Error::PoolTimedOut => {
            DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout)
        }
        other => DbErr::Conn(RuntimeErr::SqlxError(other.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::tests::rows_of_t;
    use sea_orm::ConnectionTrait;

    async fn writer() -> (tempfile::TempDir, sea_orm::DatabaseConnection) {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}/t.db?mode=rwc", dir.path().display());
        let readers = crate::db::connect(&url, 2).await.expect("creates");
        let (writer, _checkpointer) = crate::db::connect_sqlite_writer(&url, 8, &readers)
            .await
            .expect("connects")
            .expect("a file has a writer");
        writer
            .execute_unprepared("CREATE TABLE t (k TEXT PRIMARY KEY)")
            .await
            .expect("table");
        (dir, writer)
    }

    #[tokio::test]
    async fn commits_whole_or_not_at_all_and_the_connection_goes_on() {
        let (_dir, writer) = writer().await;
        let pool = writer.get_sqlite_connection_pool();
        let written = with_transaction(pool, |txn| {
            let mut insert = txn.prepare("INSERT INTO t (k) VALUES (?1)")?;
            insert.execute(["a"])?;
            insert.execute(["b"])
        })
        .await
        .expect("commits");
        assert_eq!(written, 1);
        assert_eq!(rows_of_t(&writer).await, 2);

        let failed = with_transaction(pool, |txn| {
            let mut insert = txn.prepare("INSERT INTO t (k) VALUES (?1)")?;
            insert.execute(["c"])?;
            insert.execute(["a"])
        })
        .await;
        assert!(failed.is_err(), "a repeated key fails the transaction");
        assert_eq!(rows_of_t(&writer).await, 2, "nothing of it is kept");

        // sqlx goes on using the same (only) connection, inside and outside transactions.
        writer
            .execute_unprepared("INSERT INTO t (k) VALUES ('d')")
            .await
            .expect("sqlx writes after");
        assert_eq!(rows_of_t(&writer).await, 3);
    }
}
