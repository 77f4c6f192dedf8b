//! One `run` per database (issue 15, D7): a second one is refused at start with exit status 2
//! and the holder named, and nothing in the database changes. (That a crashed holder does not
//! block a restart is what every restart of the crash campaign, `crash.rs`, relies on.)

use std::process::{Command, Output};

fn run_on(dir: &std::path::Path, url: &str) -> Output {
    std::fs::create_dir_all(dir.join("candles")).unwrap();
    let mut csv = String::from("open_time_ms,open,high,low,close,volume\n");
    for i in 0..30_i64 {
        csv.push_str(&format!(
            "{},100,101,99,100,1\n",
            1_722_000_000_000 / 60_000 * 60_000 + i * 60_000
        ));
    }
    std::fs::write(dir.join("candles/BTCUSDT-1m.csv"), csv).unwrap();
    Command::new(env!("CARGO_BIN_EXE_main_hybrid"))
        .args(["run", "--market", "replay:candles", "--symbols", "BTCUSDT"])
        .args(["--database", url])
        .current_dir(dir)
        .env_clear()
        .output()
        .unwrap()
}

fn refused(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("pid {}", std::process::id())) && stderr.contains("since 20"),
        "the holder is named: {stderr}"
    );
    assert!(stderr.contains("already in use"), "{stderr}");
    stderr
}

#[test]
fn a_second_run_on_one_sqlite_database_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.db");
    let url = format!("sqlite://{}", db.display());
    hybrid_store::Store::open(&url)
        .unwrap()
        .run_migrations()
        .unwrap();
    let files = || -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.to_string_lossy().contains("x.db") && !p.to_string_lossy().ends_with(".lock")
            })
            .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
            .collect();
        files.sort();
        files
    };
    let before = files();
    // This test holds the database, as a running `run` would.
    let holder = hybrid_store::InstanceLock::acquire(&url, "run").unwrap();
    let stderr = refused(&run_on(dir.path(), &url));
    assert!(stderr.contains("x.db"), "{stderr}");
    assert_eq!(files(), before, "the database files changed");
    drop(holder);
    // Released (as by a crash): the same command now runs.
    let out = run_on(dir.path(), &url);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_second_run_on_one_postgres_schema_is_refused_and_changes_nothing() {
    let Some(schema) = hybrid_testkit::pg::pg_test_schema("second run refused") else {
        return;
    };
    let store = hybrid_store::Store::open(schema.url()).unwrap();
    store.run_migrations().unwrap();
    let holder = hybrid_store::InstanceLock::acquire(schema.url(), "run").unwrap();
    let dir = tempfile::tempdir().unwrap();
    refused(&run_on(dir.path(), schema.url()));
    assert!(store.recent_events(10).unwrap().is_empty());
    assert!(store.load_state("hybrid_state/main").unwrap().is_none());
    assert!(store.all_orders().unwrap().is_empty());
    drop(holder);
    let out = run_on(dir.path(), schema.url());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
