//! Helpers shared by the audit store tests: varied events and a fresh database.

use dancu_audit::app::SubmittedEvent;
use dancu_audit::store::NewEvent;
use dancu_domain::PersonalId;
use sea_orm::ConnectionTrait;

/// An event whose every field differs from its neighbours'; every fifth one breaks glass.
pub fn event(i: u32) -> SubmittedEvent {
    SubmittedEvent {
        event: NewEvent {
            event_id: format!("0190a1b2-0000-7000-8000-{i:012}"),
            occur_time_us: 1_795_600_000_000_000 + i64::from(i),
            service: format!("service-{}", i % 2),
            actor_id: format!("officer-{}", i % 7),
            actor_unit: format!("CAX{:03}", i % 3),
            rpc: format!("/dancu.test.v1.Test/Call{i}"),
            resource_type: "citizen".to_owned(),
            resource_id: format!("resource-{i}"),
            subject_hash: String::new(),
            purpose: "investigation".to_owned(),
            case_reference: format!("VKS-2026-{i:04}"),
            outcome: if i.is_multiple_of(4) {
                "PERMISSION_DENIED"
            } else {
                "OK"
            }
            .to_owned(),
            trace_id: format!("{i:032x}"),
            break_glass: if i.is_multiple_of(5) {
                format!("justification {i}")
            } else {
                String::new()
            },
            decision: if i.is_multiple_of(4) { "deny" } else { "allow" }.to_owned(),
            policy_ids: (0..i % 3).map(|p| format!("policy-{p}")).collect(),
            client_address: format!("10.0.0.{}:5{i:04}", i % 250),
        },
        subject: i
            .is_multiple_of(2)
            .then(|| PersonalId::parse(&format!("00109{i:07}")).expect("valid id")),
    }
}

/// A fresh database URL (and the directory to keep alive for SQLite).
pub async fn database() -> (String, Option<tempfile::TempDir>) {
    match std::env::var("DANCU_TEST_POSTGRES_URL") {
        Ok(base) if !base.is_empty() => {
            let name = format!("audit_append_{}", uuid::Uuid::new_v4().simple());
            let admin = sea_orm::Database::connect(&base).await.expect("postgres");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create database");
            let (server, _) = base.rsplit_once('/').expect("url with a database");
            (format!("{server}/{name}"), None)
        }
        _ => {
            let (url, dir) = sqlite_database();
            (url, Some(dir))
        }
    }
}

/// A fresh SQLite file's URL and its directory (to keep alive), whatever the backend under
/// test: for tests that provoke SQLite's own behaviour.
pub fn sqlite_database() -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("audit.db").display()
    );
    (url, dir)
}
