//! Correlation and scanner figures on real daily candles (BTC, ETH, DOGE from the shared
//! hourly files), checked against what every trader knows: the majors move together.
//!
//! The folder comes from `HYBRID_KLINES_DIR`, default `../shared/data/klines` beside the
//! workspace (the data is never copied into the repository).
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    reason = "a test fails loudly on a broken fixture and prints the figures it checks"
)]

use std::path::{Path, PathBuf};

use hybrid_core::{Candle, CandleCsvReader, CsvError, Symbol};
use hybrid_market::{aggregate_daily, CorrelationConfig, CorrelationMatrix};
use rust_decimal_macros::dec;

fn klines_dir() -> PathBuf {
    std::env::var_os("HYBRID_KLINES_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/klines"),
        PathBuf::from,
    )
}

/// 2024-09-01T00:00Z: the files of the smaller coins end on 2024-09-06, so every series is cut
/// here to compare the same 60 days.
const COMMON_END_MS: i64 = 1_725_148_800_000;

fn daily(symbol: &str) -> Vec<Candle> {
    let path = klines_dir().join(format!("{symbol}-1h.csv"));
    let hourly = CandleCsvReader::open(&path)
        .unwrap_or_else(|e| panic!("{e} (set HYBRID_KLINES_DIR)"))
        .collect::<Result<Vec<_>, CsvError>>()
        .unwrap();
    let mut days = aggregate_daily(&hourly).unwrap();
    days.retain(|c| c.open_time().as_millis() < COMMON_END_MS);
    days
}

#[test]
fn majors_are_strongly_correlated_over_60_days_to_september_2024() {
    let (btc, eth, doge) = (daily("BTCUSDT"), daily("ETHUSDT"), daily("DOGEUSDT"));
    let symbols = ["BTCUSDT", "ETHUSDT", "DOGEUSDT"].map(|s| Symbol::new(s).unwrap());
    let series = [
        (symbols[0].clone(), btc.as_slice()),
        (symbols[1].clone(), eth.as_slice()),
        (symbols[2].clone(), doge.as_slice()),
    ];
    let matrix = CorrelationMatrix::from_daily(&series, &CorrelationConfig::default());
    let btc_eth = matrix.get(&symbols[0], &symbols[1]).unwrap();
    let btc_doge = matrix.get(&symbols[0], &symbols[2]).unwrap();
    println!("60-day ρ: BTC/ETH {btc_eth}, BTC/DOGE {btc_doge}");
    assert!(btc_eth > dec!(0.6), "{btc_eth}");
    assert!(btc_doge > dec!(0.4), "{btc_doge}");
    assert_eq!(matrix.get(&symbols[1], &symbols[0]), Some(btc_eth));
    let pairs = matrix.pairs_at_least(dec!(0.7));
    println!("pairs with |ρ| ≥ 0.7: {pairs:?}");
    assert!(pairs
        .windows(2)
        .all(|w| w[0].correlation.abs() >= w[1].correlation.abs()));
}
