//! The leaf entry: a canonical serialization of one stored audit event. Every stored
//! column is part of it, so changing any of them changes the leaf hash and breaks
//! verification.
//!
//! Layout (documented in `docs/audit.md`): the tag `dancu-audit-entry/v1`, then each field
//! in the order of [`LogEntry`]'s declaration — integers as 8-byte big-endian, strings as a
//! 4-byte big-endian length and their UTF-8 bytes, lists as a 4-byte count and then their
//! strings. Fixed widths and length prefixes make the encoding injective: two different
//! events never share an entry.

/// Version tag at the start of every entry.
pub const ENTRY_TAG: &str = "dancu-audit-entry/v1";

/// One stored audit event as it enters the log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogEntry {
    /// Position in the log (0-based leaf index).
    pub leaf_index: u64,
    /// Sender-chosen unique id (UUIDv7).
    pub event_id: String,
    /// When the audited call happened (Unix microseconds).
    pub occur_time_us: i64,
    /// When the audit service accepted the event (Unix microseconds).
    pub accept_time_us: i64,
    /// Service that handled the call.
    pub service: String,
    /// Acting officer or service account id.
    pub actor_id: String,
    /// The actor's unit code.
    pub actor_unit: String,
    /// Full gRPC method.
    pub rpc: String,
    /// Type of resource touched.
    pub resource_type: String,
    /// Id of a non-person resource.
    pub resource_id: String,
    /// Keyed hash of the subject's personal ID, or empty.
    pub subject_hash: String,
    /// Declared purpose code.
    pub purpose: String,
    /// Case reference.
    pub case_reference: String,
    /// Break-glass justification, or empty.
    pub break_glass: String,
    /// Authorization decision: `allow`, `deny`, or empty when none was recorded.
    pub decision: String,
    /// Ids of the policies that decided.
    pub policy_ids: Vec<String>,
    /// Outcome status code name.
    pub outcome: String,
    /// W3C trace id of the audited call.
    pub trace_id: String,
    /// The caller's network address.
    pub client_address: String,
}

impl LogEntry {
    /// The canonical bytes of this entry.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        put_str(&mut out, ENTRY_TAG);
        out.extend_from_slice(&self.leaf_index.to_be_bytes());
        put_str(&mut out, &self.event_id);
        out.extend_from_slice(&self.occur_time_us.to_be_bytes());
        out.extend_from_slice(&self.accept_time_us.to_be_bytes());
        for s in [
            &self.service,
            &self.actor_id,
            &self.actor_unit,
            &self.rpc,
            &self.resource_type,
            &self.resource_id,
            &self.subject_hash,
            &self.purpose,
            &self.case_reference,
            &self.break_glass,
            &self.decision,
        ] {
            put_str(&mut out, s);
        }
        out.extend_from_slice(&(self.policy_ids.len() as u32).to_be_bytes());
        for id in &self.policy_ids {
            put_str(&mut out, id);
        }
        for s in [&self.outcome, &self.trace_id, &self.client_address] {
            put_str(&mut out, s);
        }
        out
    }

    /// The leaf hash of this entry: SHA-256(0x00 ‖ encode()).
    pub fn leaf_hash(&self) -> crate::merkle::Hash {
        crate::merkle::leaf_hash(&self.encode())
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_changes_the_leaf_hash() {
        let base = LogEntry {
            leaf_index: 3,
            event_id: "e".into(),
            occur_time_us: 1,
            accept_time_us: 2,
            service: "s".into(),
            actor_id: "a".into(),
            actor_unit: "u".into(),
            rpc: "r".into(),
            resource_type: "t".into(),
            resource_id: "i".into(),
            subject_hash: "h".into(),
            purpose: "p".into(),
            case_reference: "c".into(),
            break_glass: "b".into(),
            decision: "allow".into(),
            policy_ids: vec!["p1".into()],
            outcome: "OK".into(),
            trace_id: "tr".into(),
            client_address: "127.0.0.1:1".into(),
        };
        type Change = Box<dyn Fn(&mut LogEntry)>;
        let changes: Vec<Change> = vec![
            Box::new(|e| e.leaf_index += 1),
            Box::new(|e| e.event_id.push('x')),
            Box::new(|e| e.occur_time_us += 1),
            Box::new(|e| e.accept_time_us += 1),
            Box::new(|e| e.service.push('x')),
            Box::new(|e| e.actor_id.push('x')),
            Box::new(|e| e.actor_unit.push('x')),
            Box::new(|e| e.rpc.push('x')),
            Box::new(|e| e.resource_type.push('x')),
            Box::new(|e| e.resource_id.push('x')),
            Box::new(|e| e.subject_hash.push('x')),
            Box::new(|e| e.purpose.push('x')),
            Box::new(|e| e.case_reference.push('x')),
            Box::new(|e| e.break_glass.push('x')),
            Box::new(|e| e.decision = "deny".into()),
            Box::new(|e| e.policy_ids.push("p2".into())),
            Box::new(|e| e.outcome.push('x')),
            Box::new(|e| e.trace_id.push('x')),
            Box::new(|e| e.client_address.push('x')),
            // Moving a byte between neighbouring fields is caught by the length prefixes.
            Box::new(|e| {
                e.service = "sa".into();
                e.actor_id = String::new();
            }),
        ];
        for (i, change) in changes.iter().enumerate() {
            let mut changed = base.clone();
            change(&mut changed);
            assert_ne!(changed.leaf_hash(), base.leaf_hash(), "change {i}");
        }
    }
}
