//! HTTP signatures on inbound requests, both kinds the fediverse sends:
//!
//! - draft-cavage-http-signatures-12 (`Signature: keyId=…,algorithm=…,headers=…,signature=…`)
//!   with `rsa-sha256` or `hs2019` (which Mastodon treats as RSA-SHA256 for RSA keys), and a
//!   `Digest: SHA-256=…` header (either case of the algorithm name);
//! - RFC 9421 HTTP Message Signatures (`Signature-Input` + `Signature`), as Mastodon 4.5
//!   and Fedify send them: `@method`, `@target-uri` and `content-digest` (RFC 9530)
//!   covered, `created` required, RSA PKCS#1 v1.5 with SHA-256.
//!
//! Pure functions over the request's parts: parsing, the signing text, the body digest
//! and the time window. Key lookup and the verification itself are the caller's.

use base64::{engine::general_purpose::STANDARD as BASE64, Engine};
use openssl::{hash::MessageDigest, pkey::PKey, sign::Verifier};
use sha2::{Digest, Sha256, Sha512};

/// How far a signature's time may be from ours either way (Mastodon: one hour).
pub const CLOCK_SKEW_SECS: i64 = 3600;

/// The parts of a request a signature covers.
#[derive(Clone, Debug)]
pub struct RequestParts {
    /// Upper case (`POST`).
    pub method: String,
    /// The path and query as sent (`/inbox?x=1`).
    pub path_and_query: String,
    /// The public URL the request was sent to (`https://example.com/inbox`): the
    /// instance's base URL and the path, since a TLS proxy sits in front.
    pub target_uri: String,
    /// Headers with lower-case names; repeated headers appear repeatedly.
    pub headers: Vec<(String, String)>,
}

impl RequestParts {
    /// All values of a header, joined with `, ` as HTTP combines them.
    pub fn header(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.trim())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    }
}

/// A signature as found on a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    pub scheme: Scheme,
    pub key_id: String,
    /// The text that was signed.
    pub signed_text: String,
    pub signature: Vec<u8>,
    /// When it was made (Unix seconds), when it says.
    pub created: Option<i64>,
    pub expires: Option<i64>,
}

impl Signature {
    /// The host of the key id: the server that signed (not yet verified).
    pub fn key_host(&self) -> Option<String> {
        url::Url::parse(&self.key_id)
            .ok()
            .and_then(|key| key.host_str().map(str::to_ascii_lowercase))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Cavage,
    Rfc9421,
}

/// Why a signature is refused; each becomes a 401 with its own code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the request carries no HTTP signature")]
    Missing,
    #[error("the signature header is malformed: {0}")]
    Malformed(String),
    #[error("the signature uses {0}, which Herald does not verify (RSA with SHA-256 only)")]
    Algorithm(String),
    #[error("the signature does not cover {0}")]
    NotCovered(&'static str),
    #[error("the signed header `{0}` is missing from the request")]
    HeaderMissing(String),
    #[error("the body digest is missing")]
    DigestMissing,
    #[error("the body does not match its digest")]
    DigestMismatch,
    #[error("the signature's date is missing or not within an hour of now")]
    Expired,
}

/// `key="value"` pairs of a cavage `Signature` header.
fn cavage_fields(header: &str) -> Result<Vec<(String, String)>, SignatureError> {
    let mut fields = Vec::new();
    let mut rest = header.trim();
    while !rest.is_empty() {
        let (key, after) = rest
            .split_once('=')
            .ok_or_else(|| SignatureError::Malformed("expected key=\"value\"".into()))?;
        let key = key.trim().to_ascii_lowercase();
        let after = after.trim_start();
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted
                .find('"')
                .ok_or_else(|| SignatureError::Malformed(format!("unterminated `{key}`")))?;
            (quoted[..end].to_string(), &quoted[end + 1..])
        } else {
            // Unquoted numbers (`created=…`).
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        fields.push((key, value));
        rest = remaining.trim_start().trim_start_matches(',').trim_start();
    }
    Ok(fields)
}

fn decode_signature(raw: &str) -> Result<Vec<u8>, SignatureError> {
    BASE64
        .decode(raw.trim())
        .map_err(|_| SignatureError::Malformed("the signature is not base64".into()))
}

fn parse_cavage(header: &str, request: &RequestParts) -> Result<Signature, SignatureError> {
    let fields = cavage_fields(header)?;
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let key_id = get("keyid").ok_or_else(|| SignatureError::Malformed("no keyId".into()))?;
    if let Some(algorithm) = get("algorithm") {
        let algorithm = algorithm.to_ascii_lowercase();
        if algorithm != "rsa-sha256" && algorithm != "hs2019" {
            return Err(SignatureError::Algorithm(algorithm));
        }
    }
    let signature = decode_signature(
        get("signature").ok_or_else(|| SignatureError::Malformed("no signature".into()))?,
    )?;
    let created: Option<i64> = get("created").and_then(|c| c.parse().ok());
    let expires: Option<i64> = get("expires").and_then(|c| c.parse().ok());
    // Without `headers`, only `date` is signed (draft-cavage §2.1.3).
    let headers: Vec<String> = get("headers")
        .unwrap_or("date")
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    if request.method == "POST" && !headers.iter().any(|h| h == "digest") {
        return Err(SignatureError::NotCovered("the Digest header"));
    }
    if !headers.iter().any(|h| h == "date" || h == "(created)") {
        return Err(SignatureError::NotCovered("a date"));
    }
    let mut lines = Vec::with_capacity(headers.len());
    for name in &headers {
        let value = match name.as_str() {
            "(request-target)" => format!(
                "{} {}",
                request.method.to_ascii_lowercase(),
                request.path_and_query
            ),
            "(created)" => created.ok_or(SignatureError::Expired)?.to_string(),
            "(expires)" => expires.ok_or(SignatureError::Expired)?.to_string(),
            "digest" => request
                .header("digest")
                .ok_or(SignatureError::DigestMissing)?,
            other => request
                .header(other)
                .ok_or_else(|| SignatureError::HeaderMissing(other.to_string()))?,
        };
        lines.push(format!("{name}: {value}"));
    }
    Ok(Signature {
        scheme: Scheme::Cavage,
        key_id: key_id.to_string(),
        signed_text: lines.join("\n"),
        signature,
        created,
        expires,
    })
}

/// One member of an RFC 8941 dictionary, split off the front of `input`: (label, value).
fn dictionary_members(input: &str) -> Vec<(String, String)> {
    let mut members = Vec::new();
    let mut depth = 0i32;
    let mut in_string = false;
    let mut start = 0;
    let bytes = input.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' if i == 0 || bytes[i - 1] != b'\\' => in_string = !in_string,
            b'(' if !in_string => depth += 1,
            b')' if !in_string => depth -= 1,
            b',' if !in_string && depth == 0 => {
                members.push(&input[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    members.push(&input[start..]);
    members
        .into_iter()
        .filter_map(|m| {
            let (label, value) = m.trim().split_once('=')?;
            Some((label.trim().to_string(), value.trim().to_string()))
        })
        .collect()
}

/// The parameters after an inner list: `;created=1;keyid="k"`.
fn parameters(raw: &str) -> Vec<(String, String)> {
    let mut params = Vec::new();
    for part in raw.split(';').skip(1) {
        if let Some((key, value)) = part.split_once('=') {
            params.push((
                key.trim().to_string(),
                value.trim().trim_matches('"').to_string(),
            ));
        }
    }
    params
}

fn rfc9421_component(name: &str, request: &RequestParts) -> Result<String, SignatureError> {
    let url = url::Url::parse(&request.target_uri)
        .map_err(|e| SignatureError::Malformed(e.to_string()))?;
    Ok(match name {
        "@method" => request.method.clone(),
        "@target-uri" => request.target_uri.clone(),
        "@authority" => crate::db::authority_of(&url),
        "@scheme" => url.scheme().to_string(),
        "@request-target" => request.path_and_query.clone(),
        "@path" => url.path().to_string(),
        "@query" => format!("?{}", url.query().unwrap_or_default()),
        header if !header.starts_with('@') => request
            .header(header)
            .ok_or_else(|| SignatureError::HeaderMissing(header.to_string()))?,
        other => {
            return Err(SignatureError::Malformed(format!(
                "unsupported component {other}"
            )))
        }
    })
}

fn parse_rfc9421(
    input: &str,
    signature_header: &str,
    request: &RequestParts,
) -> Result<Signature, SignatureError> {
    // A request may carry several signatures; the first one is checked (Mastodon sends one).
    let (label, value) = dictionary_members(input)
        .into_iter()
        .next()
        .ok_or_else(|| SignatureError::Malformed("empty Signature-Input".into()))?;
    let list_end = value
        .find(')')
        .filter(|_| value.starts_with('('))
        .ok_or_else(|| SignatureError::Malformed("Signature-Input is not an inner list".into()))?;
    let components: Vec<String> = value[1..list_end]
        .split_whitespace()
        .map(|c| c.trim_matches('"').to_ascii_lowercase())
        .collect();
    let params = parameters(&value[list_end..]);
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let key_id = param("keyid").ok_or_else(|| SignatureError::Malformed("no keyid".into()))?;
    if let Some(alg) = param("alg") {
        if alg != "rsa-v1_5-sha256" {
            return Err(SignatureError::Algorithm(alg));
        }
    }
    let created = param("created").and_then(|c| c.parse().ok());
    if created.is_none() {
        return Err(SignatureError::Expired);
    }
    for required in ["@method", "@target-uri"] {
        if !components.iter().any(|c| c == required) {
            return Err(SignatureError::NotCovered("@method and @target-uri"));
        }
    }
    if request.method == "POST" && !components.iter().any(|c| c == "content-digest") {
        return Err(SignatureError::NotCovered("the Content-Digest header"));
    }
    let mut lines = Vec::with_capacity(components.len() + 1);
    for component in &components {
        lines.push(format!(
            "\"{component}\": {}",
            rfc9421_component(component, request)?
        ));
    }
    lines.push(format!("\"@signature-params\": {value}"));
    let signed = dictionary_members(signature_header)
        .into_iter()
        .find(|(l, _)| *l == label)
        .ok_or_else(|| SignatureError::Malformed(format!("no signature labelled {label}")))?
        .1;
    let signed = signed
        .strip_prefix(':')
        .and_then(|s| s.strip_suffix(':'))
        .ok_or_else(|| SignatureError::Malformed("the signature is not a byte sequence".into()))?;
    Ok(Signature {
        scheme: Scheme::Rfc9421,
        key_id,
        signed_text: lines.join("\n"),
        signature: decode_signature(signed)?,
        created,
        expires: param("expires").and_then(|c| c.parse().ok()),
    })
}

/// Reads the request's signature, whichever kind it is.
pub fn parse(request: &RequestParts) -> Result<Signature, SignatureError> {
    match (
        request.header("signature-input"),
        request.header("signature"),
    ) {
        (Some(input), Some(signature)) => parse_rfc9421(&input, &signature, request),
        (None, Some(signature)) => parse_cavage(&signature, request),
        _ => Err(SignatureError::Missing),
    }
}

/// Checks the body against `Digest` (cavage) or `Content-Digest` (RFC 9530).
pub fn check_digest(
    scheme: Scheme,
    request: &RequestParts,
    body: &[u8],
) -> Result<(), SignatureError> {
    match scheme {
        Scheme::Cavage => {
            let header = request
                .header("digest")
                .ok_or(SignatureError::DigestMissing)?;
            let mut checked = false;
            for part in header.split(',') {
                let Some((algorithm, value)) = part.trim().split_once('=') else {
                    continue;
                };
                let expected = match algorithm.to_ascii_lowercase().as_str() {
                    "sha-256" => BASE64.encode(Sha256::digest(body)),
                    "sha-512" => BASE64.encode(Sha512::digest(body)),
                    _ => continue,
                };
                if value.trim() != expected {
                    return Err(SignatureError::DigestMismatch);
                }
                checked = true;
            }
            if checked {
                Ok(())
            } else {
                Err(SignatureError::DigestMissing)
            }
        }
        Scheme::Rfc9421 => {
            let header = request
                .header("content-digest")
                .ok_or(SignatureError::DigestMissing)?;
            let mut checked = false;
            for (algorithm, value) in dictionary_members(&header) {
                let value = value.trim_matches(':');
                let expected = match algorithm.as_str() {
                    "sha-256" => BASE64.encode(Sha256::digest(body)),
                    "sha-512" => BASE64.encode(Sha512::digest(body)),
                    _ => continue,
                };
                if value != expected {
                    return Err(SignatureError::DigestMismatch);
                }
                checked = true;
            }
            if checked {
                Ok(())
            } else {
                Err(SignatureError::DigestMissing)
            }
        }
    }
}

/// Checks the signature was made within `CLOCK_SKEW_SECS` of `now` (from `created`, else
/// the `Date` header) and has not expired.
pub fn check_time(
    signature: &Signature,
    request: &RequestParts,
    now: i64,
) -> Result<(), SignatureError> {
    let made = match signature.created {
        Some(created) => created,
        None => {
            let date = request.header("date").ok_or(SignatureError::Expired)?;
            let time = httpdate::parse_http_date(&date).map_err(|_| SignatureError::Expired)?;
            let secs = time
                .duration_since(std::time::UNIX_EPOCH)
                .map_err(|_| SignatureError::Expired)?
                .as_secs();
            i64::try_from(secs).map_err(|_| SignatureError::Expired)?
        }
    };
    if (now - made).abs() > CLOCK_SKEW_SECS {
        return Err(SignatureError::Expired);
    }
    if signature
        .expires
        .is_some_and(|expires| expires + CLOCK_SKEW_SECS < now)
    {
        return Err(SignatureError::Expired);
    }
    Ok(())
}

/// True when `signature` verifies with the RSA public key in `public_key_pem`.
pub fn verify(signature: &Signature, public_key_pem: &str) -> bool {
    let Ok(key) = PKey::public_key_from_pem(public_key_pem.as_bytes()) else {
        return false;
    };
    Verifier::new(MessageDigest::sha256(), &key)
        .and_then(|mut verifier| {
            verifier.update(signature.signed_text.as_bytes())?;
            verifier.verify(&signature.signature)
        })
        .unwrap_or(false)
}

#[cfg(test)]
#[path = "signature/tests.rs"]
mod tests;
