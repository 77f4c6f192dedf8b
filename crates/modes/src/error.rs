//! The crate's error type and the config problems it carries.

use std::fmt;

use hybrid_core::TradingMode;
use serde::{Deserialize, Serialize};

/// Everything the modes crate can refuse.
///
/// Staying in a mode is not an error: that is a [`crate::ModeDecision`] with a reason. These
/// errors are about bad configuration, bad input values and plans asked for a non-transition.
/// Messages are lowercase and name the offending field or value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModesError {
    /// One or more configuration values out of range, e.g. `min_regime_probability = 1.5`.
    /// Every problem is listed, not only the first, so one run of `check-config` shows all.
    #[error("invalid hybrid config: {}", join_problems(.problems))]
    InvalidConfig {
        /// Every problem found, in field order.
        problems: Vec<ConfigProblem>,
    },
    /// An input value out of range, e.g. a regime probability of 1.2.
    #[error("invalid {what} {value}: {reason}")]
    InvalidInput {
        /// Which value, e.g. `"regime probability"`.
        what: &'static str,
        /// The value as text.
        value: String,
        /// What is allowed.
        reason: &'static str,
    },
    /// A transition plan asked for from a mode to itself, e.g. GRID → GRID.
    #[error("no transition from {mode} to itself")]
    SameMode {
        /// The mode on both sides.
        mode: TradingMode,
    },
}

/// One invalid configuration value: which field, what it was, what is allowed.
///
/// Example: `ConfigProblem { field: "max_symbols", value: "25", allowed: "1 to 20" }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigProblem {
    /// The config field, e.g. `"hold_trailing_stop_pct"`.
    pub field: String,
    /// The offending value as text.
    pub value: String,
    /// What the field accepts, e.g. `"greater than 0 and at most 50"`.
    pub allowed: String,
}

impl ConfigProblem {
    pub(crate) fn new(field: &str, value: impl fmt::Display, allowed: &str) -> Self {
        Self {
            field: field.to_owned(),
            value: value.to_string(),
            allowed: allowed.to_owned(),
        }
    }
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} = {} (allowed: {})",
            self.field, self.value, self.allowed
        )
    }
}

fn join_problems(problems: &[ConfigProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_error_lists_every_problem() {
        let error = ModesError::InvalidConfig {
            problems: vec![
                ConfigProblem::new("max_symbols", 25, "1 to 20"),
                ConfigProblem::new("total_investment", 5, "at least 10"),
            ],
        };
        assert_eq!(
            error.to_string(),
            "invalid hybrid config: max_symbols = 25 (allowed: 1 to 20); \
             total_investment = 5 (allowed: at least 10)"
        );
    }
}
