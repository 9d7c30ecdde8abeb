//! The raw-SQL append path against a real database (a SQLite file; PostgreSQL when
//! `DANCU_TEST_POSTGRES_URL` is set): every stored row hashes to its stored leaf (so no
//! column is swapped or lost), leaves follow the submitted order across several multi-row
//! statements, ids de-duplicate exactly (stored ones and repeats within a batch), the
//! alerts of the batch are stored with it, and a restart rebuilds the same tree.

use dancu_audit::app::alerts::AlertKind;
use dancu_audit::app::{AuditLog, SubmittedEvent, entry_of, split_policy_ids};
use dancu_audit::store::AuditStore;
use dancu_kit::config::Config;
use sea_orm::ConnectionTrait;

mod common;

use common::{database, event, sqlite_database};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_rows_hash_to_their_leaves_and_ids_deduplicate_exactly() {
    let (url, _dir) = database().await;
    let config = Config::default();
    let log = AuditLog::open(AuditStore::open(&url, 4).await.expect("store"), &config)
        .await
        .expect("log");

    // 250 events: two full multi-row statements and a partial one.
    let first: Vec<SubmittedEvent> = (0..250).map(event).collect();
    let outcome = log.append(first.clone()).await.expect("append");
    assert_eq!((outcome.accepted, outcome.duplicates), (250, 0));

    // Ten stored ids, ten new ones, and one of the new ones twice: only ten are new.
    let mut second: Vec<SubmittedEvent> = first[..10].to_vec();
    second.extend((250..260).map(event));
    second.push(event(255));
    let outcome = log.append(second).await.expect("append");
    assert_eq!((outcome.accepted, outcome.duplicates), (10, 11));
    let outcome = log.append(first[100..120].to_vec()).await.expect("append");
    assert_eq!((outcome.accepted, outcome.duplicates), (0, 20));
    assert_eq!(log.tree_size(), 260);

    let entries = log.entries(0, 260).await.expect("entries");
    assert_eq!(entries.len(), 260);
    for (i, entry) in entries.iter().enumerate() {
        let stored = entry.event.as_ref().expect("stored body");
        let submitted = event(i as u32).event;
        assert_eq!(entry.leaf_index, i as u64);
        assert_eq!(stored.leaf_index, Some(i as i64));
        assert_eq!(stored.event_id, submitted.event_id, "leaf {i} in order");
        assert_eq!(
            (
                stored.occur_time_us,
                stored.service.as_str(),
                stored.actor_id.as_str(),
                stored.actor_unit.as_str(),
                stored.rpc.as_str(),
                stored.resource_id.as_str(),
                stored.case_reference.as_str(),
                stored.outcome.as_str(),
                stored.trace_id.as_str(),
                stored.break_glass.as_str(),
                stored.decision.as_str(),
                stored.client_address.as_str(),
            ),
            (
                submitted.occur_time_us,
                submitted.service.as_str(),
                submitted.actor_id.as_str(),
                submitted.actor_unit.as_str(),
                submitted.rpc.as_str(),
                submitted.resource_id.as_str(),
                submitted.case_reference.as_str(),
                submitted.outcome.as_str(),
                submitted.trace_id.as_str(),
                submitted.break_glass.as_str(),
                submitted.decision.as_str(),
                submitted.client_address.as_str(),
            ),
            "leaf {i} stored as submitted"
        );
        assert_eq!(split_policy_ids(&stored.policy_ids), submitted.policy_ids);
        assert_eq!(stored.subject_hash.is_empty(), i % 2 == 1, "leaf {i}");
        assert_eq!(
            entry_of(stored).leaf_hash(),
            entry.leaf_hash,
            "leaf {i}: the stored row hashes to the stored leaf"
        );
    }

    // Every break-glass event raised its alert, stored with the batch.
    let (alerts, _) = log
        .alerts(Some(AlertKind::BreakGlass), 0, 1000)
        .await
        .expect("alerts");
    let glass: Vec<u64> = alerts.iter().map(|a| a.leaf_index as u64).collect();
    let expected: Vec<u64> = (0..260).filter(|i| i % 5 == 0).collect();
    assert_eq!(glass, expected);

    // A restart rebuilds the same tree from the stored leaves.
    let root = log.checkpoint().expect("checkpoint").root;
    drop(log);
    let reopened = AuditLog::open(AuditStore::open(&url, 4).await.expect("store"), &config)
        .await
        .expect("log");
    let checkpoint = reopened.checkpoint().expect("checkpoint");
    assert_eq!((checkpoint.size, checkpoint.root), (260, root));
}

/// The log stored at `url`, with the default settings.
async fn open_log(url: &str) -> AuditLog {
    AuditLog::open(
        AuditStore::open(url, 4).await.expect("store"),
        &Config::default(),
    )
    .await
    .expect("log")
}

/// The first `size` entries of the log (read 1,000 at a time, the most per call).
async fn all_entries(log: &AuditLog, size: u64) -> Vec<dancu_audit::app::EntryView> {
    let mut entries = Vec::new();
    for start in (0..size).step_by(1000) {
        let end = (start + 1000).min(size);
        entries.extend(log.entries(start, end).await.expect("entries"));
    }
    entries
}

/// Every stored leaf is there once, in order, and hashes from its stored row; the tree
/// rebuilt from storage has the live root.
async fn assert_log_consistent(log: &AuditLog, url: &str, expected_size: u64) {
    assert_eq!(log.tree_size(), expected_size);
    let entries = all_entries(log, expected_size).await;
    assert_eq!(entries.len() as u64, expected_size);
    for (i, entry) in entries.iter().enumerate() {
        assert_eq!(entry.leaf_index, i as u64, "no gap before leaf {i}");
        let stored = entry.event.as_ref().expect("stored body");
        assert_eq!(entry_of(stored).leaf_hash(), entry.leaf_hash, "leaf {i}");
    }
    let root = log.checkpoint().expect("checkpoint").root;
    let reopened = open_log(url).await;
    let checkpoint = reopened.checkpoint().expect("checkpoint");
    assert_eq!((checkpoint.size, checkpoint.root), (expected_size, root));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_store_every_event_once_without_gaps() {
    let (url, _dir) = database().await;
    let log = open_log(&url).await;
    // Four relays at once, ten batches of 40 each; every batch also repeats the ids of a
    // batch another relay sends at about the same time (a retry racing its original).
    let relay = |r: u32| {
        let log = &log;
        async move {
            let (mut accepted, mut duplicates) = (0, 0);
            for b in 0..10u32 {
                let own = (r * 400 + b * 40)..(r * 400 + b * 40 + 40);
                let other = ((r + 1) % 4) * 400 + b * 40;
                let mut batch: Vec<SubmittedEvent> = own.map(event).collect();
                batch.extend((other..other + 10).map(event));
                let outcome = log.append(batch).await.expect("append");
                assert_eq!(outcome.accepted + outcome.duplicates, 50);
                accepted += outcome.accepted;
                duplicates += outcome.duplicates;
            }
            (accepted, duplicates)
        }
    };
    let (a, b, c, d) = tokio::join!(relay(0), relay(1), relay(2), relay(3));
    let accepted = a.0 + b.0 + c.0 + d.0;
    let duplicates = a.1 + b.1 + c.1 + d.1;
    assert_eq!(
        (accepted, duplicates),
        (1600, 400),
        "each id stored exactly once"
    );
    assert_log_consistent(&log, &url, 1600).await;
    let mut ids: Vec<String> = all_entries(&log, 1600)
        .await
        .into_iter()
        .map(|e| e.event.expect("body").event_id)
        .collect();
    ids.sort();
    let mut expected: Vec<String> = (0..1600).map(|i| event(i).event.event_id).collect();
    expected.sort();
    assert_eq!(ids, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_append_leaves_no_gap_and_its_retry_is_stored_once() {
    let (url, _dir) = database().await;
    let log = open_log(&url).await;
    let mut next = 0u32;
    let mut batch = |n: u32| {
        let events: Vec<SubmittedEvent> = (next..next + n).map(event).collect();
        next += n;
        events
    };
    // Requests cancelled after ever longer times: before, during and after their commit.
    let mut abandoned = Vec::new();
    for wait_us in [0u64, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000] {
        let cancelled = batch(60);
        abandoned.extend(cancelled.iter().cloned());
        let _ = tokio::time::timeout(
            std::time::Duration::from_micros(wait_us),
            log.append(cancelled),
        )
        .await;
        let outcome = log.append(batch(30)).await.expect("append after a cancel");
        assert_eq!(outcome.accepted, 30);
    }
    // The relays retry what was not acknowledged: every abandoned event ends up stored once.
    log.append(abandoned.clone()).await.expect("retry");
    let outcome = log.append(abandoned).await.expect("second retry");
    assert_eq!(outcome.accepted, 0);
    assert_log_consistent(&log, &url, u64::from(next)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_placed_behind_a_failed_commit_are_refused_then_stored_on_retry() {
    // The failure is provoked with SQLite's exclusive lock (PostgreSQL would wait), so this
    // test runs on SQLite whichever backend the others use.
    let (url, _dir) = sqlite_database();
    let log = std::sync::Arc::new(open_log(&url).await);
    log.append((0..10).map(event).collect())
        .await
        .expect("first batch");
    // Another connection holds the write lock past the writer's 5 s busy timeout.
    let blocker = sea_orm::Database::connect(url.as_str())
        .await
        .expect("blocker");
    blocker
        .execute_unprepared("BEGIN EXCLUSIVE")
        .await
        .expect("lock");
    let first: Vec<SubmittedEvent> = (10..20).map(event).collect();
    let second: Vec<SubmittedEvent> = (20..30).map(event).collect();
    let failing = tokio::spawn({
        let (log, batch) = (log.clone(), first.clone());
        async move { log.append(batch).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let behind = tokio::spawn({
        let (log, batch) = (log.clone(), second.clone());
        async move { log.append(batch).await }
    });
    let failed = failing.await.expect("task").unwrap_err();
    assert!(
        matches!(failed, dancu_audit::app::AuditError::Storage(_)),
        "{failed:?}"
    );
    let refused = behind.await.expect("task").unwrap_err();
    assert!(
        matches!(refused, dancu_audit::app::AuditError::Retry(_)),
        "{refused:?}"
    );
    blocker.execute_unprepared("COMMIT").await.expect("unlock");
    assert_eq!(log.tree_size(), 10, "nothing of either batch in the tree");

    // The relays send both again: each is stored once, in the order they come back.
    assert_eq!(log.append(second).await.expect("retry").accepted, 10);
    assert_eq!(log.append(first).await.expect("retry").accepted, 10);
    assert_log_consistent(&log, &url, 30).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_that_breaks_a_constraint_writes_nothing_and_its_retry_is_stored() {
    let (url, _dir) = database().await;
    // Two logs on one database (a misconfigured second audit instance): the second places
    // its batch on leaf indexes the first has already stored.
    let first = open_log(&url).await;
    let second = open_log(&url).await;
    first
        .append((0..10).map(event).collect())
        .await
        .expect("first log");
    let batch: Vec<SubmittedEvent> = (10..20).map(event).collect();
    let failed = second.append(batch.clone()).await.unwrap_err();
    assert!(
        matches!(failed, dancu_audit::app::AuditError::Storage(_)),
        "{failed:?}"
    );
    assert_eq!(second.tree_size(), 0, "nothing of the batch in the tree");
    assert_log_consistent(&first, &url, 10).await;

    // Sent again, it is placed after what is stored (on SQLite, on a new writer
    // connection) and stored once.
    let outcome = second.append(batch.clone()).await.expect("retry");
    assert_eq!((outcome.accepted, outcome.duplicates), (10, 0));
    assert_eq!(second.append(batch).await.expect("again").duplicates, 10);
    assert_log_consistent(&second, &url, 20).await;
}
