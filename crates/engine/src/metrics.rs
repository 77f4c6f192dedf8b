//! Performance metrics of a backtest or a live run: returns, drawdown, risk-adjusted ratios,
//! trade statistics and time per mode.
//!
//! Money and percentages of money (returns, drawdown, P&L, fees, win rate, profit factor)
//! are exact [`Decimal`]s computed from the exact equity values. The risk-adjusted ratios
//! (Sharpe, Sortino, Calmar, annualised return) are statistics: they are computed in `f64`
//! and returned as `f64`, never fed back into money.
//!
//! Conventions:
//! - **Risk-free rate 0** for Sharpe and Sortino (USDT earns nothing idle in the bot).
//! - **Annualisation** by `√(periods per year)`, where periods per year =
//!   [`YEAR_MS`] (365 days: crypto trades every day) / the *median* sampling interval of the
//!   equity curve. Daily points give √365, hourly points √8760.
//! - Per-period returns are simple returns `eᵢ/eᵢ₋₁ − 1`; Sharpe uses their sample standard
//!   deviation (n − 1); Sortino the downside deviation `√(Σ min(r, 0)² / n)` against 0.
//!
//! Fixes of the old backtester (spec §9):
//! - it assumed daily rows (`√365`, and `365/rows` in the annualised return) whatever the
//!   data; here both come from the timestamps;
//! - its win/loss statistics read a `pnl` that was never set, so win rate was always 0; here
//!   they come from each closed trade's net P&L (after fees);
//! - it had no Sortino, Calmar, fee total, drawdown dates or mode timeline.

use hybrid_core::{Notional, Price, Timestamp, TradingMode};
use rust_decimal::{prelude::ToPrimitive, Decimal};
use serde::{Deserialize, Serialize};

use crate::error::EngineError;

/// One year for annualisation: 365 days, in milliseconds.
pub const YEAR_MS: i64 = 365 * Timestamp::DAY_MS;

/// The portfolio value at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EquityPoint {
    /// When.
    pub time: Timestamp,
    /// Total value (cash + positions at market), USDT.
    pub equity: Notional,
}

/// A closed round trip (a trade pair, spec §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosedTrade {
    /// When it closed.
    pub closed_at: Timestamp,
    /// Net P&L after entry and exit fees, USDT.
    pub net_pnl: Notional,
    /// Entry + exit fees paid, USDT.
    pub fees: Notional,
}

/// Everything a report is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsInput<'a> {
    /// Equity over time, oldest first, at least one point.
    pub equity: &'a [EquityPoint],
    /// Closed trades of the run.
    pub trades: &'a [ClosedTrade],
    /// Prices of the benchmark coin over the same period, oldest first (may be empty).
    pub benchmark_prices: &'a [Price],
    /// Mode switches `(from, mode)`, oldest first; each mode lasts until the next switch or
    /// the last equity point.
    pub mode_timeline: &'a [(Timestamp, TradingMode)],
}

/// The worst peak-to-trough fall of the equity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drawdown {
    /// The fall in percent of the peak, ≥ 0 (10 means −10 %).
    pub pct: Decimal,
    /// When the peak was.
    pub peak_time: Timestamp,
    /// When the trough was.
    pub trough_time: Timestamp,
}

/// Statistics of the closed trades.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TradeStats {
    /// Number of closed trades.
    pub n_trades: usize,
    /// Trades with net P&L > 0.
    pub n_wins: usize,
    /// Trades with net P&L < 0 (a trade at exactly 0 is neither).
    pub n_losses: usize,
    /// `n_wins / n_trades × 100`; `None` without trades.
    pub win_rate_pct: Option<Decimal>,
    /// Gross profit / gross loss; `None` without a losing trade.
    pub profit_factor: Option<Decimal>,
    /// Σ net P&L of winners, USDT.
    pub gross_profit: Notional,
    /// Σ |net P&L| of losers, USDT (≥ 0).
    pub gross_loss: Notional,
    /// Σ net P&L, USDT.
    pub net_pnl: Notional,
    /// Σ fees, USDT.
    pub fees_total: Notional,
}

/// Milliseconds spent in each mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ModeTimes {
    /// Time in HOLD, ms.
    pub hold_ms: i64,
    /// Time in GRID, ms.
    pub grid_ms: i64,
    /// Time in CASH, ms.
    pub cash_ms: i64,
}

/// The full report. `None` marks a figure that is undefined for the data (too few points, no
/// variation, no losses), never a silent 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerformanceReport {
    /// `(last/first − 1) × 100`.
    pub total_return_pct: Decimal,
    /// Compound annual growth, percent.
    pub annualised_return_pct: Option<f64>,
    /// Buy-and-hold return of the benchmark prices, percent.
    pub buy_and_hold_return_pct: Option<Decimal>,
    /// The worst drawdown; `None` if the equity never fell.
    pub max_drawdown: Option<Drawdown>,
    /// Annualised Sharpe ratio (risk-free 0).
    pub sharpe: Option<f64>,
    /// Annualised Sortino ratio (target 0).
    pub sortino: Option<f64>,
    /// Annualised return / max drawdown.
    pub calmar: Option<f64>,
    /// Closed-trade statistics.
    pub trades: TradeStats,
    /// Time per mode.
    pub mode_times: ModeTimes,
}

/// Every metric of `input`.
///
/// # Errors
/// [`EngineError::InvalidInput`] when the equity curve is empty, its timestamps go backwards,
/// or its first value is not positive (no return can be measured from it).
pub fn performance_report(input: &MetricsInput<'_>) -> Result<PerformanceReport, EngineError> {
    check_curve(input.equity)?;
    let end = input
        .equity
        .last()
        .map_or(Timestamp::from_millis(0), |p| p.time);
    let max_drawdown = max_drawdown(input.equity);
    let annualised = annualised_return_pct(input.equity);
    Ok(PerformanceReport {
        total_return_pct: total_return_pct(input.equity).unwrap_or(Decimal::ZERO),
        annualised_return_pct: annualised,
        buy_and_hold_return_pct: buy_and_hold_return_pct(input.benchmark_prices),
        max_drawdown,
        sharpe: sharpe_ratio(input.equity),
        sortino: sortino_ratio(input.equity),
        calmar: calmar(annualised, max_drawdown),
        trades: trade_stats(input.trades),
        mode_times: mode_times(input.mode_timeline, end),
    })
}

/// `(last/first − 1) × 100`, exact; `None` with no points or a non-positive first value.
#[must_use]
pub fn total_return_pct(equity: &[EquityPoint]) -> Option<Decimal> {
    let (first, last) = (
        equity.first()?.equity.value(),
        equity.last()?.equity.value(),
    );
    growth_pct(first, last)
}

/// Return of buying at the first price and holding to the last, percent, exact.
#[must_use]
pub fn buy_and_hold_return_pct(prices: &[Price]) -> Option<Decimal> {
    growth_pct(prices.first()?.value(), prices.last()?.value())
}

/// The worst fall from a running peak; `None` if the equity never fell below a peak.
#[must_use]
pub fn max_drawdown(equity: &[EquityPoint]) -> Option<Drawdown> {
    let mut peak = equity.first()?;
    let mut worst: Option<Drawdown> = None;
    for point in equity {
        if point.equity > peak.equity {
            peak = point;
        }
        let Some(fall) = growth_pct(peak.equity.value(), point.equity.value()) else {
            continue;
        };
        let pct = -fall;
        if pct > worst.map_or(Decimal::ZERO, |w| w.pct) {
            worst = Some(Drawdown {
                pct,
                peak_time: peak.time,
                trough_time: point.time,
            });
        }
    }
    worst
}

/// Compound annual growth `((last/first)^(YEAR/elapsed) − 1) × 100`; `None` without elapsed
/// time or with a non-positive first value.
#[must_use]
pub fn annualised_return_pct(equity: &[EquityPoint]) -> Option<f64> {
    let (first, last) = (equity.first()?, equity.last()?);
    let elapsed_ms = last.time.millis_since(first.time);
    let start = to_f64(first.equity.value());
    if elapsed_ms <= 0 || start <= 0.0 {
        return None;
    }
    let ratio = to_f64(last.equity.value()) / start;
    let years = elapsed_ms as f64 / YEAR_MS as f64;
    Some((ratio.powf(1.0 / years) - 1.0) * 100.0)
}

/// Sampling periods per year: [`YEAR_MS`] / the median positive interval between points.
#[must_use]
pub fn periods_per_year(equity: &[EquityPoint]) -> Option<f64> {
    let mut intervals: Vec<i64> = equity
        .windows(2)
        .map(|w| w[1].time.millis_since(w[0].time))
        .filter(|&ms| ms > 0)
        .collect();
    intervals.sort_unstable();
    let median = *intervals.get(intervals.len() / 2)?;
    Some(YEAR_MS as f64 / median as f64)
}

/// Annualised Sharpe ratio, risk-free 0: `mean(r) / sample std(r) × √periods_per_year`.
/// `None` with fewer than two returns or no variation.
#[must_use]
pub fn sharpe_ratio(equity: &[EquityPoint]) -> Option<f64> {
    let returns = period_returns(equity)?;
    if returns.len() < 2 {
        return None;
    }
    let mean = mean(&returns);
    let variance =
        returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (returns.len() - 1) as f64;
    ratio(mean, variance.sqrt(), periods_per_year(equity)?)
}

/// Annualised Sortino ratio, target 0: `mean(r) / √(Σ min(r, 0)² / n) × √periods_per_year`.
/// `None` with fewer than two returns or no losing period.
#[must_use]
pub fn sortino_ratio(equity: &[EquityPoint]) -> Option<f64> {
    let returns = period_returns(equity)?;
    if returns.len() < 2 {
        return None;
    }
    let downside = returns.iter().map(|r| r.min(0.0).powi(2)).sum::<f64>() / returns.len() as f64;
    ratio(mean(&returns), downside.sqrt(), periods_per_year(equity)?)
}

/// Trade count, wins, losses, win rate, profit factor and fees of the closed trades.
#[must_use]
pub fn trade_stats(trades: &[ClosedTrade]) -> TradeStats {
    let mut stats = TradeStats {
        n_trades: trades.len(),
        ..TradeStats::default()
    };
    for trade in trades {
        let pnl = trade.net_pnl;
        if pnl.value() > Decimal::ZERO {
            stats.n_wins += 1;
            stats.gross_profit = stats.gross_profit + pnl;
        } else if pnl.value() < Decimal::ZERO {
            stats.n_losses += 1;
            stats.gross_loss = stats.gross_loss - pnl;
        }
        stats.net_pnl = stats.net_pnl + pnl;
        stats.fees_total = stats.fees_total + trade.fees;
    }
    stats.win_rate_pct = (stats.n_trades > 0).then(|| {
        Decimal::from(stats.n_wins) / Decimal::from(stats.n_trades) * Decimal::ONE_HUNDRED
    });
    stats.profit_factor =
        (stats.n_losses > 0).then(|| stats.gross_profit.value() / stats.gross_loss.value());
    stats
}

/// Time in each mode: each switch lasts until the next one, the last until `end`. Switches
/// at or after `end` count nothing.
#[must_use]
pub fn mode_times(timeline: &[(Timestamp, TradingMode)], end: Timestamp) -> ModeTimes {
    let mut times = ModeTimes::default();
    for (i, &(from, mode)) in timeline.iter().enumerate() {
        let until = timeline.get(i + 1).map_or(end, |&(next, _)| next.min(end));
        let span = until.millis_since(from).max(0);
        match mode {
            TradingMode::Hold => times.hold_ms += span,
            TradingMode::Grid => times.grid_ms += span,
            TradingMode::Cash => times.cash_ms += span,
        }
    }
    times
}

fn check_curve(equity: &[EquityPoint]) -> Result<(), EngineError> {
    let invalid = |reason: String| EngineError::InvalidInput {
        what: "equity curve",
        reason,
    };
    let first = equity.first().ok_or_else(|| invalid("empty".to_owned()))?;
    if first.equity.value() <= Decimal::ZERO {
        return Err(invalid(format!(
            "first equity {} is not positive",
            first.equity.value()
        )));
    }
    match equity.windows(2).position(|w| w[1].time < w[0].time) {
        Some(i) => Err(invalid(format!("time goes backwards at point {}", i + 1))),
        None => Ok(()),
    }
}

/// `(to/from − 1) × 100`, exact; `None` when `from` is not positive.
fn growth_pct(from: Decimal, to: Decimal) -> Option<Decimal> {
    (from > Decimal::ZERO).then(|| (to / from - Decimal::ONE) * Decimal::ONE_HUNDRED)
}

fn calmar(annualised_pct: Option<f64>, drawdown: Option<Drawdown>) -> Option<f64> {
    let drawdown_pct = to_f64(drawdown?.pct);
    (drawdown_pct > 0.0).then_some(annualised_pct? / drawdown_pct)
}

/// Simple returns between consecutive points; `None` if a value before a return is ≤ 0.
fn period_returns(equity: &[EquityPoint]) -> Option<Vec<f64>> {
    equity
        .windows(2)
        .map(|w| {
            let (before, after) = (to_f64(w[0].equity.value()), to_f64(w[1].equity.value()));
            (before > 0.0).then(|| after / before - 1.0)
        })
        .collect()
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// `mean / deviation × √periods_per_year`, `None` when the deviation is zero.
fn ratio(mean: f64, deviation: f64, periods_per_year: f64) -> Option<f64> {
    (deviation > 0.0).then(|| mean / deviation * periods_per_year.sqrt())
}

/// The statistics boundary: exact money in, `f64` out.
fn to_f64(value: Decimal) -> f64 {
    value.to_f64().unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    const DAY: i64 = Timestamp::DAY_MS;

    fn curve(step_ms: i64, values: &[Decimal]) -> Vec<EquityPoint> {
        values
            .iter()
            .zip(0i64..)
            .map(|(&value, i)| EquityPoint {
                time: Timestamp::from_millis(i * step_ms),
                equity: Notional::new(value),
            })
            .collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9 * b.abs().max(1.0)
    }

    /// 100 → 110 → 99 → 108.9: returns +10 %, −10 %, +10 %.
    fn zigzag(step_ms: i64) -> Vec<EquityPoint> {
        curve(step_ms, &[dec!(100), dec!(110), dec!(99), dec!(108.9)])
    }

    #[test]
    fn total_and_buy_and_hold_returns_are_exact() {
        assert_eq!(total_return_pct(&zigzag(DAY)), Some(dec!(8.9)));
        assert_eq!(total_return_pct(&[]), None);
        let prices: Vec<Price> = [dec!(50000), dec!(45000), dec!(60000)]
            .into_iter()
            .map(|p| Price::new(p).unwrap())
            .collect();
        assert_eq!(buy_and_hold_return_pct(&prices), Some(dec!(20)));
        assert_eq!(buy_and_hold_return_pct(&[]), None);
    }

    #[test]
    fn max_drawdown_with_dates() {
        let cases = [
            ("zigzag: 110 → 99", zigzag(DAY), Some((dec!(10), 1, 2))),
            (
                "rising never falls",
                curve(DAY, &[dec!(1), dec!(2), dec!(3)]),
                None,
            ),
            (
                "the deeper of two falls, from the newer peak",
                curve(DAY, &[dec!(100), dec!(90), dec!(120), dec!(84), dec!(130)]),
                Some((dec!(30), 2, 3)),
            ),
        ];
        for (name, equity, expected) in cases {
            let got = max_drawdown(&equity).map(|d| {
                (
                    d.pct,
                    d.peak_time.as_millis() / DAY,
                    d.trough_time.as_millis() / DAY,
                )
            });
            assert_eq!(got, expected, "{name}");
        }
    }

    /// mean = 1/30, sample variance = (2·(1/15)² + (2/15)²)/2 = 1/75, so the per-period
    /// Sharpe is (1/30)·√75; downside deviation √(0.01/3), per-period Sortino (1/30)·√300.
    #[test]
    fn sharpe_and_sortino_by_hand_annualised_from_the_interval() {
        let cases = [
            ("daily", DAY, 365.0),
            ("hourly", Timestamp::HOUR_MS, 8760.0),
        ];
        for (name, step, periods) in cases {
            let equity = zigzag(step);
            assert!(close(periods_per_year(&equity).unwrap(), periods), "{name}");
            let sharpe = sharpe_ratio(&equity).unwrap();
            assert!(
                close(sharpe, 75f64.sqrt() / 30.0 * f64::sqrt(periods)),
                "{name}: {sharpe}"
            );
            let sortino = sortino_ratio(&equity).unwrap();
            assert!(
                close(sortino, 300f64.sqrt() / 30.0 * f64::sqrt(periods)),
                "{name}: {sortino}"
            );
        }
    }

    #[test]
    fn ratios_are_undefined_without_variation_or_losses() {
        let flat = curve(DAY, &[dec!(100), dec!(100), dec!(100)]);
        assert_eq!(sharpe_ratio(&flat), None);
        let rising = curve(DAY, &[dec!(100), dec!(110), dec!(121)]);
        assert_eq!(sortino_ratio(&rising), None);
        assert_eq!(sharpe_ratio(&curve(DAY, &[dec!(100), dec!(110)])), None);
    }

    /// 100 → 80 → 121 over two years: CAGR 10 %, max drawdown 20 %, Calmar 0.5.
    #[test]
    fn annualised_return_and_calmar_by_hand() {
        let equity = curve(YEAR_MS, &[dec!(100), dec!(80), dec!(121)]);
        let annualised = annualised_return_pct(&equity).unwrap();
        assert!(close(annualised, 10.0), "{annualised}");
        let report = performance_report(&input(&equity)).unwrap();
        assert!(close(report.calmar.unwrap(), 0.5));
        assert_eq!(report.max_drawdown.unwrap().pct, dec!(20));
    }

    fn input(equity: &[EquityPoint]) -> MetricsInput<'_> {
        MetricsInput {
            equity,
            trades: &[],
            benchmark_prices: &[],
            mode_timeline: &[],
        }
    }

    fn trade(pnl: Decimal, fees: Decimal) -> ClosedTrade {
        ClosedTrade {
            closed_at: Timestamp::from_millis(0),
            net_pnl: Notional::new(pnl),
            fees: Notional::new(fees),
        }
    }

    /// The old backtester never set `pnl`, so its win rate was always 0 (spec §9).
    #[test]
    fn trade_stats_by_hand() {
        let trades = [
            trade(dec!(9.79), dec!(0.21)),
            trade(dec!(8.99), dec!(1.01)),
            trade(dec!(-6), dec!(0.2)),
            trade(dec!(0), dec!(0.1)),
        ];
        let stats = trade_stats(&trades);
        assert_eq!((stats.n_trades, stats.n_wins, stats.n_losses), (4, 2, 1));
        assert_eq!(stats.win_rate_pct, Some(dec!(50)));
        assert_eq!(stats.gross_profit, Notional::new(dec!(18.78)));
        assert_eq!(stats.gross_loss, Notional::new(dec!(6)));
        assert_eq!(stats.profit_factor, Some(dec!(3.13)));
        assert_eq!(stats.net_pnl, Notional::new(dec!(12.78)));
        assert_eq!(stats.fees_total, Notional::new(dec!(1.52)));
        let none = trade_stats(&[]);
        assert_eq!((none.win_rate_pct, none.profit_factor), (None, None));
    }

    #[test]
    fn mode_times_from_the_timeline() {
        let h = Timestamp::HOUR_MS;
        let at = |hours: i64| Timestamp::from_millis(hours * h);
        let timeline = [
            (at(0), TradingMode::Grid),
            (at(5), TradingMode::Hold),
            (at(8), TradingMode::Cash),
            (at(10), TradingMode::Grid),
        ];
        let times = mode_times(&timeline, at(12));
        assert_eq!(
            times,
            ModeTimes {
                hold_ms: 3 * h,
                grid_ms: 7 * h,
                cash_ms: 2 * h
            }
        );
        assert_eq!(mode_times(&[], at(12)), ModeTimes::default());
    }

    #[test]
    fn report_refuses_unusable_curves() {
        let backwards = vec![
            EquityPoint {
                time: Timestamp::from_millis(DAY),
                equity: Notional::new(dec!(1)),
            },
            EquityPoint {
                time: Timestamp::from_millis(0),
                equity: Notional::new(dec!(1)),
            },
        ];
        let cases = [
            ("empty", Vec::new(), "equity curve: empty"),
            (
                "zero start",
                curve(DAY, &[dec!(0), dec!(1)]),
                "equity curve: first equity 0 is not positive",
            ),
            (
                "backwards",
                backwards,
                "equity curve: time goes backwards at point 1",
            ),
        ];
        for (name, equity, message) in cases {
            let err = performance_report(&input(&equity)).unwrap_err();
            assert_eq!(err.to_string(), message, "{name}");
        }
    }

    /// Spec §11 scenario 80 (old backtester: 50 daily rows, initial value 10000, ≥ 1 trade),
    /// restated for the metrics: the old engine is replaced (spec §9), so the scenario checks
    /// that a 50-day run from 10000 with one closed trade reports daily annualisation, the
    /// trade and a win rate that is no longer stuck at 0.
    #[test]
    fn scenario_11_80_fifty_daily_rows_from_10000() {
        let values: Vec<Decimal> = (0..50)
            .map(|day| dec!(10000) + Decimal::from(day % 7))
            .collect();
        let equity = curve(DAY, &values);
        let trades = [trade(dec!(6), dec!(10))];
        let report = performance_report(&MetricsInput {
            trades: &trades,
            ..input(&equity)
        })
        .unwrap();
        assert_eq!(equity[0].equity, Notional::new(dec!(10000)));
        assert!(close(periods_per_year(&equity).unwrap(), 365.0));
        assert_eq!(report.trades.n_trades, 1);
        assert_eq!(report.trades.win_rate_pct, Some(dec!(100)));
        // Day 49 is a multiple of 7, so the run ends where it started.
        assert_eq!(report.total_return_pct, Decimal::ZERO);
    }

    #[test]
    fn full_report_of_a_small_run() {
        let equity = zigzag(DAY);
        let trades = [trade(dec!(10), dec!(0.2)), trade(dec!(-1.1), dec!(0.2))];
        let prices = [
            Price::new(dec!(100)).unwrap(),
            Price::new(dec!(105)).unwrap(),
        ];
        let timeline = [(Timestamp::from_millis(0), TradingMode::Grid)];
        let report = performance_report(&MetricsInput {
            equity: &equity,
            trades: &trades,
            benchmark_prices: &prices,
            mode_timeline: &timeline,
        })
        .unwrap();
        assert_eq!(report.total_return_pct, dec!(8.9));
        assert_eq!(report.buy_and_hold_return_pct, Some(dec!(5)));
        assert_eq!(report.trades.n_trades, 2);
        assert_eq!(report.trades.fees_total, Notional::new(dec!(0.4)));
        assert_eq!(report.mode_times.grid_ms, 3 * DAY);
        assert!(report.sharpe.is_some() && report.sortino.is_some() && report.calmar.is_some());
    }
}

#[cfg(test)]
mod property_tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// The drawdown is a percentage in [0, 100] and its trough never precedes its peak.
        #[test]
        fn prop_drawdown_is_bounded_and_ordered(cents in proptest::collection::vec(1i64..1_000_000, 1..40)) {
            let equity: Vec<EquityPoint> = cents
                .iter()
                .zip(0i64..)
                .map(|(&c, i)| EquityPoint {
                    time: Timestamp::from_millis(i * Timestamp::DAY_MS),
                    equity: Notional::new(Decimal::new(c, 2)),
                })
                .collect();
            if let Some(drawdown) = max_drawdown(&equity) {
                prop_assert!(drawdown.pct > Decimal::ZERO && drawdown.pct < Decimal::ONE_HUNDRED);
                prop_assert!(drawdown.peak_time < drawdown.trough_time);
            }
            let times = mode_times(&[(Timestamp::from_millis(0), TradingMode::Hold)], equity[equity.len() - 1].time);
            prop_assert_eq!(times.hold_ms, equity[equity.len() - 1].time.as_millis());
        }
    }
}
