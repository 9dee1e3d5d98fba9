//! Random secrets and their stored form: a secret handed out (an OAuth code, a session
//! cookie, a sign-in link) is kept only as its SHA-256, so a copy of the database lets no
//! one sign in.

use base64::Engine;
use sha2::{Digest, Sha256};

/// Bytes of randomness in a generated secret.
pub const SECRET_BYTES: usize = 32;

/// A random, URL-safe secret of [`SECRET_BYTES`] bytes (`None`: the system's generator
/// failed).
pub fn random_secret() -> Option<String> {
    let mut bytes = [0u8; SECRET_BYTES];
    openssl::rand::rand_bytes(&mut bytes).ok()?;
    Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The lower-case hex SHA-256 of `value`: how a secret is stored and looked up.
pub fn sha256_hex(value: &str) -> String {
    Sha256::digest(value.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `a` and `b` are equal, in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && openssl::memcmp::eq(a.as_bytes(), b.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_compared_whole() {
        let a = random_secret().unwrap();
        let b = random_secret().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(same_secret(&a, &a.clone()));
        assert!(!same_secret(&a, &b));
        assert!(!same_secret(&a, &a[..42]));
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
