//! Grid trading as a pure, deterministic state machine.
//!
//! A grid buys at evenly spaced levels below the price and sells one level higher what each
//! buy brought in; every completed buy→sell pair earns one step minus fees. This crate holds
//! the whole strategy and none of the I/O: [`GridBot`] takes events (a price or candle, a fill,
//! a failed or closed order, a timer) together with the time, and returns [`GridIntent`]s
//! (place, cancel, alert, halt, rebuild) for the engine to execute.
//!
//! - [`GridParams`] → [`GridConfig`]: validated configuration. Levels are built through
//!   [`hybrid_core::SymbolFilters`]; levels that cannot meet the minimums are dropped with a
//!   reason; a grid whose step does not beat the round-trip fees plus a margin is refused.
//! - [`GridBot`]: initial orders, follow-ups, partial fills, retry schedule, restart,
//!   circuit breaker, rebuild trigger, and the "grid doctor" that checks its invariants after
//!   every event.
//! - [`dynamic`]: ATR-based range and grid count (pure functions over candles).
//!
//! Order identity: the bot names its own orders with [`hybrid_core::ClientOrderId`]s built
//! from its cohort, symbol and a sequence counter (see [`GridBot::new`]); the engine records
//! and sends them as they are, and reports fills and failures back by the same id.

mod bot;
mod config;
pub mod dynamic;
mod error;
mod ledger;
mod levels;
#[cfg(test)]
mod property_tests;
mod retry;
#[cfg(test)]
mod scenarios;

pub use crate::{
    bot::{BotState, GridBot, GridFingerprint, GridIntent, LiveOrder, Severity},
    config::{GridConfig, GridParams, Spacing},
    error::GridError,
    ledger::Ledger,
    levels::{DroppedLevel, GridLevel},
    retry::{FOLLOW_UP_BACKOFF_MINUTES, MAX_FOLLOW_UP_RETRIES},
};
