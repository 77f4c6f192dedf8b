//! The read model's error type.

use hybrid_store::StoreError;

/// What can go wrong reading the cockpit's figures.
#[derive(Debug, thiserror::Error)]
pub enum CockpitError {
    /// The database could not be read or written, e.g. the server is down.
    #[error("database: {0}")]
    Store(#[from] StoreError),
    /// A state document the engine saved does not have the expected shape, e.g. a symbol
    /// that is not a valid trading pair.
    #[error("state document: {0}")]
    State(String),
    /// The cohort ranking could not be computed, e.g. a stored cohort config that no longer
    /// parses.
    #[error("cohort ranking: {0}")]
    Ranking(String),
}
