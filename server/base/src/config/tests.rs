use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn keys(err: &ConfigError) -> Vec<&str> {
    err.problems.iter().map(|p| p.key.as_str()).collect()
}

#[test]
fn defaults_are_valid_and_match_the_documented_file() {
    let config = Config::from_sources(None, env(&[])).unwrap();
    assert_eq!(config.domain.as_str(), "localhost:8080");
    assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config.redis, RedisSetting::Managed);
    assert!(!config.debug);
    assert!(config.jwt_secret.is_none());
    assert_eq!(config.delivery.concurrency, 1024);
    assert_eq!(config.delivery.per_host, 4);
    assert_eq!(
        config.delivery.unreachable_after,
        Duration::from_secs(86400)
    );
    assert_eq!(config.delivery.max_attempts, 12);
}

#[test]
fn environment_overrides_file_which_overrides_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("herald.toml");
    std::fs::write(
        &file,
        "domain = \"file.example\"\nlisten = \"0.0.0.0:9000\"\n[delivery]\nconcurrency = 8\n",
    )
    .unwrap();
    let config = Config::from_sources(
        Some(&file),
        env(&[
            ("HERALD_DOMAIN", "env.example"),
            ("HERALD_DEBUG", "true"),
            ("HERALD_DELIVERY__TIMEOUT_SECS", "3"),
            ("HERALD_REDIS_URL", "redis://127.0.0.1:6390"),
            ("HERALD_TEST_DATABASE_URL", "ignored: not a documented key"),
            ("OTHER", "ignored"),
        ]),
    )
    .unwrap();
    assert_eq!(config.domain.as_str(), "env.example");
    assert_eq!(config.listen.to_string(), "0.0.0.0:9000");
    assert!(config.debug);
    assert_eq!(config.delivery.concurrency, 8);
    assert_eq!(config.delivery.timeout, Duration::from_secs(3));
    assert_eq!(
        config.redis,
        RedisSetting::Url(Secret::new("redis://127.0.0.1:6390"))
    );
}

#[test]
fn every_problem_is_reported_at_once_with_its_key() {
    let err = Config::from_sources(
        None,
        env(&[
            ("HERALD_DOMAIN", "https://example.com/"),
            ("HERALD_LISTEN", "nowhere"),
            ("HERALD_DATABASE_URL", "mysql://x"),
            ("HERALD_REDIS_URL", "not a url"),
            ("HERALD_JWT_SECRET", "short"),
            ("HERALD_DELIVERY__CONCURRENCY", "0"),
        ]),
    )
    .unwrap_err();
    assert_eq!(
        keys(&err),
        [
            "domain",
            "listen",
            "database_url",
            "redis_url",
            "jwt_secret",
            "delivery.concurrency"
        ]
    );
    let text = err.to_string();
    assert!(text.contains("6 problem(s)"), "{text}");
}

#[test]
fn unknown_keys_in_a_file_fail() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("herald.toml");
    std::fs::write(&file, "domian = \"typo.example\"\n").unwrap();
    let err = Config::from_sources(Some(&file), env(&[])).unwrap_err();
    assert!(err.to_string().contains("domian"), "{err}");
}

#[test]
fn a_missing_file_and_a_wrongly_typed_variable_are_problems() {
    let err = Config::from_sources(
        Some(Path::new("/nonexistent/herald.toml")),
        env(&[("HERALD_DEBUG", "maybe")]),
    )
    .unwrap_err();
    let keys = keys(&err);
    assert!(keys.contains(&"HERALD_CONFIG"), "{keys:?}");
    assert!(keys.contains(&"debug"), "{keys:?}");
}

#[test]
fn domains_are_host_names_with_optional_port() {
    assert_eq!(
        Domain::parse("Example.COM").unwrap().as_str(),
        "example.com"
    );
    assert_eq!(
        Domain::parse("localhost:8080").unwrap().as_str(),
        "localhost:8080"
    );
    for bad in [
        "",
        "127.0.0.1",
        "127.0.0.1:80",
        "[::1]:80",
        "example.com:0",
        "example.com:http",
        "exa mple.com",
        "-bad.example",
        "example.com/path",
    ] {
        assert!(Domain::parse(bad).is_err(), "{bad} should be refused");
    }
}

#[test]
fn secrets_do_not_print() {
    let config = Config::from_sources(
        None,
        env(&[
            (
                "HERALD_JWT_SECRET",
                "0123456789abcdef0123456789abcdef-secret",
            ),
            ("HERALD_DATABASE_URL", "postgres://herald:hunter2@db/herald"),
        ]),
    )
    .unwrap();
    let shown = format!("{config:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(!shown.contains("-secret"), "{shown}");
}

/// Every key of `config/default.toml` (`section.key` for sections), read line by line.
fn documented_keys() -> Vec<String> {
    let mut section = String::new();
    let mut keys = Vec::new();
    for line in DEFAULT_TOML.lines().map(str::trim) {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = format!("{name}.");
        } else if let Some((key, _)) = line.split_once('=') {
            keys.push(format!("{section}{}", key.trim()));
        }
    }
    keys
}

#[test]
fn the_readme_table_names_every_key_with_its_variable_and_default() {
    let readme = include_str!("../../../../README.md");
    let keys = documented_keys();
    assert!(keys.len() >= 20, "{keys:?}");
    let defaults = Figment::from(Toml::string(DEFAULT_TOML));
    for key in &keys {
        let variable = format!("HERALD_{}", key.to_uppercase().replace('.', "__"));
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `{key}` |")))
            .unwrap_or_else(|| panic!("README's configuration table lacks `{key}`"));
        assert!(row.contains(&format!("`{variable}`")), "{key}: {row}");
        let value: Value = defaults.find_value(key).unwrap();
        let shown = match &value {
            Value::String(_, s) if s.is_empty() => "empty".to_string(),
            Value::String(_, s) => s.clone(),
            other => other.to_i128().map_or_else(
                || other.to_bool().map(|b| b.to_string()).unwrap_or_default(),
                |n| n.to_string(),
            ),
        };
        assert!(row.contains(&shown), "{key}: default {shown} not in {row}");
    }
    // And no row for a key that does not exist.
    for line in readme.lines().filter(|l| l.starts_with("| `")) {
        let key = line.split('`').nth(1).unwrap_or_default();
        if key.contains(['/', ' ']) || !line.contains("HERALD_") {
            continue;
        }
        assert!(
            keys.iter().any(|k| k == key),
            "README documents unknown key `{key}`"
        );
    }
}
