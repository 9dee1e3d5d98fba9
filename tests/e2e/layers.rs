//! The layers of ARCHITECTURE.md, held against the workspace as Cargo sees it: every
//! Herald crate may depend only on crates of lower layers, every crate has a layer, and
//! only the storage layer names the database library. A wrong-way import does not compile
//! because the crate is not a dependency; this test keeps anyone from adding it.

use serde_json::Value;
use std::{collections::BTreeMap, process::Command};

/// Each workspace crate and its layer, lowest first (ARCHITECTURE.md, "The layers").
const LAYERS: [(&str, u8); 9] = [
    ("herald-migrations", 0),
    ("herald-base", 0),
    ("herald-content", 0),
    ("herald-db", 1),
    ("herald-delivery", 2),
    ("herald-federation", 3),
    ("herald-service", 4),
    ("herald", 5),
    ("herald-tests", 6),
];

/// The crates that may name sea-orm: storage, its migrations, and the tests that check
/// upgrades with raw SQL.
const DATABASE_CRATES: [&str; 3] = ["herald-db", "herald-migrations", "herald-tests"];

fn workspace_packages() -> Vec<Value> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root)
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: Value = serde_json::from_slice(&out.stdout).unwrap();
    metadata["packages"].as_array().unwrap().clone()
}

/// `(crate, dependency, kind)` for every dependency of every workspace crate.
fn dependencies(packages: &[Value]) -> Vec<(String, String, String)> {
    let mut edges = Vec::new();
    for package in packages {
        let name = package["name"].as_str().unwrap();
        for dep in package["dependencies"].as_array().unwrap() {
            edges.push((
                name.to_string(),
                dep["name"].as_str().unwrap().to_string(),
                dep["kind"].as_str().unwrap_or("normal").to_string(),
            ));
        }
    }
    edges
}

#[test]
fn every_crate_depends_only_on_lower_layers() {
    let layers: BTreeMap<&str, u8> = LAYERS.into_iter().collect();
    let packages = workspace_packages();
    let mut problems = Vec::new();
    for package in &packages {
        let name = package["name"].as_str().unwrap();
        if !layers.contains_key(name) {
            problems.push(format!(
                "{name} has no layer: add it to ARCHITECTURE.md and LAYERS"
            ));
        }
    }
    let edges = dependencies(&packages);
    for (from, to, kind) in &edges {
        let (Some(&from_layer), Some(&to_layer)) =
            (layers.get(from.as_str()), layers.get(to.as_str()))
        else {
            continue;
        };
        if to_layer >= from_layer {
            problems.push(format!(
                "{from} (layer {from_layer}) depends on {to} (layer {to_layer}) as a {kind} dependency"
            ));
        }
    }
    // The test must see the crates it guards, or it would pass by reading nothing.
    assert!(
        edges
            .iter()
            .any(|(from, to, _)| from == "herald-federation" && to == "herald-delivery"),
        "the workspace's dependencies were not read"
    );
    assert!(
        problems.is_empty(),
        "layering broken:\n{}",
        problems.join("\n")
    );
}

#[test]
fn only_storage_names_the_database_library() {
    let packages = workspace_packages();
    let edges = dependencies(&packages);
    let users: Vec<&String> = edges
        .iter()
        .filter(|(_, to, _)| to == "sea-orm" || to == "sea-orm-migration")
        .map(|(from, _, _)| from)
        .collect();
    assert!(users.iter().any(|u| *u == "herald-db"));
    for user in users {
        assert!(
            DATABASE_CRATES.contains(&user.as_str()),
            "{user} depends on sea-orm: queries belong in herald-db"
        );
    }
}
