//! A [`MatchingEngine`] behind a mutex, shared by the simulated exchanges: the [`crate::Account`]
//! methods take `&self`, and the engine is synchronous, so the lock is never held across an
//! `.await`.
//!
//! It also keeps the simulated venues' restart cursors ([`crate::Venue::resume_trades`]): the
//! first event of a symbol after a restart reports, besides its own fills, the fills the
//! engine made before the restart that the traders had not booked yet.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
};

use hybrid_core::{Fill, Symbol};

use crate::{exchange::TradesFrom, matching::MatchingEngine};

/// The locked engine of a simulated exchange.
#[derive(Debug)]
pub(crate) struct SharedEngine {
    engine: Mutex<MatchingEngine>,
    catch_up: Mutex<HashMap<Symbol, TradesFrom>>,
}

impl SharedEngine {
    pub(crate) fn new(engine: MatchingEngine) -> Self {
        Self {
            engine: Mutex::new(engine),
            catch_up: Mutex::new(HashMap::new()),
        }
    }

    /// Runs `f` on the engine. A poisoned lock is taken over: the engine validates before it
    /// mutates, so a panic elsewhere cannot leave it half-updated.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut MatchingEngine) -> R) -> R {
        let mut engine = self.engine.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut engine)
    }

    /// The next event of `symbol` also reports the engine's trades from `from` on.
    pub(crate) fn resume_trades(&self, symbol: &Symbol, from: TradesFrom) {
        self.catch_up
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(symbol.clone(), from);
    }

    /// `new_fills` of an event of `symbol`, preceded (once, after a restart) by the earlier
    /// trades the traders have not booked; oldest first, each trade once.
    pub(crate) fn with_catch_up(&self, symbol: &Symbol, new_fills: Vec<Fill>) -> Vec<Fill> {
        let from = self
            .catch_up
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(symbol);
        let Some(from) = from else {
            return new_fills;
        };
        let mut fills = self.with(|engine| engine.trades(symbol, from));
        fills.retain(|old| new_fills.iter().all(|new| new.trade_id != old.trade_id));
        fills.extend(new_fills);
        fills
    }
}
