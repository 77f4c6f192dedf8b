//! The one error type of the market crate.

use hybrid_core::{CoreError, Timestamp};

/// What can go wrong when computing market statistics.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MarketError {
    /// An indicator or window length of zero, e.g. `Sma::new(0)`.
    #[error("{what} must be at least {min}, got {got}")]
    InvalidPeriod {
        /// Which parameter, e.g. "sma period".
        what: &'static str,
        /// The smallest accepted value.
        min: usize,
        /// The value given.
        got: usize,
    },
    /// Too little data for the requested statistic, e.g. 5 daily candles for a 7-day feature.
    #[error("not enough data for {what}: need {needed}, have {have}")]
    InsufficientData {
        /// What was being computed.
        what: &'static str,
        /// How many items are needed.
        needed: usize,
        /// How many were given.
        have: usize,
    },
    /// A NaN or infinite value in the input of a statistic, e.g. a feature row built from a
    /// zero price.
    #[error("non-finite value in {what} at index {index}")]
    NonFinite {
        /// Which input.
        what: &'static str,
        /// Where in it.
        index: usize,
    },
    /// Candles out of order: each candle must open after the previous one.
    #[error("candle at {got} does not come after {previous}")]
    OutOfOrder {
        /// The previous candle's open time.
        previous: Timestamp,
        /// The offending candle's open time.
        got: Timestamp,
    },
    /// A domain value could not be built (e.g. an aggregated candle).
    #[error(transparent)]
    Core(#[from] CoreError),
}
