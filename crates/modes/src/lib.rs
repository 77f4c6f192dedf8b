//! Mode management for Hybrid: which of HOLD, GRID and CASH an orchestrator trades in, and
//! how each symbol moves from one mode to another.
//!
//! Everything here is pure and deterministic: regime estimates and `now` go in, decisions
//! and intents come out. No network, database, async runtime or wall clock.
//!
//! - [`HybridConfig`]: the settings with the spec's defaults; [`HybridConfig::validate`]
//!   reports every problem at once.
//! - [`ModeManager`]: hysteresis (probability ≥ 0.75, regime ≥ 2 days), a 24 h cooldown, an
//!   emergency exit to CASH on a BEAR of probability ≥ 0.85, and a safety lock that holds
//!   GRID for 7 days after too many switches. Every call returns a [`ModeDecision`] that says
//!   why; [`ModeSnapshot`] restores the manager after a restart.
//! - [`plan_transition`]: the six transition plans as [`TransitionStep`] intents. Coins a
//!   symbol owns are never forgotten on a mode change.
//! - [`ConstraintPreset`] / [`AllocationConstraints`]: allocation limits per preset and per
//!   mode.
//!
//! ```
//! use hybrid_core::{Notional, Price, Quantity, Regime, Symbol, Timestamp, TradingMode};
//! use hybrid_modes::{
//!     plan_transition, HybridConfig, ModeManager, Probability, RegimeInput, SymbolPosition,
//!     TransitionStep,
//! };
//! use rust_decimal::Decimal;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = HybridConfig::default();
//! let mut manager = ModeManager::new(config.clone(), Timestamp::from_millis(0))?;
//! let bull = RegimeInput {
//!     regime: Some(Regime::Bull),
//!     probability: Probability::new(Decimal::new(80, 2))?, // 0.80 ≥ 0.75
//!     duration_days: 3,                                    // ≥ 2
//! };
//! let decision = manager.evaluate(bull, Timestamp::from_millis(Timestamp::HOUR_MS));
//! assert!(decision.switched);
//! assert_eq!((decision.from, decision.to), (TradingMode::Grid, TradingMode::Hold));
//!
//! // The grid bought 0.001 BTC; they become the HOLD position instead of being lost.
//! let position = SymbolPosition {
//!     symbol: Symbol::new("BTCUSDT")?,
//!     price: Price::new(Decimal::from(50_000))?,
//!     base_qty_held: Quantity::new(Decimal::new(1, 3))?,
//!     open_order_ids: Vec::new(),
//!     avg_entry_price: None,
//!     allocation: Notional::new(Decimal::from(100)),
//!     has_stop: false,
//! };
//! let steps = plan_transition(decision.from, decision.to, &position, &config)?;
//! assert!(matches!(steps[1], TransitionStep::KeepInventoryAsHold { .. }));
//! assert!(matches!(steps[2], TransitionStep::BuyAllocation { .. })); // the other 50 USDT
//! # Ok(())
//! # }
//! ```

mod config;
mod constraints;
mod error;
mod manager;
mod probability;
#[cfg(test)]
mod property_tests;
mod transition;

pub use crate::{
    config::{HybridConfig, ENV_VARS},
    constraints::{AllocationConstraints, CoinCategory, ConstraintPreset, PresetSelection},
    error::{ConfigProblem, ModesError},
    manager::{
        DecisionReason, ModeDecision, ModeManager, ModeSnapshot, ModeState, ModeTransitionEvent,
        RegimeInput, SafetyLock, HISTORY_LIMIT,
    },
    probability::Probability,
    transition::{plan_transition, SymbolPosition, TransitionStep},
};
