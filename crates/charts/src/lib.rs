//! Hybrid's charts, drawn once for every place that shows them: the backtest report
//! (`equity.png`), Telegram's `/report` and the web dashboard.
//!
//! - [`equity_chart_png`]: a strategy's equity with buy-and-hold beside it, the mode of each
//!   coin shaded in a strip below, and the drawdown panel under that;
//! - [`cohorts_chart_png`]: several equity curves (the cohorts) on one set of axes;
//! - [`tiers_chart_png`]: the portfolio tiers stacked;
//! - [`windows_chart_png`]: strategy against buy-and-hold, window by window (`evaluate`);
//! - [`price_chart_png`]: one coin's price with its resting orders, stop level and fills.
//!
//! Every chart has a title, a dated time axis (UTC), a value axis with its unit and a legend.
//! Text is drawn with the DejaVu Sans font embedded in this crate (`fonts/`, Bitstream Vera
//! licence), so no system font library is needed. Inputs are exact decimals; they become
//! pixels through `f64` here, which is drawing, not money.

mod canvas;
mod compare;
mod equity;
mod price;

use hybrid_core::Timestamp;
use rust_decimal::Decimal;

pub use crate::{
    compare::{cohorts_chart_png, tiers_chart_png, windows_chart_png, WindowReturn},
    equity::{equity_chart_png, mode_spans, EquityChart, ModeSpan},
    price::{price_chart_png, ChartFill, OrderLevel, PriceChart},
};

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// The input holds nothing to draw, e.g. an equity curve with fewer than two points.
    #[error("nothing to draw: {0}")]
    Empty(String),
    /// plotters failed while drawing (a bug or a bad font), with its message.
    #[error("drawing failed: {0}")]
    Draw(String),
    /// The image could not be encoded as PNG.
    #[error("PNG encoding failed: {0}")]
    Encode(String),
}

/// A named time series of exact values, oldest point first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Series {
    /// The legend's text, e.g. `strategy` or `buy-and-hold`.
    pub label: String,
    /// `(time, value)` points in time order.
    pub points: Vec<(Timestamp, Decimal)>,
}

impl Series {
    /// A series named `label`.
    #[must_use]
    pub fn new(label: impl Into<String>, points: Vec<(Timestamp, Decimal)>) -> Self {
        Self {
            label: label.into(),
            points,
        }
    }

    /// Whether the series has fewer than two points (nothing to draw a line through).
    #[must_use]
    pub fn is_too_short(&self) -> bool {
        self.points.len() < 2
    }
}

#[cfg(test)]
mod tests;
