//! `herald bench sign`: RSA-2048 signatures per second on one core with the signer
//! deliveries use — the ceiling of deliveries per core.

use crate::delivery::signing;
use std::time::{Duration, Instant};

/// Signs a typical signing string for `seconds` and returns signatures per second.
pub fn sign_rate(seconds: f64) -> Result<f64, super::BenchError> {
    let (_, private) =
        signing::generate_keypair().map_err(|e| super::BenchError::from("key", e))?;
    let key = signing::KeyCache::default()
        .get(&private)
        .map_err(|e| super::BenchError::from("key", e))?;
    let url = url::Url::parse("https://mastodon.example/inbox")
        .map_err(|e| super::BenchError::from("url", e))?;
    let digest = signing::digest_header(&[b'x'; 1500]);
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    let text = signing::signing_string("post", &url, "mastodon.example", &date, &digest);
    let key_id = "https://herald.example/channels/news#main-key";
    let deadline = Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut count: u64 = 0;
    while started.elapsed() < deadline {
        for _ in 0..50 {
            signing::signature_header(&key, key_id, &text)
                .map_err(|e| super::BenchError::from("sign", e))?;
        }
        count += 50;
    }
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

pub fn sign(seconds: f64) -> Result<(), super::BenchError> {
    let rate = sign_rate(seconds)?;
    println!("RSA-2048 PKCS#1 v1.5 SHA-256 (OpenSSL), one core: {rate:.0} signatures/s");
    println!("{}", serde_json::json!({ "sign_per_s": rate.round() }));
    Ok(())
}
