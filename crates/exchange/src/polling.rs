//! The live market feed: polls an exchange's public REST endpoints (last prices and closed
//! klines) on a fixed pace and hands the engine the same [`MarketEvent`]s a replay produces.
//!
//! Polling rather than WebSocket streams keeps one transport (signed REST) and one weight
//! budget; a tick every few seconds is what a grid needs. Candles are emitted once, when they
//! have closed, and never twice: the feed remembers the last open time per symbol.

use std::{
    collections::{BTreeMap, VecDeque},
    sync::Arc,
    time::Duration,
};

use hybrid_core::{kline_interval_ms, Clock, Symbol, Timestamp, KLINE_INTERVALS};

use crate::{
    error::ExchangeError,
    exchange::MarketData,
    feed::{MarketEvent, MarketFeed},
};

/// Polls `exchange` every `every` for the last prices of `symbols` and their newly closed
/// candles of `interval`.
pub struct PollingFeed<E> {
    exchange: E,
    symbols: Vec<Symbol>,
    interval: String,
    interval_ms: i64,
    every: Duration,
    clock: Arc<dyn Clock>,
    last_open_time: BTreeMap<Symbol, Timestamp>,
    queue: VecDeque<MarketEvent>,
    polled_once: bool,
}

impl<E> std::fmt::Debug for PollingFeed<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PollingFeed")
            .field("symbols", &self.symbols)
            .field("interval", &self.interval)
            .field("every", &self.every)
            .field("queued", &self.queue.len())
            .finish_non_exhaustive()
    }
}

impl<E: MarketData> PollingFeed<E> {
    /// A feed over `symbols`. Candles closed before `start` are not replayed: the first poll
    /// emits only the latest closed candle of each symbol, so indicators can start from it.
    ///
    /// # Errors
    /// [`ExchangeError::InvalidRequest`] for an unknown interval, a zero poll period or no
    /// symbols.
    pub fn new(
        exchange: E,
        symbols: Vec<Symbol>,
        interval: &str,
        every: Duration,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ExchangeError> {
        let interval_ms = kline_interval_ms(interval).ok_or_else(|| {
            ExchangeError::InvalidRequest(format!(
                "unknown kline interval {interval:?}; expected one of {}",
                KLINE_INTERVALS.join(" ")
            ))
        })?;
        if every.is_zero() || symbols.is_empty() {
            return Err(ExchangeError::InvalidRequest(
                "a polling feed needs at least one symbol and a positive period".to_owned(),
            ));
        }
        Ok(Self {
            exchange,
            symbols,
            interval: interval.to_owned(),
            interval_ms,
            every,
            clock,
            last_open_time: BTreeMap::new(),
            queue: VecDeque::new(),
            polled_once: false,
        })
    }

    /// Continues after candles already traded: every symbol's candles opening after
    /// `last_open_time` are delivered (up to 1000 per symbol and round), so a restart misses
    /// nothing that closed while the process was down.
    pub fn resume_after(&mut self, last_open_time: Timestamp) {
        for symbol in &self.symbols {
            self.last_open_time.insert(symbol.clone(), last_open_time);
        }
    }

    /// One round of requests: last prices first (one request for all symbols), then each
    /// symbol's candles that closed since the last round.
    async fn poll(&mut self) -> Result<(), ExchangeError> {
        let now = self.clock.now();
        let prices = self.exchange.ticker_prices().await?;
        for ticker in prices
            .into_iter()
            .filter(|t| self.symbols.contains(&t.symbol))
        {
            self.queue.push_back(MarketEvent::Price {
                symbol: ticker.symbol,
                price: ticker.price,
                time: now,
            });
        }
        for symbol in self.symbols.clone() {
            self.poll_candles(&symbol, now).await?;
        }
        Ok(())
    }

    async fn poll_candles(&mut self, symbol: &Symbol, now: Timestamp) -> Result<(), ExchangeError> {
        let last = self.last_open_time.get(symbol).copied();
        let start = last.map(|t| t.plus_millis(1));
        // First round: only the latest closed candle (two fetched: the newest may be open).
        let limit = if last.is_some() { 1000 } else { 2 };
        let candles = self
            .exchange
            .klines(symbol, &self.interval, start, None, Some(limit))
            .await?;
        let interval_ms = self.interval_ms;
        let closed = candles
            .into_iter()
            .filter(|c| c.open_time().plus_millis(interval_ms) <= now)
            .filter(|c| last.is_none_or(|t| c.open_time() > t));
        let mut closed: Vec<_> = closed.collect();
        if last.is_none() {
            closed = closed.split_off(closed.len().saturating_sub(1));
        }
        for candle in closed {
            self.last_open_time
                .insert(symbol.clone(), candle.open_time());
            self.queue.push_back(MarketEvent::Candle {
                symbol: symbol.clone(),
                candle,
            });
        }
        Ok(())
    }
}

impl<E: MarketData> MarketFeed for PollingFeed<E> {
    /// Waits for the next round, then returns what it brought (a round with nothing new is
    /// followed by the next one). A live feed never ends; an error is returned to the caller,
    /// who decides whether to retry (the next call polls again).
    async fn next_batch(&mut self) -> Result<Option<Vec<MarketEvent>>, ExchangeError> {
        while self.queue.is_empty() {
            if self.polled_once {
                tokio::time::sleep(self.every).await;
            }
            self.polled_once = true;
            self.poll().await?;
        }
        Ok(Some(self.queue.drain(..).collect()))
    }
}
