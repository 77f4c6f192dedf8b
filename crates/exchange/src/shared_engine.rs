//! A [`MatchingEngine`] behind a mutex, shared by the simulated exchanges: the [`crate::Account`]
//! methods take `&self`, and the engine is synchronous, so the lock is never held across an
//! `.await`.

use std::sync::{Mutex, PoisonError};

use crate::matching::MatchingEngine;

/// The locked engine of a simulated exchange.
#[derive(Debug)]
pub(crate) struct SharedEngine {
    engine: Mutex<MatchingEngine>,
}

impl SharedEngine {
    pub(crate) fn new(engine: MatchingEngine) -> Self {
        Self {
            engine: Mutex::new(engine),
        }
    }

    /// Runs `f` on the engine. A poisoned lock is taken over: the engine validates before it
    /// mutates, so a panic elsewhere cannot leave it half-updated.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut MatchingEngine) -> R) -> R {
        let mut engine = self.engine.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut engine)
    }
}
