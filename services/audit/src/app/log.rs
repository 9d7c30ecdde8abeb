//! The verifiable log's read side: signed checkpoints, inclusion and consistency proofs,
//! entries by leaf index.

use super::{AuditError, AuditLog, SignedCheckpoint};
use crate::store::StoredEvent;
use dancu_translog::{Checkpoint, Hash, ProofError};

/// Most entries per GetEntries call.
pub const MAX_ENTRIES: u64 = 1000;

/// Which leaf a proof is for.
#[derive(Clone, Debug)]
pub enum LeafRef {
    /// By the event's id.
    EventId(String),
    /// By leaf index.
    Index(u64),
}

/// One entry of the log as stored.
#[derive(Clone, Debug)]
pub struct EntryView {
    /// Leaf index.
    pub leaf_index: u64,
    /// Stored leaf hash.
    pub leaf_hash: Hash,
    /// The stored event; `None` once archived.
    pub event: Option<StoredEvent>,
}

fn out_of_range(field: &'static str) -> impl FnOnce(ProofError) -> AuditError {
    move |e| AuditError::Invalid {
        field,
        message: e.to_string(),
    }
}

impl AuditLog {
    /// A checkpoint of the current tree, signed with the log's key.
    pub fn checkpoint(&self) -> Result<SignedCheckpoint, AuditError> {
        let (size, root) = {
            let tree = self.tree.read().unwrap_or_else(|e| e.into_inner());
            let size = tree.size();
            (
                size,
                tree.root(size)
                    .map_err(|e| AuditError::Corrupt(e.to_string()))?,
            )
        };
        let checkpoint = Checkpoint {
            origin: self.origin.clone(),
            size,
            root,
        };
        let note = checkpoint
            .sign(&self.signer)
            .map_err(|e| AuditError::Corrupt(e.to_string()))?;
        Ok(SignedCheckpoint { note, size, root })
    }

    /// The log's signed-note verifier key.
    pub fn verifier_key(&self) -> String {
        self.signer.verifier_key()
    }

    /// The inclusion proof of a leaf in the tree of `size` leaves (0: the current size);
    /// returns the leaf index, the size, the leaf hash and the proof.
    pub async fn inclusion_proof(
        &self,
        leaf: LeafRef,
        size: u64,
    ) -> Result<(u64, u64, Hash, Vec<Hash>), AuditError> {
        let index = match leaf {
            LeafRef::Index(i) => i,
            LeafRef::EventId(id) => self
                .store
                .event_by_id(&id)
                .await?
                .and_then(|e| e.leaf_index)
                .ok_or(AuditError::NotFound("no event with this id in the log"))?
                as u64,
        };
        let tree = self.tree.read().unwrap_or_else(|e| e.into_inner());
        let size = if size == 0 { tree.size() } else { size };
        if index >= tree.size() {
            return Err(AuditError::Invalid {
                field: "leaf_index",
                message: format!("the log has {} leaves", tree.size()),
            });
        }
        let proof = tree
            .inclusion_proof(index, size)
            .map_err(out_of_range("tree_size"))?;
        let leaf = tree
            .leaf(index)
            .ok_or_else(|| AuditError::Corrupt("leaf vanished".to_owned()))?;
        Ok((index, size, leaf, proof))
    }

    /// The consistency proof between trees of `first` and `second` leaves (0: current).
    pub fn consistency_proof(
        &self,
        first: u64,
        second: u64,
    ) -> Result<(u64, Vec<Hash>), AuditError> {
        let tree = self.tree.read().unwrap_or_else(|e| e.into_inner());
        let second = if second == 0 { tree.size() } else { second };
        if first > second {
            return Err(AuditError::Invalid {
                field: "first_tree_size",
                message: "must not exceed second_tree_size".to_owned(),
            });
        }
        let proof = tree
            .consistency_proof(first, second)
            .map_err(out_of_range("second_tree_size"))?;
        Ok((second, proof))
    }

    /// Entries `[start, end)`, with their stored leaf hashes and events (absent once
    /// archived).
    pub async fn entries(&self, start: u64, end: u64) -> Result<Vec<EntryView>, AuditError> {
        let size = self.tree_size();
        if start >= end {
            return Err(AuditError::Invalid {
                field: "end",
                message: "must be greater than start".to_owned(),
            });
        }
        if end > size {
            return Err(AuditError::Invalid {
                field: "end",
                message: format!("the log has {size} leaves"),
            });
        }
        if end - start > MAX_ENTRIES {
            return Err(AuditError::Invalid {
                field: "end",
                message: format!("at most {MAX_ENTRIES} entries per call"),
            });
        }
        let leaves = self.store.leaves(start as i64, end as i64).await?;
        let mut events = self
            .store
            .events_by_leaf(start as i64, end as i64)
            .await?
            .into_iter()
            .peekable();
        let mut out = Vec::with_capacity(leaves.len());
        for leaf in leaves {
            let leaf_hash: Hash = leaf.leaf_hash.try_into().map_err(|_| {
                AuditError::Corrupt(format!("leaf {} is not 32 bytes", leaf.leaf_index))
            })?;
            let event = events.next_if(|e| e.leaf_index == Some(leaf.leaf_index));
            out.push(EntryView {
                leaf_index: leaf.leaf_index as u64,
                leaf_hash,
                event,
            });
        }
        Ok(out)
    }
}
