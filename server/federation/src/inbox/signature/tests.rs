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

/// A cavage `Signature` header built from its parts, each of which may be left out or
/// replaced by junk, so both the accepting and the refusing paths of the parser run.
fn cavage_header(
    key_id: &str,
    algorithm: &str,
    headers: &[&str],
    signature: &str,
    junk: &str,
    drop: usize,
) -> String {
    let parts = [
        format!("keyId=\"{key_id}\""),
        format!("algorithm=\"{algorithm}\""),
        format!("headers=\"{}\"", headers.join(" ")),
        format!("signature=\"{signature}\""),
        junk.to_string(),
    ];
    parts
        .iter()
        .enumerate()
        .filter(|(i, part)| *i != drop && !part.is_empty())
        .map(|(_, part)| part.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config {
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    })]
    #[test]
    fn structured_signature_headers_parse_or_err(
        key_id in "https://[a-c]\\.example/users/[a-z]{1,5}(#main-key|/main-key)?",
        algorithm in proptest::sample::select(vec!["rsa-sha256", "hs2019", "ed25519", ""]),
        extra in proptest::sample::subsequence(vec!["(created)", "content-type", "x-missing"], 0..=1),
        shuffle in proptest::sample::select(vec![false, true]),
        signature in proptest::strategy::Strategy::prop_map(
            proptest::collection::vec(proptest::num::u8::ANY, 0..40),
            |bytes| BASE64.encode(bytes),
        ),
        junk in proptest::sample::select(vec!["", "x", "a=\"b", "=,=", "foo=\"bar\""]),
        // 0–4 drops that part; more drops nothing (most cases).
        drop in 0usize..12,
        components in proptest::sample::subsequence(
            vec!["\"@method\"", "\"@target-uri\"", "\"content-digest\"", "\"@path\"", "\"x-missing\""],
            2..=5,
        ),
        created in proptest::option::weighted(0.9, -5i64..2_000_000_000),
    ) {
        let mut headers = vec!["(request-target)", "host", "date", "digest"];
        headers.extend(extra);
        if shuffle {
            headers.reverse();
        }
        let header = cavage_header(&key_id, algorithm, &headers, &signature, junk, drop);
        let request = RequestParts {
            method: "POST".into(),
            path_and_query: "/inbox".into(),
            target_uri: "https://herald.example/inbox".into(),
            headers: vec![
                ("host".into(), "herald.example".into()),
                ("date".into(), "Wed, 25 Nov 2026 08:00:00 GMT".into()),
                ("digest".into(), "SHA-256=x".into()),
                ("content-type".into(), "application/activity+json".into()),
                ("signature".into(), header.clone()),
            ],
        };
        // keyId, headers and signature are required; algorithm and the junk are not.
        let whole = ![0, 2, 3].contains(&drop);
        let junk = if drop == 4 { "" } else { junk };
        match parse(&request) {
            Ok(parsed) => {
                // Only a whole header parses, and it names the key it was given.
                proptest::prop_assert!(whole, "{}", header);
                proptest::prop_assert!(!headers.contains(&"x-missing"), "{}", header);
                proptest::prop_assert_eq!(&parsed.key_id, &key_id);
                let _ = check_time(&parsed, &request, now());
                proptest::prop_assert!(parsed.key_host().is_some());
            }
            Err(_) => proptest::prop_assert!(
                !whole || signature.is_empty()
                    || (drop != 1 && !["rsa-sha256", "hs2019"].contains(&algorithm))
                    || headers.contains(&"x-missing") || headers.contains(&"(created)")
                    || ["x", "a=\"b", "=,="].contains(&junk),
                "a whole header was refused: {}", header
            ),
        }

        let mut input = format!("sig1=({})", components.join(" "));
        if let Some(created) = created {
            input.push_str(&format!(";created={created}"));
        }
        input.push_str(&format!(";keyid=\"{key_id}\""));
        let mut rfc = request.clone();
        rfc.headers.retain(|(name, _)| name != "signature");
        rfc.headers.push(("content-digest".into(), "sha-256=:AAAA:".into()));
        rfc.headers.push(("signature-input".into(), input.clone()));
        rfc.headers.push(("signature".into(), "sig1=:AAAA:".into()));
        let complete = ["\"@method\"", "\"@target-uri\"", "\"content-digest\""]
            .iter()
            .all(|c| components.contains(c))
            && !components.contains(&"\"x-missing\"")
            && created.is_some();
        match parse(&rfc) {
            Ok(parsed) => {
                proptest::prop_assert!(complete, "{}", input);
                proptest::prop_assert_eq!(parsed.scheme, Scheme::Rfc9421);
                proptest::prop_assert_eq!(&parsed.key_id, &key_id);
                let _ = check_time(&parsed, &rfc, now());
            }
            Err(e) => proptest::prop_assert!(!complete, "{}: {}", input, e),
        }
    }
}
