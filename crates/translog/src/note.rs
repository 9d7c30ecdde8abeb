//! C2SP signed notes (<https://c2sp.org/signed-note>) with Ed25519 keys, and C2SP
//! checkpoints (<https://c2sp.org/tlog-checkpoint>).
//!
//! A note is UTF-8 text ending in a newline, a blank line, then signature lines
//! `— <key name> <base64(key hash[4] ‖ signature[64])>`. The key hash of an Ed25519 key is
//! the first four bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key). A verifier key is
//! written `<name>+<key hash, 8 hex digits>+<base64(0x01 ‖ public key)>`. Written by hand:
//! the format is a few lines, and no well-kept Rust crate implements it today.

use crate::merkle::Hash;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

/// Algorithm byte of Ed25519 keys in signed notes.
const ALG_ED25519: u8 = 0x01;
/// Start of a signature line: an em dash and a space.
const SIG_PREFIX: &str = "\u{2014} ";

/// Why a note, key or checkpoint was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// A malformed verifier or signer key.
    #[error("malformed key: {0}")]
    Key(&'static str),
    /// A malformed note.
    #[error("malformed note: {0}")]
    Malformed(&'static str),
    /// No signature by the expected key, or a signature that does not verify.
    #[error("note is not signed by the expected key")]
    Unverified,
    /// A malformed checkpoint body.
    #[error("malformed checkpoint: {0}")]
    Checkpoint(&'static str),
}

fn key_hash(name: &str, public: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ALG_ED25519]);
    h.update(public);
    let digest = h.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.contains('+') && !name.chars().any(char::is_whitespace)
}

/// Signs notes with an Ed25519 key under a key name.
pub struct NoteSigner {
    name: String,
    key: SigningKey,
    hash: [u8; 4],
}

impl NoteSigner {
    /// A signer named `name` with the 32-byte Ed25519 seed `seed`.
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Self, NoteError> {
        if !valid_name(name) {
            return Err(NoteError::Key(
                "key names are non-empty, without '+' or spaces",
            ));
        }
        let key = SigningKey::from_bytes(seed);
        let hash = key_hash(name, key.verifying_key().as_bytes());
        Ok(Self {
            name: name.to_owned(),
            key,
            hash,
        })
    }

    /// Parses a Go-style private key `PRIVATE+KEY+<name>+<hash>+<base64(0x01 ‖ seed)>`.
    pub fn from_private_key(skey: &str) -> Result<Self, NoteError> {
        let rest = skey
            .strip_prefix("PRIVATE+KEY+")
            .ok_or(NoteError::Key("missing PRIVATE+KEY+ prefix"))?;
        let mut parts = rest.splitn(3, '+');
        let (name, hash, key) = match (parts.next(), parts.next(), parts.next()) {
            (Some(n), Some(h), Some(k)) => (n, h, k),
            _ => return Err(NoteError::Key("expected name+hash+key")),
        };
        let bytes = STANDARD
            .decode(key)
            .map_err(|_| NoteError::Key("key is not base64"))?;
        if bytes.len() != 33 || bytes[0] != ALG_ED25519 {
            return Err(NoteError::Key("not an Ed25519 key"));
        }
        let seed: [u8; 32] = bytes[1..]
            .try_into()
            .map_err(|_| NoteError::Key("length"))?;
        let signer = Self::from_seed(name, &seed)?;
        if hex(&signer.hash) != hash {
            return Err(NoteError::Key("key hash does not match"));
        }
        Ok(signer)
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The verifier key string, `<name>+<hash>+<base64(0x01 ‖ public key)>`.
    pub fn verifier_key(&self) -> String {
        let mut material = vec![ALG_ED25519];
        material.extend_from_slice(self.key.verifying_key().as_bytes());
        format!(
            "{}+{}+{}",
            self.name,
            hex(&self.hash),
            STANDARD.encode(material)
        )
    }

    /// Signs `text` (which must end with a newline) into a signed note.
    pub fn sign(&self, text: &str) -> Result<String, NoteError> {
        if !text.ends_with('\n') {
            return Err(NoteError::Malformed("text must end with a newline"));
        }
        let signature = self.key.sign(text.as_bytes());
        let mut blob = self.hash.to_vec();
        blob.extend_from_slice(&signature.to_bytes());
        Ok(format!(
            "{text}\n{SIG_PREFIX}{} {}\n",
            self.name,
            STANDARD.encode(blob)
        ))
    }
}

/// Verifies notes signed by one Ed25519 key.
#[derive(Clone, Debug)]
pub struct NoteVerifier {
    name: String,
    hash: [u8; 4],
    key: VerifyingKey,
}

impl NoteVerifier {
    /// Parses a verifier key `<name>+<hash>+<base64(0x01 ‖ public key)>`.
    pub fn parse(vkey: &str) -> Result<Self, NoteError> {
        let mut parts = vkey.trim().splitn(3, '+');
        let (name, hash, key) = match (parts.next(), parts.next(), parts.next()) {
            (Some(n), Some(h), Some(k)) => (n, h, k),
            _ => return Err(NoteError::Key("expected name+hash+key")),
        };
        if !valid_name(name) {
            return Err(NoteError::Key("bad key name"));
        }
        let bytes = STANDARD
            .decode(key)
            .map_err(|_| NoteError::Key("key is not base64"))?;
        if bytes.len() != 33 || bytes[0] != ALG_ED25519 {
            return Err(NoteError::Key("not an Ed25519 key"));
        }
        let public: [u8; 32] = bytes[1..]
            .try_into()
            .map_err(|_| NoteError::Key("length"))?;
        let expected = key_hash(name, &public);
        if hex(&expected) != hash {
            return Err(NoteError::Key("key hash does not match"));
        }
        let key = VerifyingKey::from_bytes(&public)
            .map_err(|_| NoteError::Key("not a valid Ed25519 public key"))?;
        Ok(Self {
            name: name.to_owned(),
            hash: expected,
            key,
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Checks that `note` carries a valid signature by this key; returns the signed text.
    /// Signatures by other keys are ignored.
    pub fn open<'a>(&self, note: &'a str) -> Result<&'a str, NoteError> {
        let split = note
            .rfind("\n\n")
            .ok_or(NoteError::Malformed("no blank line before the signatures"))?;
        let text = &note[..split + 1];
        let signatures = &note[split + 2..];
        if !signatures.ends_with('\n') {
            return Err(NoteError::Malformed(
                "signature block must end with a newline",
            ));
        }
        for line in signatures.lines() {
            let rest = line
                .strip_prefix(SIG_PREFIX)
                .ok_or(NoteError::Malformed("signature line without the em dash"))?;
            let (name, blob) = rest
                .split_once(' ')
                .ok_or(NoteError::Malformed("signature line without a signature"))?;
            let blob = STANDARD
                .decode(blob)
                .map_err(|_| NoteError::Malformed("signature is not base64"))?;
            if name != self.name || blob.len() != 68 || blob[..4] != self.hash {
                continue;
            }
            let signature = ed25519_dalek::Signature::from_slice(&blob[4..])
                .map_err(|_| NoteError::Malformed("bad signature length"))?;
            return self
                .key
                .verify(text.as_bytes(), &signature)
                .map(|()| text)
                .map_err(|_| NoteError::Unverified);
        }
        Err(NoteError::Unverified)
    }
}

/// A C2SP checkpoint: the log's origin, its size, and the root of that tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line, e.g. `dancu.audit/log`.
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// Root hash of the first `size` leaves.
    pub root: Hash,
}

impl Checkpoint {
    /// The note text: origin, decimal size and base64 root, one per line.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        )
    }

    /// Parses a checkpoint body (extension lines after the root are ignored).
    pub fn parse_body(text: &str) -> Result<Self, NoteError> {
        let mut lines = text.split('\n');
        let origin = lines
            .next()
            .filter(|l| !l.is_empty())
            .ok_or(NoteError::Checkpoint("missing origin"))?;
        let size = lines
            .next()
            .and_then(|l| {
                (!l.is_empty()
                    && l.bytes().all(|b| b.is_ascii_digit())
                    && !(l.len() > 1 && l.starts_with('0')))
                .then(|| l.parse().ok())
                .flatten()
            })
            .ok_or(NoteError::Checkpoint("bad tree size"))?;
        let root: Hash = lines
            .next()
            .and_then(|l| STANDARD.decode(l).ok())
            .and_then(|b| b.try_into().ok())
            .ok_or(NoteError::Checkpoint("bad root hash"))?;
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
        })
    }

    /// Signs the checkpoint into a signed note.
    pub fn sign(&self, signer: &NoteSigner) -> Result<String, NoteError> {
        signer.sign(&self.body())
    }

    /// Verifies a signed checkpoint note and parses it.
    pub fn open(note: &str, verifier: &NoteVerifier) -> Result<Self, NoteError> {
        Self::parse_body(verifier.open(note)?)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // golang.org/x/mod/sumdb/note, note_test.go and the package documentation.
    const SKEY: &str =
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                        then you don't know what your problem is.\n";
    const NOTE: &str = "If you think cryptography is the answer to your problem,\n\
                        then you don't know what your problem is.\n\
                        \n\
                        — PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

    #[test]
    fn signs_and_verifies_the_go_reference_note() {
        let signer = NoteSigner::from_private_key(SKEY).expect("reference signer key");
        assert_eq!(signer.verifier_key(), VKEY);
        assert_eq!(signer.sign(TEXT).unwrap(), NOTE, "Ed25519 is deterministic");
        let verifier = NoteVerifier::parse(VKEY).expect("reference verifier key");
        assert_eq!(verifier.open(NOTE).unwrap(), TEXT);
        let tampered = NOTE.replace("cryptography", "cryptographY");
        assert_eq!(verifier.open(&tampered), Err(NoteError::Unverified));
        assert!(
            NoteVerifier::parse(
                "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
            )
            .is_err()
        );
    }

    #[test]
    fn checkpoints_round_trip_and_reject_other_keys() {
        let signer = NoteSigner::from_seed("dancu.audit/log", &[7; 32]).unwrap();
        let other = NoteSigner::from_seed("dancu.audit/log", &[8; 32]).unwrap();
        let checkpoint = Checkpoint {
            origin: "dancu.audit/log".to_owned(),
            size: 42,
            root: [9; 32],
        };
        let note = checkpoint.sign(&signer).unwrap();
        assert!(note.starts_with("dancu.audit/log\n42\nCQkJ"));
        let verifier = NoteVerifier::parse(&signer.verifier_key()).unwrap();
        assert_eq!(Checkpoint::open(&note, &verifier).unwrap(), checkpoint);
        let foreign = NoteVerifier::parse(&other.verifier_key()).unwrap();
        assert_eq!(
            Checkpoint::open(&note, &foreign),
            Err(NoteError::Unverified)
        );
        assert!(Checkpoint::parse_body("o\n012\nAAAA\n").is_err());
        assert!(Checkpoint::parse_body("o\n12\nnot-base64\n").is_err());
    }
}
