//! The audit log: an append-only record of what the system did and why.
//!
//! There is deliberately no update or delete API, and the migrations add triggers that refuse
//! UPDATE and DELETE on the table, so history cannot be rewritten by accident.

use hybrid_core::{CohortId, Symbol, Timestamp};

use crate::{
    error::StoreError,
    store::{dispatch, Store},
};

/// An event to append, for [`Store::append_event`].
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// When it happened.
    pub at: Timestamp,
    /// The cohort concerned, if any.
    pub cohort: Option<CohortId>,
    /// The symbol concerned, if any.
    pub symbol: Option<Symbol>,
    /// A short machine-readable kind, e.g. `"mode_switch"` or `"order_rejected"`.
    pub kind: String,
    /// A human-readable sentence.
    pub message: String,
    /// Structured details, if any (stored as JSON text).
    pub data: Option<serde_json::Value>,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Row id; increases with every append.
    pub id: i64,
    /// When it happened.
    pub at: Timestamp,
    /// The cohort concerned, if any.
    pub cohort: Option<CohortId>,
    /// The symbol concerned, if any.
    pub symbol: Option<Symbol>,
    /// The machine-readable kind.
    pub kind: String,
    /// The human-readable sentence.
    pub message: String,
    /// Structured details, if any.
    pub data: Option<serde_json::Value>,
}

impl Store {
    /// Appends an event and returns its id.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown cohort; [`StoreError::Query`] on a database
    /// failure.
    pub fn append_event(&self, event: &NewEvent) -> Result<i64, StoreError> {
        dispatch!(self, append_event(event))
    }

    /// The latest `limit` events, newest first (by time, then id).
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure; [`StoreError::Corrupt`] for a bad row.
    pub fn recent_events(&self, limit: u32) -> Result<Vec<Event>, StoreError> {
        dispatch!(self, recent_events(limit))
    }
}
