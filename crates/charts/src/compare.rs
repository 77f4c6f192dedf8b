//! Charts that compare: the cohorts' equity on one set of axes, the portfolio tiers stacked,
//! and a strategy against buy-and-hold window by window.

use hybrid_core::Timestamp;
use plotters::{
    prelude::{
        AreaSeries, ChartBuilder, LineSeries, PathElement, Rectangle, SeriesLabelPosition, BLACK,
        WHITE,
    },
    style::Color,
};
use rust_decimal::Decimal;

use crate::{
    canvas::{
        drawn, f, render, text, value_label, value_range, TimeAxis, BLUE, GREY, ORANGE, PALETTE,
        X_LABELS, Y_LABELS,
    },
    ChartError, Series,
};

/// Height of the single-panel charts, pixels.
const HEIGHT: u32 = 560;

/// One evaluation window: the strategy's return and buy-and-hold's over `[start, end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowReturn {
    /// First candle of the window.
    pub start: Timestamp,
    /// Last candle of the window.
    pub end: Timestamp,
    /// The strategy's return over the window, percent.
    pub strategy_pct: Decimal,
    /// Buy-and-hold of the same coins over the window, percent (`None` when unknown).
    pub buy_and_hold_pct: Option<Decimal>,
}

fn check_series(series: &[Series]) -> Result<Vec<&Series>, ChartError> {
    let drawable: Vec<&Series> = series.iter().filter(|s| !s.is_too_short()).collect();
    if drawable.is_empty() {
        return Err(ChartError::Empty(
            "no series has two points or more".to_owned(),
        ));
    }
    Ok(drawable)
}

/// Several equity curves (one per cohort) on one set of axes, one colour each.
///
/// # Errors
/// [`ChartError::Empty`] when no series has two points; drawing or encoding failures.
pub fn cohorts_chart_png(
    title: &str,
    currency: &str,
    series: &[Series],
) -> Result<Vec<u8>, ChartError> {
    let drawable = check_series(series)?;
    let axis = TimeAxis::spanning(drawable.iter().flat_map(|s| s.points.iter().map(|p| p.0)))
        .ok_or_else(|| ChartError::Empty("no time".to_owned()))?;
    let values = value_range(
        drawable
            .iter()
            .flat_map(|s| s.points.iter().map(|p| f(p.1))),
    );
    render(HEIGHT, title, |body| {
        let mut ctx = drawn(
            ChartBuilder::on(body)
                .margin_right(30)
                .margin_left(16)
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
                .y_desc(format!("equity ({currency})"))
                .label_style(text(15))
                .axis_desc_style(text(16))
                .light_line_style(WHITE.mix(0.0))
                .bold_line_style(BLACK.mix(0.08))
                .draw(),
        )?;
        for (i, s) in drawable.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            let points = s.points.iter().map(|(t, v)| (t.as_millis(), f(*v)));
            drawn(ctx.draw_series(LineSeries::new(points, colour.stroke_width(2))))?
                .label(s.label.clone())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 24, y)], colour.stroke_width(3))
                });
        }
        drawn(
            ctx.configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .label_font(text(15))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .draw(),
        )
    })
}

/// The value of `series` at `time`: its last point at or before it (zero before its first).
fn value_at(series: &Series, time: Timestamp) -> Decimal {
    series
        .points
        .iter()
        .take_while(|p| p.0 <= time)
        .last()
        .map_or(Decimal::ZERO, |p| p.1)
}

/// The tiers stacked: each band is one tier, the top edge the total. Tiers are drawn in the
/// order given (the first at the bottom); a tier without a value at some time counts its last
/// known value (zero before its first).
///
/// # Errors
/// [`ChartError::Empty`] when fewer than two times are known; drawing or encoding failures.
pub fn tiers_chart_png(
    title: &str,
    currency: &str,
    tiers: &[Series],
) -> Result<Vec<u8>, ChartError> {
    let mut times: Vec<Timestamp> = tiers
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .collect();
    times.sort_unstable();
    times.dedup();
    if times.len() < 2 {
        return Err(ChartError::Empty(format!(
            "the tiers are known at {} time(s)",
            times.len()
        )));
    }
    // cumulative[i][k]: the sum of tiers 0..=i at times[k].
    let mut cumulative: Vec<Vec<(i64, f64)>> = Vec::new();
    let mut below = vec![Decimal::ZERO; times.len()];
    for tier in tiers {
        for (k, time) in times.iter().enumerate() {
            below[k] += value_at(tier, *time);
        }
        cumulative.push(
            times
                .iter()
                .zip(&below)
                .map(|(t, v)| (t.as_millis(), f(*v)))
                .collect(),
        );
    }
    let axis = TimeAxis::spanning(times.iter().copied())
        .ok_or_else(|| ChartError::Empty("no time".to_owned()))?;
    let top = cumulative
        .last()
        .into_iter()
        .flatten()
        .map(|p| p.1)
        .fold(0.0_f64, f64::max);
    let values = 0.0..(top * 1.08).max(1.0);
    render(HEIGHT, title, |body| {
        let mut ctx = drawn(
            ChartBuilder::on(body)
                .margin_right(30)
                .margin_left(16)
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
                .y_desc(format!("value ({currency}), stacked"))
                .label_style(text(15))
                .axis_desc_style(text(16))
                .light_line_style(WHITE.mix(0.0))
                .bold_line_style(BLACK.mix(0.08))
                .draw(),
        )?;
        // Painter's order: the total first, each lower stack over it, so every band shows
        // its own tier.
        for (i, band) in cumulative.iter().enumerate().rev() {
            let colour = PALETTE[i % PALETTE.len()];
            drawn(
                ctx.draw_series(
                    AreaSeries::new(band.iter().copied(), 0.0, colour.mix(0.85).filled())
                        .border_style(colour.stroke_width(1)),
                ),
            )?
            .label(tiers[i].label.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], colour.filled()));
        }
        drawn(
            ctx.configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .label_font(text(15))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .draw(),
        )
    })
}

/// The strategy's return (blue) against buy-and-hold's (orange) in each window, as two bars
/// side by side over the window's own stretch of the time axis.
///
/// # Errors
/// [`ChartError::Empty`] for no window; drawing or encoding failures.
pub fn windows_chart_png(title: &str, windows: &[WindowReturn]) -> Result<Vec<u8>, ChartError> {
    if windows.is_empty() {
        return Err(ChartError::Empty("no evaluation window".to_owned()));
    }
    let axis = TimeAxis::spanning(windows.iter().flat_map(|w| [w.start, w.end]))
        .ok_or_else(|| ChartError::Empty("no time".to_owned()))?;
    let returns: Vec<f64> = windows
        .iter()
        .flat_map(|w| [Some(f(w.strategy_pct)), w.buy_and_hold_pct.map(f)])
        .flatten()
        .chain([0.0])
        .collect();
    let values = value_range(returns);
    render(HEIGHT, title, |body| {
        let mut ctx = drawn(
            ChartBuilder::on(body)
                .margin_right(30)
                .margin_left(16)
                .margin_left(16)
                .margin_top(10)
                .x_label_area_size(X_LABELS)
                .y_label_area_size(Y_LABELS)
                .build_cartesian_2d(axis.range(), values.clone()),
        )?;
        let label_x = |t: &i64| axis.label(*t);
        let label_y = |v: &f64| format!("{v:.1} %");
        drawn(
            ctx.configure_mesh()
                .x_labels(8)
                .y_labels(8)
                .x_label_formatter(&label_x)
                .y_label_formatter(&label_y)
                .x_desc(axis.description())
                .y_desc("return over the window (%)")
                .label_style(text(15))
                .axis_desc_style(text(16))
                .light_line_style(WHITE.mix(0.0))
                .bold_line_style(BLACK.mix(0.08))
                .draw(),
        )?;
        drawn(ctx.draw_series(LineSeries::new(
            [(axis.start, 0.0), (axis.end, 0.0)],
            GREY.stroke_width(1),
        )))?;
        let bar = |w: &WindowReturn, first_half: bool, value: f64| {
            let (start, end) = (w.start.as_millis(), w.end.as_millis());
            let gap = (end - start) / 20;
            let middle = start + (end - start) / 2;
            let (from, to) = if first_half {
                (start + gap, middle)
            } else {
                (middle, end - gap)
            };
            [(from, 0.0), (to, value)]
        };
        drawn(
            ctx.draw_series(
                windows
                    .iter()
                    .map(|w| Rectangle::new(bar(w, true, f(w.strategy_pct)), BLUE.filled())),
            ),
        )?
        .label("strategy")
        .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], BLUE.filled()));
        drawn(ctx.draw_series(windows.iter().filter_map(|w| {
            w.buy_and_hold_pct
                .map(|b| Rectangle::new(bar(w, false, f(b)), ORANGE.filled()))
        })))?
        .label("buy-and-hold")
        .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], ORANGE.filled()));
        drawn(
            ctx.configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .label_font(text(15))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .draw(),
        )
    })
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn a_tier_counts_its_last_known_value() {
        let s = Series::new(
            "cash",
            vec![
                (Timestamp::from_millis(10), dec!(5)),
                (Timestamp::from_millis(20), dec!(7)),
            ],
        );
        assert_eq!(value_at(&s, Timestamp::from_millis(5)), dec!(0));
        assert_eq!(value_at(&s, Timestamp::from_millis(15)), dec!(5));
        assert_eq!(value_at(&s, Timestamp::from_millis(25)), dec!(7));
    }
}
