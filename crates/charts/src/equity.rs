//! The equity chart: the strategy's equity with buy-and-hold beside it (top), the mode of each
//! coin as coloured bands (middle) and the drawdown of both curves (bottom), on one time axis.

use hybrid_core::{Timestamp, TradingMode};
use plotters::{
    coord::ranged1d::{IntoSegmentedCoord, SegmentValue},
    prelude::{
        AreaSeries, ChartBuilder, DrawingArea, LineSeries, PathElement, Rectangle,
        SeriesLabelPosition, BLACK, WHITE,
    },
    style::{Color, RGBColor},
};

use crate::{
    canvas::{
        drawn, f, render, text, value_label, value_range, TimeAxis, BLUE, GREEN, GREY, ORANGE,
        PURPLE, RED, X_LABELS, Y_LABELS,
    },
    ChartError, Series,
};

/// Height of the equity panel, pixels.
const EQUITY_HEIGHT: u32 = 430;
/// Height of one coin's row in the mode strip, pixels.
const MODE_ROW: u32 = 26;
/// Height of the drawdown panel, pixels.
const DRAWDOWN_HEIGHT: u32 = 230;

/// What the equity chart shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EquityChart {
    /// The title, e.g. `Backtest BTCUSDT, ETHUSDT (1h)`.
    pub title: String,
    /// The quote currency the values are in, e.g. `USDT` (the value axis's unit).
    pub currency: String,
    /// The strategy's equity (at least two points).
    pub strategy: Series,
    /// Buy-and-hold of the same coins with the same starting capital, if known.
    pub benchmark: Option<Series>,
    /// Which mode each coin was in, and when (may be empty: the strip is then left out).
    pub modes: Vec<ModeSpan>,
}

/// One coin in one mode over `[from, to)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModeSpan {
    /// The coin (symbol), one row of the strip.
    pub coin: String,
    /// Its mode over the span.
    pub mode: TradingMode,
    /// Start of the span.
    pub from: Timestamp,
    /// End of the span.
    pub to: Timestamp,
}

/// The spans of each coin's modes between `start` and `end`: each coin starts in its initial
/// mode and changes at each of its switches `(time, coin, new mode)` (in time order).
#[must_use]
pub fn mode_spans(
    initial: &[(String, TradingMode)],
    switches: &[(Timestamp, String, TradingMode)],
    start: Timestamp,
    end: Timestamp,
) -> Vec<ModeSpan> {
    let mut spans = Vec::new();
    for (coin, mode) in initial {
        let mut current = (*mode, start);
        for (at, _, to) in switches.iter().filter(|(_, c, _)| c == coin) {
            let at = (*at).clamp(start, end);
            if at > current.1 {
                spans.push(ModeSpan {
                    coin: coin.clone(),
                    mode: current.0,
                    from: current.1,
                    to: at,
                });
            }
            current = (*to, at);
        }
        if end > current.1 {
            spans.push(ModeSpan {
                coin: coin.clone(),
                mode: current.0,
                from: current.1,
                to: end,
            });
        }
    }
    spans
}

fn mode_colour(mode: TradingMode) -> RGBColor {
    match mode {
        TradingMode::Hold => GREEN,
        TradingMode::Grid => PURPLE,
        TradingMode::Cash => GREY,
    }
}

/// Percent below the running peak at each point (0 at a new high, negative below).
fn drawdown_pct(points: &[(i64, f64)]) -> Vec<(i64, f64)> {
    let mut peak = f64::NEG_INFINITY;
    points
        .iter()
        .map(|&(t, v)| {
            peak = peak.max(v);
            let dd = if peak > 0.0 {
                (v / peak - 1.0) * 100.0
            } else {
                0.0
            };
            (t, dd)
        })
        .collect()
}

fn as_xy(series: &Series) -> Vec<(i64, f64)> {
    series
        .points
        .iter()
        .map(|(t, v)| (t.as_millis(), f(*v)))
        .collect()
}

/// The chart as PNG.
///
/// # Errors
/// [`ChartError::Empty`] when the strategy's curve has fewer than two points;
/// [`ChartError::Draw`] / [`ChartError::Encode`] when drawing fails.
pub fn equity_chart_png(chart: &EquityChart) -> Result<Vec<u8>, ChartError> {
    if chart.strategy.is_too_short() {
        return Err(ChartError::Empty(format!(
            "the equity curve {:?} has {} point(s)",
            chart.strategy.label,
            chart.strategy.points.len()
        )));
    }
    let benchmark = chart.benchmark.as_ref().filter(|b| !b.is_too_short());
    let axis = TimeAxis::spanning(
        chart
            .strategy
            .points
            .iter()
            .chain(benchmark.iter().flat_map(|b| b.points.iter()))
            .map(|p| p.0),
    )
    .ok_or_else(|| ChartError::Empty("no time".to_owned()))?;
    let mut coins: Vec<&str> = Vec::new();
    for span in &chart.modes {
        if !coins.contains(&span.coin.as_str()) {
            coins.push(&span.coin);
        }
    }
    let coin_rows = u32::try_from(coins.len()).unwrap_or(u32::MAX).min(20);
    let strip = if coins.is_empty() {
        0
    } else {
        70 + MODE_ROW * coin_rows
    };
    let height = 60 + EQUITY_HEIGHT + strip + DRAWDOWN_HEIGHT;
    let strategy = as_xy(&chart.strategy);
    let bench = benchmark.map(as_xy);
    render(height, &chart.title, |body| {
        let (top, rest) = body.split_vertically(EQUITY_HEIGHT);
        let (middle, bottom) = rest.split_vertically(strip);
        equity_panel(&top, chart, axis, &strategy, bench.as_deref(), benchmark)?;
        if !coins.is_empty() {
            mode_strip(&middle, &chart.modes, &coins, axis)?;
        }
        drawdown_panel(&bottom, axis, &strategy, bench.as_deref(), chart, benchmark)
    })
}

fn equity_panel<DB: plotters::prelude::DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    chart: &EquityChart,
    axis: TimeAxis,
    strategy: &[(i64, f64)],
    bench: Option<&[(i64, f64)]>,
    benchmark: Option<&Series>,
) -> Result<(), ChartError> {
    let values = value_range(
        strategy
            .iter()
            .chain(bench.unwrap_or_default())
            .map(|p| p.1),
    );
    let mut ctx = drawn(
        ChartBuilder::on(area)
            .margin_right(30)
            .margin_left(16)
            .margin_top(10)
            .x_label_area_size(X_LABELS)
            .y_label_area_size(Y_LABELS)
            .build_cartesian_2d(axis.range(), values.clone()),
    )?;
    let label_x = |t: &i64| axis.label(*t);
    let label_y = |v: &f64| value_label(*v, &values);
    drawn(
        ctx.configure_mesh()
            .x_labels(8)
            .y_labels(8)
            .x_label_formatter(&label_x)
            .y_label_formatter(&label_y)
            .x_desc(axis.description())
            .y_desc(format!("equity ({})", chart.currency))
            .label_style(text(15))
            .axis_desc_style(text(16))
            .light_line_style(WHITE.mix(0.0))
            .bold_line_style(BLACK.mix(0.08))
            .draw(),
    )?;
    if let Some(first) = strategy.first() {
        // The starting capital as a reference line.
        drawn(ctx.draw_series(LineSeries::new(
            [(axis.start, first.1), (axis.end, first.1)],
            GREY.stroke_width(1),
        )))?
        .label(format!("start {}", value_label(first.1, &values)))
        .legend(|(x, y)| PathElement::new([(x, y), (x + 24, y)], GREY.stroke_width(1)));
    }
    drawn(ctx.draw_series(LineSeries::new(
        strategy.iter().copied(),
        BLUE.stroke_width(2),
    )))?
    .label(chart.strategy.label.clone())
    .legend(|(x, y)| PathElement::new([(x, y), (x + 24, y)], BLUE.stroke_width(3)));
    if let (Some(bench), Some(series)) = (bench, benchmark) {
        drawn(ctx.draw_series(LineSeries::new(
            bench.iter().copied(),
            ORANGE.stroke_width(2),
        )))?
        .label(series.label.clone())
        .legend(|(x, y)| PathElement::new([(x, y), (x + 24, y)], ORANGE.stroke_width(3)));
    }
    drawn(
        ctx.configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font(text(15))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .draw(),
    )
}

fn mode_strip<DB: plotters::prelude::DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    spans: &[ModeSpan],
    coins: &[&str],
    axis: TimeAxis,
) -> Result<(), ChartError> {
    let rows = i32::try_from(coins.len()).unwrap_or(i32::MAX);
    let mut ctx = drawn(
        ChartBuilder::on(area)
            .margin_right(30)
            .margin_left(16)
            .margin_top(8)
            .caption("mode per coin", text(16))
            .x_label_area_size(0)
            .y_label_area_size(Y_LABELS)
            .build_cartesian_2d(axis.range(), (0..rows - 1).into_segmented()),
    )?;
    let coin_label = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(i) => usize::try_from(*i)
            .ok()
            .and_then(|i| coins.get(i))
            .map_or_else(String::new, |c| (*c).to_owned()),
        _ => String::new(),
    };
    drawn(
        ctx.configure_mesh()
            .disable_x_mesh()
            .disable_y_mesh()
            .y_label_formatter(&coin_label)
            .label_style(text(14))
            .draw(),
    )?;
    for mode in [TradingMode::Hold, TradingMode::Grid, TradingMode::Cash] {
        let colour = mode_colour(mode);
        let bands = spans.iter().filter(|s| s.mode == mode).filter_map(|s| {
            let row = i32::try_from(coins.iter().position(|c| *c == s.coin)?).ok()?;
            Some(Rectangle::new(
                [
                    (s.from.as_millis(), SegmentValue::Exact(row)),
                    (s.to.as_millis(), SegmentValue::Exact(row + 1)),
                ],
                colour.mix(0.75).filled(),
            ))
        });
        drawn(ctx.draw_series(bands))?
            .label(mode.as_str().to_owned())
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], colour.filled()));
    }
    drawn(
        ctx.configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font(text(13))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.3))
            .draw(),
    )
}

fn drawdown_panel<DB: plotters::prelude::DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    axis: TimeAxis,
    strategy: &[(i64, f64)],
    bench: Option<&[(i64, f64)]>,
    chart: &EquityChart,
    benchmark: Option<&Series>,
) -> Result<(), ChartError> {
    let dd = drawdown_pct(strategy);
    let bench_dd = bench.map(drawdown_pct);
    let deepest = dd
        .iter()
        .chain(bench_dd.iter().flatten())
        .map(|p| p.1)
        .fold(0.0_f64, f64::min);
    let values = (deepest * 1.1 - 0.1)..0.5;
    let mut ctx = drawn(
        ChartBuilder::on(area)
            .margin_right(30)
            .margin_left(16)
            .margin_top(8)
            .caption("drawdown from the running peak", text(16))
            .x_label_area_size(X_LABELS)
            .y_label_area_size(Y_LABELS)
            .build_cartesian_2d(axis.range(), values.clone()),
    )?;
    let label_x = |t: &i64| axis.label(*t);
    let label_y = |v: &f64| format!("{v:.1} %");
    drawn(
        ctx.configure_mesh()
            .x_labels(8)
            .y_labels(5)
            .x_label_formatter(&label_x)
            .y_label_formatter(&label_y)
            .x_desc(axis.description())
            .y_desc("drawdown (%)")
            .label_style(text(15))
            .axis_desc_style(text(16))
            .light_line_style(WHITE.mix(0.0))
            .bold_line_style(BLACK.mix(0.08))
            .draw(),
    )?;
    drawn(ctx.draw_series(
        AreaSeries::new(dd.iter().copied(), 0.0, RED.mix(0.3)).border_style(RED.stroke_width(1)),
    ))?
    .label(chart.strategy.label.clone())
    .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], RED.mix(0.4).filled()));
    if let (Some(bench_dd), Some(series)) = (bench_dd, benchmark) {
        drawn(ctx.draw_series(LineSeries::new(bench_dd, ORANGE.stroke_width(2))))?
            .label(series.label.clone())
            .legend(|(x, y)| PathElement::new([(x, y), (x + 24, y)], ORANGE.stroke_width(3)));
    }
    drawn(
        ctx.configure_series_labels()
            .position(SeriesLabelPosition::LowerLeft)
            .label_font(text(14))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .draw(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(hours: i64) -> Timestamp {
        Timestamp::from_millis(1_704_067_200_000 + hours * 3_600_000)
    }

    #[test]
    fn spans_follow_each_coins_switches_to_the_end() {
        let spans = mode_spans(
            &[
                ("BTCUSDT".to_owned(), TradingMode::Cash),
                ("ETHUSDT".to_owned(), TradingMode::Grid),
            ],
            &[
                (t(5), "BTCUSDT".to_owned(), TradingMode::Hold),
                (t(8), "BTCUSDT".to_owned(), TradingMode::Grid),
            ],
            t(0),
            t(10),
        );
        let got: Vec<(&str, TradingMode, i64, i64)> = spans
            .iter()
            .map(|s| {
                (
                    s.coin.as_str(),
                    s.mode,
                    s.from.as_millis(),
                    s.to.as_millis(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "BTCUSDT",
                    TradingMode::Cash,
                    t(0).as_millis(),
                    t(5).as_millis()
                ),
                (
                    "BTCUSDT",
                    TradingMode::Hold,
                    t(5).as_millis(),
                    t(8).as_millis()
                ),
                (
                    "BTCUSDT",
                    TradingMode::Grid,
                    t(8).as_millis(),
                    t(10).as_millis()
                ),
                (
                    "ETHUSDT",
                    TradingMode::Grid,
                    t(0).as_millis(),
                    t(10).as_millis()
                ),
            ]
        );
    }

    #[test]
    fn drawdown_is_measured_from_the_running_peak() {
        let dd = drawdown_pct(&[(0, 100.0), (1, 120.0), (2, 90.0), (3, 130.0)]);
        let values: Vec<f64> = dd.iter().map(|p| p.1).collect();
        assert_eq!(values[0], 0.0);
        assert_eq!(values[1], 0.0);
        assert!((values[2] + 25.0).abs() < 1e-9, "{values:?}");
        assert_eq!(values[3], 0.0);
    }
}
