//! `main_hybrid` as a user runs it: exit codes, messages, and what it leaves behind.

use std::{
    path::Path,
    process::{Command, Output},
};

use super::workspace_root;

/// Runs the binary in `dir` with a clean environment plus `env`.
fn main_hybrid(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_main_hybrid"));
    command.args(args).current_dir(dir).env_clear();
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn check_config_refuses_a_bad_file_naming_each_problem() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "[trading]\ntotal_investment = -100\nmax_symbols = \"many\"\n\n[exchange]\nbackend = \"paper\"\nslippage = 0.5\n",
    )
    .unwrap();
    let out = main_hybrid(dir.path(), &["check-config", "--config", "bad.toml"], &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("3 problems"), "{stderr}");
    assert!(
        stderr.contains("trading.total_investment = -100: out of range: must be greater than 0"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "trading.max_symbols = \"many\": wrong type: expected a whole number, found a string"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("unknown key `exchange.slippage`"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.to_lowercase().contains("backtrace"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn check_config_on_a_missing_file_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = main_hybrid(dir.path(), &["check-config", "--config", "nope.toml"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("nope.toml: cannot read the file"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn check_config_prints_effective_values_and_masks_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "s3cr3tVALUEthatMustNeverAppear0123456789";
    let out = main_hybrid(
        dir.path(),
        &[
            "check-config",
            "--database",
            "postgres://bot:hunter2@127.0.0.1:5432/hybrid",
        ],
        &[
            ("HYBRID_BINANCE_API_KEY", secret),
            ("HYBRID_TRADING__MAX_SYMBOLS", "4"),
        ],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(stdout.contains("configuration is valid"));
    assert!(
        stdout.contains("postgres://bot:***@127.0.0.1:5432/hybrid"),
        "{stdout}"
    );
    assert!(stdout.contains("# command line --database"), "{stdout}");
    assert!(
        stdout.contains("# env HYBRID_TRADING__MAX_SYMBOLS"),
        "{stdout}"
    );
    assert!(
        stdout.contains("HYBRID_BINANCE_API_KEY") && stdout.contains("set"),
        "{stdout}"
    );
    let everything = format!("{stdout}{}", text(&out.stderr));
    assert!(
        !everything.contains(secret) && !everything.contains("hunter2"),
        "a secret leaked: {everything}"
    );
}

#[test]
fn shipped_example_config_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let example = workspace_root().join("config/example.toml");
    let out = main_hybrid(
        dir.path(),
        &["check-config", "--config", example.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn migrate_creates_the_schema_and_a_second_run_is_a_no_op() {
    let dir = tempfile::tempdir().unwrap();
    let first = main_hybrid(dir.path(), &["--database", "sqlite://x.db", "migrate"], &[]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert!(
        text(&first.stdout).contains("applied"),
        "{}",
        text(&first.stdout)
    );
    assert!(dir.path().join("x.db").exists());
    let second = main_hybrid(dir.path(), &["--database", "sqlite://x.db", "migrate"], &[]);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    assert!(
        text(&second.stdout).contains("up to date"),
        "{}",
        text(&second.stdout)
    );
}

#[test]
fn migrate_creates_the_default_data_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = main_hybrid(dir.path(), &["migrate"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(dir.path().join("data/hybrid.db").exists());
}

#[test]
fn unreachable_database_is_a_runtime_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let out = main_hybrid(
        dir.path(),
        &[
            "--database",
            "postgres://nobody@127.0.0.1:1/none",
            "migrate",
        ],
        &[],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error: cannot open the database"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn migrate_on_postgres_creates_the_schema_and_a_second_run_is_a_no_op() {
    let Some(schema) = hybrid_testkit::pg::pg_test_schema("cli_migrate_postgres") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let first = main_hybrid(dir.path(), &["--database", schema.url(), "migrate"], &[]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert!(
        text(&first.stdout).contains("(postgres): applied 1 migration(s)"),
        "{}",
        text(&first.stdout)
    );
    let second = main_hybrid(dir.path(), &["--database", schema.url(), "migrate"], &[]);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    assert!(
        text(&second.stdout).contains("up to date"),
        "{}",
        text(&second.stdout)
    );
}
