//! Throughput of the shared matching engine on real BTCUSDT 1m candles with a live grid of
//! resting limit orders (each fill is replaced by the opposite order one level away, as the grid
//! bot does), in candles per second.
//!
//! Candles are read from `HYBRID_KLINES_DIR` (default `../shared/data/klines` beside the
//! repository); they are never copied into the repository.
#![allow(
    clippy::unwrap_used,
    reason = "a benchmark fails loudly on missing data"
)]
#![allow(
    missing_docs,
    reason = "criterion's macros generate undocumented items"
)]

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hybrid_core::{
    Asset, Candle, CandleCsvReader, ClientOrderId, CohortId, Fill, OrderKind, Price, Quantity,
    Side, Symbol, SymbolFilters, TimeInForce, Timestamp,
};
use hybrid_exchange::{Balance, MatchingConfig, MatchingEngine, OrderRequest};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

/// Grid spacing between levels: 0.5 %.
const SPACING: Decimal = dec!(0.005);
/// Base quantity per level.
const LEVEL_QUANTITY: Decimal = dec!(0.001);

fn klines_dir() -> PathBuf {
    std::env::var_os("HYBRID_KLINES_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/klines"),
        PathBuf::from,
    )
}

fn load_candles() -> Vec<Candle> {
    let path = klines_dir().join("BTCUSDT-1m.csv");
    CandleCsvReader::open(&path)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

fn symbol() -> Symbol {
    Symbol::new("BTCUSDT").unwrap()
}

fn filters() -> SymbolFilters {
    SymbolFilters {
        min_qty: dec!(0.00001),
        min_notional: dec!(5),
        ..SymbolFilters::with_steps(symbol(), dec!(0.01), dec!(0.00001))
    }
}

/// A grid bot reduced to its order flow: places levels, replaces each fill with the opposite
/// order one level away.
struct Grid {
    engine: MatchingEngine,
    filters: SymbolFilters,
    sequence: u64,
}

impl Grid {
    fn new(first: &Candle, levels: u32) -> Self {
        let balances = [
            Balance {
                asset: Asset::new("USDT").unwrap(),
                free: dec!(10000000),
                locked: Decimal::ZERO,
            },
            Balance {
                asset: Asset::new("BTC").unwrap(),
                free: dec!(100),
                locked: Decimal::ZERO,
            },
        ];
        let engine = MatchingEngine::new(MatchingConfig::default(), vec![filters()], &balances);
        let mut grid = Self {
            engine,
            filters: filters(),
            sequence: 0,
        };
        let start = first.open_time();
        grid.engine.on_price(&symbol(), first.open(), start);
        let center = first.open().value();
        for level in 1..=levels / 2 {
            let offset = SPACING * Decimal::from(level);
            grid.place(Side::Buy, center * (Decimal::ONE - offset), start);
            grid.place(Side::Sell, center * (Decimal::ONE + offset), start);
        }
        grid
    }

    fn place(&mut self, side: Side, price: Decimal, now: Timestamp) {
        self.sequence += 1;
        let request = OrderRequest {
            client_order_id: ClientOrderId::new(CohortId::new(1), &symbol(), self.sequence)
                .unwrap(),
            cohort: CohortId::new(1),
            symbol: symbol(),
            side,
            kind: OrderKind::Limit,
            time_in_force: Some(TimeInForce::GoodTillCancel),
            price: Some(self.filters.round_price(side, price).unwrap()),
            quantity: Quantity::new(LEVEL_QUANTITY).unwrap(),
        };
        // A level that would cross right away is simply skipped, as the grid does.
        let _ = self.engine.place(&request, now);
    }

    fn on_fills(&mut self, fills: &[Fill], now: Timestamp) {
        for fill in fills {
            let price: Price = fill.price;
            let (side, next) = match fill.side {
                Side::Buy => (Side::Sell, price.value() * (Decimal::ONE + SPACING)),
                Side::Sell => (Side::Buy, price.value() * (Decimal::ONE - SPACING)),
            };
            self.place(side, next, now);
        }
    }

    fn replay(&mut self, candles: &[Candle]) -> usize {
        let symbol = symbol();
        let mut n_fills = 0;
        for candle in candles {
            let fills = self.engine.on_candle(&symbol, candle);
            n_fills += fills.len();
            self.on_fills(&fills, candle.open_time());
        }
        n_fills
    }
}

fn matching(c: &mut Criterion) {
    let candles = load_candles();
    let mut group = c.benchmark_group("matching_engine");
    group.throughput(Throughput::Elements(candles.len() as u64));
    group.sample_size(10);
    for levels in [20u32, 100] {
        let n_fills = Grid::new(&candles[0], levels).replay(&candles);
        eprintln!(
            "{levels} levels over {} candles: {n_fills} fills",
            candles.len()
        );
        group.bench_with_input(
            BenchmarkId::new("btcusdt_1m_grid_levels", levels),
            &levels,
            |b, &levels| {
                b.iter_batched(
                    || Grid::new(&candles[0], levels),
                    |mut grid| grid.replay(&candles),
                    criterion::BatchSize::LargeInput,
                );
            },
        );
    }
    group.finish();
}

criterion_group!(benches, matching);
criterion_main!(benches);
