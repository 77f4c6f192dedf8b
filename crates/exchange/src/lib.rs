//! The exchange layer of Hybrid.
//!
//! The exchange traits are split by what callers need: [`MarketData`] (prices, rules, candles)
//! and [`Account`] (balances, orders, own trades); [`Exchange`] is both. A [`Venue`] is an
//! account that also sees each market event first and answers with the fills it caused: the
//! engine's one loop drives every backend through it. Results are `hybrid-core` types and
//! failures one [`ExchangeError`] taxonomy split by cause (connectivity, API rejection,
//! filters, balance, rate limit, unknown outcome).
//!
//! The simulated backends share one synchronous [`MatchingEngine`] (no tokio inside): the
//! backtest venue [`SimExchange`] drives it with candles on a `SimClock`, the paper exchange
//! [`PaperExchange`] with live prices, and the fake Binance server of `hybrid-testkit` wraps it
//! too. Market data arrives through a [`MarketFeed`]: [`PollingFeed`] live, [`CandleFeed`]
//! (the one merger of candle files by open time) for every replay.

pub mod binance;
mod error;
mod exchange;
mod feed;
mod matching;
mod paper;
mod polling;
mod shared_engine;
mod sim;
mod venue;

pub use crate::{
    error::ExchangeError,
    exchange::{
        trades_since, Account, Balance, Exchange, MarketData, OrderAck, OrderRef, OrderRequest,
        Ticker24h, TickerPrice, TradesFrom, MAX_TRADE_PAGES,
    },
    feed::{
        candle_file_path, CandleFeed, CandleGroup, CandleSource, MarketEvent, MarketFeed,
        ReplaySpeed,
    },
    matching::{candle_path, MatchingConfig, MatchingEngine, MatchingState, PartialFillConfig},
    paper::{JsonFilePaperStore, MemoryPaperStore, PaperExchange, PaperStateStore},
    polling::PollingFeed,
    sim::{SimConfig, SimExchange},
    venue::Venue,
};
