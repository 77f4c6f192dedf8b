//! End-to-end tests of the whole system, one binary with a module per area.
//!
//! - `architecture`: the invariants of `docs/ARCHITECTURE.md`, read from `cargo metadata`
//!   and the source tree;
//! - `cli`: the `main_hybrid` binary as a user runs it;
//! - `restart`: crash safety of `run` against the fake testnet (SIGKILL at random points);
//! - `dashboard`: the web dashboard over a replayed run, in headless Chromium;
//! - `parity`: a backtest and a paper replay of the same candles trade the same orders.
//! - `crash`: the crash campaign: runs killed at every database write and at random,
//!   compared with the uninterrupted run (issue 15; `just crash` for the long one).
#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

mod architecture;
mod bad_input;
mod cli;
mod cohorts;
mod crash;
mod dashboard;
mod fuzz;
mod instance;
mod learning;
mod parity;
mod portfolio;
mod restart;
mod scheduler;
mod scheduler_learning;
mod telegram;

use std::path::{Path, PathBuf};

/// The workspace root (this file lives in `tests/e2e`).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Writes the first `n` real one-minute candles of `symbol` into `dir/SYMBOL-1m.csv`.
fn write_candles(dir: &Path, symbol: &str, n: usize) {
    let source = std::env::var_os("HYBRID_KLINES_DIR").map_or_else(
        || workspace_root().join("../shared/data/klines"),
        PathBuf::from,
    );
    std::fs::create_dir_all(dir).unwrap();
    let name = format!("{symbol}-1m.csv");
    let file = std::fs::File::create(dir.join(&name)).unwrap();
    let mut writer = hybrid_core::CandleCsvWriter::new(std::io::BufWriter::new(file)).unwrap();
    for candle in hybrid_core::CandleCsvReader::open(&source.join(&name))
        .unwrap()
        .take(n)
    {
        writer.write(&candle.unwrap()).unwrap();
    }
}
