//! The crate's error type.

use hybrid_market::MarketError;
use hybrid_store::StoreError;

/// What can stop a learning task. LLM answers never produce an error: an invalid answer is
/// refused and recorded, and the caller carries on without it.
#[derive(Debug, thiserror::Error)]
pub enum LearningError {
    /// The database failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// Candles could not be turned into statistics (e.g. out of order).
    #[error("market data: {0}")]
    Market(#[from] MarketError),
    /// An outside data source or the LLM could not be reached or answered nonsense.
    #[error("{source_name}: {reason}")]
    Source {
        /// Which source, e.g. `llm`, `funding_rate`.
        source_name: &'static str,
        /// What went wrong.
        reason: String,
    },
}
