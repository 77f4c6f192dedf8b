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
//!
//! ```
//! use hybrid_core::{CohortId, Price, Symbol, SymbolFilters, Timestamp};
//! use hybrid_grid::{GridBot, GridConfig, GridIntent, GridParams};
//! use rust_decimal::Decimal;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let tick = Decimal::new(1, 2); // 0.01 USDT
//! let step = Decimal::new(1, 5); // 0.00001 BTC
//! let mut filters = SymbolFilters::with_steps(Symbol::new("BTCUSDT")?, tick, step);
//! filters.min_notional = Decimal::from(5);
//! let params = GridParams::new(Decimal::from(40_000), Decimal::from(50_000), 5, Decimal::from(100));
//! let config = GridConfig::new(params, filters)?;
//! let mut bot = GridBot::new(config, CohortId::new(1), 1, Timestamp::from_millis(0));
//! let intents = bot.on_price(Price::new(Decimal::from(45_000))?, Timestamp::from_millis(0));
//! let places = intents.iter().filter(|i| matches!(i, GridIntent::Place { .. })).count();
//! assert_eq!(places, 3); // buys at 40 000, 42 000 and 44 000; no inventory, so no sells
//! # Ok(())
//! # }
//! ```

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
    bot::{BotState, GridBot, GridFingerprint, GridIntent, GridSnapshot, LiveOrder, Severity},
    config::{GridConfig, GridParams, Spacing},
    error::GridError,
    ledger::Ledger,
    levels::{DroppedLevel, GridLevel},
    retry::{FOLLOW_UP_BACKOFF_MINUTES, MAX_FOLLOW_UP_RETRIES},
};
