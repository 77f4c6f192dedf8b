//! The regime detector on real BTCUSDT candles: hourly candles from the shared data folder are
//! folded into UTC days and the detector is walked forward one day at a time, as it runs live
//! (refitting weekly on the trailing year, never seeing a day before it has closed). The windows
//! are the ones the data README names: the 2020-21 bull run, the 2022 crash, the 2023 range.
//!
//! The folder comes from `HYBRID_KLINES_DIR`, default `../shared/data/klines` beside the
//! workspace (the data is never copied into the repository).
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    reason = "a test fails loudly on a broken fixture and prints the figures it checks"
)]

use std::path::{Path, PathBuf};

use hybrid_core::{Candle, CandleCsvReader, CsvError, Regime, Timestamp};
use hybrid_market::{
    aggregate_daily, daily_features, DetectionMethod, FitConfig, GaussianHmm, Observation,
    RegimeConfig, RegimeDetector, RegimeReport,
};

fn klines_dir() -> PathBuf {
    std::env::var_os("HYBRID_KLINES_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/klines"),
        PathBuf::from,
    )
}

fn btc_daily() -> Vec<Candle> {
    let path = klines_dir().join("BTCUSDT-1h.csv");
    let hourly = CandleCsvReader::open(&path)
        .unwrap_or_else(|e| panic!("{e} (set HYBRID_KLINES_DIR)"))
        .collect::<Result<Vec<_>, CsvError>>()
        .unwrap();
    aggregate_daily(&hourly).unwrap()
}

/// Milliseconds of 00:00 UTC on a civil date (days-from-civil, proleptic Gregorian).
fn date(y: i64, m: i64, d: i64) -> Timestamp {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Timestamp::from_millis((era * 146_097 + doe - 719_468) * Timestamp::DAY_MS)
}

/// Runs the detector at 00:00 UTC of every day in `[from, to)`; one report per day.
fn walk_forward(daily: &[Candle], from: Timestamp, to: Timestamp) -> Vec<RegimeReport> {
    let mut detector = RegimeDetector::new(RegimeConfig::default());
    let mut reports = Vec::new();
    let mut now = from;
    while now < to {
        reports.push(detector.detect(daily, now).unwrap());
        now = now.plus_millis(Timestamp::DAY_MS);
    }
    reports
}

fn share(reports: &[RegimeReport], from: Timestamp, to: Timestamp, regime: Regime) -> f64 {
    let window: Vec<_> = reports
        .iter()
        .filter(|r| r.as_of >= from && r.as_of < to)
        .collect();
    let hits = window.iter().filter(|r| r.regime == regime).count();
    hits as f64 / window.len().max(1) as f64
}

fn print_shares(name: &str, reports: &[RegimeReport], from: Timestamp, to: Timestamp) {
    println!(
        "{name} {from}..{to}: BULL {:.0} %, SIDEWAYS {:.0} %, BEAR {:.0} %",
        100.0 * share(reports, from, to, Regime::Bull),
        100.0 * share(reports, from, to, Regime::Sideways),
        100.0 * share(reports, from, to, Regime::Bear),
    );
}

#[test]
fn bull_run_of_2021_is_bull_and_crash_of_2022_is_bear() {
    let daily = btc_daily();
    let reports = walk_forward(&daily, date(2020, 12, 1), date(2022, 7, 2));
    assert!(reports.iter().all(|r| r.method == DetectionMethod::Hmm));
    let bull = (date(2021, 1, 1), date(2021, 4, 15));
    let crash = (date(2022, 5, 1), date(2022, 7, 1));
    print_shares("2021 bull run", &reports, bull.0, bull.1);
    print_shares("2022 crash", &reports, crash.0, crash.1);
    let switches = reports
        .windows(2)
        .filter(|w| w[0].regime != w[1].regime)
        .count();
    println!("{} daily reports, {switches} regime changes", reports.len());
    assert!(share(&reports, bull.0, bull.1, Regime::Bull) > 0.75);
    assert!(share(&reports, bull.0, bull.1, Regime::Bear) < 0.15);
    assert!(share(&reports, crash.0, crash.1, Regime::Bear) > 0.5);
    assert!(share(&reports, crash.0, crash.1, Regime::Bull) < 0.2);
    // Between refits the model is fixed, so a regime that holds lasts one more day each day.
    // (A refit re-reads the past with the new model, so the count may jump at a refit.)
    let durations_grow = reports
        .windows(2)
        .filter(|w| w[0].regime == w[1].regime && w[0].fitted_at == w[1].fitted_at)
        .all(|w| w[1].duration_days == w[0].duration_days + 1);
    assert!(durations_grow);
}

#[test]
fn range_bound_2023_is_not_read_as_a_trend() {
    let daily = btc_daily();
    let range = (date(2023, 3, 20), date(2023, 10, 15));
    let reports = walk_forward(&daily, range.0, range.1.plus_millis(Timestamp::DAY_MS));
    print_shares("2023 range", &reports, range.0, range.1);
    assert!(share(&reports, range.0, range.1, Regime::Sideways) > 0.6);
}

/// The 365 feature rows ending on the last day of 2021.
fn features_of_2021(daily: &[Candle]) -> Vec<Observation> {
    daily_features(daily)
        .iter()
        .filter(|f| f.day >= date(2021, 1, 1) && f.day < date(2022, 1, 1))
        .map(hybrid_market::DailyFeatures::observation)
        .collect()
}

#[test]
fn the_fit_is_deterministic_and_posteriors_are_distributions() {
    let daily = btc_daily();
    let rows = features_of_2021(&daily);
    assert_eq!(rows.len(), 365);
    let (a, report_a) = GaussianHmm::fit(&rows, &FitConfig::default()).unwrap();
    let (b, report_b) = GaussianHmm::fit(&rows, &FitConfig::default()).unwrap();
    assert_eq!(a, b);
    assert_eq!(report_a, report_b);
    println!(
        "2021 fit: {report_a:?}; state means (return %, volatility %): {:?}",
        a.means()
    );
    let means = a.means();
    assert!(
        means[0][0] < 0.0 && means[2][0] > 0.0,
        "BEAR falls, BULL rises: {means:?}"
    );
    for posterior in a.filter(&rows) {
        assert!(
            (posterior.iter().sum::<f64>() - 1.0).abs() < 1e-9,
            "{posterior:?}"
        );
    }
    let first = walk_forward(&daily, date(2021, 6, 1), date(2021, 7, 1));
    let second = walk_forward(&daily, date(2021, 6, 1), date(2021, 7, 1));
    assert_eq!(first, second);
}

#[test]
fn a_young_market_is_judged_by_the_rules() {
    let daily = btc_daily();
    let start = daily[0].open_time();
    let report = RegimeDetector::default()
        .detect(&daily, start.plus_millis(30 * Timestamp::DAY_MS))
        .unwrap();
    println!("BTC after 30 days of history: {report:?}");
    assert_eq!(report.method, DetectionMethod::Rules);
    assert_eq!(report.fitted_at, None);
}

#[test]
fn hourly_candles_fold_into_whole_utc_days() {
    let daily = btc_daily();
    assert!(daily.len() > 3_000, "{} days", daily.len());
    assert!(daily
        .iter()
        .all(|c| c.open_time() == c.open_time().start_of_utc_day()));
    let gaps = daily
        .windows(2)
        .filter(|w| w[1].open_time().millis_since(w[0].open_time()) != Timestamp::DAY_MS)
        .count();
    assert!(gaps < 5, "{gaps} missing days");
}
