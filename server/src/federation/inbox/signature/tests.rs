use super::*;
use crate::delivery::signing;

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn keys() -> (String, openssl::pkey::PKey<openssl::pkey::Private>) {
    let (public, private) = signing::generate_keypair().unwrap();
    (
        public,
        PKey::private_key_from_pem(private.as_bytes()).unwrap(),
    )
}

fn sign_raw(key: &openssl::pkey::PKey<openssl::pkey::Private>, text: &str) -> String {
    let mut signer = openssl::sign::Signer::new(MessageDigest::sha256(), key).unwrap();
    signer.update(text.as_bytes()).unwrap();
    BASE64.encode(signer.sign_to_vec().unwrap())
}

/// A POST to https://herald.example/inbox signed the draft-cavage way (Herald's signer).
fn cavage_request(
    key: &openssl::pkey::PKey<openssl::pkey::Private>,
    body: &[u8],
    date: &str,
    algorithm: &str,
) -> RequestParts {
    let url = url::Url::parse("https://herald.example/inbox").unwrap();
    let digest = signing::digest_header(body);
    let text = signing::signing_string("post", &url, "herald.example", date, &digest);
    let header = signing::signature_header(key, "https://remote.example/users/a#main-key", &text)
        .unwrap()
        .replace("rsa-sha256", algorithm);
    RequestParts {
        method: "POST".into(),
        path_and_query: "/inbox".into(),
        target_uri: url.to_string(),
        headers: vec![
            ("host".into(), "herald.example".into()),
            ("date".into(), date.into()),
            ("digest".into(), digest),
            ("signature".into(), header),
        ],
    }
}

/// A POST signed the RFC 9421 way, as Mastodon 4.5 signs.
fn rfc9421_request(
    key: &openssl::pkey::PKey<openssl::pkey::Private>,
    body: &[u8],
    created: i64,
) -> RequestParts {
    let digest = format!("sha-256=:{}:", BASE64.encode(Sha256::digest(body)));
    let params = format!(
        "(\"@method\" \"@target-uri\" \"content-digest\");created={created};keyid=\"https://remote.example/users/a#main-key\";alg=\"rsa-v1_5-sha256\""
    );
    let base = format!(
        "\"@method\": POST\n\"@target-uri\": https://herald.example/inbox\n\"content-digest\": {digest}\n\"@signature-params\": {params}"
    );
    RequestParts {
        method: "POST".into(),
        path_and_query: "/inbox".into(),
        target_uri: "https://herald.example/inbox".into(),
        headers: vec![
            ("content-digest".into(), digest),
            ("signature-input".into(), format!("sig1={params}")),
            (
                "signature".into(),
                format!("sig1=:{}:", sign_raw(key, &base)),
            ),
        ],
    }
}

fn date(offset: i64) -> String {
    let when = std::time::SystemTime::now() + std::time::Duration::from_secs(offset.unsigned_abs());
    let when = if offset < 0 {
        std::time::SystemTime::now() - std::time::Duration::from_secs(offset.unsigned_abs())
    } else {
        when
    };
    httpdate::fmt_http_date(when)
}

#[test]
fn cavage_signatures_verify_and_break() {
    let (public, key) = keys();
    let body = br#"{"type":"Follow"}"#;
    for algorithm in ["rsa-sha256", "hs2019"] {
        let request = cavage_request(&key, body, &date(0), algorithm);
        let signature = parse(&request).unwrap();
        assert_eq!(signature.scheme, Scheme::Cavage);
        assert_eq!(signature.key_id, "https://remote.example/users/a#main-key");
        assert!(verify(&signature, &public), "{algorithm}");
        check_digest(signature.scheme, &request, body).unwrap();
        check_time(&signature, &request, now()).unwrap();
    }
    // Another key, another body, a changed header: refused.
    let request = cavage_request(&key, body, &date(0), "rsa-sha256");
    let (other_public, _) = keys();
    assert!(!verify(&parse(&request).unwrap(), &other_public));
    assert_eq!(
        check_digest(Scheme::Cavage, &request, b"{}"),
        Err(SignatureError::DigestMismatch)
    );
    let mut moved = request.clone();
    moved.path_and_query = "/channels/x/inbox".into();
    assert!(!verify(&parse(&moved).unwrap(), &public));
    // The digest's algorithm name in either case.
    let mut lower = request.clone();
    for (name, value) in &mut lower.headers {
        if name == "digest" {
            *value = value.replacen("SHA-256", "sha-256", 1);
        }
    }
    check_digest(Scheme::Cavage, &lower, body).unwrap();
    // Dates more than an hour away, either way.
    for offset in [-7200, 7200] {
        let request = cavage_request(&key, body, &date(offset), "rsa-sha256");
        assert_eq!(
            check_time(&parse(&request).unwrap(), &request, now()),
            Err(SignatureError::Expired)
        );
    }
}

#[test]
fn cavage_requirements() {
    let (_, key) = keys();
    let request = cavage_request(&key, b"{}", &date(0), "ecdsa-sha256");
    assert_eq!(
        parse(&request),
        Err(SignatureError::Algorithm("ecdsa-sha256".into()))
    );
    let mut no_digest = cavage_request(&key, b"{}", &date(0), "rsa-sha256");
    for (name, value) in &mut no_digest.headers {
        if name == "signature" {
            *value = value.replace(" digest\"", "\"");
        }
    }
    assert_eq!(
        parse(&no_digest),
        Err(SignatureError::NotCovered("the Digest header"))
    );
    let mut missing = cavage_request(&key, b"{}", &date(0), "rsa-sha256");
    missing.headers.retain(|(n, _)| n != "host");
    assert_eq!(
        parse(&missing),
        Err(SignatureError::HeaderMissing("host".into()))
    );
    let mut unsigned = missing.clone();
    unsigned.headers.retain(|(n, _)| n != "signature");
    assert_eq!(parse(&unsigned), Err(SignatureError::Missing));
}

#[test]
fn rfc9421_signatures_verify_and_break() {
    let (public, key) = keys();
    let body = br#"{"type":"Like"}"#;
    let request = rfc9421_request(&key, body, now());
    let signature = parse(&request).unwrap();
    assert_eq!(signature.scheme, Scheme::Rfc9421);
    assert_eq!(signature.key_id, "https://remote.example/users/a#main-key");
    assert!(verify(&signature, &public));
    check_digest(signature.scheme, &request, body).unwrap();
    check_time(&signature, &request, now()).unwrap();
    assert_eq!(
        check_digest(Scheme::Rfc9421, &request, b"other"),
        Err(SignatureError::DigestMismatch)
    );
    let mut elsewhere = request.clone();
    elsewhere.target_uri = "https://herald.example/channels/ceo/inbox".into();
    assert!(!verify(&parse(&elsewhere).unwrap(), &public));
    let old = rfc9421_request(&key, body, now() - 7200);
    assert_eq!(
        check_time(&parse(&old).unwrap(), &old, now()),
        Err(SignatureError::Expired)
    );
}

#[test]
fn malformed_headers_are_errors_not_panics() {
    let base = RequestParts {
        method: "POST".into(),
        path_and_query: "/inbox".into(),
        target_uri: "https://herald.example/inbox".into(),
        headers: Vec::new(),
    };
    for (name, value) in [
        ("signature", "keyId"),
        ("signature", "keyId=\"unterminated"),
        ("signature", "keyId=\"k\",signature=\"!!!notbase64\""),
        ("signature", ",,,==="),
        ("signature", ""),
        ("signature-input", "sig1=(\"@method\""),
        ("signature-input", "sig1=\"nolist\""),
        ("signature-input", "=()"),
    ] {
        let mut request = base.clone();
        request.headers.push((name.into(), value.into()));
        if name == "signature-input" {
            request
                .headers
                .push(("signature".into(), "sig1=:AAAA:".into()));
        }
        assert!(parse(&request).is_err(), "{name}: {value}");
    }
}

proptest::proptest! {
    #[test]
    fn any_signature_header_parses_or_errs(signature in ".{0,200}", input in ".{0,200}") {
        let mut request = RequestParts {
            method: "POST".into(),
            path_and_query: "/inbox".into(),
            target_uri: "https://herald.example/inbox".into(),
            headers: vec![("signature".into(), signature.clone()), ("digest".into(), "SHA-256=x".into())],
        };
        let _ = parse(&request);
        request.headers.push(("signature-input".into(), input));
        let _ = parse(&request);
        let _ = check_digest(Scheme::Rfc9421, &request, b"");
    }
}
