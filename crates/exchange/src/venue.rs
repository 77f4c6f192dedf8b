//! [`Venue`]: where a run's orders are matched. An [`Account`] that also sees every market
//! event before the traders do and answers with the fills that event caused.
//!
//! One trait for every backend, so the engine's one loop drives them alike:
//! - the simulated exchange ([`crate::SimExchange`], backtests) and the paper exchange
//!   ([`crate::PaperExchange`]) match their resting orders along the event with the one
//!   [`crate::MatchingEngine`];
//! - Binance ([`crate::binance::BinanceClient`]) matched them on its side already: on each candle
//!   it reads the account's new trades with the paged own-trades cursor ([`crate::trades_since`]).
//!
//! Restart: the venue is told, per symbol, from which trade on the traders have not booked
//! anything yet ([`Venue::resume_trades`]), so fills that happened while the process was down
//! reach the traders instead of being lost.

use std::{future::Future, sync::Arc};

use hybrid_core::{Fill, Symbol};

use crate::{
    error::ExchangeError,
    exchange::{Account, TradesFrom},
    feed::MarketEvent,
};

/// An account that sees the market first. See the module docs.
pub trait Venue: Account {
    /// Lets the venue see `event` and returns the fills it produced, oldest first: resting
    /// orders crossed by the price (simulated venues) or trades the exchange reports since the
    /// last call (Binance).
    ///
    /// # Errors
    /// [`ExchangeError::Storage`] when a simulated venue cannot save its account; the
    /// exchange's errors when its trades cannot be read (its cursor does not move then, so the
    /// next event reports them).
    fn on_market(
        &self,
        event: &MarketEvent,
    ) -> impl Future<Output = Result<Vec<Fill>, ExchangeError>> + Send;

    /// Where to start reporting own trades of `symbol` after a (re)start: trades before `from`
    /// were booked already. Simulated venues report the fills they make, so the default
    /// ignores it.
    fn resume_trades(&self, symbol: &Symbol, from: TradesFrom) {
        let _ = (symbol, from);
    }
}

impl<T: Venue + ?Sized> Venue for Arc<T> {
    fn on_market(
        &self,
        event: &MarketEvent,
    ) -> impl Future<Output = Result<Vec<Fill>, ExchangeError>> + Send {
        (**self).on_market(event)
    }

    fn resume_trades(&self, symbol: &Symbol, from: TradesFrom) {
        (**self).resume_trades(symbol, from);
    }
}
