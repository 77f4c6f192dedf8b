//! Architecture invariants (see `docs/ARCHITECTURE.md`), checked from `cargo metadata` and the
//! source files so that a violation fails `cargo test`, not a code review.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use serde_json::Value;

use super::workspace_root;

/// Which workspace crates each crate may depend on (normal dependencies; dev-dependencies on
/// `hybrid-testkit` are allowed everywhere). Mirrors the dependency direction of DESIGN.md.
const ALLOWED: &[(&str, &[&str])] = &[
    ("hybrid-core", &[]),
    ("hybrid-market", &["hybrid-core"]),
    ("hybrid-grid", &["hybrid-core"]),
    ("hybrid-risk", &["hybrid-core"]),
    ("hybrid-modes", &["hybrid-core"]),
    ("hybrid-exchange", &["hybrid-core"]),
    ("hybrid-store", &["hybrid-core"]),
    ("hybrid-charts", &["hybrid-core"]),
    (
        "hybrid-engine",
        &[
            "hybrid-core",
            "hybrid-charts",
            "hybrid-market",
            "hybrid-grid",
            "hybrid-risk",
            "hybrid-modes",
            "hybrid-exchange",
            "hybrid-store",
        ],
    ),
    (
        "hybrid-cohorts",
        &[
            "hybrid-core",
            "hybrid-market",
            "hybrid-grid",
            "hybrid-risk",
            "hybrid-modes",
            "hybrid-exchange",
            "hybrid-store",
            "hybrid-engine",
        ],
    ),
    (
        "hybrid-portfolio",
        &[
            "hybrid-core",
            "hybrid-market",
            "hybrid-grid",
            "hybrid-risk",
            "hybrid-modes",
            "hybrid-exchange",
            "hybrid-store",
            "hybrid-engine",
            "hybrid-cohorts",
        ],
    ),
    (
        "hybrid-learning",
        &["hybrid-core", "hybrid-market", "hybrid-store"],
    ),
    (
        "hybrid-cockpit",
        &[
            "hybrid-core",
            "hybrid-charts",
            "hybrid-store",
            "hybrid-engine",
            "hybrid-cohorts",
            "hybrid-portfolio",
        ],
    ),
    (
        "hybrid-telegram",
        &[
            "hybrid-core",
            "hybrid-store",
            "hybrid-cockpit",
            "hybrid-learning",
            "hybrid-portfolio",
        ],
    ),
    (
        "hybrid-dashboard",
        &[
            "hybrid-core",
            "hybrid-charts",
            "hybrid-cockpit",
            "hybrid-cohorts",
            "hybrid-portfolio",
            "hybrid-store",
        ],
    ),
    (
        "hybrid-testkit",
        &["hybrid-core", "hybrid-exchange", "hybrid-store"],
    ),
];

/// Crates that must stay sans-I/O: no async runtime, HTTP or database anywhere below them.
const PURE: &[&str] = &[
    "hybrid-core",
    "hybrid-market",
    "hybrid-grid",
    "hybrid-risk",
    "hybrid-modes",
];

/// Third-party crates that mean I/O: an async runtime, HTTP, a database.
const IO_CRATES: &[&str] = &[
    "tokio",
    "reqwest",
    "hyper",
    "axum",
    "diesel",
    "libsqlite3-sys",
    "pq-sys",
    "teloxide",
    "mio",
];

struct Graph {
    /// Package name by package id.
    names: BTreeMap<String, String>,
    /// Normal (non-dev, non-build) dependencies by package id.
    normal: BTreeMap<String, Vec<String>>,
    /// Workspace member names.
    members: BTreeSet<String>,
}

fn metadata() -> Graph {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1"])
        .current_dir(workspace_root())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let names = json["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_owned(),
                p["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect::<BTreeMap<_, _>>();
    let members = json["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| names[id.as_str().unwrap()].clone())
        .collect();
    let mut normal = BTreeMap::new();
    for node in json["resolve"]["nodes"].as_array().unwrap() {
        let deps = node["deps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|dep| {
                dep["dep_kinds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|kind| kind["kind"].is_null())
            })
            .map(|dep| dep["pkg"].as_str().unwrap().to_owned())
            .collect();
        normal.insert(node["id"].as_str().unwrap().to_owned(), deps);
    }
    Graph {
        names,
        normal,
        members,
    }
}

impl Graph {
    fn id_of(&self, name: &str) -> Option<&String> {
        self.names
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(id, _)| id)
    }

    fn direct(&self, name: &str) -> BTreeSet<String> {
        let Some(id) = self.id_of(name) else {
            return BTreeSet::new();
        };
        self.normal[id]
            .iter()
            .map(|dep| self.names[dep].clone())
            .collect()
    }

    fn transitive(&self, name: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<String> = self.id_of(name).into_iter().cloned().collect();
        while let Some(id) = stack.pop() {
            for dep in &self.normal[&id] {
                if seen.insert(self.names[dep].clone()) {
                    stack.push(dep.clone());
                }
            }
        }
        seen
    }
}

#[test]
fn workspace_crates_depend_only_downwards() {
    let graph = metadata();
    let allowed: BTreeMap<_, _> = ALLOWED.iter().copied().collect();
    for member in &graph.members {
        if member == "hybrid-bin" {
            continue; // The binary composes everything.
        }
        let permitted = allowed.get(member.as_str()).unwrap_or_else(|| {
            panic!("{member} is not in the ALLOWED table: add it with its place in the layering")
        });
        for dep in graph
            .direct(member)
            .iter()
            .filter(|d| graph.members.contains(*d))
        {
            assert!(
                permitted.contains(&dep.as_str()),
                "Architecture invariant broken: {member} depends on {dep}"
            );
        }
    }
}

#[test]
fn pure_crates_have_no_runtime_http_or_database_below_them() {
    let graph = metadata();
    // The check must be able to see I/O crates at all: the store is known to use diesel.
    assert!(
        graph.transitive("hybrid-store").contains("diesel"),
        "dependency graph looks empty"
    );
    for pure in PURE.iter().filter(|p| graph.members.contains(**p)) {
        let below = graph.transitive(pure);
        for io in IO_CRATES {
            assert!(
                !below.contains(*io),
                "Architecture invariant broken: {pure} pulls in {io}"
            );
        }
    }
}

#[test]
fn only_the_binary_uses_anyhow() {
    let graph = metadata();
    for member in graph.members.iter().filter(|m| *m != "hybrid-bin") {
        assert!(
            !graph.direct(member).contains("anyhow"),
            "{member} depends on anyhow: libraries use thiserror"
        );
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "target") {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Files pulled in with `include!("x.rs")`: they cannot carry an inner `//!` doc (they are not
/// modules), so they must open with a plain `//` comment saying where they are included.
fn included_files(files: &[PathBuf]) -> BTreeSet<PathBuf> {
    let mut included = BTreeSet::new();
    for path in files {
        let text = fs::read_to_string(path).unwrap();
        for part in text.split("include!(\"").skip(1) {
            if let Some((name, _)) = part.split_once('"') {
                if let Some(dir) = path.parent() {
                    included.insert(dir.join(name));
                }
            }
        }
    }
    included
}

#[test]
fn every_source_module_says_what_it_is_for() {
    let mut files = Vec::new();
    rust_files(&workspace_root().join("crates"), &mut files);
    let included = included_files(&files);
    let missing: Vec<_> = files
        .iter()
        .filter(|path| path.components().any(|c| c.as_os_str() == "src"))
        .filter(|path| {
            let text = fs::read_to_string(path).unwrap();
            let first = text
                .lines()
                .find(|line| !line.trim().is_empty())
                .unwrap_or_default();
            let marker = if included.contains(*path) {
                "// "
            } else {
                "//!"
            };
            !first.starts_with(marker)
        })
        .collect();
    assert!(
        missing.is_empty(),
        "modules without a `//!` doc: {missing:#?}"
    );
}

#[test]
fn no_test_is_ignored_or_expects_a_panic() {
    let mut files = Vec::new();
    rust_files(&workspace_root().join("crates"), &mut files);
    rust_files(&workspace_root().join("tests"), &mut files);
    let forbidden = [concat!("#[should", "_panic"), concat!("#[ig", "nore")];
    for path in files {
        let text = fs::read_to_string(&path).unwrap();
        for word in forbidden {
            assert!(
                !text.contains(word),
                "{} uses {word}: tests must run and assert results",
                path.display()
            );
        }
    }
}

/// The files under `crates/` whose text contains `needle`, relative to the workspace root.
fn files_containing(needle: &str) -> Vec<String> {
    let root = workspace_root();
    let mut files = Vec::new();
    rust_files(&root.join("crates"), &mut files);
    let mut found: Vec<String> = files
        .iter()
        .filter(|path| fs::read_to_string(path).unwrap().contains(needle))
        .map(|path| {
            path.strip_prefix(&root)
                .unwrap_or(path)
                .display()
                .to_string()
        })
        .collect();
    found.sort();
    found
}

#[test]
fn only_the_driver_loops_over_market_events() {
    // One loop: the driver pulls the feed's batches; nothing else does (the feeds' own unit
    // tests aside).
    let pulls: Vec<String> = files_containing(concat!(".next", "_batch("))
        .into_iter()
        .filter(|f| !f.ends_with("exchange/src/feed.rs") && !f.contains("/tests/"))
        .collect();
    assert_eq!(pulls, ["crates/engine/src/driver.rs"], "{pulls:?}");
    // One executor for simulated runs, and one candle merger.
    assert_eq!(
        files_containing(concat!("fn block", "_on")),
        ["crates/engine/src/driver.rs"]
    );
    assert_eq!(
        files_containing(concat!("Waker::", "noop")),
        ["crates/engine/src/driver.rs"]
    );
    assert_eq!(
        files_containing(concat!("stream.next", "_if(")),
        ["crates/exchange/src/feed.rs"]
    );
}

#[test]
fn market_data_is_implemented_only_by_real_sources() {
    // Views and wrappers of an account add what they add; they never forward the market-data
    // half one method at a time (issue 13).
    let implementers = files_containing(concat!("impl MarketData", " for"));
    assert_eq!(
        implementers,
        [
            "crates/exchange/src/binance/api.rs",
            "crates/exchange/src/sim.rs",
        ],
        "{implementers:?}"
    );
}
