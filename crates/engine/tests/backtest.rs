//! A backtest over real Binance 1h candles of BTCUSDT and ETHUSDT (2021–2022), read from the
//! shared data folder (`HYBRID_KLINES_DIR`, default `../shared/data/klines` next to the
//! workspace): the modes follow the market, the books balance, and the run is deterministic.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::path::PathBuf;

use chrono::{TimeZone, Utc};
use hybrid_core::{Symbol, Timestamp, TradingMode};
use hybrid_engine::{run_backtest, BacktestConfig, BacktestReport};
use rust_decimal::Decimal;

fn klines_dir() -> PathBuf {
    std::env::var_os("HYBRID_KLINES_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/klines"),
        PathBuf::from,
    )
}

fn at(year: i32, month: u32, day: u32) -> Timestamp {
    let time = Utc.with_ymd_and_hms(year, month, day, 0, 0, 0).unwrap();
    Timestamp::from_millis(time.timestamp_millis())
}

fn config() -> BacktestConfig {
    let symbols = vec![
        Symbol::new("BTCUSDT").unwrap(),
        Symbol::new("ETHUSDT").unwrap(),
    ];
    let mut config = BacktestConfig::new(klines_dir(), symbols);
    config.from = Some(at(2021, 1, 1));
    config.to = Some(at(2023, 1, 1));
    config
}

/// The mode of `symbol` at `time`, from the report's timeline.
fn mode_at(
    report: &BacktestReport,
    symbol: &str,
    time: Timestamp,
    initial: TradingMode,
) -> TradingMode {
    report
        .mode_switches
        .iter()
        .rfind(|s| s.symbol.as_str() == symbol && s.time <= time)
        .map_or(initial, |s| s.to)
}

/// Hours of `[from, to)` that `symbol` spent in `mode`, sampled on the equity curve.
fn hours_in(
    report: &BacktestReport,
    symbol: &str,
    mode: TradingMode,
    from: Timestamp,
    to: Timestamp,
) -> (usize, usize) {
    let points: Vec<_> = report
        .equity_curve
        .iter()
        .filter(|p| p.time >= from && p.time < to)
        .collect();
    let in_mode = points
        .iter()
        .filter(|p| mode_at(report, symbol, p.time, TradingMode::Grid) == mode)
        .count();
    (in_mode, points.len())
}

#[test]
fn two_years_of_btc_and_eth_follow_the_regimes_and_balance_the_books() {
    let config = config();
    let outcome = run_backtest(&config, &mut |_| {}).unwrap();
    let report = &outcome.report;
    println!("{report}");

    // At least one switch, each with a reason.
    assert!(!report.mode_switches.is_empty());
    assert!(report.mode_switches.iter().all(|s| !s.reason.is_empty()));

    // HOLD through the 2021 rise: ETH most of the time; BTC at least for weeks (its dips
    // read as emergency BEARs and send it to CASH in between).
    let (hold, total) = hours_in(
        report,
        "ETHUSDT",
        TradingMode::Hold,
        at(2021, 1, 1),
        at(2021, 4, 15),
    );
    assert!(
        hold * 2 > total,
        "ETH in HOLD {hold} of {total} hours in early 2021"
    );
    let (hold, _) = hours_in(
        report,
        "BTCUSDT",
        TradingMode::Hold,
        at(2021, 1, 1),
        at(2021, 4, 15),
    );
    assert!(
        hold > 14 * 24,
        "BTC in HOLD only {hold} hours in early 2021"
    );
    // CASH through the May-June 2022 crash, both coins, most of the time; never HOLD for ETH.
    for symbol in ["BTCUSDT", "ETHUSDT"] {
        let (cash, total) = hours_in(
            report,
            symbol,
            TradingMode::Cash,
            at(2022, 5, 1),
            at(2022, 7, 1),
        );
        assert!(
            cash * 2 > total,
            "{symbol} in CASH {cash} of {total} hours in May-June 2022"
        );
    }

    // equity = cash + holdings at every hourly snapshot.
    for point in &report.equity_curve {
        assert_eq!(
            point.equity,
            point.cash + point.holdings,
            "at {:?}",
            point.time
        );
    }
    // Fees = the venue's commissions, in quote.
    let venue_fees: Decimal = outcome
        .venue_fills
        .iter()
        .map(|f| {
            if f.commission_asset == f.symbol.base() {
                f.commission * f.price.value()
            } else {
                f.commission
            }
        })
        .sum();
    assert_eq!(report.fees.value(), venue_fees);
    assert_eq!(report.n_fills, outcome.venue_fills.len() as u64);

    // Deterministic: a second run gives the same bytes.
    let again = run_backtest(&config, &mut |_| {}).unwrap();
    assert_eq!(
        serde_json::to_string(report).unwrap(),
        serde_json::to_string(&again.report).unwrap()
    );
}
