//! Named state documents: JSON saved and restored whole, such as the paper exchange's balances
//! and open orders, so that a restart continues exactly where the process stopped.
//!
//! A document is replaced atomically on every save (one upsert), never merged, so a crash leaves
//! either the previous or the new version, not a mix.

use hybrid_core::Timestamp;

use crate::{
    error::StoreError,
    store::{dispatch, Store},
};

/// A stored document.
#[derive(Debug, Clone, PartialEq)]
pub struct StateDocument {
    /// Its name, e.g. `"paper_exchange/default"`.
    pub name: String,
    /// Its content.
    pub body: serde_json::Value,
    /// When it was last saved.
    pub updated_at: Timestamp,
}

impl Store {
    /// Saves `body` under `name`, replacing any previous version.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn save_state(
        &self,
        name: &str,
        body: &serde_json::Value,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let text = body.to_string();
        dispatch!(self, save_state(name, &text, at))
    }

    /// The document saved under `name`, if any.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure; [`StoreError::Corrupt`] when the stored text
    /// is not JSON.
    pub fn load_state(&self, name: &str) -> Result<Option<StateDocument>, StoreError> {
        let Some((text, updated_at)) = dispatch!(self, load_state(name))? else {
            return Ok(None);
        };
        let body = serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
            table: "state_documents",
            column: "body",
            value: text.chars().take(80).collect(),
            reason: format!("document {name:?} is not JSON: {e}"),
        })?;
        Ok(Some(StateDocument {
            name: name.to_owned(),
            body,
            updated_at: Timestamp::from_millis(updated_at),
        }))
    }
}
