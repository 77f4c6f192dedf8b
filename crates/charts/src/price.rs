//! One coin's price chart for the dashboard's coin page: the price line, the resting orders as
//! horizontal lines (buys green, sells red), the stop level, and the fills as triangles.

use hybrid_core::{Side, Timestamp};
use plotters::{
    prelude::{
        ChartBuilder, DashedLineSeries, LineSeries, PathElement, SeriesLabelPosition,
        TriangleMarker, BLACK, WHITE,
    },
    style::Color,
};
use rust_decimal::Decimal;

use crate::{
    canvas::{
        drawn, f, render, text, value_label, value_range, TimeAxis, GREEN, INK, RED, X_LABELS,
        Y_LABELS,
    },
    ChartError, Series,
};

/// Height of the price chart, pixels.
const HEIGHT: u32 = 560;

/// What the price chart shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceChart {
    /// The title, e.g. `BTCUSDT (aggressive): GRID`.
    pub title: String,
    /// The quote currency, the value axis's unit.
    pub quote: String,
    /// The price over time (at least two points).
    pub prices: Series,
    /// Orders resting on the exchange.
    pub orders: Vec<OrderLevel>,
    /// The active stop-loss's trigger price, if any.
    pub stop: Option<Decimal>,
    /// Recent fills.
    pub fills: Vec<ChartFill>,
}

/// A resting limit order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderLevel {
    /// Buy or sell.
    pub side: Side,
    /// Its limit price.
    pub price: Decimal,
}

/// A fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChartFill {
    /// When it happened.
    pub time: Timestamp,
    /// Bought or sold.
    pub side: Side,
    /// At what price.
    pub price: Decimal,
}

/// The chart as PNG.
///
/// # Errors
/// [`ChartError::Empty`] when the price series has fewer than two points; drawing or
/// encoding failures.
pub fn price_chart_png(chart: &PriceChart) -> Result<Vec<u8>, ChartError> {
    if chart.prices.is_too_short() {
        return Err(ChartError::Empty(format!(
            "{} has {} price point(s)",
            chart.prices.label,
            chart.prices.points.len()
        )));
    }
    let axis = TimeAxis::spanning(
        chart
            .prices
            .points
            .iter()
            .map(|p| p.0)
            .chain(chart.fills.iter().map(|f| f.time)),
    )
    .ok_or_else(|| ChartError::Empty("no time".to_owned()))?;
    let values = value_range(
        chart
            .prices
            .points
            .iter()
            .map(|p| f(p.1))
            .chain(chart.orders.iter().map(|o| f(o.price)))
            .chain(chart.stop.map(f))
            .chain(chart.fills.iter().map(|x| f(x.price))),
    );
    render(HEIGHT, &chart.title, |body| {
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
                .y_desc(format!("price ({})", chart.quote))
                .label_style(text(15))
                .axis_desc_style(text(16))
                .light_line_style(WHITE.mix(0.0))
                .bold_line_style(BLACK.mix(0.08))
                .draw(),
        )?;
        let level = |price: Decimal| [(axis.start, f(price)), (axis.end, f(price))];
        for (side, colour, name) in [
            (Side::Buy, GREEN, "buy orders"),
            (Side::Sell, RED, "sell orders"),
        ] {
            let mut labelled = false;
            for order in chart.orders.iter().filter(|o| o.side == side) {
                let anno = drawn(ctx.draw_series(DashedLineSeries::new(
                    level(order.price),
                    8,
                    5,
                    colour.stroke_width(1),
                )))?;
                if !labelled {
                    labelled = true;
                    let count = chart.orders.iter().filter(|o| o.side == side).count();
                    anno.label(format!("{name} ({count})"))
                        .legend(move |(x, y)| {
                            PathElement::new([(x, y), (x + 24, y)], colour.stroke_width(1))
                        });
                }
            }
        }
        if let Some(stop) = chart.stop {
            drawn(ctx.draw_series(LineSeries::new(level(stop), RED.stroke_width(3))))?
                .label(format!("stop {}", value_label(f(stop), &values)))
                .legend(|(x, y)| PathElement::new([(x, y), (x + 24, y)], RED.stroke_width(3)));
        }
        let prices = chart
            .prices
            .points
            .iter()
            .map(|(t, v)| (t.as_millis(), f(*v)));
        drawn(ctx.draw_series(LineSeries::new(prices, INK.stroke_width(2))))?
            .label(chart.prices.label.clone())
            .legend(|(x, y)| PathElement::new([(x, y), (x + 24, y)], INK.stroke_width(2)));
        for (side, colour, name) in [(Side::Buy, GREEN, "bought"), (Side::Sell, RED, "sold")] {
            let marks: Vec<_> = chart
                .fills
                .iter()
                .filter(|x| x.side == side)
                .map(|x| TriangleMarker::new((x.time.as_millis(), f(x.price)), 7, colour.filled()))
                .collect();
            if !marks.is_empty() {
                drawn(ctx.draw_series(marks))?
                    .label(name)
                    .legend(move |(x, y)| TriangleMarker::new((x + 10, y), 6, colour.filled()));
            }
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
