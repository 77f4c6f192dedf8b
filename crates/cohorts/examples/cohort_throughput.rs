//! Throughput of the six-cohort backtest over the real 1h candles (for `docs/PERFORMANCE.md`):
//! `cargo run --release -p hybrid-cohorts --example cohort_throughput -- [FROM] [TO]`
//! with dates as `YYYY-MM-DD` (default 2023-09-01 .. 2024-09-01, all eleven 1h files).

#![allow(clippy::unwrap_used, reason = "a measuring tool fails loudly")]

use std::{path::PathBuf, time::Instant};

use chrono::NaiveDate;
use hybrid_cohorts::{run_cohort_backtest, CohortBacktestConfig};
use hybrid_core::{Symbol, Timestamp};
use hybrid_engine::{run_backtest, BacktestConfig};

const COINS: [&str; 11] = [
    "AAVEUSDT", "BNBUSDT", "BTCUSDT", "DOGEUSDT", "ETHUSDT", "LINKUSDT", "PEPEUSDT", "SHIBUSDT",
    "SOLUSDT", "UNIUSDT", "XRPUSDT",
];

fn date(text: &str) -> Timestamp {
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
    Timestamp::from_millis(
        day.and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis(),
    )
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let from = date(args.first().map_or("2023-09-01", String::as_str));
    let to = date(args.get(1).map_or("2024-09-01", String::as_str));
    let dir = std::env::var_os("HYBRID_KLINES_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/klines"),
        PathBuf::from,
    );
    let symbols = COINS.iter().map(|s| Symbol::new(s).unwrap()).collect();
    let mut config = CohortBacktestConfig::new(dir, symbols);
    config.from = Some(from);
    config.to = Some(to);
    let started = Instant::now();
    let report = run_cohort_backtest(&config, &mut |_| {}).unwrap();
    let seconds = started.elapsed().as_secs_f64();
    print!("{report}");
    println!(
        "{} traded candles, {} cohorts, {seconds:.2} s, {:.0} candles/s",
        report.candles,
        report.cohorts.len(),
        report.candles as f64 / seconds
    );
    // The same coins and period through one orchestrator (the engine's own driver), for scale.
    let mut single = BacktestConfig::new(config.data_dir.clone(), config.symbols.clone());
    single.from = Some(from);
    single.to = Some(to);
    let started = Instant::now();
    let outcome = run_backtest(&single, &mut |_| {}).unwrap();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "single orchestrator on the same coins: {} traded candles, {seconds:.2} s, {:.0} candles/s",
        outcome.report.candles,
        outcome.report.candles as f64 / seconds
    );
}
