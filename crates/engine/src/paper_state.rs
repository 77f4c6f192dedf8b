//! The paper exchange's state kept in the database, so a restarted paper run continues with
//! the same balances, open orders and trades.
//!
//! `hybrid-exchange` defines the `PaperStateStore` seam and knows nothing of the database;
//! `hybrid-store` keeps named JSON documents and knows nothing of exchanges. This adapter, in
//! the engine (which may depend on both), joins them.

use std::sync::Arc;

use hybrid_core::Clock;
use hybrid_exchange::{ExchangeError, MatchingState, PaperStateStore};
use hybrid_store::Store;

/// A [`PaperStateStore`] writing the matching state as the store document
/// `paper_exchange/<account>`.
pub struct StorePaperState {
    store: Arc<Store>,
    document: String,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for StorePaperState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorePaperState")
            .field("document", &self.document)
            .finish_non_exhaustive()
    }
}

impl StorePaperState {
    /// The paper account `account` (e.g. `"default"`) in `store`; `clock` stamps each save.
    #[must_use]
    pub fn new(store: Arc<Store>, account: &str, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            document: format!("paper_exchange/{account}"),
            clock,
        }
    }
}

impl PaperStateStore for StorePaperState {
    fn load(&self) -> Result<Option<MatchingState>, ExchangeError> {
        let Some(document) = self.store.load_state(&self.document).map_err(storage)? else {
            return Ok(None);
        };
        serde_json::from_value(document.body)
            .map(Some)
            .map_err(|e| {
                ExchangeError::Storage(format!(
                    "{} is not a paper exchange state: {e}",
                    self.document
                ))
            })
    }

    fn save(&self, state: &MatchingState) -> Result<(), ExchangeError> {
        let body =
            serde_json::to_value(state).map_err(|e| ExchangeError::Storage(e.to_string()))?;
        self.store
            .save_state(&self.document, &body, self.clock.now())
            .map_err(storage)
    }
}

fn storage(error: hybrid_store::StoreError) -> ExchangeError {
    ExchangeError::Storage(error.to_string())
}
