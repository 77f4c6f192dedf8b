//! Bad input refused with one clear message (issue 15, D8 and D10).

use std::process::Command;

#[test]
fn five_minute_candles_in_a_one_minute_file_are_refused_before_trading() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("candles")).unwrap();
    let mut csv = String::from("open_time_ms,open,high,low,close,volume\n");
    for i in 0..200_i64 {
        let price = 100 + i % 7;
        csv.push_str(&format!(
            "{},{price},{},{},{price},1\n",
            1_722_000_000_000 / 300_000 * 300_000 + i * 300_000,
            price + 1,
            price - 1
        ));
    }
    std::fs::write(dir.path().join("candles/BTCUSDT-1m.csv"), csv).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_main_hybrid"))
        .args(["run", "--market", "replay:candles", "--symbols", "BTCUSDT"])
        .args(["--database", "sqlite://x.db"])
        .current_dir(dir.path())
        .env_clear()
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("BTCUSDT-1m.csv"), "{stderr}");
    assert_eq!(
        stderr.matches("not 1m candles").count(),
        1,
        "said once: {stderr}"
    );
    assert!(!stderr.contains("invalid response"), "{stderr}");
    assert!(
        !stderr.contains("exchange"),
        "not an exchange's answer: {stderr}"
    );
    // Refused before any trading: no order was recorded.
    let store =
        hybrid_store::Store::open(&format!("sqlite://{}", dir.path().join("x.db").display()));
    if let Ok(store) = store {
        assert!(store.all_orders().map(|o| o.is_empty()).unwrap_or(true));
    }
}

#[test]
fn a_huge_bad_config_value_is_clipped_and_causes_are_not_repeated() {
    let dir = tempfile::tempdir().unwrap();
    let huge = "x".repeat(2_000_000);
    std::fs::write(
        dir.path().join("hybrid.toml"),
        format!("[trading]\ninitial_mode = \"{huge}\"\n"),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_main_hybrid"))
        .args(["check-config", "--config", "hybrid.toml"])
        .current_dir(dir.path())
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stderr.len() < 4_000,
        "{} bytes on stderr",
        out.stderr.len()
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("trading.initial_mode") && stderr.contains("characters left out"),
        "{stderr}"
    );

    // A database that cannot be opened: each cause once.
    let out = Command::new(env!("CARGO_BIN_EXE_main_hybrid"))
        .args([
            "migrate",
            "--database",
            "postgres://nobody@127.0.0.1:1/none",
        ])
        .current_dir(dir.path())
        .env_clear()
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let line = stderr.lines().find(|l| l.starts_with("error:")).unwrap();
    let parts: Vec<&str> = line.split(": ").collect();
    let mut unique = parts.clone();
    unique.dedup();
    assert_eq!(parts, unique, "a cause repeated: {line}");
}
