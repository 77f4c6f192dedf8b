//! Acceptance: all six default cohorts over the real 1h candles of the eleven coins in the
//! shared data folder (`HYBRID_KLINES_DIR`, default `../shared/data/klines` next to the
//! workspace), in one replay on one shared account.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::{collections::BTreeSet, path::PathBuf};

use chrono::{TimeZone, Utc};
use hybrid_cohorts::{
    default_cohorts, run_cohort_backtest, CohortBacktestConfig, CohortBacktestReport,
    ConfidenceBasis, Verdict,
};
use hybrid_core::{Symbol, Timestamp};
use hybrid_market::Watchlist;
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

/// The eleven coins with 1h files.
pub(crate) const COINS: [&str; 11] = [
    "AAVEUSDT", "BNBUSDT", "BTCUSDT", "DOGEUSDT", "ETHUSDT", "LINKUSDT", "PEPEUSDT", "SHIBUSDT",
    "SOLUSDT", "UNIUSDT", "XRPUSDT",
];

fn config(from: Timestamp, to: Timestamp) -> CohortBacktestConfig {
    let symbols = COINS.iter().map(|s| Symbol::new(s).unwrap()).collect();
    let mut config = CohortBacktestConfig::new(klines_dir(), symbols);
    config.from = Some(from);
    config.to = Some(to);
    config
}

fn check(report: &CohortBacktestReport) {
    let watchlist = Watchlist::seeded();
    let definitions = default_cohorts();
    assert_eq!(report.cohorts.len(), 6);
    let mut owned = BTreeSet::new();
    for run in &report.cohorts {
        let definition = definitions.iter().find(|d| d.name == run.cohort).unwrap();
        assert_eq!(run.unfunded.is_some(), run.symbols.is_empty(), "{run:?}");
        for symbol in &run.symbols {
            assert!(
                owned.insert(symbol.clone()),
                "{symbol} traded by two cohorts"
            );
            let category = watchlist.category_of(symbol);
            assert!(
                definition.market_categories().contains(&category),
                "{} trades {symbol} ({category:?})",
                run.cohort
            );
        }
        assert!(
            run.failures.is_empty(),
            "{}: {:?}",
            run.cohort,
            run.failures
        );
    }
    // Total equity is the sum of the cohorts' at every snapshot, and the account agrees.
    assert!(report.curve.len() > 24 * 10);
    for point in &report.curve {
        let sum: Decimal = point.cohorts.values().copied().sum();
        assert_eq!(point.total, sum, "at {}", point.time);
        assert_eq!(point.total, point.account, "at {}", point.time);
        assert_eq!(point.cohorts.len(), 6);
    }
    assert_eq!(report.reconciliation_failures, 0);
    assert_eq!(report.unrouted_fills, 0);
    let ranking = &report.ranking;
    assert_eq!(ranking.entries.len(), 6);
    assert_eq!(ranking.baseline.as_deref(), Some("baseline"));
    let returns: Vec<Decimal> = ranking
        .entries
        .iter()
        .map(|e| e.performance.return_pct)
        .collect();
    assert!(returns.windows(2).all(|w| w[0] >= w[1]), "{returns:?}");
    for entry in &ranking.entries {
        if entry.performance.cohort == "baseline" {
            assert_eq!(entry.vs_baseline, None);
        } else {
            let ci = entry.vs_baseline.unwrap();
            assert!(
                ci.low_pct <= ci.mean_pct && ci.mean_pct <= ci.high_pct,
                "{ci:?}"
            );
            let contains_zero = ci.low_pct <= 0.0 && ci.high_pct >= 0.0;
            assert_eq!(
                contains_zero,
                entry.verdict == Verdict::NotYetDistinguishable
            );
        }
    }
}

#[test]
fn six_cohorts_over_the_real_hourly_candles_in_one_run() {
    let report = run_cohort_backtest(&config(at(2024, 1, 1), at(2024, 4, 1)), &mut |_| {}).unwrap();
    println!("{report}");
    check(&report);
    let funded = report
        .cohorts
        .iter()
        .filter(|r| r.unfunded.is_none())
        .count();
    assert_eq!(funded, 6, "{report}");
    let trading = report.cohorts.iter().filter(|r| r.n_fills > 0).count();
    assert_eq!(trading, 6, "{report}");
    // Deterministic: the same inputs give the same report.
    let again = run_cohort_backtest(&config(at(2024, 1, 1), at(2024, 4, 1)), &mut |_| {}).unwrap();
    assert_eq!(report, again);
}

/// Measured as live (share of all five inputs), no coin of a replay reaches the conservative
/// cohort's 0.7: it is reported as not funded, with the reason, and keeps its cash.
#[test]
fn a_cohort_no_coin_qualifies_for_is_reported_and_keeps_its_cash() {
    let mut config = config(at(2024, 1, 1), at(2024, 1, 15));
    config.confidence_basis = ConfidenceBasis::AllInputs;
    let report = run_cohort_backtest(&config, &mut |_| {}).unwrap();
    check(&report);
    let conservative = report
        .cohorts
        .iter()
        .find(|r| r.cohort == "conservative")
        .unwrap();
    let reason = conservative.unfunded.as_deref().unwrap();
    assert!(reason.contains("minimum confidence 0.7"), "{reason}");
    assert_eq!(conservative.final_equity, Decimal::from(1000));
    assert!(report.to_string().contains("not funded"));
}
