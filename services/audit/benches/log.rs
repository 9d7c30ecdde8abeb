//! Benchmarks of the audit log (run with `cargo bench -p dancu-audit`):
//!
//! 1. durable appends per second: batches of 1,000 events (what relays send) through
//!    `AuditLog::append` — dedup check, subject HMAC, leaf hashing, alert rules, one
//!    transaction with events + leaves, then the in-memory tree — with the lookup indexer
//!    running beside (the run ends once it has caught up), on SQLite (WAL) in a
//!    temporary directory, or PostgreSQL when `DANCU_BENCH_POSTGRES_URL` is set. Two
//!    relays (identity's and records') send concurrently, each waiting for the
//!    acknowledgement of its batch before sending the next;
//! 2. inclusion-proof latency (p50/p99) on a 1,000,000-leaf tree, through the same
//!    `AuditLog::inclusion_proof` the RPC calls, at random leaves of the full tree.
//!
//! `DANCU_BENCH_EVENTS` sets the number of appended events (default 1,000,000; the proof
//! benchmark then runs on the log just written), `DANCU_BENCH_RELAYS` the number of
//! concurrent relays (default 2), `DANCU_BENCH_BATCH` the events per batch (default 1,000).

use dancu_audit::app::{AuditLog, LOOKUP_BATCH, LeafRef, SubmittedEvent};
use dancu_audit::store::{AuditStore, NewEvent};
use dancu_domain::PersonalId;
use dancu_kit::config::Config;
use hdrhistogram::Histogram;
use std::time::Instant;

/// The allocator of the bench, as in the `dancu` binary (see `mimalloc` in the workspace manifest).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn event(i: u64) -> SubmittedEvent {
    let subject = PersonalId::parse(&format!("00109{:07}", i % 10_000_000)).ok();
    SubmittedEvent {
        event: NewEvent {
            event_id: uuid::Uuid::now_v7().to_string(),
            occur_time_us: chrono::Utc::now().timestamp_micros(),
            service: "identity".to_owned(),
            actor_id: format!("officer-{}", i % 200),
            actor_unit: format!("CAX{:03}", i % 34),
            rpc: "/dancu.identity.v1.IdentityService/GetCitizen".to_owned(),
            resource_type: "citizen".to_owned(),
            resource_id: String::new(),
            subject_hash: String::new(),
            purpose: "investigation".to_owned(),
            case_reference: "VKS-2026-0001".to_owned(),
            outcome: "OK".to_owned(),
            trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".to_owned(),
            break_glass: String::new(),
            decision: "allow".to_owned(),
            policy_ids: vec!["officer-reads-own-province".to_owned()],
            client_address: "10.0.0.7:51234".to_owned(),
        },
        subject,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let events: u64 = std::env::var("DANCU_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let batch_size: usize = std::env::var("DANCU_BENCH_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let relays: usize = std::env::var("DANCU_BENCH_RELAYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2)
        .max(1);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut fresh_database = None;
    let (url, backend) = match std::env::var("DANCU_BENCH_POSTGRES_URL") {
        Ok(server) if !server.is_empty() => {
            // A fresh database on that server, dropped at the end.
            use sea_orm::ConnectionTrait;
            let admin = sea_orm::Database::connect(server.as_str())
                .await
                .expect("postgres");
            let name = format!("dancu_bench_audit_{}", std::process::id());
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create database");
            let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
            let url = format!("{base}/{name}");
            fresh_database = Some((admin, name));
            (url, "PostgreSQL")
        }
        _ => (
            format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("audit.db").display()
            ),
            "SQLite (WAL, synchronous=NORMAL)",
        ),
    };
    let config = Config::default();
    let store = AuditStore::open(&url, 4).await.expect("store");
    let log = std::sync::Arc::new(AuditLog::open(store, &config).await.expect("log"));

    // Pre-build the batches so only appending is timed.
    let mut batches = Vec::new();
    let mut i = 0;
    while i < events {
        let n = batch_size.min((events - i) as usize);
        batches.push((i..i + n as u64).map(event).collect::<Vec<_>>());
        i += n as u64;
    }
    // Each relay (a service's outbox relay) sends its share of the batches, one at a time,
    // waiting for each acknowledgement, as `dancu-audit-client` does.
    let mut shares: Vec<Vec<Vec<SubmittedEvent>>> = vec![Vec::new(); relays];
    for (n, batch) in batches.into_iter().enumerate() {
        shares[n % relays].push(batch);
    }
    // The service's lookup indexer runs beside the appends, as in `dancu-audit`'s `run`.
    let indexer = tokio::spawn(log.clone().run_lookup_indexer());
    let cpu_before = thread_cpu_ticks();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for share in shares {
        let log = log.clone();
        tasks.spawn(async move {
            let mut batch_us = Histogram::<u64>::new(3).expect("histogram");
            for batch in share {
                let t = Instant::now();
                let outcome = log.append(batch).await.expect("append");
                assert_eq!(outcome.duplicates, 0);
                batch_us
                    .record(t.elapsed().as_micros() as u64)
                    .expect("record");
            }
            batch_us
        });
    }
    let mut batch_us = Histogram::<u64>::new(3).expect("histogram");
    while let Some(relay) = tasks.join_next().await {
        batch_us.add(relay.expect("relay")).expect("histogram");
    }
    let appended = started.elapsed();
    // The run ends when the lookup index has caught up too: its work is part of the cost of
    // an append.
    while log.index_lookups(LOOKUP_BATCH).await.expect("index") > 0 {}
    indexer.abort();
    let elapsed = started.elapsed();
    println!(
        "durable appends ({backend}, {relays} relays, batches of {batch_size}): {events} events in {:.2} s = {:.0} events/s (lookup index caught up {:.2} s after the last append); batch commit p50 {:.1} ms, p99 {:.1} ms",
        elapsed.as_secs_f64(),
        events as f64 / elapsed.as_secs_f64(),
        (elapsed - appended).as_secs_f64(),
        batch_us.value_at_quantile(0.5) as f64 / 1000.0,
        batch_us.value_at_quantile(0.99) as f64 / 1000.0,
    );
    print_cpu_per_event(&cpu_before, &thread_cpu_ticks(), events);

    let size = log.tree_size();
    let mut proof_ns = Histogram::<u64>::new(3).expect("histogram");
    let samples = 100_000;
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..samples {
        // xorshift: cheap, deterministic random leaf indexes.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let t = Instant::now();
        let (_, _, _, proof) = log
            .inclusion_proof(LeafRef::Index(x % size), 0)
            .await
            .expect("proof");
        proof_ns
            .record(t.elapsed().as_nanos() as u64)
            .expect("record");
        assert!(!proof.is_empty());
    }
    println!(
        "inclusion proof on a {size}-leaf log ({samples} random leaves): p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        proof_ns.value_at_quantile(0.5) as f64 / 1000.0,
        proof_ns.value_at_quantile(0.99) as f64 / 1000.0,
        proof_ns.max() as f64 / 1000.0,
    );
    if let Some((admin, name)) = fresh_database {
        use sea_orm::ConnectionTrait;
        drop(log);
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .await;
    }
}

/// CPU time (user + system, in clock ticks) of each thread of this process, by thread id,
/// with the thread's name; empty where `/proc` is not available.
fn thread_cpu_ticks() -> std::collections::HashMap<u32, (String, u64)> {
    let mut threads = std::collections::HashMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return threads;
    };
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        // `tid (name) state ppid …`: the name may hold spaces, so split at its parentheses;
        // utime and stime are the 12th and 13th fields after it.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        let (Ok(tid), Some(Ok(utime)), Some(Ok(stime))) = (
            stat[..open].trim().parse::<u32>(),
            fields.get(11).map(|f| f.parse::<u64>()),
            fields.get(12).map(|f| f.parse::<u64>()),
        ) else {
            continue;
        };
        threads.insert(tid, (stat[open + 1..close].to_owned(), utime + stime));
    }
    threads
}

/// Prints the CPU time per appended event spent between two [`thread_cpu_ticks`]
/// snapshots: by the busiest SQLite worker thread (the log's single writer, the limit of
/// the append rate), by the runtime's threads, and by the whole process. A figure that,
/// unlike events/s, hardly moves when other processes compete for the cores.
fn print_cpu_per_event(
    before: &std::collections::HashMap<u32, (String, u64)>,
    after: &std::collections::HashMap<u32, (String, u64)>,
    events: u64,
) {
    // `/proc` counts in USER_HZ, which Linux fixes at 100 for user space on x86.
    let ticks_per_s = 100.0;
    let us = |ticks: u64| ticks as f64 / ticks_per_s * 1e6 / events.max(1) as f64;
    let spent =
        |tid: &u32, (_, ticks): &(String, u64)| ticks - before.get(tid).map_or(0, |(_, t)| *t);
    let writer = after
        .iter()
        .filter(|(_, (name, _))| name.starts_with("sqlx-sqlite"))
        .map(|(tid, t)| spent(tid, t))
        .max()
        .unwrap_or(0);
    let runtime: u64 = after
        .iter()
        .filter(|(_, (name, _))| name.starts_with("tokio"))
        .map(|(tid, t)| spent(tid, t))
        .sum();
    let total: u64 = after.iter().map(|(tid, t)| spent(tid, t)).sum();
    // On PostgreSQL the process has no SQLite worker thread: the writer is the server.
    let writer = match writer {
        0 => String::new(),
        ticks => format!("SQLite writer thread {:.1} µs, ", us(ticks)),
    };
    println!(
        "CPU per appended event: {writer}runtime threads {:.1} µs, whole process {:.1} µs",
        us(runtime),
        us(total),
    );
}
