//! Listings by actor, subject, unit and purpose read the deferred lookup table up to its
//! watermark and the events above it directly: whatever part is indexed, a listing returns
//! exactly the matching events, in acceptance order, across pages. Archiving removes an
//! event's lookup rows with it. Against a SQLite file, or PostgreSQL when
//! `DANCU_TEST_POSTGRES_URL` is set.

mod common;

use common::{database, event};
use dancu_audit::app::{AuditLog, SubmittedEvent};
use dancu_audit::store::{AuditStore, EventFilter};
use dancu_domain::PersonalId;
use dancu_kit::config::Config;
use sea_orm::ConnectionTrait;

/// One of five people, so that several events share a subject.
fn person(i: u32) -> PersonalId {
    PersonalId::parse(&format!("00109{:07}", i % 5)).expect("valid id")
}

/// Event `i`, about [`person`]`(i)` unless `i` is a multiple of 6 (no subject).
fn varied(i: u32) -> SubmittedEvent {
    let mut e = event(i);
    e.subject = (!i.is_multiple_of(6)).then(|| person(i));
    e
}

/// Every page of a listing, followed by its cursor, `page_size` events at a time.
async fn list_all(
    log: &AuditLog,
    filter: &EventFilter,
    subject: Option<&PersonalId>,
    page_size: u64,
) -> Vec<String> {
    let mut ids = Vec::new();
    let mut filter = filter.clone();
    loop {
        let (events, next) = log
            .list(filter.clone(), subject, page_size)
            .await
            .expect("list");
        assert!(events.len() as u64 <= page_size);
        ids.extend(events.into_iter().map(|e| e.event_id));
        match next {
            Some(cursor) => filter.after_seq = Some(cursor),
            None => return ids,
        }
    }
}

/// A listing checked at each stage: its filter and subject, and which appended events (by
/// number) it must return.
struct Case {
    name: &'static str,
    filter: EventFilter,
    subject: Option<PersonalId>,
    matches: fn(u32) -> bool,
}

/// The listings checked at each stage.
fn cases() -> Vec<Case> {
    let from = event(30).event.occur_time_us;
    let to = event(90).event.occur_time_us;
    vec![
        Case {
            name: "actor",
            filter: EventFilter {
                actor_id: Some("officer-3".to_owned()),
                ..EventFilter::default()
            },
            subject: None,
            matches: |i| i % 7 == 3,
        },
        Case {
            name: "unit",
            filter: EventFilter {
                actor_unit: Some("CAX001".to_owned()),
                ..EventFilter::default()
            },
            subject: None,
            matches: |i| i % 3 == 1,
        },
        Case {
            name: "purpose",
            filter: EventFilter {
                purpose: Some("investigation".to_owned()),
                ..EventFilter::default()
            },
            subject: None,
            matches: |_| true,
        },
        Case {
            name: "subject",
            filter: EventFilter::default(),
            subject: Some(person(2)),
            matches: |i| i % 5 == 2 && !i.is_multiple_of(6),
        },
        Case {
            name: "subject, actor and time range",
            filter: EventFilter {
                actor_id: Some("officer-2".to_owned()),
                from_us: Some(from),
                to_us: Some(to),
                ..EventFilter::default()
            },
            subject: Some(person(4)),
            matches: |i| i % 5 == 4 && !i.is_multiple_of(6) && i % 7 == 2 && (30..90).contains(&i),
        },
    ]
}

async fn assert_listings(log: &AuditLog, appended: u32, stage: &str) {
    for Case {
        name,
        filter,
        subject,
        matches,
    } in cases()
    {
        let expected: Vec<String> = (0..appended)
            .filter(|i| matches(*i))
            .map(|i| event(i).event.event_id)
            .collect();
        for page_size in [1, 7, 1000] {
            let listed = list_all(log, &filter, subject.as_ref(), page_size).await;
            assert_eq!(listed, expected, "{name}, {stage}, pages of {page_size}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_are_exact_whatever_part_of_the_log_is_indexed() {
    let (url, _dir) = database().await;
    // No indexer task runs beside `AuditLog` here: the test moves the watermark itself.
    let log = AuditLog::open(
        AuditStore::open(&url, 4).await.expect("store"),
        &Config::default(),
    )
    .await
    .expect("log");
    for start in [0, 40, 80] {
        log.append((start..start + 40).map(varied).collect())
            .await
            .expect("append");
    }
    assert_listings(&log, 120, "nothing indexed").await;
    assert_eq!(log.index_lookups(50).await.expect("index"), 50);
    assert_listings(&log, 120, "first 50 indexed").await;
    log.append((120..160).map(varied).collect())
        .await
        .expect("append");
    assert_eq!(log.index_lookups(1000).await.expect("index"), 110);
    assert_eq!(
        log.index_lookups(1000).await.expect("index"),
        0,
        "caught up"
    );
    assert_listings(&log, 160, "all indexed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archiving_removes_the_lookup_rows_of_the_archived_events() {
    let (url, _dir) = database().await;
    let log = AuditLog::open(
        AuditStore::open(&url, 4).await.expect("store"),
        &Config::default(),
    )
    .await
    .expect("log");
    log.append((0..60).map(varied).collect())
        .await
        .expect("append");
    assert_eq!(log.index_lookups(1000).await.expect("index"), 60);
    // Events 0..20 expire.
    let archived = log
        .archive_before(event(20).event.occur_time_us)
        .await
        .expect("archive");
    assert_eq!(archived, 20);
    let filter = EventFilter {
        actor_id: Some("officer-3".to_owned()),
        ..EventFilter::default()
    };
    let expected: Vec<String> = (20..60)
        .filter(|i| i % 7 == 3)
        .map(|i| event(i).event.event_id)
        .collect();
    assert_eq!(list_all(&log, &filter, None, 5).await, expected);

    // The lookup table holds rows only for the 40 stored events: 40 actors, 40 units,
    // 40 purposes and the subjects of those not numbered by a multiple of 6.
    let db = sea_orm::Database::connect(url.as_str())
        .await
        .expect("connect");
    let count = |sql: &'static str| {
        let db = db.clone();
        async move {
            let row = db
                .query_one_raw(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    sql,
                ))
                .await
                .expect("count")
                .expect("row");
            row.try_get_by_index::<i64>(0).expect("count")
        }
    };
    let with_subject = (20..60).filter(|i: &u32| !i.is_multiple_of(6)).count() as i64;
    assert_eq!(
        count("SELECT COUNT(*) FROM audit_lookup").await,
        3 * 40 + with_subject
    );
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM audit_lookup l WHERE NOT EXISTS \
             (SELECT 1 FROM audit_events e WHERE e.seq = l.seq)"
        )
        .await,
        0,
        "no lookup row outlives its event"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_3_indexes_the_events_stored_before_it() {
    use sea_orm_migration::MigratorTrait;
    let (url, _dir) = database().await;
    let open = || async {
        AuditLog::open(
            AuditStore::open(&url, 4).await.expect("store"),
            &Config::default(),
        )
        .await
        .expect("log")
    };
    let log = open().await;
    log.append((0..60).map(varied).collect())
        .await
        .expect("append");
    drop(log);
    // Back to the schema before the lookup table (the four event-table indexes), with 60
    // events stored; then forward again, as an upgraded service starts.
    let db = sea_orm::Database::connect(url.as_str())
        .await
        .expect("connect");
    dancu_audit::store::Migrator::down(&db, Some(1))
        .await
        .expect("down");
    dancu_audit::store::Migrator::up(&db, None)
        .await
        .expect("up");
    db.close().await.expect("close");

    let log = open().await;
    assert_eq!(
        log.index_lookups(1000).await.expect("index"),
        0,
        "the migration indexed every stored event"
    );
    assert_listings(&log, 60, "after the migration").await;
}
