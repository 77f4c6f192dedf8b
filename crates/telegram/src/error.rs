//! The crate's error type.

use hybrid_cockpit::CockpitError;
use hybrid_store::StoreError;

/// What can go wrong in the cockpit or the sender.
#[derive(Debug, thiserror::Error)]
pub enum TelegramError {
    /// The database could not be read or written, e.g. the server is down.
    #[error("database: {0}")]
    Store(#[from] StoreError),
    /// The cockpit's figures could not be read (database down, a malformed state document).
    #[error(transparent)]
    Cockpit(#[from] CockpitError),
    /// Telegram (or the network to it) failed, e.g. `A network error: connection refused`.
    #[error("telegram: {0}")]
    Telegram(#[from] teloxide::RequestError),
    /// Bad settings, e.g. an API URL that does not parse or no chat id to send to.
    #[error("invalid telegram settings: {0}")]
    Config(String),
}
