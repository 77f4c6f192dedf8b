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
