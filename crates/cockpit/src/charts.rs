//! The cockpit's charts, built from the [`History`] and the [`Snapshot`] and drawn by
//! `hybrid-charts`: Telegram's `/report` and the dashboard send the same PNGs.

use hybrid_charts::{
    cohorts_chart_png, equity_chart_png, price_chart_png, tiers_chart_png, ChartError, ChartFill,
    EquityChart, OrderLevel, PriceChart, Series,
};
use hybrid_core::{Symbol, TradingMode};
use rust_decimal::Decimal;

use crate::{
    history::{total_series, CohortHistory, FillView, History, Point},
    snapshot::Snapshot,
};

/// The currency every figure is in.
pub const QUOTE: &str = "USDT";

fn series(label: impl Into<String>, points: &[Point]) -> Series {
    Series::new(label, points.iter().map(|p| (p.at, p.value)).collect())
}

/// Each traded symbol's current mode in `cohort`, from the snapshot.
fn current_modes(snapshot: &Snapshot, cohort: &str) -> Vec<(Symbol, TradingMode)> {
    snapshot
        .cohorts
        .iter()
        .filter(|c| c.record.name == cohort)
        .flat_map(|c| c.symbols.iter())
        .filter_map(|s| Some((s.symbol.clone(), s.mode.parse().ok()?)))
        .collect()
}

/// All cohorts' equity added up, with their buy-and-hold added up beside it and every coin's
/// modes (labelled `cohort/SYMBOL` when there are several cohorts).
///
/// # Errors
/// [`ChartError::Empty`] before two hourly snapshots exist; drawing failures.
pub fn overview_chart(history: &History, snapshot: &Snapshot) -> Result<Vec<u8>, ChartError> {
    let equity = total_series(history.cohorts.iter().map(|c| c.equity.as_slice()));
    let bench = total_series(history.cohorts.iter().map(|c| c.buy_and_hold.as_slice()));
    let several = history
        .cohorts
        .iter()
        .filter(|c| !c.equity.is_empty())
        .count()
        > 1;
    let mut modes = Vec::new();
    for cohort in &history.cohorts {
        for mut span in cohort.mode_spans(&current_modes(snapshot, &cohort.name)) {
            if several {
                span.coin = format!("{}/{}", cohort.name, span.coin);
            }
            modes.push(span);
        }
    }
    let title = if several {
        format!(
            "Equity of all {} cohorts against buy-and-hold",
            history.cohorts.len()
        )
    } else {
        "Equity against buy-and-hold".to_owned()
    };
    equity_chart_png(&EquityChart {
        title,
        currency: QUOTE.to_owned(),
        strategy: series("equity (cash + coins at last price)", &equity),
        benchmark: (!bench.is_empty()).then(|| series("buy-and-hold of the same coins", &bench)),
        modes,
    })
}

/// One cohort's equity, buy-and-hold, modes and drawdown.
///
/// # Errors
/// [`ChartError::Empty`] for an unknown cohort or fewer than two snapshots; drawing failures.
pub fn cohort_chart(
    history: &History,
    snapshot: &Snapshot,
    cohort: &str,
) -> Result<Vec<u8>, ChartError> {
    let c = find(history, cohort)?;
    equity_chart_png(&EquityChart {
        title: format!("Cohort {cohort}: equity against buy-and-hold"),
        currency: QUOTE.to_owned(),
        strategy: series(format!("{cohort} equity"), &c.equity),
        benchmark: (!c.buy_and_hold.is_empty())
            .then(|| series("buy-and-hold of the same coins", &c.buy_and_hold)),
        modes: c.mode_spans(&current_modes(snapshot, cohort)),
    })
}

fn find<'a>(history: &'a History, cohort: &str) -> Result<&'a CohortHistory, ChartError> {
    history
        .cohorts
        .iter()
        .find(|c| c.name == cohort)
        .ok_or_else(|| ChartError::Empty(format!("no cohort named {cohort:?}")))
}

/// Every cohort's equity on one set of axes.
///
/// # Errors
/// [`ChartError::Empty`] when no cohort has two snapshots; drawing failures.
pub fn cohorts_chart(history: &History) -> Result<Vec<u8>, ChartError> {
    let all: Vec<Series> = history
        .cohorts
        .iter()
        .map(|c| series(c.name.clone(), &c.equity))
        .collect();
    cohorts_chart_png("Cohorts: equity side by side", QUOTE, &all)
}

/// The three portfolio tiers stacked.
///
/// # Errors
/// [`ChartError::Empty`] before two portfolio snapshots exist; drawing failures.
pub fn tiers_chart(history: &History) -> Result<Vec<u8>, ChartError> {
    let pick = |f: fn(&crate::history::TierPoint) -> Decimal| {
        history.tiers.iter().map(|t| (t.at, f(t))).collect()
    };
    tiers_chart_png(
        "Portfolio tiers",
        QUOTE,
        &[
            Series::new("cash reserve", pick(|t| t.cash)),
            Series::new("index holdings", pick(|t| t.index)),
            Series::new("trading", pick(|t| t.trading)),
        ],
    )
}

/// One coin of one cohort: its price, the cohort's resting orders on it, its stop level and
/// its recent fills.
///
/// # Errors
/// [`ChartError::Empty`] for an unknown cohort or coin, or fewer than two prices; drawing
/// failures.
pub fn coin_chart(
    history: &History,
    snapshot: &Snapshot,
    cohort: &str,
    symbol: &Symbol,
    fills: &[FillView],
) -> Result<Vec<u8>, ChartError> {
    let c = find(history, cohort)?;
    let prices = c
        .prices
        .get(symbol)
        .ok_or_else(|| ChartError::Empty(format!("no price of {symbol} recorded")))?;
    let view = snapshot.cohorts.iter().find(|v| v.record.name == cohort);
    let orders = view
        .into_iter()
        .flat_map(|v| v.open_orders.iter())
        .filter(|o| &o.symbol == symbol)
        .filter_map(|o| {
            Some(OrderLevel {
                side: o.side,
                price: o.price?.value(),
            })
        })
        .collect();
    let stop = view
        .into_iter()
        .flat_map(|v| v.stops.iter())
        .find(|s| s.symbol == symbol.as_str())
        .and_then(|s| s.stop_price.parse().ok());
    let mode = view
        .and_then(|v| v.symbols.iter().find(|s| &s.symbol == symbol))
        .map_or("?", |s| s.mode.as_str());
    price_chart_png(&PriceChart {
        title: format!("{symbol} ({cohort}): {mode}"),
        quote: symbol.quote().to_string(),
        prices: series(format!("{symbol} price"), prices),
        orders,
        stop,
        fills: fills
            .iter()
            .filter(|f| f.cohort == cohort && &f.fill.symbol == symbol)
            .map(|f| ChartFill {
                time: f.fill.time,
                side: f.fill.side,
                price: f.fill.price.value(),
            })
            .collect(),
    })
}
