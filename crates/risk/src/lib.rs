//! Risk for Hybrid: stop-losses, the stop-loss sell policy, position sizing and the order gate.
//!
//! Everything here is a pure, deterministic state machine or function: events and `now` go
//! in, intents or decisions come out. No network, database, async runtime or wall clock.
//!
//! - [`StopLossBook`] holds every [`StopLoss`] (fixed or trailing, two-phase trigger), at most
//!   one per cohort and symbol, and turns prices into [`StopIntent`]s.
//! - [`StopExecutionPolicy`] decides, after each market-sell attempt, whether to retry (when,
//!   with what quantity) or give up with a critical alert.
//! - [`PositionSizer::position_size`] sizes a position from historical CVaR (95 %) and half-Kelly, with the
//!   confidence applied once.
//! - [`RiskGuard`] approves or refuses every order intent; approval is the type
//!   [`RiskApproved`], refusal [`RiskRefused`] with a [`RefusalReason`].
//!
//! Money is exact (`Decimal`); `f64` appears only inside the return statistics of
//! [`RiskMetrics`] and is converted at that boundary.

mod book;
mod config;
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
        available_risk_budget, cvar_95, kelly_fraction, regime_multiplier, stop_loss_distance,
        Confidence, PositionRisk, PositionSize, PositionSizer, RiskMetrics, SizingInput,
        SizingMethod, WinLoss, DEFAULT_POSITION_CVAR, STAT_DP,
    },
    stop::{StopEvent, StopKind, StopLoss, StopPhase, Trigger},
};
