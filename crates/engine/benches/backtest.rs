//! Throughput of the backtest replay: real candle files streamed through the simulated
//! exchange and the full [`hybrid_engine::HybridOrchestrator`] (regime detection, mode
//! switches, grid, stops, store), exactly as `main_hybrid backtest` runs it, in candles per
//! second (CSV parsing included).
//!
//! Candles are read from `HYBRID_KLINES_DIR` (default `../shared/data/klines` beside the
//! repository); they are never copied into the repository.
#![allow(
    clippy::unwrap_used,
    reason = "a benchmark fails loudly on missing data"
)]
#![allow(
    missing_docs,
    reason = "criterion's macros generate undocumented items"
)]

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hybrid_core::Symbol;
use hybrid_engine::{run_backtest, BacktestConfig};

fn klines_dir() -> PathBuf {
    std::env::var_os("HYBRID_KLINES_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/klines"),
        PathBuf::from,
    )
}

/// Candles in the files of `symbols` at `interval` (lines minus the header).
fn count_candles(symbols: &[&str], interval: &str) -> u64 {
    symbols
        .iter()
        .map(|symbol| {
            let path = klines_dir().join(format!("{symbol}-{interval}.csv"));
            let file = std::fs::File::open(&path).unwrap();
            BufReader::new(file).lines().count() as u64 - 1
        })
        .sum()
}

fn config(symbols: &[&str], interval: &str) -> BacktestConfig {
    let symbols = symbols.iter().map(|s| Symbol::new(s).unwrap()).collect();
    let mut config = BacktestConfig::new(klines_dir(), symbols);
    interval.clone_into(&mut config.interval);
    config
}

fn bench_case(c: &mut Criterion, name: &str, symbols: &[&str], interval: &str) {
    let config = config(symbols, interval);
    let mut group = c.benchmark_group("backtest");
    group.sample_size(10);
    group.throughput(Throughput::Elements(count_candles(symbols, interval)));
    group.bench_function(name, |b| {
        b.iter(|| run_backtest(&config, &mut |_| {}).unwrap());
    });
    group.finish();
}

fn backtest(c: &mut Criterion) {
    bench_case(c, "BTCUSDT-1h", &["BTCUSDT"], "1h");
    bench_case(c, "BTCUSDT+ETHUSDT-1m", &["BTCUSDT", "ETHUSDT"], "1m");
}

criterion_group!(benches, backtest);
criterion_main!(benches);
