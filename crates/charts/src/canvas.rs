//! What every chart shares: the embedded font, the bitmap and its PNG encoding, the dated
//! time axis, value ranges and labels, and the palette.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use hybrid_core::Timestamp;
use plotters::{
    coord::{
        combinators::{BindKeyPoints, WithKeyPoints},
        types::RangedCoordi64,
        Shift,
    },
    prelude::{BitMapBackend, DrawingArea, IntoDrawingArea, RGBColor, WHITE},
    style::{FontStyle, IntoFont, TextStyle},
};
use rust_decimal::{prelude::ToPrimitive, Decimal};

use crate::ChartError;

/// DejaVu Sans (Bitstream Vera licence, `fonts/LICENSE-DejaVu.txt`).
static FONT_BYTES: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
/// The family name charts ask plotters for.
pub(crate) const FONT: &str = "sans-serif";

/// Strategy / first series.
pub(crate) const BLUE: RGBColor = RGBColor(31, 119, 180);
/// Buy-and-hold / second series.
pub(crate) const ORANGE: RGBColor = RGBColor(255, 127, 14);
/// Buys, HOLD mode.
pub(crate) const GREEN: RGBColor = RGBColor(44, 160, 44);
/// Sells, drawdown, stops.
pub(crate) const RED: RGBColor = RGBColor(214, 39, 40);
/// GRID mode.
pub(crate) const PURPLE: RGBColor = RGBColor(148, 103, 189);
/// CASH mode, reference lines.
pub(crate) const GREY: RGBColor = RGBColor(170, 170, 170);
/// Text and the price line.
pub(crate) const INK: RGBColor = RGBColor(40, 40, 40);
/// One colour per series beyond the first two (the "tab10" palette).
pub(crate) const PALETTE: [RGBColor; 8] = [
    BLUE,
    ORANGE,
    GREEN,
    RED,
    PURPLE,
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

/// Width of every chart, pixels.
pub(crate) const WIDTH: u32 = 1200;
/// Room for the value axis's labels and description, pixels (the same in every panel, so
/// stacked panels share their time axis exactly).
pub(crate) const Y_LABELS: u32 = 100;
/// Room for the time axis's labels and description, pixels.
pub(crate) const X_LABELS: u32 = 56;

/// Registers the embedded font with plotters once per process.
fn ensure_font() -> Result<(), ChartError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(ChartError::Draw(
            "the embedded font cannot be read".to_owned(),
        ))
    }
}

/// A text style of `size` pixels in the embedded font.
pub(crate) fn text(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&INK)
}

/// Maps any plotters error to [`ChartError::Draw`].
pub(crate) fn drawn<T, E: std::fmt::Display>(result: Result<T, E>) -> Result<T, ChartError> {
    result.map_err(|e| ChartError::Draw(e.to_string()))
}

/// Draws on a white `WIDTH × height` bitmap with `title` on top and returns it as PNG.
pub(crate) fn render(
    height: u32,
    title: &str,
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<(), ChartError>,
) -> Result<Vec<u8>, ChartError> {
    ensure_font()?;
    let pixels = usize::try_from(WIDTH * height * 3)
        .map_err(|e| ChartError::Draw(format!("image too large: {e}")))?;
    let mut buffer = vec![0_u8; pixels];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (WIDTH, height)).into_drawing_area();
        drawn(root.fill(&WHITE))?;
        let body = drawn(root.titled(title, text(26)))?;
        draw(&body)?;
        drawn(root.present())?;
    }
    encode_png(&buffer, WIDTH, height)
}

/// An RGB buffer as a compressed PNG.
fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, ChartError> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Default);
        let mut writer = encoder
            .write_header()
            .map_err(|e| ChartError::Encode(e.to_string()))?;
        writer
            .write_image_data(rgb)
            .map_err(|e| ChartError::Encode(e.to_string()))?;
        writer
            .finish()
            .map_err(|e| ChartError::Encode(e.to_string()))?;
    }
    Ok(out)
}

/// A decimal as a drawing coordinate.
pub(crate) fn f(value: Decimal) -> f64 {
    value.to_f64().unwrap_or(0.0)
}

/// The time range `[first, last]` of the axis, in UTC milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimeAxis {
    /// First instant shown.
    pub(crate) start: i64,
    /// Last instant shown (after `start`).
    pub(crate) end: i64,
}

impl TimeAxis {
    /// The axis spanning every time in `times`, or `None` when there is none.
    pub(crate) fn spanning(times: impl IntoIterator<Item = Timestamp>) -> Option<Self> {
        let mut range: Option<(i64, i64)> = None;
        for t in times {
            let t = t.as_millis();
            range = Some(range.map_or((t, t), |(a, b)| (a.min(t), b.max(t))));
        }
        range.map(|(start, end)| Self {
            start,
            end: end.max(start + 60_000),
        })
    }

    /// The axis as a plotters range, ticked at round times (see [`Self::ticks`]).
    pub(crate) fn range(self) -> WithKeyPoints<RangedCoordi64> {
        (self.start..self.end).with_key_points(self.ticks())
    }

    /// The tick spacing: the smallest round step (a minute up to a year) that gives at most
    /// eight ticks.
    fn step(self) -> i64 {
        const MINUTE: i64 = 60_000;
        const HOUR: i64 = 60 * MINUTE;
        const DAY: i64 = Timestamp::DAY_MS;
        const STEPS: [i64; 17] = [
            MINUTE,
            5 * MINUTE,
            15 * MINUTE,
            30 * MINUTE,
            HOUR,
            2 * HOUR,
            3 * HOUR,
            6 * HOUR,
            12 * HOUR,
            DAY,
            2 * DAY,
            7 * DAY,
            14 * DAY,
            30 * DAY,
            91 * DAY,
            182 * DAY,
            365 * DAY,
        ];
        let span = self.end - self.start;
        STEPS
            .into_iter()
            .find(|step| span / step <= 7)
            .unwrap_or(365 * DAY)
    }

    /// Tick positions: the multiples of [`Self::step`] inside the axis (whole UTC days for
    /// steps of a day or more).
    pub(crate) fn ticks(self) -> Vec<i64> {
        let step = self.step();
        let first = (self.start + step - 1).div_euclid(step) * step;
        (0..)
            .map(|i| first + i * step)
            .take_while(|t| *t <= self.end)
            .collect()
    }

    /// A tick label: the date for steps of a day or more, date and time for steps of hours
    /// over more than a day, the time otherwise.
    pub(crate) fn label(self, millis: i64) -> String {
        let Some(at) = DateTime::<Utc>::from_timestamp_millis(millis) else {
            return String::new();
        };
        if self.step() >= Timestamp::DAY_MS {
            at.format("%Y-%m-%d").to_string()
        } else if self.end - self.start > Timestamp::DAY_MS {
            at.format("%m-%d %H:%M").to_string()
        } else {
            at.format("%H:%M").to_string()
        }
    }

    /// The axis description, naming the whole period so a short span still shows its date.
    pub(crate) fn description(self) -> String {
        let day = |ms: i64| {
            DateTime::<Utc>::from_timestamp_millis(ms)
                .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default()
        };
        format!("time (UTC), {} to {}", day(self.start), day(self.end))
    }
}

/// A value range covering `values` with a margin of 5 % each side (never empty).
pub(crate) fn value_range(values: impl IntoIterator<Item = f64>) -> std::ops::Range<f64> {
    let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values {
        if v.is_finite() {
            low = low.min(v);
            high = high.max(v);
        }
    }
    if !low.is_finite() {
        return 0.0..1.0;
    }
    let pad = if high > low {
        (high - low) * 0.05
    } else {
        low.abs().max(1.0) * 0.01
    };
    (low - pad)..(high + pad)
}

/// A value-axis label with as many decimals as the range needs and thousands separated.
pub(crate) fn value_label(value: f64, range: &std::ops::Range<f64>) -> String {
    let span = (range.end - range.start).abs();
    let decimals = if span >= 50.0 {
        0
    } else if span >= 1.0 {
        2
    } else {
        // Small prices (e.g. PEPE at 0.00001) need their significant digits.
        let digits = -span.log10().floor();
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a small positive digit count"
        )]
        let digits = digits.clamp(0.0, 12.0) as usize;
        digits + 2
    };
    let text = format!("{value:.decimals$}");
    group_thousands(&text)
}

/// `1234567.5` → `1 234 567.5` (thin groups keep big equity values readable).
fn group_thousands(text: &str) -> String {
    let (sign, rest) = text
        .strip_prefix('-')
        .map_or(("", text), |rest| ("-", rest));
    let (int, frac) = rest
        .split_once('.')
        .map_or((rest, None), |(i, f)| (i, Some(f)));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(' ');
        }
        grouped.push(c);
    }
    match frac {
        Some(frac) => format!("{sign}{grouped}.{frac}"),
        None => format!("{sign}{grouped}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_group_thousands_and_keep_the_digits_small_prices_need() {
        assert_eq!(value_label(1_234_567.4, &(0.0..2_000_000.0)), "1 234 567");
        assert_eq!(value_label(-1_500.0, &(-2_000.0..0.0)), "-1 500");
        assert_eq!(value_label(12.345, &(10.0..20.0)), "12.35");
        assert_eq!(value_label(0.000_012_3, &(0.000_01..0.000_02)), "0.0000123");
    }

    #[test]
    fn the_time_axis_labels_dates_for_long_spans_and_hours_for_short_ones() {
        let day = Timestamp::DAY_MS;
        let start = 1_704_067_200_000; // 2024-01-01T00:00Z
        let long = TimeAxis {
            start,
            end: start + 30 * day,
        };
        assert_eq!(long.label(start + day), "2024-01-02");
        assert_eq!(long.ticks().len(), 4, "{:?}", long.ticks());
        assert!(long.ticks().iter().all(|t| t % (7 * day) == 0));
        let short = TimeAxis {
            start,
            end: start + day / 4,
        };
        assert_eq!(short.label(start + 3_600_000), "01:00");
        assert_eq!(short.ticks()[0], start);
        assert!(short.ticks().windows(2).all(|w| w[1] - w[0] == 3_600_000));
        assert_eq!(
            short.description(),
            "time (UTC), 2024-01-01 00:00 to 2024-01-01 06:00"
        );
    }

    #[test]
    fn a_flat_series_still_gets_a_range() {
        let r = value_range([100.0, 100.0]);
        assert!(r.start < 100.0 && r.end > 100.0);
        assert_eq!(value_range(std::iter::empty()), 0.0..1.0);
    }
}
