//! [`SimExchange`]: the backtest venue. Candles drive the shared [`MatchingEngine`]; time comes
//! from a [`SimClock`] that the replay driver advances, so a backtest runs as fast as the CPU
//! allows and is deterministic.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex, PoisonError},
};

use hybrid_core::{
    Candle, Clock, Fill, Notional, Order, Price, Quantity, SimClock, Symbol, SymbolFilters,
    Timestamp,
};
use rust_decimal::Decimal;

use crate::{
    error::ExchangeError,
    exchange::{
        Account, Balance, MarketData, OrderAck, OrderRef, OrderRequest, Ticker24h, TickerPrice,
        TradesFrom,
    },
    feed::MarketEvent,
    matching::MatchingEngine,
    shared_engine::SharedEngine,
    venue::Venue,
};

/// How a [`SimExchange`] serves market data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimConfig {
    /// The interval of the replayed candles in Binance spelling (`1m`, `1h`, …); `klines` serves
    /// only this interval.
    pub interval: String,
    /// How many past candles per symbol `klines` and `ticker_24h` can see (1,500 covers a day
    /// of 1m candles and 60 days of 1h candles).
    pub history_capacity: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            interval: "1h".to_owned(),
            history_capacity: 1500,
        }
    }
}

/// The backtest exchange: [`MarketData`] and an [`Account`] over a [`MatchingEngine`] fed candle by candle.
///
/// The replay driver, for each candle: advances the clock to the candle's close, calls
/// [`SimExchange::on_candle`] (which fills resting orders along the intra-candle path), hands
/// the fills to the strategies, and lets them place orders, which are stamped with the clock.
#[derive(Debug)]
pub struct SimExchange {
    venue: SharedEngine,
    clock: Arc<SimClock>,
    config: SimConfig,
    history: Mutex<HashMap<Symbol, VecDeque<Candle>>>,
}

impl SimExchange {
    /// A backtest exchange over `engine`, reading time from `clock`.
    #[must_use]
    pub fn new(engine: MatchingEngine, clock: Arc<SimClock>, config: SimConfig) -> Self {
        Self {
            venue: SharedEngine::new(engine),
            clock,
            config,
            history: Mutex::new(HashMap::new()),
        }
    }

    /// Replays one candle of `symbol`: records it for `klines`/`ticker_24h` and returns the
    /// fills of resting orders it crossed.
    pub fn on_candle(&self, symbol: &Symbol, candle: &Candle) -> Vec<Fill> {
        self.remember(symbol, candle);
        self.venue.with(|engine| engine.on_candle(symbol, candle))
    }

    /// A single price tick (e.g. to set the opening price before the first candle).
    pub fn on_price(&self, symbol: &Symbol, price: Price) -> Vec<Fill> {
        let now = self.clock.now();
        self.venue
            .with(|engine| engine.on_price(symbol, price, now))
    }

    /// Runs `f` on the underlying engine (for reports: balances, state, all trades).
    pub fn with_engine<R>(&self, f: impl FnOnce(&mut MatchingEngine) -> R) -> R {
        self.venue.with(f)
    }

    fn remember(&self, symbol: &Symbol, candle: &Candle) {
        let mut history = self.history.lock().unwrap_or_else(PoisonError::into_inner);
        // Speed: the symbol (a `String`) is cloned only for its first candle.
        if !history.contains_key(symbol) {
            history.insert(symbol.clone(), VecDeque::new());
        }
        let Some(candles) = history.get_mut(symbol) else {
            return;
        };
        if candles.len() == self.config.history_capacity {
            candles.pop_front();
        }
        candles.push_back(*candle);
    }

    fn candles(&self, symbol: &Symbol) -> Vec<Candle> {
        let history = self.history.lock().unwrap_or_else(PoisonError::into_inner);
        history
            .get(symbol)
            .map(|c| c.iter().copied().collect())
            .unwrap_or_default()
    }
}

impl MarketData for SimExchange {
    async fn server_time(&self) -> Result<Timestamp, ExchangeError> {
        Ok(self.clock.now())
    }

    async fn exchange_info(&self) -> Result<Vec<SymbolFilters>, ExchangeError> {
        Ok(self.venue.with(|engine| engine.all_filters()))
    }

    async fn symbol_filters(&self, symbol: &Symbol) -> Result<SymbolFilters, ExchangeError> {
        symbol_filters(&self.venue, symbol)
    }

    async fn ticker_price(&self, symbol: &Symbol) -> Result<Price, ExchangeError> {
        ticker_price(&self.venue, symbol)
    }

    async fn ticker_prices(&self) -> Result<Vec<TickerPrice>, ExchangeError> {
        Ok(ticker_prices(&self.venue))
    }

    async fn ticker_24h(&self, symbol: &Symbol) -> Result<Ticker24h, ExchangeError> {
        let now = self.clock.now();
        let window: Vec<Candle> = self
            .candles(symbol)
            .into_iter()
            .filter(|c| c.open_time() >= now.plus_millis(-Timestamp::DAY_MS))
            .collect();
        ticker_24h_of(symbol, &window).ok_or_else(ExchangeError::invalid_symbol)
    }

    async fn klines(
        &self,
        symbol: &Symbol,
        interval: &str,
        start: Option<Timestamp>,
        end: Option<Timestamp>,
        limit: Option<u32>,
    ) -> Result<Vec<Candle>, ExchangeError> {
        if interval != self.config.interval {
            return Err(ExchangeError::InvalidRequest(format!(
                "the backtest replays {} candles; {interval} is not available",
                self.config.interval
            )));
        }
        Ok(select_klines(self.candles(symbol), start, end, limit))
    }
}

impl Account for SimExchange {
    async fn balances(&self) -> Result<Vec<Balance>, ExchangeError> {
        Ok(self.venue.with(|engine| engine.balances()))
    }

    async fn place_order(&self, request: &OrderRequest) -> Result<OrderAck, ExchangeError> {
        let now = self.clock.now();
        self.venue.with(|engine| engine.place(request, now))
    }

    async fn query_order(&self, symbol: &Symbol, order: &OrderRef) -> Result<Order, ExchangeError> {
        self.venue.with(|engine| engine.query(symbol, order))
    }

    async fn cancel_order(
        &self,
        symbol: &Symbol,
        order: &OrderRef,
    ) -> Result<Order, ExchangeError> {
        let now = self.clock.now();
        self.venue.with(|engine| engine.cancel(symbol, order, now))
    }

    async fn open_orders(&self, symbol: Option<&Symbol>) -> Result<Vec<Order>, ExchangeError> {
        Ok(self.venue.with(|engine| engine.open_orders(symbol)))
    }

    async fn my_trades(
        &self,
        symbol: &Symbol,
        from: TradesFrom,
    ) -> Result<Vec<Fill>, ExchangeError> {
        Ok(self.venue.with(|engine| engine.trades(symbol, from)))
    }
}

/// The backtest venue: a candle fills the resting orders along its path, a price tick those it
/// trades through.
impl Venue for SimExchange {
    async fn on_market(&self, event: &MarketEvent) -> Result<Vec<Fill>, ExchangeError> {
        Ok(match event {
            MarketEvent::Candle { symbol, candle } => {
                let fills = self.on_candle(symbol, candle);
                self.venue.with_catch_up(symbol, fills)
            }
            MarketEvent::Price { symbol, price, .. } => {
                let fills = self.on_price(symbol, *price);
                self.venue.with_catch_up(symbol, fills)
            }
        })
    }

    fn resume_trades(&self, symbol: &Symbol, from: TradesFrom) {
        self.venue.resume_trades(symbol, from);
    }
}

pub(crate) fn symbol_filters(
    venue: &SharedEngine,
    symbol: &Symbol,
) -> Result<SymbolFilters, ExchangeError> {
    venue
        .with(|engine| engine.filters(symbol).cloned())
        .ok_or_else(ExchangeError::invalid_symbol)
}

pub(crate) fn ticker_price(venue: &SharedEngine, symbol: &Symbol) -> Result<Price, ExchangeError> {
    venue
        .with(|engine| engine.last_price(symbol))
        .ok_or_else(ExchangeError::invalid_symbol)
}

pub(crate) fn ticker_prices(venue: &SharedEngine) -> Vec<TickerPrice> {
    venue.with(|engine| {
        engine
            .all_filters()
            .into_iter()
            .filter_map(|f| {
                let price = engine.last_price(&f.symbol)?;
                Some(TickerPrice {
                    symbol: f.symbol,
                    price,
                })
            })
            .collect()
    })
}

/// Candles with open time in `[start, end]`, oldest first, the first `limit` (default 500,
/// at most 1000, as Binance).
fn select_klines(
    candles: Vec<Candle>,
    start: Option<Timestamp>,
    end: Option<Timestamp>,
    limit: Option<u32>,
) -> Vec<Candle> {
    let limit = usize::try_from(limit.unwrap_or(500).min(1000)).unwrap_or(1000);
    let in_range = |c: &Candle| {
        start.is_none_or(|s| c.open_time() >= s) && end.is_none_or(|e| c.open_time() <= e)
    };
    let selected: Vec<Candle> = candles.into_iter().filter(in_range).collect();
    if start.is_some() {
        selected.into_iter().take(limit).collect()
    } else {
        let skip = selected.len().saturating_sub(limit);
        selected.into_iter().skip(skip).collect()
    }
}

/// 24-hour statistics from the candles of the window, oldest first; `None` without candles.
/// The quote volume is approximated as Σ close × volume (candles carry no quote volume).
pub(crate) fn ticker_24h_of(symbol: &Symbol, window: &[Candle]) -> Option<Ticker24h> {
    let first = window.first()?;
    let last = window.last()?;
    let high = window.iter().map(Candle::high).max()?;
    let low = window.iter().map(Candle::low).min()?;
    let volume: Quantity = window.iter().map(Candle::volume).sum();
    let quote_volume: Notional = window.iter().map(|c| c.close() * c.volume()).sum();
    let change = last.close().value() - first.open().value();
    let percent = (change * Decimal::ONE_HUNDRED / first.open().value()).round_dp(3);
    Some(Ticker24h {
        symbol: symbol.clone(),
        price_change: change,
        price_change_percent: percent,
        last_price: last.close(),
        high,
        low,
        volume,
        quote_volume,
    })
}

#[cfg(test)]
mod tests {
    use hybrid_core::{OrderKind, Side};
    use rust_decimal_macros::dec;

    use super::*;
    use crate::matching::{tests as engine_tests, MatchingConfig};

    fn candle_at(
        minute: i64,
        open: Decimal,
        high: Decimal,
        low: Decimal,
        close: Decimal,
    ) -> Candle {
        let p = |v| Price::new(v).unwrap();
        let time = Timestamp::from_millis(minute * Timestamp::MINUTE_MS);
        Candle::new(
            time,
            p(open),
            p(high),
            p(low),
            p(close),
            Quantity::new(dec!(2)).unwrap(),
        )
        .unwrap()
    }

    fn sim() -> (SimExchange, Arc<SimClock>) {
        let clock = Arc::new(SimClock::new(Timestamp::from_millis(0)));
        let config = SimConfig {
            interval: "1m".into(),
            history_capacity: 3,
        };
        let engine = engine_tests::engine_with(MatchingConfig::default());
        (SimExchange::new(engine, Arc::clone(&clock), config), clock)
    }

    #[tokio::test]
    async fn candles_fill_orders_placed_through_the_trait() {
        let (sim, clock) = sim();
        let symbol = engine_tests::btcusdt();
        sim.on_candle(
            &symbol,
            &candle_at(0, dec!(50000), dec!(50100), dec!(49900), dec!(50000)),
        );
        clock.advance_to(Timestamp::from_millis(60_000)).unwrap();
        let request =
            engine_tests::request(1, Side::Buy, OrderKind::Limit, Some(dec!(49500)), dec!(0.1));
        let ack = sim.place_order(&request).await.unwrap();
        assert_eq!(ack.order.created_at, Timestamp::from_millis(60_000));
        let fills = sim.on_candle(
            &symbol,
            &candle_at(1, dec!(50000), dec!(50000), dec!(49000), dec!(49200)),
        );
        assert_eq!(fills.len(), 1);
        assert_eq!(
            sim.my_trades(&symbol, TradesFrom::Recent).await.unwrap(),
            fills
        );
        assert!(sim.open_orders(None).await.unwrap().is_empty());
        assert_eq!(
            sim.ticker_price(&symbol).await.unwrap(),
            Price::new(dec!(49200)).unwrap()
        );
    }

    #[tokio::test]
    async fn klines_and_ticker_come_from_the_replayed_history() {
        let (sim, clock) = sim();
        let symbol = engine_tests::btcusdt();
        for minute in 0..5 {
            let open = Decimal::from(50000 + minute);
            sim.on_candle(
                &symbol,
                &candle_at(
                    minute,
                    open,
                    open + dec!(10),
                    open - dec!(10),
                    open + dec!(1),
                ),
            );
        }
        clock
            .advance_to(Timestamp::from_millis(5 * 60_000))
            .unwrap();
        let all = sim.klines(&symbol, "1m", None, None, None).await.unwrap();
        assert_eq!(all.len(), 3, "history is capped");
        let from = Some(Timestamp::from_millis(3 * 60_000));
        assert_eq!(
            sim.klines(&symbol, "1m", from, None, Some(1))
                .await
                .unwrap()
                .len(),
            1
        );
        let error = sim
            .klines(&symbol, "1h", None, None, None)
            .await
            .unwrap_err();
        assert!(matches!(error, ExchangeError::InvalidRequest(_)));
        let ticker = sim.ticker_24h(&symbol).await.unwrap();
        assert_eq!(ticker.price_change, dec!(3));
        assert_eq!(ticker.high, Price::new(dec!(50014)).unwrap());
        assert_eq!(ticker.volume.value(), dec!(6));
    }

    /// A day of real 1m candles through the replay feed into the backtest venue, with a small
    /// grid re-placing every fill: the way the backtest driver uses these pieces.
    #[tokio::test]
    async fn a_day_of_real_candles_drives_a_grid() {
        use crate::feed::{CandleFeed, ReplaySpeed};

        let dir = std::env::var_os("HYBRID_KLINES_DIR").map_or_else(
            || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/klines"),
            std::path::PathBuf::from,
        );
        let symbol = engine_tests::btcusdt();
        let mut feed =
            CandleFeed::open_dir(&dir, std::slice::from_ref(&symbol), "1m", ReplaySpeed::Fast)
                .unwrap();
        let (sim, clock) = sim();
        let mut sequence = 0;
        let mut place = |side: Side, price: Decimal| {
            sequence += 1;
            let price = engine_tests::filters()
                .round_price(side, price)
                .unwrap()
                .value();
            engine_tests::request(sequence, side, OrderKind::Limit, Some(price), dec!(0.001))
        };
        let mut n_fills = 0;
        for minute in 0..1440 {
            let Some((_, group)) = feed.next_group().unwrap() else {
                panic!("the file holds more than a day");
            };
            let candle = group[0].1;
            clock
                .advance_to(candle.open_time().plus_millis(Timestamp::MINUTE_MS))
                .unwrap();
            if minute == 0 {
                sim.on_price(&symbol, candle.open());
                for level in 1..=5 {
                    let offset = dec!(0.002) * Decimal::from(level);
                    let center = candle.open().value();
                    sim.place_order(&place(Side::Buy, center * (Decimal::ONE - offset)))
                        .await
                        .unwrap();
                    sim.place_order(&place(Side::Sell, center * (Decimal::ONE + offset)))
                        .await
                        .unwrap();
                }
            }
            for fill in sim.on_candle(&symbol, &candle) {
                n_fills += 1;
                let (side, price) = match fill.side {
                    Side::Buy => (Side::Sell, fill.price.value() * dec!(1.002)),
                    Side::Sell => (Side::Buy, fill.price.value() * dec!(0.998)),
                };
                sim.place_order(&place(side, price)).await.unwrap();
            }
        }
        assert!(n_fills > 0, "BTC moves more than 0.2 % in a day");
        assert_eq!(sim.open_orders(None).await.unwrap().len(), 10);
        assert_eq!(
            sim.my_trades(&symbol, TradesFrom::TradeId(1))
                .await
                .unwrap()
                .len(),
            n_fills
        );
        for balance in sim.balances().await.unwrap() {
            assert!(balance.free >= Decimal::ZERO && balance.locked >= Decimal::ZERO);
        }
    }
}
