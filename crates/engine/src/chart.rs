//! The backtest's `equity.png`: the report's hourly equity with equal-weight buy-and-hold of
//! the same coins beside it, each coin's modes shaded below and the drawdown panel, drawn by
//! `hybrid-charts` (the same charts Telegram and the dashboard show).

use hybrid_charts::{mode_spans, ChartError, EquityChart, Series};
use hybrid_core::TradingMode;

use crate::BacktestReport;

/// The report's equity chart as PNG.
///
/// # Errors
/// [`ChartError::Empty`] when the equity curve has fewer than two points (a replay shorter
/// than an hour); drawing failures.
pub fn equity_chart_png(report: &BacktestReport) -> Result<Vec<u8>, ChartError> {
    hybrid_charts::equity_chart_png(&backtest_chart(report))
}

/// What [`equity_chart_png`] draws: title, both curves and the mode spans.
#[must_use]
pub fn backtest_chart(report: &BacktestReport) -> EquityChart {
    let quote = report
        .symbols
        .first()
        .map_or_else(|| "USDT".to_owned(), |s| s.quote().to_string());
    let initial: Vec<(String, TradingMode)> = report
        .symbols
        .iter()
        .map(|symbol| {
            let first_switch = report.mode_switches.iter().find(|s| &s.symbol == symbol);
            let mode = first_switch.map(|s| s.from).or_else(|| {
                // Never switched: the one mode it spent time in.
                let t = report.time_in_mode.get(symbol)?;
                [
                    (t.hold_ms, TradingMode::Hold),
                    (t.grid_ms, TradingMode::Grid),
                    (t.cash_ms, TradingMode::Cash),
                ]
                .into_iter()
                .find(|(ms, _)| *ms > 0)
                .map(|(_, mode)| mode)
            });
            (symbol.to_string(), mode.unwrap_or(TradingMode::Cash))
        })
        .collect();
    let switches: Vec<_> = report
        .mode_switches
        .iter()
        .map(|s| (s.time, s.symbol.to_string(), s.to))
        .collect();
    let symbols: Vec<&str> = report
        .symbols
        .iter()
        .map(hybrid_core::Symbol::as_str)
        .collect();
    EquityChart {
        title: format!(
            "Backtest {} ({}): equity {} % against buy-and-hold {} %",
            symbols.join(", "),
            report.interval,
            report.total_return_pct.round_dp(2),
            report
                .buy_and_hold_return_pct
                .map_or_else(|| "?".to_owned(), |b| b.round_dp(2).to_string())
        ),
        currency: quote,
        strategy: Series::new(
            "strategy equity",
            report
                .equity_curve
                .iter()
                .map(|p| (p.time, p.equity.value()))
                .collect(),
        ),
        benchmark: (!report.buy_and_hold_curve.is_empty()).then(|| {
            Series::new(
                "buy-and-hold, equal weight",
                report
                    .buy_and_hold_curve
                    .iter()
                    .map(|(t, v)| (*t, v.value()))
                    .collect(),
            )
        }),
        modes: mode_spans(&initial, &switches, report.start, report.end),
    }
}
