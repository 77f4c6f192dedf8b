//! The crate's error type.

use hybrid_core::{CohortId, FilterViolation, Symbol};

use crate::stop::{StopEvent, StopPhase};

/// Everything the risk crate can refuse to do.
///
/// Refusing an *order* is not an error: that is a [`crate::RiskRefused`]. These errors are
/// about bad configuration and about callers asking a state machine for something its current
/// state does not allow. Messages are lowercase and name the offending key or value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RiskError {
    /// A configuration value out of range, e.g. `stops.hold_trailing_pct = 120`.
    #[error("invalid risk config {key} = {value}: {reason}")]
    InvalidConfig {
        /// The config key, e.g. `"stops.hold_trailing_pct"`.
        key: &'static str,
        /// The value as text.
        value: String,
        /// What is allowed.
        reason: &'static str,
    },
    /// An input value out of range, e.g. a stop distance of 0 %.
    #[error("invalid {what} {value}: {reason}")]
    InvalidInput {
        /// Which value, e.g. `"stop distance"`.
        what: &'static str,
        /// The value as text.
        value: String,
        /// What is allowed.
        reason: &'static str,
    },
    /// A second stop for the same cohort and symbol: two stops would sell the same coins.
    #[error("cohort {cohort} already has a stop on {symbol}")]
    DuplicateStop {
        /// The owning cohort.
        cohort: CohortId,
        /// The symbol.
        symbol: Symbol,
    },
    /// No stop for this cohort and symbol, e.g. confirming a sale that has no stop.
    #[error("cohort {cohort} has no stop on {symbol}")]
    NoStop {
        /// The cohort asked for.
        cohort: CohortId,
        /// The symbol asked for.
        symbol: Symbol,
    },
    /// A stop-loss phase change the life cycle does not allow, e.g. confirming an active stop.
    #[error("illegal stop transition from {from:?} on {event:?}")]
    InvalidStopTransition {
        /// The current phase.
        from: StopPhase,
        /// The event that does not apply.
        event: StopEvent,
    },
    /// The quantity to protect rounds to nothing sellable at the symbol's lot step.
    #[error("quantity for {symbol} cannot be sold: {violation}")]
    UnsellableQuantity {
        /// The symbol.
        symbol: Symbol,
        /// The filter rule it breaks.
        violation: FilterViolation,
    },
    /// A sell outcome reported to a stop execution that has already finished.
    #[error("stop execution for {symbol} has already finished")]
    ExecutionFinished {
        /// The symbol being sold.
        symbol: Symbol,
    },
}
