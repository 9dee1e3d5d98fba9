//! The deployment files in deploy/ against the Herald they deploy: every `HERALD_…`
//! variable they name is a real configuration variable, every `herald …` command they run
//! is a real command line, and the compose file runs what deploy/README.md promises.

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    process::Command,
};

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

/// Every text file under deploy/, as (path relative to deploy/, contents).
fn deploy_files() -> Vec<(String, String)> {
    fn walk(dir: &Path, base: &Path, files: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, base, files);
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                let name = path.strip_prefix(base).unwrap().display().to_string();
                files.push((name, text));
            }
        }
    }
    let mut files = Vec::new();
    walk(&deploy_dir(), &deploy_dir(), &mut files);
    files.sort();
    files
}

fn deploy_file(name: &str) -> String {
    std::fs::read_to_string(deploy_dir().join(name))
        .unwrap_or_else(|e| panic!("deploy/{name}: {e}"))
}

/// The variables Herald reads: HERALD_CONFIG, and one per key of config/default.toml
/// (`HERALD_` + the key in capitals, `__` between a section and its key).
fn config_variables() -> BTreeSet<String> {
    let mut variables = BTreeSet::from([herald::config::CONFIG_FILE_VAR.to_string()]);
    let mut section = String::new();
    for line in herald::config::DEFAULT_TOML.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = format!("{}__", name.trim().replace('.', "__"));
        } else if let Some((key, _)) = line.split_once('=') {
            variables.insert(format!("HERALD_{section}{}", key.trim()).to_uppercase());
        }
    }
    variables
}

/// Every `HERALD_…` name in `text` (capitals, digits and underscores after the prefix).
fn herald_variables(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices("HERALD_") {
        let part_of_a_longer_name = text[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        let rest = &text[at + "HERALD_".len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(rest.len());
        if !part_of_a_longer_name && end > 0 {
            found.push(format!("HERALD_{}", &rest[..end]));
        }
    }
    found
}

#[test]
fn deploy_files_name_only_real_configuration_variables() {
    let valid = config_variables();
    assert!(
        valid.len() >= 20,
        "config/default.toml read wrongly: {valid:?}"
    );
    assert!(valid.contains("HERALD_DOMAIN") && valid.contains("HERALD_POSTS__MEDIA_DIR"));
    let mut named = 0;
    let mut unknown = Vec::new();
    for (file, text) in deploy_files() {
        for (number, line) in text.lines().enumerate() {
            for variable in herald_variables(line) {
                named += 1;
                if !valid.contains(&variable) {
                    unknown.push(format!("deploy/{file}:{}: {variable}", number + 1));
                }
            }
        }
    }
    assert!(
        named >= 10,
        "only {named} HERALD_ variables found in deploy/"
    );
    assert!(
        unknown.is_empty(),
        "not configuration variables (see config/default.toml):\n{}",
        unknown.join("\n")
    );
}

/// The arguments after `herald` in the `Exec…=` lines of a systemd unit, commented-out
/// examples included (an empty `ExecStart=` resets and is skipped).
fn unit_invocations(text: &str) -> Vec<Vec<String>> {
    let mut invocations = Vec::new();
    for line in text.lines() {
        let line = line.trim_start_matches(['#', ';', ' ', '\t']);
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if !key.starts_with("Exec") || key.contains(char::is_whitespace) {
            continue;
        }
        let mut words = value.split_whitespace();
        let program = words.next().unwrap_or_default();
        // systemd's prefixes: - @ : + ! (ignore failure, argv[0], no substitution, privileges).
        let program = program.trim_start_matches(['-', '@', ':', '+', '!']);
        if Path::new(program)
            .file_name()
            .is_some_and(|name| name == "herald")
        {
            invocations.push(words.map(str::to_string).collect());
        }
    }
    invocations
}

/// A compose service: its name and the lines of its block.
struct Service {
    name: String,
    lines: Vec<String>,
}

impl Service {
    /// The value of `key:` in this service's own block (not in nested mappings).
    fn value(&self, key: &str) -> Option<&str> {
        self.lines.iter().find_map(|line| {
            let indent = line.len() - line.trim_start().len();
            (indent == 4)
                .then(|| line.trim().strip_prefix(&format!("{key}:")))
                .flatten()
                .map(str::trim)
        })
    }

    /// `command:` as a list of words: a flow sequence (`["serve", "--no-workers"]`) or a
    /// plain string.
    fn command(&self) -> Option<Vec<String>> {
        let value = self.value("command")?;
        if value.starts_with('[') {
            let words: Vec<String> = serde_json::from_str(value).unwrap_or_else(|e| {
                panic!("deploy/compose.yaml: {}: command {value}: {e}", self.name)
            });
            Some(words)
        } else {
            assert!(
                !value.is_empty(),
                "deploy/compose.yaml: {}: write `command:` on one line",
                self.name
            );
            Some(value.split_whitespace().map(str::to_string).collect())
        }
    }

    /// Whether the service runs the Herald image (merges the `x-herald` anchor).
    fn is_herald(&self) -> bool {
        self.lines.iter().any(|l| l.trim() == "<<: *herald")
    }
}

/// The services of a compose file written with two-space indentation.
fn compose_services(text: &str) -> Vec<Service> {
    let mut services: Vec<Service> = Vec::new();
    let mut in_services = false;
    for line in text.lines() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if !line.starts_with(' ') {
            in_services = line.trim_end() == "services:";
        } else if in_services && !line.starts_with("   ") && line.trim_end().ends_with(':') {
            services.push(Service {
                name: line.trim().trim_end_matches(':').to_string(),
                lines: Vec::new(),
            });
        } else if let (true, Some(service)) = (in_services, services.last_mut()) {
            service.lines.push(line.to_string());
        }
    }
    services
}

/// The container image's CMD, or ENTRYPOINT, as written in exec form.
fn containerfile_instruction(text: &str, instruction: &str) -> Vec<String> {
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{instruction} ")))
        .unwrap_or_else(|| panic!("deploy/Containerfile has no {instruction}"));
    serde_json::from_str(line.trim()).unwrap_or_else(|e| {
        panic!("deploy/Containerfile: {instruction} {line}: write it in exec form: {e}")
    })
}

#[test]
fn deploy_files_run_only_real_herald_commands() {
    // Where each `herald …` command line comes from, and its arguments.
    let mut invocations: Vec<(String, Vec<String>)> = Vec::new();
    for (file, text) in deploy_files() {
        if file.ends_with(".service") {
            let found = unit_invocations(&text);
            assert!(!found.is_empty(), "deploy/{file} runs no herald");
            invocations.extend(
                found
                    .into_iter()
                    .map(|args| (format!("deploy/{file}"), args)),
            );
        }
    }
    let containerfile = deploy_file("Containerfile");
    assert_eq!(
        containerfile_instruction(&containerfile, "ENTRYPOINT"),
        ["herald"]
    );
    invocations.push((
        "deploy/Containerfile CMD".into(),
        containerfile_instruction(&containerfile, "CMD"),
    ));
    for service in compose_services(&deploy_file("compose.yaml")) {
        if service.is_herald() {
            let command = service
                .command()
                .unwrap_or_else(|| panic!("deploy/compose.yaml: {} has no command", service.name));
            invocations.push((format!("deploy/compose.yaml {}", service.name), command));
        }
    }

    let ran: BTreeSet<String> = invocations.iter().map(|(_, a)| a.join(" ")).collect();
    for expected in ["serve", "serve --no-workers", "worker", "migrate"] {
        assert!(ran.contains(expected), "no `herald {expected}` in {ran:?}");
    }
    // `herald ARGS --help` succeeds only when every subcommand and option in ARGS exists.
    let mut wrong = Vec::new();
    for (source, args) in &invocations {
        let mut command = Command::new(env!("CARGO_BIN_EXE_herald-e2e"));
        for (key, _) in std::env::vars() {
            if key.starts_with("HERALD_") {
                command.env_remove(key);
            }
        }
        let output = command.args(args).arg("--help").output().unwrap();
        if !output.status.success() {
            wrong.push(format!(
                "{source}: herald {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn compose_runs_two_web_processes_two_workers_and_a_durable_redis() {
    let services = compose_services(&deploy_file("compose.yaml"));
    let herald: Vec<(&str, Vec<String>)> = services
        .iter()
        .filter(|s| s.is_herald())
        .map(|s| (s.name.as_str(), s.command().unwrap_or_default()))
        .collect();
    let web: Vec<_> = herald
        .iter()
        .filter(|(_, c)| c.first().is_some_and(|w| w == "serve"))
        .collect();
    let workers: Vec<_> = herald.iter().filter(|(_, c)| c == &["worker"]).collect();
    assert_eq!(web.len(), 2, "web services: {web:?}");
    assert!(
        web.iter()
            .all(|(_, c)| c.iter().any(|a| a == "--no-workers")),
        "the web services leave delivery to the workers: {web:?}"
    );
    assert_eq!(workers.len(), 2, "worker services: {workers:?}");

    let redis = services
        .iter()
        .find(|s| s.value("image").is_some_and(|i| i.contains("redis:")))
        .expect("a Redis service");
    let command = redis.command().unwrap_or_default().join(" ");
    assert!(
        command.contains("--appendonly yes") && command.contains("--appendfsync everysec"),
        "Redis keeps the queue on disk: {command}"
    );
}
