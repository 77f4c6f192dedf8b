//! The `/report` equity chart: the realised equity of all cohorts (their starting capital plus
//! the net P&L of every closed trade, stepped at each close), drawn by the engine's chart.
//!
//! The live system stores no marked-to-market equity series yet, so the chart shows what the
//! database does hold exactly: realised equity. Open positions are not in it; the caption says
//! so.

use hybrid_core::{Notional, Timestamp};
use hybrid_engine::{equity_chart_png, BacktestReport, EquitySnapshot, TradeStats};
use rust_decimal::Decimal;

use crate::cockpit::Snapshot;

/// The chart's caption.
pub(crate) const CAPTION: &str =
    "Realised equity of all cohorts: starting capital + net P&L of closed trades (open positions not included)";

/// The realised equity curve: one point at the first cohort's creation, then one per closed
/// trade. `None` when there are fewer than two points (nothing to draw).
pub(crate) fn realised_equity_curve(snapshot: &Snapshot) -> Option<Vec<(Timestamp, Decimal)>> {
    let start_time = snapshot.cohorts.iter().map(|c| c.record.created_at).min()?;
    let mut equity: Decimal = snapshot
        .cohorts
        .iter()
        .map(|c| c.record.starting_capital)
        .sum();
    let mut closes: Vec<(Timestamp, Decimal)> = snapshot
        .cohorts
        .iter()
        .flat_map(|c| c.closed.iter())
        .filter_map(|p| p.close.as_ref().map(|c| (c.time, c.net_pnl.value())))
        .collect();
    closes.sort_by_key(|(time, _)| *time);
    let mut points = vec![(start_time.min(closes.first()?.0), equity)];
    for (time, pnl) in closes {
        equity += pnl;
        points.push((time, equity));
    }
    Some(points)
}

/// The PNG of [`realised_equity_curve`], if there is a curve.
pub(crate) fn realised_equity_png(snapshot: &Snapshot) -> Option<Vec<u8>> {
    let points = realised_equity_curve(snapshot)?;
    let (first, last) = (points.first()?, points.last()?);
    let report = BacktestReport {
        symbols: Vec::new(),
        interval: String::new(),
        start: first.0,
        end: last.0,
        candles: 0,
        allocation: String::new(),
        initial_capital: Notional::new(first.1),
        final_equity: Notional::new(last.1),
        total_return_pct: Decimal::ZERO,
        buy_and_hold_return_pct: None,
        buy_and_hold_by_symbol: std::collections::BTreeMap::new(),
        annualised_return_pct: None,
        max_drawdown: None,
        sharpe: None,
        sortino: None,
        calmar: None,
        fees: Notional::ZERO,
        n_fills: 0,
        n_orders: 0,
        n_risk_refusals: 0,
        risk_refusals_by_reason: std::collections::BTreeMap::new(),
        n_rejections: 0,
        n_stop_sales: 0,
        n_alerts: 0,
        trades: TradeStats::default(),
        time_in_mode: std::collections::BTreeMap::new(),
        mode_switches: Vec::new(),
        equity_curve: points
            .iter()
            .map(|&(time, equity)| EquitySnapshot {
                time,
                cash: Notional::new(equity),
                holdings: Notional::ZERO,
                equity: Notional::new(equity),
            })
            .collect(),
    };
    Some(equity_chart_png(&report))
}
