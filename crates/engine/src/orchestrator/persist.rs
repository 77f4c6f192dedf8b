//! Persistence (spec §5.7): the orchestrator's state as one JSON document in the store,
//! saved after every hourly evaluation and read back at start-up. Saved per symbol: the mode,
//! the mode manager (history, cooldown, safety lock), the HOLD entry, the allocation, a CASH
//! exit in progress and the grid's parameters; plus every stop-loss with its trailing
//! progress; each grid's whole state ([`GridSnapshot`]); the highest trade id booked per
//! symbol; and the driver's [`Checkpoint`]. On restore a grid continues from its snapshot (older
//! documents: it is rebuilt from its parameters and adopts its open orders from the exchange,
//! [`GridBot::restore`]); symbols the document does not know start fresh, and symbols it knows
//! but the orchestrator does not trade are ignored. What happened on the exchange after the
//! save is read back by [`HybridOrchestrator::reconcile`].

use std::collections::BTreeMap;

use hybrid_core::{Notional, Price, Symbol, Timestamp, TradingMode};
use hybrid_exchange::Account;
use hybrid_grid::{GridBot, GridConfig, GridFingerprint, GridParams, GridSnapshot};
use hybrid_modes::{ModeManager, ModeSnapshot};
use hybrid_risk::StopLoss;
use serde::{Deserialize, Serialize};

use super::{
    state::{HoldPosition, OrderOwner},
    HybridOrchestrator, OrchestratorError,
};
use crate::driver::Checkpoint;

/// Client order sequences per grid: grid `g` numbers its orders from `g × GRID_SEQUENCE_SPAN`,
/// far from the store's own sequence used by market orders.
pub(super) const GRID_SEQUENCE_SPAN: u64 = 1_000_000_000;

#[derive(Debug, Serialize, Deserialize)]
struct SavedState {
    saved_at: Timestamp,
    symbols: BTreeMap<Symbol, SavedSymbol>,
    stops: Vec<StopLoss>,
    /// Per symbol, the highest exchange trade id booked: fills after it are read back from
    /// the exchange at restart.
    #[serde(default)]
    fill_cursors: BTreeMap<Symbol, i64>,
    /// Where the driver was when this was saved, in the same document so that the two can
    /// never disagree after a crash.
    #[serde(default)]
    progress: Option<Checkpoint>,
    /// When the 6-hourly rebalance last ran.
    #[serde(default)]
    last_rebalance: Option<Timestamp>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SavedSymbol {
    mode: TradingMode,
    manager: ModeSnapshot,
    hold_entry: Option<Price>,
    allocation: Notional,
    cash_exit_deadline: Option<Timestamp>,
    stopped_out_at: Option<Timestamp>,
    grid: Option<SavedGrid>,
    /// The last price seen (the last candle's close), so a restored symbol can trade before
    /// its next candle arrives.
    #[serde(default)]
    last_price: Option<Price>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SavedGrid {
    params: GridParams,
    generation: u64,
    fingerprint: GridFingerprint,
    /// The bot's whole state; without it (older documents) the grid is rebuilt from the
    /// exchange's open orders.
    #[serde(default)]
    snapshot: Option<GridSnapshot>,
}

impl<E: Account> HybridOrchestrator<E> {
    /// The document's name in the store.
    fn state_name(&self) -> String {
        format!("hybrid_state/{}", self.config.cohort_name)
    }

    /// Saves the state document (replacing the previous one).
    ///
    /// # Errors
    /// Store failures.
    pub fn save_state(&self, now: Timestamp) -> Result<(), OrchestratorError> {
        let symbols = self
            .symbols
            .iter()
            .map(|(symbol, state)| {
                let saved = SavedSymbol {
                    mode: state.mode,
                    manager: state.manager.snapshot(),
                    hold_entry: state.hold.map(|hold| hold.entry),
                    allocation: state.allocation,
                    cash_exit_deadline: state.cash_exit_deadline,
                    stopped_out_at: state.stopped_out_at,
                    last_price: state.last_price,
                    grid: state.grid.as_ref().map(|grid| SavedGrid {
                        params: grid.config().params().clone(),
                        generation: state.grid_generation,
                        fingerprint: grid.fingerprint(),
                        snapshot: Some(grid.snapshot()),
                    }),
                };
                (symbol.clone(), saved)
            })
            .collect();
        let document = SavedState {
            saved_at: now,
            symbols,
            stops: self.stops.stops_of(self.cohort).cloned().collect(),
            fill_cursors: self.fill_cursors.clone(),
            progress: Some(self.progress.clone()),
            last_rebalance: self.last_rebalance,
        };
        let body = serde_json::to_value(&document)
            .map_err(|e| OrchestratorError::State(format!("cannot serialise the state: {e}")))?;
        self.store.save_state(&self.state_name(), &body, now)?;
        Ok(())
    }

    /// The progress saved with the last state document, without restoring anything (the live
    /// loop reads it first to know which candles were already traded).
    ///
    /// # Errors
    /// Store failures; [`OrchestratorError::State`] for a document that does not parse.
    pub fn saved_progress(&self) -> Result<Option<Checkpoint>, OrchestratorError> {
        let Some(document) = self.store.load_state(&self.state_name())? else {
            return Ok(None);
        };
        let saved: SavedState = serde_json::from_value(document.body)
            .map_err(|e| OrchestratorError::State(format!("state document: {e}")))?;
        Ok(saved.progress)
    }

    /// Reads the state document back, if there is one; returns whether it was found. Call
    /// before [`Self::start`] instead of it: restored symbols keep their mode and positions.
    /// Grids saved with their snapshot continue exactly; then [`Self::reconcile`] reads back
    /// what happened on the exchange since the save.
    ///
    /// # Errors
    /// Store or exchange failures; [`OrchestratorError::State`] for a document that does not
    /// parse or holds an invalid stop or grid.
    pub async fn restore_state(&mut self, now: Timestamp) -> Result<bool, OrchestratorError> {
        let Some(document) = self.store.load_state(&self.state_name())? else {
            return Ok(false);
        };
        let saved: SavedState = serde_json::from_value(document.body)
            .map_err(|e| OrchestratorError::State(format!("state document: {e}")))?;
        self.fill_cursors = saved.fill_cursors;
        self.progress = saved.progress.unwrap_or_default();
        self.last_rebalance = saved.last_rebalance;
        for stop in saved.stops {
            if self.symbols.contains_key(stop.symbol()) {
                self.stops
                    .restore(stop)
                    .map_err(|e| OrchestratorError::State(format!("stop: {e}")))?;
            }
        }
        for (symbol, saved) in saved.symbols {
            if self.symbols.contains_key(&symbol) {
                self.restore_symbol(&symbol, saved, now).await?;
            }
        }
        Ok(true)
    }

    async fn restore_symbol(
        &mut self,
        symbol: &Symbol,
        saved: SavedSymbol,
        now: Timestamp,
    ) -> Result<(), OrchestratorError> {
        let manager = ModeManager::restore(self.config.hybrid.clone(), saved.manager)?;
        let open_orders = self.exchange.open_orders(Some(symbol)).await?;
        let cohort = self.cohort;
        let state = self.state_mut(symbol)?;
        state.last_price = state.last_price.or(saved.last_price);
        state.mode = saved.mode;
        state.manager = manager;
        state.hold = saved.hold_entry.map(|entry| HoldPosition { entry });
        state.allocation = saved.allocation;
        state.cash_exit_deadline = saved.cash_exit_deadline;
        state.stopped_out_at = saved.stopped_out_at;
        let Some(grid) = saved.grid else {
            return Ok(());
        };
        let config = GridConfig::new(grid.params, state.filters.clone())
            .map_err(|e| OrchestratorError::State(format!("grid of {symbol}: {e}")))?;
        state.grid_generation = grid.generation;
        if let Some(snapshot) = grid.snapshot {
            let bot = GridBot::from_snapshot(config, snapshot)
                .map_err(|e| OrchestratorError::State(format!("grid of {symbol}: {e}")))?;
            for id in bot.live_orders().keys() {
                self.owners.insert(id.clone(), OrderOwner::Grid);
            }
            self.state_mut(symbol)?.grid = Some(bot);
            return Ok(());
        }
        let first = grid.generation * GRID_SEQUENCE_SPAN;
        let (bot, intents) = GridBot::restore(
            config,
            cohort,
            first,
            Some(&grid.fingerprint),
            &open_orders,
            now,
        );
        for id in bot.live_orders().keys() {
            self.owners.insert(id.clone(), OrderOwner::Grid);
        }
        self.state_mut(symbol)?.grid = Some(bot);
        self.run_grid_intents(symbol, intents, now).await
    }
}
