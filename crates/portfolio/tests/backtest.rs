//! The portfolio backtest on the real 1h candles of the shared data folder
//! (`HYBRID_KLINES_DIR`, default `../shared/data/klines` next to the repository): the three
//! tiers over time, the index holding real coins, at least one redistribution with its
//! reason, tier values summing to the total at every snapshot, and a database the validator
//! reads.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use hybrid_core::Timestamp;
use hybrid_portfolio::{
    run_portfolio_backtest, validate_store, Criteria, PortfolioBacktestConfig, TierKind,
};
use hybrid_store::Store;
use rust_decimal::Decimal;

fn klines_dir() -> PathBuf {
    std::env::var_os("HYBRID_KLINES_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/klines"),
        PathBuf::from,
    )
}

fn date(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

#[test]
fn half_a_year_of_the_portfolio_on_real_candles() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("portfolio.db").display());
    let mut config = PortfolioBacktestConfig::new(klines_dir(), &url);
    config.from = Some(date(1_672_531_200_000)); // 2023-01-01
    config.to = Some(date(1_688_169_600_000)); // 2023-07-01
    config.warmup_days = 60;
    let report = run_portfolio_backtest(&config, &mut |_| {}).unwrap();

    // Daily snapshots over six months, each summing exactly.
    assert!(report.points.len() >= 180, "{}", report.points.len());
    for point in &report.points {
        let b = &point.breakdown;
        let sum: Decimal = b.tiers.iter().map(|t| t.value).sum();
        assert_eq!(sum, b.total, "at {:?}", point.time);
        assert!(b.share(TierKind::IndexHoldings).value > Decimal::ZERO);
        assert!(b.share(TierKind::Trading).value > Decimal::ZERO);
    }
    // The index holds real coins, BTC among them, none above the 30 % cap by much.
    let names: Vec<&str> = report
        .index_holdings
        .iter()
        .map(|h| h.symbol.as_str())
        .collect();
    assert!(names.len() >= 5, "{names:?}");
    assert!(names.contains(&"BTCUSDT"), "{names:?}");
    assert!(report
        .index_holdings
        .iter()
        .all(|h| h.quantity > Decimal::ZERO));
    // The first snapshot is on target (the index was just built), within fees and rounding.
    let first = &report.points[0].breakdown;
    for tier in &first.tiers {
        assert!(tier.drift_pp.abs() < Decimal::ONE, "{tier:?}");
    }
    // At least one redistribution, with its reason.
    assert!(!report.redistributions.is_empty());
    let (_, transfers) = &report.redistributions[0];
    let reason = transfers[0]["reason"].as_str().unwrap();
    assert!(reason.contains("drift over 3 pp"), "{reason}");

    // The database holds the same story, and the validator reads all nine criteria from it.
    let store = Store::open(&url).unwrap();
    let snapshots = store.portfolio_snapshots(date(0)).unwrap();
    assert_eq!(snapshots.len(), report.points.len());
    assert!(snapshots
        .iter()
        .all(|s| s.cash_usd + s.index_usd + s.trading_usd == s.total_value_usd));
    assert_eq!(
        store.redistributions().unwrap().len(),
        report.redistributions.len()
    );
    let tiers = store.portfolio_tiers().unwrap();
    assert!(tiers.iter().all(|t| t.current_pct.is_some()));
    let validation = validate_store(&store, report.end, &Criteria::default());
    assert_eq!(validation.results.len(), 9);
    let index = &validation.results[7];
    assert_eq!(index.name, "index_tracking_error");
    assert_ne!(index.value, "n/a");
}
