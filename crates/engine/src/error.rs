//! The engine's error type.

use thiserror::Error;

/// Why an engine computation refused its input.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EngineError {
    /// The input cannot be used, e.g. an equity curve with no points: "equity curve: empty".
    #[error("{what}: {reason}")]
    InvalidInput {
        /// Which input.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}
