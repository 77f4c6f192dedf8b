//! `main_hybrid check-config`: validate and show the effective configuration.

use std::fmt::Write as _;

use crate::config::{LoadedConfig, KEYS, SECRET_ENV_VARS};

/// Prints the report on stdout.
pub(crate) fn run(loaded: &LoadedConfig) -> anyhow::Result<()> {
    print!("{}", report(loaded));
    Ok(())
}

/// The effective configuration, one key per line with where its value came from; secrets are
/// shown only as set or not set, database passwords as `***`.
pub(crate) fn report(loaded: &LoadedConfig) -> String {
    let mut out = String::new();
    let source = loaded.file.as_ref().map_or_else(
        || "no file: defaults and environment".to_owned(),
        |p| format!("file {}", p.display()),
    );
    let _ = writeln!(out, "configuration is valid ({source})");
    let mut section = "";
    for key in KEYS {
        if key.section != section {
            section = key.section;
            let _ = writeln!(out, "\n[{section}]");
        }
        let path = key.path();
        let value = loaded
            .values
            .get(&path)
            .map(crate::config::load_show)
            .unwrap_or_default();
        let value = if path == "database.url" {
            crate::config::load_mask_url(&value)
        } else {
            value
        };
        let origin = loaded
            .origins
            .get(&path)
            .map(ToString::to_string)
            .unwrap_or_default();
        let _ = writeln!(out, "{:<28} = {:<40} # {origin}", key.name, value);
    }
    let origin = if loaded.config.cohorts.is_some() {
        "file"
    } else {
        "default: the six cohorts of the spec"
    };
    let _ = writeln!(out, "\n[[cohorts]] # {origin}");
    for cohort in loaded.config.cohorts() {
        let _ = writeln!(out, "{}", crate::config::describe_cohort(&cohort));
    }
    let _ = writeln!(out, "\n[secrets] (environment only, never printed)");
    for (var, purpose) in SECRET_ENV_VARS {
        let state = if loaded.secrets.contains_key(var) {
            "set"
        } else {
            "not set"
        };
        let _ = writeln!(out, "{var:<28} = {state:<40} # {purpose}");
    }
    out
}
