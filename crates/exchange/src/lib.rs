//! The exchange layer of Hybrid.
//!
//! Everything that trades goes through the async [`Exchange`] trait, whose results are
//! `hybrid-core` types and whose failures are one [`ExchangeError`] taxonomy split by cause
//! (connectivity, API rejection, filters, balance, rate limit, unknown outcome). Callers are
//! generic over `E: Exchange`, so the same engine runs against Binance, the paper exchange and
//! the backtest exchange.
//!
//! The simulated backends share one synchronous [`MatchingEngine`] (no tokio inside): the
//! backtest venue [`SimExchange`] drives it with candles on a `SimClock`, the paper exchange
//! [`PaperExchange`] with live prices, and the fake Binance server of `hybrid-testkit` wraps it
//! too. Market data arrives through a [`MarketFeed`]; [`CandleReplayFeed`] plays candle CSV
//! files as if live.

pub mod binance;
mod error;
mod exchange;
mod feed;
mod matching;
mod paper;
mod polling;
mod sim;
mod venue;

pub use crate::{
    error::ExchangeError,
    exchange::{
        Balance, Exchange, OrderAck, OrderRef, OrderRequest, Ticker24h, TickerPrice, TradesFrom,
    },
    feed::{CandleReplayFeed, MarketEvent, MarketFeed, ReplaySpeed},
    matching::{candle_path, MatchingConfig, MatchingEngine, MatchingState, PartialFillConfig},
    paper::{JsonFilePaperStore, MemoryPaperStore, PaperExchange, PaperStateStore},
    polling::PollingFeed,
    sim::{SimConfig, SimExchange},
};
