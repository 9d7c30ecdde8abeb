//! `dancu.audit.v1.AuditLogService`: checkpoints, proofs, entries, archiving.

use super::{status, to_proto};
use crate::app::{AuditLog, LeafRef};
use dancu_kit::auth::{ROLE_AUDITOR, ROLE_SYSTEM_ADMIN, principal};
use dancu_kit::convert::timestamp_to_us;
use dancu_kit::error::invalid_field;
use dancu_proto::audit::v1::audit_log_service_server::AuditLogService;
use dancu_proto::audit::v1::get_inclusion_proof_request::Leaf;
use dancu_proto::audit::v1::{
    ArchiveEventsRequest, ArchiveEventsResponse, GetCheckpointRequest, GetCheckpointResponse,
    GetConsistencyProofRequest, GetConsistencyProofResponse, GetEntriesRequest, GetEntriesResponse,
    GetInclusionProofRequest, GetInclusionProofResponse, LogEntry,
};
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// Implements `dancu.audit.v1.AuditLogService`.
pub struct LogApi {
    log: Arc<AuditLog>,
}

impl LogApi {
    /// The API over `log`.
    pub fn new(log: Arc<AuditLog>) -> Self {
        Self { log }
    }
}

fn auditor<T>(request: &Request<T>) -> Result<(), Status> {
    principal(request)?.require_any_role(&[ROLE_AUDITOR, ROLE_SYSTEM_ADMIN])
}

#[tonic::async_trait]
impl AuditLogService for LogApi {
    async fn get_checkpoint(
        &self,
        request: Request<GetCheckpointRequest>,
    ) -> Result<Response<GetCheckpointResponse>, Status> {
        auditor(&request)?;
        let checkpoint = self.log.checkpoint().map_err(status)?;
        Ok(Response::new(GetCheckpointResponse {
            checkpoint: checkpoint.note,
            tree_size: checkpoint.size,
            root_hash: checkpoint.root.to_vec(),
            verifier_key: self.log.verifier_key(),
        }))
    }

    async fn get_inclusion_proof(
        &self,
        request: Request<GetInclusionProofRequest>,
    ) -> Result<Response<GetInclusionProofResponse>, Status> {
        auditor(&request)?;
        let request = request.into_inner();
        let leaf = match request.leaf {
            Some(Leaf::EventId(id)) if uuid::Uuid::parse_str(id.trim()).is_ok() => {
                LeafRef::EventId(id.trim().to_owned())
            }
            Some(Leaf::EventId(_)) => return Err(invalid_field("event_id", "must be a UUID")),
            Some(Leaf::LeafIndex(i)) => LeafRef::Index(i),
            None => {
                return Err(invalid_field("leaf", "give either event_id or leaf_index"));
            }
        };
        let (leaf_index, tree_size, leaf_hash, proof) = self
            .log
            .inclusion_proof(leaf, request.tree_size)
            .await
            .map_err(status)?;
        Ok(Response::new(GetInclusionProofResponse {
            leaf_index,
            tree_size,
            leaf_hash: leaf_hash.to_vec(),
            hashes: proof.into_iter().map(|h| h.to_vec()).collect(),
        }))
    }

    async fn get_consistency_proof(
        &self,
        request: Request<GetConsistencyProofRequest>,
    ) -> Result<Response<GetConsistencyProofResponse>, Status> {
        auditor(&request)?;
        let request = request.into_inner();
        let (second, proof) = self
            .log
            .consistency_proof(request.first_tree_size, request.second_tree_size)
            .map_err(status)?;
        Ok(Response::new(GetConsistencyProofResponse {
            first_tree_size: request.first_tree_size,
            second_tree_size: second,
            hashes: proof.into_iter().map(|h| h.to_vec()).collect(),
        }))
    }

    async fn get_entries(
        &self,
        request: Request<GetEntriesRequest>,
    ) -> Result<Response<GetEntriesResponse>, Status> {
        auditor(&request)?;
        let request = request.into_inner();
        let entries = self
            .log
            .entries(request.start, request.end)
            .await
            .map_err(status)?;
        Ok(Response::new(GetEntriesResponse {
            entries: entries
                .into_iter()
                .map(|e| LogEntry {
                    leaf_index: e.leaf_index,
                    leaf_hash: e.leaf_hash.to_vec(),
                    archived: e.event.is_none(),
                    event: e.event.map(to_proto),
                })
                .collect(),
        }))
    }

    async fn archive_events(
        &self,
        request: Request<ArchiveEventsRequest>,
    ) -> Result<Response<ArchiveEventsResponse>, Status> {
        principal(&request)?.require_any_role(&[ROLE_SYSTEM_ADMIN])?;
        let before = request
            .into_inner()
            .before_time
            .as_ref()
            .and_then(timestamp_to_us)
            .ok_or_else(|| invalid_field("before_time", "a valid time is required"))?;
        let archived = self.log.archive_before(before).await.map_err(status)?;
        Ok(Response::new(ArchiveEventsResponse { archived }))
    }
}
