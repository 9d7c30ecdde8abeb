//! Audit-log helpers for end-to-end tests: clients of the log and alert services, signed
//! checkpoints, waiting for events, and direct access to the audit database (to tamper
//! with it the way an intruder would).

use crate::api::request;
use crate::{Cluster, channel};
use dancu_kit::client::TracedChannel;
use dancu_kit::config::ServiceKind;
use dancu_proto::audit::v1::audit_alert_service_client::AuditAlertServiceClient;
use dancu_proto::audit::v1::audit_log_service_client::AuditLogServiceClient;
use dancu_proto::audit::v1::{GetCheckpointRequest, GetCheckpointResponse};
use dancu_translog::{Checkpoint, NoteVerifier};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use std::time::Duration;

impl Cluster {
    /// Client of the verifiable log.
    pub fn audit_log(&self) -> AuditLogServiceClient<TracedChannel> {
        AuditLogServiceClient::new(channel(&self.endpoint(ServiceKind::Audit)))
    }

    /// Client of the alerts.
    pub fn audit_alerts(&self) -> AuditAlertServiceClient<TracedChannel> {
        AuditAlertServiceClient::new(channel(&self.endpoint(ServiceKind::Audit)))
    }

    /// The latest checkpoint, its signature checked with the key the service publishes.
    pub async fn checkpoint(&self, token: &str) -> (GetCheckpointResponse, Checkpoint) {
        let response = self
            .audit_log()
            .get_checkpoint(request(GetCheckpointRequest {}, token, None, None))
            .await
            .expect("checkpoint")
            .into_inner();
        let verifier = NoteVerifier::parse(&response.verifier_key).expect("verifier key");
        let checkpoint =
            Checkpoint::open(&response.checkpoint, &verifier).expect("signed checkpoint");
        (response, checkpoint)
    }

    /// Waits (up to 60 s) until the log holds at least `size` leaves; returns the
    /// checkpoint then.
    pub async fn wait_for_tree_size(&self, token: &str, size: u64) -> Checkpoint {
        let mut last = None;
        for _ in 0..1200 {
            let (_, checkpoint) = self.checkpoint(token).await;
            if checkpoint.size >= size {
                return checkpoint;
            }
            last = Some(checkpoint.size);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the audit log reached only {last:?} leaves, expected {size}");
    }

    /// A direct connection to the audit service's database.
    pub async fn audit_database(&self) -> DatabaseConnection {
        let url = self.config.database_url(ServiceKind::Audit);
        Database::connect(url.as_str())
            .await
            .expect("connect to the audit database")
    }

    /// A direct connection to a service's database.
    pub async fn database(&self, kind: ServiceKind) -> DatabaseConnection {
        let url = self.config.database_url(kind);
        Database::connect(url.as_str())
            .await
            .expect("connect to the database")
    }

    /// Runs one SQL statement on the audit database; returns the rows affected.
    pub async fn audit_sql(&self, sql: &str) -> u64 {
        self.audit_database()
            .await
            .execute_unprepared(sql)
            .await
            .expect("audit SQL")
            .rows_affected()
    }
}
