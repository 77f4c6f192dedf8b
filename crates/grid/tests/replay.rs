//! Replays a real month of BTCUSDT 1-minute candles through a grid with a minimal matcher and
//! checks the grid doctor's invariants and the books after every event.
//!
//! The candles are read from `../shared/data/klines/` (override with `HYBRID_KLINES_DIR`);
//! they are never copied into the repository. Matcher: a resting limit buy fills when the
//! candle's low reaches its price, a sell when the high does, at the limit price, with a 0.1 %
//! fee taken in the asset received. Orders placed on a candle can fill from the next one.
//! When the grid asks for a rebuild, a new grid is centred on the price with the dynamic range
//! and carries over the old grid's cash and inventory.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failure should stop the test loudly"
)]

use std::path::PathBuf;

use hybrid_core::{
    Asset, Candle, CandleCsvReader, ClientOrderId, CohortId, Fill, Price, Quantity, Side, Symbol,
    SymbolFilters, Timestamp,
};
use hybrid_grid::{dynamic, GridBot, GridConfig, GridIntent, GridParams};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

const FEE: Decimal = dec!(0.001);

fn klines_dir() -> PathBuf {
    std::env::var_os("HYBRID_KLINES_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/klines"),
        PathBuf::from,
    )
}

fn filters() -> SymbolFilters {
    let mut f =
        SymbolFilters::with_steps(Symbol::new("BTCUSDT").unwrap(), dec!(0.01), dec!(0.00001));
    f.min_qty = dec!(0.00001);
    f.min_notional = dec!(5);
    f
}

/// A resting order as the matcher sees it.
struct Resting {
    id: ClientOrderId,
    side: Side,
    price: Price,
    quantity: Quantity,
}

/// The test's own books, to compare with the grid's ledger.
struct Books {
    cash: Decimal,
    inventory: Decimal,
}

struct Replay {
    bot: GridBot,
    book: Vec<Resting>,
    books: Books,
    next_trade: i64,
    fills: usize,
    rebuilds: usize,
    window: Vec<Candle>,
}

impl Replay {
    fn apply(&mut self, intents: Vec<GridIntent>, now: Timestamp) {
        let breaches = self.bot.check_invariants();
        assert!(breaches.is_empty(), "at {}: {breaches:?}", now.as_millis());
        let mut rebuild = false;
        for intent in intents {
            match intent {
                GridIntent::Place {
                    client_order_id,
                    order,
                    ..
                } => self.book.push(Resting {
                    id: client_order_id,
                    side: order.side(),
                    price: order.price(),
                    quantity: order.quantity(),
                }),
                GridIntent::Cancel { client_order_id } => {
                    self.book.retain(|o| o.id != client_order_id);
                }
                GridIntent::Halt { reason } => {
                    panic!("grid halted at {}: {reason}", now.as_millis())
                }
                GridIntent::Rebuild { .. } => rebuild = true,
                GridIntent::Alert { .. } => {}
            }
        }
        if rebuild {
            self.rebuild(now);
        }
    }

    /// Fills what the candle crossed, one event per order, O(orders).
    fn match_candle(&mut self, candle: &Candle, now: Timestamp) {
        let (low, high) = (candle.low(), candle.high());
        let (crossed, resting): (Vec<Resting>, Vec<Resting>) = std::mem::take(&mut self.book)
            .into_iter()
            .partition(|o| match o.side {
                Side::Buy => low <= o.price,
                Side::Sell => high >= o.price,
            });
        self.book = resting;
        for order in crossed {
            let fill = self.fill(&order, now);
            let out = self.bot.on_fill(&fill, now);
            self.apply(out, now);
        }
    }

    fn fill(&mut self, order: &Resting, now: Timestamp) -> Fill {
        let symbol = Symbol::new("BTCUSDT").unwrap();
        let (qty, value) = (
            order.quantity.value(),
            order.price.value() * order.quantity.value(),
        );
        let (commission, asset): (Decimal, Asset) = match order.side {
            Side::Buy => {
                self.books.cash -= value;
                self.books.inventory += qty - qty * FEE;
                (qty * FEE, symbol.base())
            }
            Side::Sell => {
                self.books.cash += value - value * FEE;
                self.books.inventory -= qty;
                (value * FEE, symbol.quote())
            }
        };
        self.next_trade += 1;
        self.fills += 1;
        Fill {
            client_order_id: order.id.clone(),
            exchange_order_id: self.next_trade,
            trade_id: self.next_trade,
            symbol,
            side: order.side,
            price: order.price,
            quantity: order.quantity,
            commission,
            commission_asset: asset,
            is_maker: true,
            time: now,
        }
    }

    /// Replaces the grid with one centred on the last price, sized by the dynamic range,
    /// carrying over cash and inventory.
    fn rebuild(&mut self, now: Timestamp) {
        self.rebuilds += 1;
        let price = self.window.last().unwrap().close();
        let range = dynamic::dynamic_range(&self.window, dec!(5), 10, None);
        let params = self
            .bot
            .rebuild_params(price, range.range_pct, range.num_grids);
        let config = GridConfig::new(params, filters()).unwrap();
        let next = self.book.len() as u64 + 1_000_000 * (self.rebuilds as u64);
        self.bot = GridBot::new(config, CohortId::new(1), next, now);
        self.book.clear();
        let out = self.bot.on_price(price, now);
        self.apply(out, now);
    }
}

#[test]
fn replay_a_month_of_btcusdt_1m_through_a_grid() {
    let path = klines_dir().join("BTCUSDT-1m.csv");
    let candles: Vec<Candle> = CandleCsvReader::open(&path)
        .unwrap_or_else(|e| panic!("set HYBRID_KLINES_DIR to the klines folder: {e}"))
        .map(Result::unwrap)
        .collect();
    assert!(candles.len() > 40_000, "a month of minutes");
    let first = candles[0].close();
    let investment = dec!(1000);
    let config = GridConfig::new(
        GridParams::around(first, dec!(5), 10, investment),
        filters(),
    )
    .unwrap();
    let mut replay = Replay {
        bot: GridBot::new(config, CohortId::new(1), 1, candles[0].open_time()),
        book: Vec::new(),
        books: Books {
            cash: investment,
            inventory: Decimal::ZERO,
        },
        next_trade: 0,
        fills: 0,
        rebuilds: 0,
        window: Vec::with_capacity(256),
    };
    for candle in &candles {
        let now = candle.open_time().plus_millis(Timestamp::MINUTE_MS);
        if replay.window.len() == 200 {
            replay.window.remove(0);
        }
        replay.window.push(*candle);
        replay.match_candle(candle, now);
        let out = replay.bot.on_candle(candle, now);
        replay.apply(out, now);
        assert_eq!(replay.bot.ledger().cash, replay.books.cash);
        assert_eq!(replay.bot.ledger().inventory, replay.books.inventory);
    }
    let last = candles.last().unwrap().close().value();
    let equity = replay.books.cash + replay.books.inventory * last;
    println!(
        "fills {}, rebuilds {}, cash {}, inventory {}, equity {equity}",
        replay.fills, replay.rebuilds, replay.books.cash, replay.books.inventory
    );
    assert!(replay.fills > 10, "the grid traded");
    assert!(replay.books.cash >= Decimal::ZERO && replay.books.inventory >= Decimal::ZERO);
}
