//! The portfolio's error type.

use hybrid_exchange::ExchangeError;
use hybrid_store::StoreError;

/// Why a portfolio operation failed.
#[derive(Debug, thiserror::Error)]
pub enum PortfolioError {
    /// Bad settings or input, named.
    #[error("{0}")]
    InvalidInput(String),
    /// The exchange failed.
    #[error("exchange: {0}")]
    Exchange(#[from] ExchangeError),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// A stop could not be placed.
    #[error("risk: {0}")]
    Risk(#[from] hybrid_risk::RiskError),
    /// An amount or id could not be built.
    #[error("{0}")]
    Core(#[from] hybrid_core::CoreError),
    /// The markets source (CoinGecko) failed.
    #[error("market caps: {0}")]
    MarketCaps(String),
    /// The deployment phase does not allow this much capital or this many cohorts.
    #[error("{0}")]
    PhaseLimit(String),
    /// The production validator does not pass.
    #[error("{0}")]
    NotReady(String),
    /// The API key may withdraw or is not IP-restricted.
    #[error("{0}")]
    UnsafeApiKey(String),
}
