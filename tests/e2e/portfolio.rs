//! The three-tier portfolio as a user runs it: `portfolio backtest` over the real 1h candles
//! into a database, then `validate` prints the nine criteria from it and `portfolio` shows the
//! tiers with their drift.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use super::workspace_root;

fn main_hybrid(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_main_hybrid"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .output()
        .unwrap()
}

fn klines() -> PathBuf {
    std::env::var_os("HYBRID_KLINES_DIR").map_or_else(
        || workspace_root().join("../shared/data/klines"),
        PathBuf::from,
    )
}

#[test]
fn portfolio_backtest_then_validate_and_show_the_tiers() {
    let dir = tempfile::tempdir().unwrap();
    let data = klines();
    let out = main_hybrid(
        dir.path(),
        &[
            "--database",
            "sqlite://portfolio.db",
            "portfolio",
            "backtest",
            "--data",
            data.to_str().unwrap(),
            "--from",
            "2023-01-01",
            "--to",
            "2023-04-01",
            "--warmup-days",
            "30",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The tiers over time, the index holding real coins, a redistribution with its reason.
    assert!(stdout.contains("cash%"), "{stdout}");
    assert!(stdout.contains("  BTCUSDT"), "{stdout}");
    assert!(stdout.contains("reason: drift over 3 pp"), "{stdout}");

    let out = main_hybrid(
        dir.path(),
        &["--database", "sqlite://portfolio.db", "validate"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    for criterion in [
        "min_trades",
        "min_sharpe",
        "min_playbook_version",
        "min_signal_evaluations",
        "min_regime_changes",
        "max_drawdown",
        "min_win_rate",
        "index_tracking_error",
        "min_ai_recommendations",
    ] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(criterion))
            .unwrap_or_else(|| panic!("no {criterion} in {stdout}"));
        assert!(line.contains("PASS") || line.contains("FAIL"), "{line}");
    }
    assert!(stdout.contains("/9 passed"), "{stdout}");

    let out = main_hybrid(
        dir.path(),
        &["--database", "sqlite://portfolio.db", "portfolio"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    for tier in [
        "cash_reserve",
        "index_holdings",
        "trading",
        "redistribution needed",
    ] {
        assert!(stdout.contains(tier), "{stdout}");
    }
}

#[test]
fn portfolio_backtest_refuses_an_in_memory_database() {
    let dir = tempfile::tempdir().unwrap();
    let data = klines();
    let out = main_hybrid(
        dir.path(),
        &[
            "--database",
            "sqlite::memory:",
            "portfolio",
            "backtest",
            "--data",
            data.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("database"), "{stderr}");
}
