//! What the stop-loss side of the crate asks the engine to do.

use hybrid_core::{CohortId, Price, Quantity, Symbol};
use serde::{Deserialize, Serialize};

/// One request from the stop-loss book to the engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StopIntent {
    /// Sell this position at market; run it through [`crate::StopExecutionPolicy`].
    MarketSell(MarketSell),
    /// Tell the operator.
    Alert(Alert),
}

/// A stop-loss market sell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketSell {
    /// The cohort that owns the coins; only its stop sells them.
    pub cohort: CohortId,
    /// The symbol to sell.
    pub symbol: Symbol,
    /// Base quantity: the bought quantity reduced by the buy fee and truncated to the lot
    /// step, so the sale never asks for coins the fee already took.
    pub quantity: Quantity,
    /// The stop price that was reached.
    pub stop_price: Price,
    /// The market price that reached it.
    pub trigger_price: Price,
}

/// How urgent an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertSeverity {
    /// For the record, e.g. a stop fired.
    Info,
    /// Needs attention soon.
    Warning,
    /// Needs a human now, e.g. a stop-loss sale that failed for good.
    Critical,
}

/// A message for the operator (Telegram, log).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// How urgent it is.
    pub severity: AlertSeverity,
    /// The cohort concerned.
    pub cohort: CohortId,
    /// The symbol concerned.
    pub symbol: Symbol,
    /// What happened, in one sentence.
    pub message: String,
}
