//! Cohorts from the command line: `backtest --cohorts all` over the real 1h candles and
//! `compare` over a database.

use std::{path::Path, process::Command, str::FromStr};

use hybrid_core::{Notional, Price, Quantity, Symbol, Timestamp};
use hybrid_store::{ExitReason, PairEntry, PairExit, Store};
use rust_decimal::Decimal;

use super::workspace_root;

fn main_hybrid(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_main_hybrid"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn backtest_with_all_cohorts_ranks_them_and_writes_per_cohort_and_total_equity() {
    let dir = tempfile::tempdir().unwrap();
    let klines = std::env::var_os("HYBRID_KLINES_DIR").map_or_else(
        || workspace_root().join("../shared/data/klines"),
        std::path::PathBuf::from,
    );
    let out = main_hybrid(
        dir.path(),
        &[
            "backtest",
            "--cohorts",
            "all",
            "--data",
            klines.to_str().unwrap(),
            "--from",
            "2024-01-01",
            "--to",
            "2024-02-01",
            "--out",
            "report",
        ],
    );
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    for name in [
        "conservative",
        "balanced",
        "aggressive",
        "baseline",
        "defi_explorer",
        "meme_hunter",
    ] {
        assert!(stdout.contains(name), "{name} missing:\n{stdout}");
    }
    assert!(stdout.contains("ranking (bootstrap seed 1"), "{stdout}");
    assert!(stdout.contains("(baseline)"), "{stdout}");
    assert!(stdout.contains("0 of "), "reconciliation line: {stdout}");

    let csv = std::fs::read_to_string(dir.path().join("report/equity.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header.len(), 6 + 3, "{header:?}");
    assert_eq!(header[0], "time_ms");
    assert_eq!(&header[7..], ["total", "account"]);
    let mut rows = 0;
    for line in lines {
        let cells: Vec<Decimal> = line
            .split(',')
            .map(|c| Decimal::from_str(c).unwrap())
            .collect();
        let sum: Decimal = cells[1..7].iter().copied().sum();
        assert_eq!(sum, cells[7], "total = Σ cohorts: {line}");
        assert_eq!(cells[7], cells[8], "total = account: {line}");
        rows += 1;
    }
    assert!(rows > 24 * 25, "{rows} hourly snapshots");
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("report/report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json["cohorts"].as_array().unwrap().len(), 6);
    assert_eq!(json["ranking"]["entries"].as_array().unwrap().len(), 6);

    let bad = main_hybrid(
        dir.path(),
        &[
            "backtest",
            "--cohorts",
            "nobody",
            "--data",
            klines.to_str().unwrap(),
        ],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        text(&bad.stderr).contains("nobody"),
        "{}",
        text(&bad.stderr)
    );
}

#[test]
fn compare_ranks_the_cohorts_in_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("hybrid.db").display());
    let empty = main_hybrid(dir.path(), &["compare", "--database", &url]);
    assert_eq!(empty.status.code(), Some(0), "{}", text(&empty.stderr));
    assert!(
        text(&empty.stdout).contains("at least 2"),
        "{}",
        text(&empty.stdout)
    );

    let store = Store::open(&url).unwrap();
    let now = Timestamp::from_millis(1_704_067_200_000);
    let rows = hybrid_cohorts::seed(&store, &hybrid_cohorts::default_cohorts(), now).unwrap();
    let symbol = Symbol::new("BTCUSDT").unwrap();
    let price = |p: i64| Price::new(Decimal::from(p)).unwrap();
    for (i, row) in rows.iter().enumerate() {
        for day in 0..5_i64 {
            let time = now.plus_millis(day * Timestamp::DAY_MS);
            let entry = PairEntry {
                client_order_id: None,
                trade_id: None,
                time,
                price: price(100),
                quantity: Quantity::new(Decimal::ONE).unwrap(),
                fee: Notional::new(Decimal::new(1, 1)),
            };
            store
                .open_trade_pair(Some(row.id), &symbol, &entry)
                .unwrap();
            let exit_price = 100 + i as i64 - 2 + if day % 2 == 0 { 1 } else { -1 };
            let exit = PairExit {
                client_order_id: None,
                time: time.plus_millis(Timestamp::HOUR_MS),
                price: price(exit_price),
                quantity: Quantity::new(Decimal::ONE).unwrap(),
                fee: Notional::new(Decimal::new(1, 1)),
                reason: ExitReason::GridFill,
            };
            store
                .close_trade_pairs_fifo(Some(row.id), &symbol, &exit)
                .unwrap();
        }
    }
    drop(store);
    let out = main_hybrid(dir.path(), &["compare", "--database", &url]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    // meme_hunter (index 5) made the most, conservative (index 0) the least.
    let first = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("1 "))
        .unwrap();
    assert!(first.contains("meme_hunter"), "{stdout}");
    let last = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("6 "))
        .unwrap();
    assert!(last.contains("conservative"), "{stdout}");
    assert!(stdout.contains("(baseline)"), "{stdout}");
    assert!(stdout.contains("spread best - worst"), "{stdout}");
    let json = main_hybrid(dir.path(), &["compare", "--database", &url, "--json"]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["entries"][0]["performance"]["cohort"], "meme_hunter");

    // With [[cohorts]] configured, only those are ranked; one the database lacks is named.
    let config = dir.path().join("cohorts.toml");
    std::fs::write(
        &config,
        "[[cohorts]]\nname = \"meme_hunter\"\n[[cohorts]]\nname = \"baseline\"\nfrozen = true\n[[cohorts]]\nname = \"newcomer\"\n",
    )
    .unwrap();
    let out = main_hybrid(
        dir.path(),
        &[
            "compare",
            "--database",
            &url,
            "--config",
            config.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let ranked: Vec<&str> = value["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["performance"]["cohort"].as_str().unwrap())
        .collect();
    assert_eq!(ranked, ["meme_hunter", "baseline"]);
    let out = main_hybrid(
        dir.path(),
        &[
            "compare",
            "--database",
            &url,
            "--config",
            config.to_str().unwrap(),
        ],
    );
    assert!(
        text(&out.stdout).contains("not (active) in the database")
            && text(&out.stdout).contains("newcomer"),
        "{}",
        text(&out.stdout)
    );
}

/// `[[cohorts]]` in the file replace the six defaults: check-config shows them, a bad value is
/// refused with its path (exit 2), and `backtest --cohorts all` runs exactly the configured ones.
#[test]
fn configured_cohorts_replace_the_defaults_in_check_config_and_backtest() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[cohorts]]\nname = \"a\"\n[[cohorts]]\nname = \"b\"\n[[cohorts]]\nname = \"c\"\nmin_confidence = 1.5\n",
    )
    .unwrap();
    let out = main_hybrid(
        dir.path(),
        &["check-config", "--config", bad.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("cohorts[2].min_confidence: 1.5 is above 1"),
        "{}",
        text(&out.stderr)
    );

    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        "[[cohorts]]\nname = \"steady\"\ncapital_usdt = 1500\nrisk_tolerance = \"low\"\ngrid_range_pct = 2\n\n[[cohorts]]\nname = \"baseline\"\nfrozen = true\n",
    )
    .unwrap();
    let out = main_hybrid(
        dir.path(),
        &["check-config", "--config", good.to_str().unwrap()],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(stdout.contains("[[cohorts]] # file"), "{stdout}");
    assert!(stdout.contains("capital 1500 USDT"), "{stdout}");
    assert!(!stdout.contains("meme_hunter"), "{stdout}");
    let defaults = main_hybrid(dir.path(), &["check-config"]);
    assert!(
        text(&defaults.stdout).contains("meme_hunter"),
        "{}",
        text(&defaults.stdout)
    );

    let klines = std::env::var_os("HYBRID_KLINES_DIR").map_or_else(
        || workspace_root().join("../shared/data/klines"),
        std::path::PathBuf::from,
    );
    let out = main_hybrid(
        dir.path(),
        &[
            "--config",
            good.to_str().unwrap(),
            "backtest",
            "--cohorts",
            "all",
            "--data",
            klines.to_str().unwrap(),
            "--from",
            "2024-01-01",
            "--to",
            "2024-01-08",
            "--out",
            "report",
        ],
    );
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("report/report.json")).unwrap(),
    )
    .unwrap();
    let names: Vec<&str> = json["cohorts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["cohort"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ["steady", "baseline"], "{}", json["cohorts"]);
    assert_eq!(json["cohorts"][0]["starting_capital"], "1500");
    let header = std::fs::read_to_string(dir.path().join("report/equity.csv")).unwrap();
    let header = header.lines().next().unwrap();
    assert_eq!(header, "time_ms,baseline,steady,total,account");
}
