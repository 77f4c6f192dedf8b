//! Risk for Hybrid: stop-losses, the stop-loss sell policy, position sizing and the order gate.
//!
//! Everything here is a pure, deterministic state machine or function: events and `now` go
//! in, intents or decisions come out. No network, database, async runtime or wall clock.
//!
//! - [`StopLossBook`] holds every [`StopLoss`] (fixed or trailing, two-phase trigger), at most
//!   one per cohort and symbol, and turns prices into [`StopIntent`]s.
//! - [`StopExecutionPolicy`] decides, after each market-sell attempt, whether to retry (when,
//!   with what quantity) or give up with a critical alert.
//! - [`PositionSizer::position_size`] sizes a position from historical CVaR (95 %) and
//!   half-Kelly, with the confidence applied once.
//! - [`RiskGuard`] approves or refuses every order intent; approval is the type
//!   [`RiskApproved`], refusal [`RiskRefused`] with a [`RefusalReason`].
//!
//! Money is exact (`Decimal`); `f64` appears only inside the return statistics of
//! [`RiskMetrics`] and is converted at that boundary.
//!
//! A stop's life, as the engine drives it:
//!
//! ```
//! use hybrid_core::{CohortId, Price, Quantity, Symbol, SymbolFilters, Timestamp, TradingMode};
//! use hybrid_risk::{
//!     ExecutionConfig, ExecutionStep, SellOutcome, StopConfig, StopDistance, StopExecutionPolicy,
//!     StopIntent, StopKind, StopLossBook, StopRequest,
//! };
//! use rust_decimal_macros::dec;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let btc = Symbol::new("BTCUSDT")?;
//! let filters = SymbolFilters::with_steps(btc.clone(), dec!(0.01), dec!(0.00001));
//! let mut book = StopLossBook::new(StopConfig::default())?;
//! let cohort = CohortId::new(1);
//! book.create(
//!     StopRequest {
//!         cohort,
//!         symbol: btc.clone(),
//!         kind: StopKind::Trailing,
//!         distance: StopDistance::ForMode(TradingMode::Hold), // 7 %
//!         entry: Price::new(dec!(100000))?,
//!         bought: Quantity::new(dec!(0.01))?,
//!     },
//!     &filters,
//!     Timestamp::from_millis(0),
//! )?;
//! book.on_price(&btc, Price::new(dec!(110000))?, Timestamp::from_millis(1)); // stop → 102300
//! let intents = book.on_price(&btc, Price::new(dec!(102000))?, Timestamp::from_millis(2));
//! let Some(StopIntent::MarketSell(sell)) = intents.first() else { unreachable!() };
//! assert_eq!(sell.quantity, Quantity::new(dec!(0.00999))?); // net of the 0.1 % fee
//!
//! let policy = StopExecutionPolicy::new(ExecutionConfig::default())?;
//! let (mut execution, _first_sell) = policy.start(sell, None, &filters, Timestamp::from_millis(2));
//! match execution.on_outcome(SellOutcome::Filled, Timestamp::from_millis(3))? {
//!     ExecutionStep::Sold => drop(book.confirm_sold(cohort, &btc)?),
//!     ExecutionStep::GiveUp(_alert) => drop(book.sell_failed(cohort, &btc)?),
//!     ExecutionStep::Sell { .. } => { /* send it at its time, report the outcome */ }
//! }
//! assert!(book.is_empty());
//! # Ok(())
//! # }
//! ```
//!
//! Deliberate changes from the original system (each documented where it is made):
//! - a stop whose sale is pending does not ask to sell again (one sale at a time);
//! - every stop sells the bought quantity net of the fee, truncated to the lot step;
//! - after "insufficient balance" a retry sells `min(intended, free)`, never coins of another
//!   position; a sale below the minimum notional is not sent, the operator is alerted at once;
//! - tightening for CASH never lowers a stop;
//! - the Kelly win rate is not scaled by the confidence (confidence counted once);
//! - too little return data gives fixed conservative metrics, not a synthetic series;
//! - protective exits (stop-loss, CASH) pass drawdown and circuit-breaker halts; the daily
//!   baseline rolls on the first value seen after UTC midnight; a portfolio (peak) drawdown
//!   halt and per-symbol allocation limit are added.

mod book;
mod breaker;
mod config;
mod drawdown;
mod error;
mod execution;
mod guard;
mod intent;
mod sizing;
mod stop;

pub use crate::{
    book::{StopDistance, StopLossBook, StopRequest},
    config::{ExecutionConfig, GuardConfig, RiskConfig, SizingConfig, StopConfig},
    error::RiskError,
    execution::{ExecutionPhase, ExecutionStep, SellOutcome, StopExecution, StopExecutionPolicy},
    guard::{
        OrderIntent, OrderPurpose, PortfolioView, RefusalReason, RiskApproved, RiskEvent,
        RiskGuard, RiskRefused,
    },
    intent::{Alert, AlertSeverity, MarketSell, StopIntent},
    sizing::{
        assumed_correlation, available_risk_budget, correlation_factor, cvar_95, kelly_fraction,
        regime_multiplier, stop_loss_distance, Confidence, PositionRisk, PositionSize,
        PositionSizer, RiskMetrics, SizingInput, SizingMethod, WinLoss, DEFAULT_POSITION_CVAR,
        STAT_DP,
    },
    stop::{StopEvent, StopKind, StopLoss, StopPhase, Trigger},
};

#[cfg(test)]
mod tests {
    /// Architecture invariant: the risk crate is pure. Its only dependencies are the domain
    /// core, exact decimals, serde and thiserror: no async runtime, HTTP or database crate.
    #[test]
    fn depends_only_on_pure_crates() {
        let manifest = include_str!("../Cargo.toml");
        let section = manifest
            .split("[dependencies]")
            .nth(1)
            .and_then(|rest| rest.split("\n[").next())
            .unwrap();
        let names: Vec<&str> = section
            .lines()
            .filter_map(|line| line.split(['.', '=', ' ']).next())
            .filter(|name| !name.is_empty() && !name.starts_with('#'))
            .collect();
        assert_eq!(names, ["hybrid-core", "rust_decimal", "serde", "thiserror"]);
    }
}
