//! The exchange layer of Hybrid.
//!
//! Everything that trades goes through the async [`Exchange`] trait, whose results are
//! `hybrid-core` types and whose failures are one [`ExchangeError`] taxonomy split by cause
//! (connectivity, API rejection, filters, balance, rate limit, unknown outcome). Callers are
//! generic over `E: Exchange`, so the same engine runs against Binance, the paper exchange and
//! the backtest exchange.

mod error;
mod exchange;
mod matching;

pub use crate::{
    error::ExchangeError,
    exchange::{
        Balance, Exchange, OrderAck, OrderRef, OrderRequest, Ticker24h, TickerPrice, TradesFrom,
    },
    matching::{candle_path, MatchingConfig, MatchingEngine, MatchingState, PartialFillConfig},
};
