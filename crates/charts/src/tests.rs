//! Each chart drawn from made-up data, decoded again and checked for its colours; with
//! `HYBRID_CHART_OUT=DIR` the images are also written there for a person to look at.

use hybrid_core::{Side, Timestamp, TradingMode};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::{
    cohorts_chart_png, equity_chart_png, mode_spans, price_chart_png, tiers_chart_png,
    windows_chart_png, ChartError, ChartFill, EquityChart, OrderLevel, PriceChart, Series,
    WindowReturn,
};

const START: i64 = 1_704_067_200_000; // 2024-01-01T00:00Z
const HOUR: i64 = 3_600_000;

fn at(hours: i64) -> Timestamp {
    Timestamp::from_millis(START + hours * HOUR)
}

/// A deterministic wavy curve around `base`.
fn curve(base: i64, hours: i64, wobble: i64, trend: i64) -> Vec<(Timestamp, Decimal)> {
    (0..hours)
        .map(|h| {
            let wave = ((h * 37) % 29 - 14) * wobble;
            (at(h), Decimal::from(base + wave + trend * h))
        })
        .collect()
}

/// Decodes a PNG into (width, height, RGB bytes).
fn decode(png: &[u8]) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().expect("a PNG header");
    let mut buffer = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buffer).expect("a PNG frame");
    buffer.truncate(info.buffer_size());
    (info.width, info.height, buffer)
}

/// How many pixels have exactly `rgb`.
fn count(pixels: &[u8], rgb: [u8; 3]) -> usize {
    pixels.chunks(3).filter(|p| *p == rgb).count()
}

fn save(name: &str, png: &[u8]) {
    if let Some(dir) = std::env::var_os("HYBRID_CHART_OUT") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).expect("output folder");
        std::fs::write(dir.join(name), png).expect("write chart");
    }
}

const BLUE: [u8; 3] = [31, 119, 180];
const ORANGE: [u8; 3] = [255, 127, 14];

#[test]
fn the_backtest_chart_shows_strategy_buy_and_hold_modes_and_drawdown() {
    let modes = mode_spans(
        &[
            ("BTCUSDT".to_owned(), TradingMode::Cash),
            ("ETHUSDT".to_owned(), TradingMode::Grid),
        ],
        &[
            (at(200), "BTCUSDT".to_owned(), TradingMode::Hold),
            (at(500), "BTCUSDT".to_owned(), TradingMode::Grid),
            (at(350), "ETHUSDT".to_owned(), TradingMode::Cash),
        ],
        at(0),
        at(719),
    );
    let chart = EquityChart {
        title: "Backtest BTCUSDT, ETHUSDT (1h): equity against buy-and-hold".to_owned(),
        currency: "USDT".to_owned(),
        strategy: Series::new("strategy", curve(10_000, 720, 12, 3)),
        benchmark: Some(Series::new("buy-and-hold", curve(10_000, 720, 40, -2))),
        modes,
    };
    let png = equity_chart_png(&chart).expect("chart");
    save("equity.png", &png);
    let (w, h, pixels) = decode(&png);
    assert_eq!(w, 1200);
    assert!(h > 700, "{h}");
    assert!(count(&pixels, BLUE) > 1_000, "strategy line missing");
    assert!(count(&pixels, ORANGE) > 1_000, "buy-and-hold line missing");
}

#[test]
fn an_equity_curve_of_one_point_is_refused_as_empty() {
    let chart = EquityChart {
        title: "t".to_owned(),
        currency: "USDT".to_owned(),
        strategy: Series::new("strategy", curve(100, 1, 1, 0)),
        benchmark: None,
        modes: Vec::new(),
    };
    assert!(matches!(
        equity_chart_png(&chart),
        Err(ChartError::Empty(_))
    ));
}

#[test]
fn cohorts_are_drawn_side_by_side_one_colour_each() {
    let series = vec![
        Series::new("conservative", curve(1_000, 240, 1, 1)),
        Series::new("aggressive", curve(1_000, 240, 4, -1)),
        Series::new("baseline", curve(1_000, 240, 0, 0)),
    ];
    let png = cohorts_chart_png("Cohorts: equity", "USDT", &series).expect("chart");
    save("cohorts.png", &png);
    let (_, _, pixels) = decode(&png);
    assert!(count(&pixels, BLUE) > 500);
    assert!(count(&pixels, ORANGE) > 500);
    assert!(matches!(
        cohorts_chart_png("x", "USDT", &[Series::new("a", Vec::new())]),
        Err(ChartError::Empty(_))
    ));
}

#[test]
fn tiers_are_stacked_to_the_total() {
    let flat = |value: i64| -> Vec<(Timestamp, Decimal)> {
        (0..30)
            .map(|d| (at(d * 24), Decimal::from(value + d * 10)))
            .collect()
    };
    let tiers = vec![
        Series::new("cash reserve", flat(2_000)),
        Series::new("index holdings", flat(3_000)),
        Series::new("trading", flat(5_000)),
    ];
    let png = tiers_chart_png("Portfolio tiers", "USDT", &tiers).expect("chart");
    save("tiers.png", &png);
    let (_, _, pixels) = decode(&png);
    // The palette's third colour (trading, on top) fills a band.
    assert!(
        count(&pixels, [44, 160, 44]) > 100,
        "the trading band is missing"
    );
    assert!(matches!(
        tiers_chart_png("x", "USDT", &[Series::new("a", flat(1)[..1].to_vec())]),
        Err(ChartError::Empty(_))
    ));
}

#[test]
fn windows_show_strategy_and_buy_and_hold_bars() {
    let windows: Vec<WindowReturn> = (0..6)
        .map(|i| WindowReturn {
            start: at(i * 24 * 30),
            end: at((i + 1) * 24 * 30 - 1),
            strategy_pct: Decimal::from(i * 2 - 4),
            buy_and_hold_pct: (i != 3).then(|| Decimal::from(5 - i * 3)),
        })
        .collect();
    let png = windows_chart_png("Strategy against buy-and-hold per 30-day window", &windows)
        .expect("chart");
    save("windows.png", &png);
    let (_, _, pixels) = decode(&png);
    assert!(count(&pixels, BLUE) > 1_000);
    assert!(count(&pixels, ORANGE) > 1_000);
    assert!(matches!(
        windows_chart_png("x", &[]),
        Err(ChartError::Empty(_))
    ));
}

#[test]
fn the_price_chart_draws_orders_stop_and_fills() {
    let chart = PriceChart {
        title: "BTCUSDT (aggressive): GRID".to_owned(),
        quote: "USDT".to_owned(),
        prices: Series::new("BTCUSDT price", curve(42_000, 48, 60, 5)),
        orders: vec![
            OrderLevel {
                side: Side::Buy,
                price: dec!(41500),
            },
            OrderLevel {
                side: Side::Buy,
                price: dec!(41000),
            },
            OrderLevel {
                side: Side::Sell,
                price: dec!(43200),
            },
        ],
        stop: Some(dec!(40200)),
        fills: vec![
            ChartFill {
                time: at(10),
                side: Side::Buy,
                price: dec!(41800),
            },
            ChartFill {
                time: at(30),
                side: Side::Sell,
                price: dec!(42600),
            },
        ],
    };
    let png = price_chart_png(&chart).expect("chart");
    save("price.png", &png);
    let (_, _, pixels) = decode(&png);
    assert!(count(&pixels, [214, 39, 40]) > 500, "stop line missing");
}
