//! `dancu audit verify`: recomputes the log from its entries and checks it against the
//! log's signed checkpoint and against a checkpoint saved earlier. Uses only the published
//! entries, the RFC 9162 algorithms and the log's verifier key — nothing the audit service
//! computed is trusted.

use crate::client::{Global, Service};
use anyhow::{Context, bail};
use dancu_proto::audit::v1::audit_log_service_client::AuditLogServiceClient;
use dancu_proto::audit::v1::{
    AuditEvent, Decision, GetCheckpointRequest, GetConsistencyProofRequest, GetEntriesRequest,
};
use dancu_translog::merkle::{Hash, root_of, verify_consistency};
use dancu_translog::{Checkpoint, LogEntry, NoteVerifier};
use std::path::{Path, PathBuf};
use tonic::transport::Channel;

/// Entries fetched per GetEntries call (the service's maximum).
const PAGE: u64 = 1000;

/// Settings of `dancu audit verify`.
#[derive(Clone, Debug, clap::Args)]
pub struct VerifyArgs {
    /// File holding the checkpoint (a C2SP signed note) saved by the previous run; the log
    /// must be consistent with it. Written with the new checkpoint on success. Its verifier
    /// key is pinned on first use in `<file>.vkey`.
    #[arg(long)]
    pub checkpoint_file: Option<PathBuf>,
    /// The log's verifier key (`name+hash+base64`), pinned out of band. Without it, the key
    /// pinned next to the checkpoint file is used, else the one the service publishes.
    #[arg(long, env = "DANCU_AUDIT_VERIFIER_KEY")]
    pub verifier_key: Option<String>,
}

/// Runs the verification; an error names what failed (the first bad leaf, if any).
pub async fn run(args: VerifyArgs, global: &Global) -> anyhow::Result<()> {
    let token = global.credentials.token().await?;
    let channel = global.stream_channel(Service::Audit)?;
    let mut client = AuditLogServiceClient::new(channel);
    let report = verify(&mut client, &token, &args).await?;
    println!("{report}");
    Ok(())
}

fn authorized<T>(message: T, token: &str) -> anyhow::Result<tonic::Request<T>> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse()?);
    Ok(request)
}

fn key_file(checkpoint_file: &Path) -> PathBuf {
    let mut name = checkpoint_file.as_os_str().to_owned();
    name.push(".vkey");
    PathBuf::from(name)
}

async fn verify(
    client: &mut AuditLogServiceClient<Channel>,
    token: &str,
    args: &VerifyArgs,
) -> anyhow::Result<String> {
    let latest = client
        .get_checkpoint(authorized(GetCheckpointRequest {}, token)?)
        .await
        .map_err(|s| crate::exit::CallError::new("GetCheckpoint", s))?
        .into_inner();
    let pinned = match (&args.verifier_key, &args.checkpoint_file) {
        (Some(key), _) => Some(key.trim().to_owned()),
        (None, Some(file)) => std::fs::read_to_string(key_file(file))
            .ok()
            .map(|k| k.trim().to_owned()),
        (None, None) => None,
    };
    let key = pinned
        .clone()
        .unwrap_or_else(|| latest.verifier_key.clone());
    if key != latest.verifier_key {
        bail!("the log's verifier key changed: the service no longer signs with the pinned key");
    }
    let verifier = NoteVerifier::parse(&key).context("verifier key")?;
    let checkpoint =
        Checkpoint::open(&latest.checkpoint, &verifier).context("latest checkpoint")?;
    if checkpoint.origin != verifier.name() {
        bail!(
            "checkpoint origin {:?} is not the key's log",
            checkpoint.origin
        );
    }

    // Every leaf, recomputed from its entry (archived entries contribute their stored hash).
    let mut leaves: Vec<Hash> = Vec::with_capacity(checkpoint.size as usize);
    let mut archived = 0u64;
    let mut first_bad: Option<(u64, String)> = None;
    let mut start = 0;
    while start < checkpoint.size {
        let end = (start + PAGE).min(checkpoint.size);
        let page = client
            .get_entries(authorized(GetEntriesRequest { start, end }, token)?)
            .await
            .map_err(|s| anyhow::anyhow!("GetEntries {start}..{end} failed: {}", s.message()))?
            .into_inner()
            .entries;
        if page.len() as u64 != end - start {
            bail!("GetEntries {start}..{end} returned {} entries", page.len());
        }
        for (offset, entry) in page.into_iter().enumerate() {
            let index = start + offset as u64;
            if entry.leaf_index != index {
                bail!("entry {index} came back as leaf {}", entry.leaf_index);
            }
            let stored: Hash = entry
                .leaf_hash
                .as_slice()
                .try_into()
                .with_context(|| format!("leaf {index}: stored hash is not 32 bytes"))?;
            let leaf = match entry.event {
                Some(event) => {
                    let recomputed = log_entry(index, &event).leaf_hash();
                    if recomputed != stored && first_bad.is_none() {
                        first_bad = Some((index, event.event_id.clone()));
                    }
                    recomputed
                }
                None => {
                    archived += 1;
                    stored
                }
            };
            leaves.push(leaf);
        }
        start = end;
    }
    if let Some((index, event_id)) = first_bad {
        bail!(
            "leaf {index} (event {event_id}) does not match its logged hash: the stored event was altered"
        );
    }
    if root_of(&leaves) != checkpoint.root {
        bail!(
            "the entries do not produce the signed root of tree size {}",
            checkpoint.size
        );
    }

    let mut consistent_with = String::new();
    if let Some(file) = &args.checkpoint_file
        && let Ok(saved_note) = std::fs::read_to_string(file)
    {
        let saved = Checkpoint::open(&saved_note, &verifier).context("saved checkpoint")?;
        if saved.size > checkpoint.size {
            bail!(
                "the log shrank: saved checkpoint has {} leaves, the latest {}",
                saved.size,
                checkpoint.size
            );
        }
        if root_of(&leaves[..saved.size as usize]) != saved.root {
            bail!(
                "history rewritten: the first {} entries no longer produce the saved checkpoint's root",
                saved.size
            );
        }
        let proof = client
            .get_consistency_proof(authorized(
                GetConsistencyProofRequest {
                    first_tree_size: saved.size,
                    second_tree_size: checkpoint.size,
                },
                token,
            )?)
            .await
            .map_err(|s| anyhow::anyhow!("GetConsistencyProof failed: {}", s.message()))?
            .into_inner();
        let hashes: Vec<Hash> = proof
            .hashes
            .iter()
            .map(|h| h.as_slice().try_into())
            .collect::<Result<_, _>>()
            .context("consistency proof hash is not 32 bytes")?;
        verify_consistency(
            saved.size,
            checkpoint.size,
            &saved.root,
            &checkpoint.root,
            &hashes,
        )
        .context("the log's consistency proof from the saved checkpoint")?;
        consistent_with = format!(
            ", consistent with the saved checkpoint of size {}",
            saved.size
        );
    }
    if let Some(file) = &args.checkpoint_file {
        std::fs::write(file, &latest.checkpoint)
            .with_context(|| format!("cannot save the checkpoint to {}", file.display()))?;
        if pinned.is_none() {
            std::fs::write(key_file(file), format!("{key}\n"))
                .context("cannot pin the verifier key")?;
        }
    }
    Ok(format!(
        "audit log verified: {} entries ({archived} archived), root {}{consistent_with}",
        checkpoint.size,
        hex(&checkpoint.root)
    ))
}

/// The leaf entry of an event as the audit service returns it (see `docs/audit.md`).
fn log_entry(leaf_index: u64, e: &AuditEvent) -> LogEntry {
    let us = |t: &Option<prost_types::Timestamp>| {
        t.as_ref()
            .map_or(0, |t| t.seconds * 1_000_000 + i64::from(t.nanos) / 1000)
    };
    LogEntry {
        leaf_index,
        event_id: e.event_id.clone(),
        occur_time_us: us(&e.occur_time),
        accept_time_us: us(&e.accept_time),
        service: e.service.clone(),
        actor_id: e.actor_id.clone(),
        actor_unit: e.actor_unit.clone(),
        rpc: e.rpc.clone(),
        resource_type: e.resource_type.clone(),
        resource_id: e.resource_id.clone(),
        subject_hash: e.subject_hash.clone(),
        purpose: e.purpose.clone(),
        case_reference: e.case_reference.clone(),
        break_glass: e.break_glass_justification.clone(),
        decision: match Decision::try_from(e.decision) {
            Ok(Decision::Allow) => "allow".to_owned(),
            Ok(Decision::Deny) => "deny".to_owned(),
            _ => String::new(),
        },
        policy_ids: e.policy_ids.clone(),
        outcome: e.outcome.clone(),
        trace_id: e.trace_id.clone(),
        client_address: e.client_address.clone(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
