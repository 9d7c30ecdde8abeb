//! Token verification: what is accepted, what is refused and with which code, key rotation,
//! and that verified tokens and keys are cached.

use async_trait::async_trait;
use dancu_kit::auth::{AUDIENCE, Claims, ISSUER, KeySource, TokenVerifier, VerificationKey};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tonic::Code;

struct Key {
    kid: String,
    signing: SigningKey,
}

impl Key {
    fn new(kid: &str, seed: u8) -> Self {
        Self {
            kid: kid.to_owned(),
            signing: SigningKey::from_bytes(&[seed; 32]),
        }
    }

    fn public(&self) -> VerificationKey {
        VerificationKey {
            kid: self.kid.clone(),
            public_key: self.signing.verifying_key().to_bytes().to_vec(),
        }
    }

    fn sign(&self, claims: &Claims) -> String {
        let der = self.signing.to_pkcs8_der().expect("pkcs8");
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(der.as_bytes()))
            .expect("sign")
    }
}

fn claims(lifetime_secs: i64) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        sub: "officer-1".to_owned(),
        username: "an.nguyen".to_owned(),
        unit: "CAHN".to_owned(),
        roles: vec!["investigator".to_owned()],
        area: "01001".to_owned(),
        iss: ISSUER.to_owned(),
        aud: AUDIENCE.to_owned(),
        iat: now - 10,
        exp: now + lifetime_secs,
        jti: uuid::Uuid::now_v7().to_string(),
    }
}

/// A key source whose keys the test controls, counting fetches.
#[derive(Default)]
struct Keys {
    keys: Mutex<Vec<VerificationKey>>,
    fetches: AtomicUsize,
    down: Mutex<bool>,
    revoked: Mutex<dancu_kit::auth::Revocations>,
}

#[async_trait]
impl KeySource for Keys {
    async fn keys(&self) -> Result<Vec<VerificationKey>, tonic::Status> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        if *self.down.lock().unwrap() {
            return Err(tonic::Status::unavailable("identity unreachable"));
        }
        Ok(self.keys.lock().unwrap().clone())
    }

    async fn revocations(&self) -> Result<dancu_kit::auth::Revocations, tonic::Status> {
        Ok(self.revoked.lock().unwrap().clone())
    }
}

fn setup(keys: &[&Key]) -> (Arc<Keys>, TokenVerifier) {
    let source = Arc::new(Keys::default());
    *source.keys.lock().unwrap() = keys.iter().map(|k| k.public()).collect();
    let verifier = TokenVerifier::new(source.clone());
    (source, verifier)
}

#[tokio::test]
async fn accepts_a_valid_token_and_caches_it() {
    let key = Key::new("k1", 1);
    let (source, verifier) = setup(&[&key]);
    let token = key.sign(&claims(60));
    let principal = verifier.verify(&token).await.expect("valid");
    assert_eq!(principal.id, "officer-1");
    assert_eq!(principal.unit, "CAHN");
    assert!(principal.has_role("investigator"));
    assert!(
        !format!("{principal:?}").contains(&token),
        "Debug hides the token"
    );
    verifier.verify(&token).await.expect("still valid");
    verifier
        .verify(&key.sign(&claims(60)))
        .await
        .expect("another token, same key");
    assert_eq!(
        source.fetches.load(Ordering::SeqCst),
        1,
        "keys fetched once"
    );
}

#[tokio::test]
async fn refuses_expired_foreign_and_misaddressed_tokens() {
    let key = Key::new("k1", 1);
    let (_, verifier) = setup(&[&key]);
    let expired = key.sign(&claims(-5));
    let status = verifier.verify(&expired).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(status.message(), "token expired");

    let mut wrong_issuer = claims(60);
    wrong_issuer.iss = "someone-else".to_owned();
    let mut wrong_audience = claims(60);
    wrong_audience.aud = "other-system".to_owned();
    let impostor = Key::new("k1", 2); // same kid, different key
    for token in [
        key.sign(&wrong_issuer),
        key.sign(&wrong_audience),
        impostor.sign(&claims(60)),
        "a.b.c".to_owned(),
        String::new(),
    ] {
        let status = verifier.verify(&token).await.unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{token}");
    }
}

#[tokio::test]
async fn a_rotated_key_is_fetched_on_first_sight() {
    let old = Key::new("k1", 1);
    let new = Key::new("k2", 3);
    let (source, verifier) = setup(&[&old]);
    verifier
        .verify(&old.sign(&claims(60)))
        .await
        .expect("old key");
    *source.keys.lock().unwrap() = vec![new.public(), old.public()];
    // The first refresh happened moments ago; unknown kids refresh at most every 2 s.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    verifier
        .verify(&new.sign(&claims(60)))
        .await
        .expect("new key after rotation");
    verifier
        .verify(&old.sign(&claims(60)))
        .await
        .expect("old key still valid");
    let unknown = Key::new("k9", 9);
    let status = verifier
        .verify(&unknown.sign(&claims(60)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn unreachable_key_source_is_unavailable_not_unauthenticated() {
    let key = Key::new("k1", 1);
    let (source, verifier) = setup(&[&key]);
    *source.down.lock().unwrap() = true;
    let status = verifier.verify(&key.sign(&claims(60))).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
}

#[tokio::test]
async fn revoked_tokens_are_refused_even_when_cached() {
    let key = Key::new("k1", 7);
    let (source, verifier) = setup(&[&key]);
    let first = claims(600);
    let token = key.sign(&first);
    let principal = verifier.verify(&token).await.expect("valid");
    assert_eq!(principal.area.as_deref(), Some("01001"));
    // Disabled after the token was issued: refused once the list is polled.
    source
        .revoked
        .lock()
        .unwrap()
        .subjects
        .insert(first.sub.clone(), first.iat + 5);
    verifier.refresh_revocations().await.expect("poll");
    let refused = verifier.verify(&token).await.expect_err("revoked");
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);
    assert_eq!(refused.message(), "token revoked");
    // A token issued after the disable time (re-enabled account) is accepted.
    let mut later = claims(600);
    later.iat = first.iat + 6;
    verifier
        .verify(&key.sign(&later))
        .await
        .expect("issued after the disable time");
    // A single token id (logout) is refused; another token of the account is not.
    source.revoked.lock().unwrap().subjects.clear();
    verifier.refresh_revocations().await.expect("poll");
    let other = claims(600);
    let other_token = key.sign(&other);
    verifier.verify(&other_token).await.expect("valid");
    source
        .revoked
        .lock()
        .unwrap()
        .token_ids
        .insert(other.jti.clone());
    verifier.refresh_revocations().await.expect("poll");
    assert_eq!(
        verifier.verify(&other_token).await.unwrap_err().code(),
        tonic::Code::Unauthenticated
    );
    assert!(
        verifier.verify(&token).await.is_ok(),
        "account no longer disabled"
    );
}
