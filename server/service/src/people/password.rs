//! Passwords, hashed with argon2id at the parameters RFC 9106 and OWASP recommend as the
//! crate's defaults (19 MiB, 2 passes), in PHC string form so parameters can rise later
//! without breaking stored hashes.

use super::PeopleError;
use argon2::{
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The longest password accepted (hashing is costly; a megabyte "password" is an attack).
const MAX_PASSWORD_CHARS: usize = 512;

/// The argon2id hash of `password`, after checking its length.
pub fn hash_password(password: &str) -> Result<String, PeopleError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(PeopleError::Invalid(format!(
            "a password has at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(PeopleError::Invalid(format!(
            "a password has at most {MAX_PASSWORD_CHARS} characters"
        )));
    }
    let mut salt = [0u8; 16];
    openssl::rand::rand_bytes(&mut salt).map_err(|_| PeopleError::Random)?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| PeopleError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| PeopleError::Hash(e.to_string()))
}

/// Whether `password` matches the stored `hash` (a hash that does not parse matches
/// nothing).
pub fn verify_password(password: &str, hash: &str) -> bool {
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return false;
    }
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash of no one's password, verified against when the account does not exist, so
/// that an unknown email takes as long as a wrong password.
pub(super) fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("not anyone's password at all").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ() {
        let a = hash_password("correct horse battery").unwrap();
        let b = hash_password("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify_password("correct horse battery", &a));
        assert!(!verify_password("correct horse batterx", &a));
        assert!(!verify_password("anything", "not a hash"));
        assert!(matches!(
            hash_password("short"),
            Err(PeopleError::Invalid(_))
        ));
        assert!(matches!(
            hash_password(&"x".repeat(MAX_PASSWORD_CHARS + 1)),
            Err(PeopleError::Invalid(_))
        ));
        assert!(!verify_password("x", decoy_hash()));
    }
}
