//! [`CohortOrchestrator`]: one [`HybridOrchestrator`] per cohort, each on its own venue (a
//! [`CohortVenue`], normally a [`crate::CohortExchange`] over the shared client) and its own
//! coins, driven together (spec §6.4).
//!
//! A candle goes to the cohort that trades its symbol; fills are routed by the cohort encoded
//! in their client order id and booked in that cohort's ledger before its orchestrator sees
//! them. An error in one cohort is recorded against that cohort and the others carry on: a
//! failing cohort keeps being called (its exchange may come back), and keeps failing alone.

use std::collections::BTreeMap;

use hybrid_core::{Candle, CohortId, Fill, Symbol, SymbolFilters, Timestamp};
use hybrid_engine::{
    Checkpoint, EquitySnapshot, HybridOrchestrator, Journal, OrchestratorConfig, ReconcileReport,
    Trader,
};
use hybrid_exchange::TradesFrom;
use hybrid_store::Store;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    definition::{orchestrator_config, CohortDefinition},
    exchange::CohortVenue,
    ledger::CohortLedger,
    CohortError,
};

/// An error one cohort hit; the others were not affected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CohortFailure {
    /// When.
    pub time: Timestamp,
    /// What the cohort was doing: `start`, `candle SYMBOL`, `hour`.
    pub step: String,
    /// The error.
    pub error: String,
}

/// One cohort's orchestrator and what the cohort orchestrator keeps about it.
#[derive(Debug)]
pub struct CohortSlot<V> {
    definition: CohortDefinition,
    id: CohortId,
    orchestrator: HybridOrchestrator<V>,
    failures: Vec<CohortFailure>,
    started: bool,
}

impl<V: CohortVenue> CohortSlot<V> {
    /// The cohort as configured.
    #[must_use]
    pub const fn definition(&self) -> &CohortDefinition {
        &self.definition
    }

    /// The cohort's id in the store (and in its client order ids).
    #[must_use]
    pub const fn id(&self) -> CohortId {
        self.id
    }

    /// The cohort's orchestrator.
    #[must_use]
    pub const fn orchestrator(&self) -> &HybridOrchestrator<V> {
        &self.orchestrator
    }

    /// The cohort's journal (switches, closed trades, fees, order counts).
    #[must_use]
    pub fn journal(&self) -> &Journal {
        self.orchestrator.journal()
    }

    /// Every error of this cohort, oldest first.
    #[must_use]
    pub fn failures(&self) -> &[CohortFailure] {
        &self.failures
    }

    /// The cohort's ledger now.
    #[must_use]
    pub fn ledger(&self) -> CohortLedger {
        self.orchestrator.exchange().ledger()
    }

    /// The symbols the cohort trades.
    #[must_use]
    pub fn symbols(&self) -> Vec<Symbol> {
        self.orchestrator.modes().into_keys().collect()
    }

    /// Writes `capital` as the cohort's current capital, in the store and in its definition.
    fn record_capital(&mut self, capital: Decimal, now: Timestamp) -> Result<(), CohortError> {
        self.orchestrator
            .store()
            .set_cohort_capital(self.id, capital, now)?;
        self.definition.current_capital = capital;
        Ok(())
    }

    fn fail(&mut self, time: Timestamp, step: String, error: impl ToString) {
        self.failures.push(CohortFailure {
            time,
            step,
            error: error.to_string(),
        });
    }
}

/// Many cohorts trading side by side, each on its own ledger and coins.
#[derive(Debug)]
pub struct CohortOrchestrator<V> {
    slots: Vec<CohortSlot<V>>,
    owner: BTreeMap<Symbol, usize>,
    by_cohort: BTreeMap<CohortId, usize>,
    unrouted_fills: u64,
}

impl<V> Default for CohortOrchestrator<V> {
    fn default() -> Self {
        Self {
            slots: Vec::new(),
            owner: BTreeMap::new(),
            by_cohort: BTreeMap::new(),
            unrouted_fills: 0,
        }
    }
}

impl<V: CohortVenue> CohortOrchestrator<V> {
    /// An orchestrator with no cohort yet (add them with [`Self::add`]).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a cohort trading `symbols` on `venue`, recording in `store`, configured by
    /// [`orchestrator_config`] over `base`. The cohort's row is (re-)written with its
    /// definition (current capital kept), so the id in `venue` must be the store's id of
    /// `definition.name` (see [`crate::seed`]).
    ///
    /// # Errors
    /// [`CohortError::Config`] when the cohort is invalid, a symbol already belongs to another
    /// cohort, the venue's cohort id differs from the store's, or the orchestrator refuses its
    /// configuration; [`CohortError::Store`] on a database failure.
    pub fn add(
        &mut self,
        definition: CohortDefinition,
        venue: V,
        store: Store,
        symbols: Vec<SymbolFilters>,
        base: &OrchestratorConfig,
        now: Timestamp,
    ) -> Result<CohortId, CohortError> {
        definition.validate()?;
        for filters in &symbols {
            if let Some(&other) = self.owner.get(&filters.symbol) {
                return Err(CohortError::Config(format!(
                    "{} already belongs to cohort {}; a coin belongs to one cohort",
                    filters.symbol, self.slots[other].definition.name
                )));
            }
        }
        let config = orchestrator_config(&definition, base);
        config
            .hybrid
            .validate()
            .map_err(|e| CohortError::Config(format!("cohort {:?}: {e}", definition.name)))?;
        let row = definition.to_new_cohort()?;
        // Stored first, so a new row starts with the cohort's capital as its current capital.
        store.run_migrations()?;
        store.upsert_cohort(&row, now)?;
        let traded: Vec<Symbol> = symbols.iter().map(|f| f.symbol.clone()).collect();
        let orchestrator = HybridOrchestrator::new(venue, store, config, symbols, now)
            .map_err(|e| CohortError::Config(format!("cohort {:?}: {e}", definition.name)))?;
        // The engine writes its own placeholder row; put the cohort's definition back.
        let id = orchestrator.store().upsert_cohort(&row, now)?.id;
        if id != orchestrator.exchange().cohort() {
            return Err(CohortError::Config(format!(
                "cohort {:?} is {id} in the store but its venue trades as {}",
                definition.name,
                orchestrator.exchange().cohort()
            )));
        }
        let index = self.slots.len();
        for symbol in traded {
            self.owner.insert(symbol, index);
        }
        self.by_cohort.insert(id, index);
        self.slots.push(CohortSlot {
            definition,
            id,
            orchestrator,
            failures: Vec::new(),
            started: false,
        });
        Ok(id)
    }

    /// The cohorts, in the order they were added.
    #[must_use]
    pub fn slots(&self) -> &[CohortSlot<V>] {
        &self.slots
    }

    /// Fills whose client order id names no cohort of this orchestrator (foreign orders).
    #[must_use]
    pub const fn unrouted_fills(&self) -> u64 {
        self.unrouted_fills
    }

    /// The cohort that trades `symbol`.
    #[must_use]
    pub fn owner_of(&self, symbol: &Symbol) -> Option<CohortId> {
        self.owner.get(symbol).map(|&i| self.slots[i].id)
    }

    /// History only (before trading starts), for the symbol's cohort's regime detector.
    pub fn warm_up(&mut self, symbol: &Symbol, candle: &Candle, now: Timestamp) {
        if let Some(&i) = self.owner.get(symbol) {
            let slot = &mut self.slots[i];
            if let Err(error) = slot.orchestrator.warm_up(symbol, candle) {
                slot.fail(now, format!("warm-up {symbol}"), error);
            }
        }
    }

    /// Starts every cohort that has not started yet (a failed start is retried on the next
    /// call). Returns how many cohorts are started.
    pub async fn start(&mut self, now: Timestamp) -> usize {
        for slot in self.slots.iter_mut().filter(|s| !s.started) {
            match slot.orchestrator.start(now).await {
                Ok(()) => slot.started = true,
                Err(error) => slot.fail(now, "start".to_owned(), error),
            }
        }
        self.slots.iter().filter(|s| s.started).count()
    }

    /// One candle of `symbol` and the exchange's fills since the last call (any cohort's):
    /// each fill is booked in its cohort's ledger, then the symbol's cohort trades the candle
    /// with its fills (a cohort not started yet sees the candle too: it learns the price it
    /// starts at). Returns the cohorts that failed on this candle.
    pub async fn on_candle(
        &mut self,
        symbol: &Symbol,
        candle: &Candle,
        fills: Vec<Fill>,
        now: Timestamp,
    ) -> Vec<CohortId> {
        let mut by_slot: BTreeMap<usize, Vec<Fill>> = BTreeMap::new();
        for fill in fills {
            let slot = fill
                .client_order_id
                .decode()
                .and_then(|(cohort, _, _)| self.by_cohort.get(&cohort).copied());
            match slot {
                Some(i) => {
                    self.slots[i].orchestrator.exchange().book_fill(&fill);
                    by_slot.entry(i).or_default().push(fill);
                }
                None => self.unrouted_fills += 1,
            }
        }
        let mut failed = Vec::new();
        let owner = self.owner.get(symbol).copied();
        if let Some(i) = owner {
            self.slots[i]
                .orchestrator
                .exchange()
                .mark_price(symbol, candle.close());
        }
        for (i, slot) in self.slots.iter_mut().enumerate() {
            let fills = by_slot.remove(&i).unwrap_or_default();
            if owner != Some(i) && fills.is_empty() {
                continue;
            }
            let result = if owner == Some(i) {
                slot.orchestrator
                    .on_candle(symbol, candle, fills, now)
                    .await
            } else {
                // Fills of a symbol this cohort no longer trades: booked in its ledger above.
                Ok(())
            };
            if let Err(error) = result {
                slot.fail(now, format!("candle {symbol}"), error);
                failed.push(slot.id);
            }
        }
        failed
    }

    /// The hourly task of every started cohort; returns each cohort's equity snapshot (or the
    /// error it hit), in slot order.
    pub async fn on_hour(
        &mut self,
        now: Timestamp,
    ) -> Vec<(CohortId, Result<EquitySnapshot, String>)> {
        let mut out = Vec::new();
        for slot in &mut self.slots {
            if !slot.started {
                out.push((slot.id, Err("not started".to_owned())));
                continue;
            }
            match slot.orchestrator.on_hour(now).await {
                Ok(snapshot) => out.push((slot.id, Ok(snapshot))),
                Err(error) => {
                    let text = error.to_string();
                    slot.fail(now, "hour".to_owned(), error);
                    out.push((slot.id, Err(text)));
                }
            }
        }
        out
    }

    /// Every cohort's equity at the last prices (from its own ledger).
    pub async fn equities(
        &self,
        now: Timestamp,
    ) -> Vec<(CohortId, Result<EquitySnapshot, String>)> {
        let mut out = Vec::new();
        for slot in &self.slots {
            let result = slot
                .orchestrator
                .equity(now)
                .await
                .map_err(|e| e.to_string());
            out.push((slot.id, result));
        }
        out
    }

    /// Adds `amount` USDT to `cohort`'s capital: its ledger gets the cash and the `cohorts`
    /// table its new current capital (a capital change, not P&L). Returns the new capital.
    ///
    /// The cohort's orchestrator sizes its orders from its balances (its ledger), so the new
    /// cash is used from the next tick on.
    ///
    /// # Errors
    /// [`CohortError::Config`] for a cohort this orchestrator does not drive;
    /// [`CohortError::Capital`] for a non-positive amount; [`CohortError::Store`] when the
    /// row cannot be written (the ledger is changed back then).
    pub fn credit(
        &mut self,
        cohort: CohortId,
        amount: Decimal,
        now: Timestamp,
    ) -> Result<Decimal, CohortError> {
        let slot = self.slot_mut(cohort)?;
        slot.orchestrator.exchange().credit(amount)?;
        let capital = slot.definition.current_capital + amount;
        if let Err(error) = slot.record_capital(capital, now) {
            slot.orchestrator.exchange().debit(amount)?;
            return Err(error);
        }
        Ok(capital)
    }

    /// Takes `amount` USDT of `cohort`'s free cash back and records the lower capital in the
    /// `cohorts` table. Cash reserved by open orders and coins held are never taken: asking
    /// for more than the free cash is refused and changes nothing. Returns the new capital.
    ///
    /// # Errors
    /// [`CohortError::Config`] for a cohort this orchestrator does not drive;
    /// [`CohortError::Capital`] for a non-positive amount or more than the free cash;
    /// [`CohortError::Store`] when the row cannot be written (the ledger is changed back then).
    pub fn debit(
        &mut self,
        cohort: CohortId,
        amount: Decimal,
        now: Timestamp,
    ) -> Result<Decimal, CohortError> {
        let slot = self.slot_mut(cohort)?;
        slot.orchestrator.exchange().debit(amount)?;
        let capital = slot.definition.current_capital - amount;
        if let Err(error) = slot.record_capital(capital, now) {
            slot.orchestrator.exchange().credit(amount)?;
            return Err(error);
        }
        Ok(capital)
    }

    fn slot_mut(&mut self, cohort: CohortId) -> Result<&mut CohortSlot<V>, CohortError> {
        let index = *self.by_cohort.get(&cohort).ok_or_else(|| {
            CohortError::Config(format!("no cohort {cohort} in this orchestrator"))
        })?;
        Ok(&mut self.slots[index])
    }

    /// The checkpoint the driver goes on from after a restart: the earliest of the cohorts'
    /// saved ones (so none misses a candle), or `None` when no cohort has a saved state.
    ///
    /// # Errors
    /// [`CohortError::Config`] naming the cohort whose saved state cannot be read.
    pub fn saved_checkpoint(&self) -> Result<Option<Checkpoint>, CohortError> {
        let mut earliest: Option<Checkpoint> = None;
        for slot in &self.slots {
            let saved = slot.orchestrator.saved_progress().map_err(|e| {
                CohortError::Config(format!("cohort {:?}: {e}", slot.definition.name))
            })?;
            if let Some(checkpoint) = saved {
                let earlier = earliest
                    .as_ref()
                    .is_none_or(|e| checkpoint.last_close < e.last_close);
                if earlier {
                    earliest = Some(checkpoint);
                }
            }
        }
        Ok(earliest)
    }

    /// Restores every cohort's saved state; cohorts with one count as started.
    ///
    /// # Errors
    /// [`CohortError::Config`] naming the cohort whose saved state cannot be read.
    pub async fn restore(&mut self, now: Timestamp) -> Result<(), CohortError> {
        for slot in &mut self.slots {
            let restored = slot.orchestrator.restore_state(now).await.map_err(|e| {
                CohortError::Config(format!("cohort {:?}: {e}", slot.definition.name))
            })?;
            slot.started |= restored;
        }
        Ok(())
    }

    /// Reconciles every cohort with the exchange; a cohort's failure is recorded against it.
    pub async fn reconcile(&mut self, now: Timestamp) -> ReconcileReport {
        let mut report = ReconcileReport::default();
        for slot in &mut self.slots {
            match slot.orchestrator.reconcile(now).await {
                Ok(own) => report.merge(own),
                Err(error) => {
                    report
                        .errors
                        .push(format!("{}: {error}", slot.definition.name));
                    slot.fail(now, "reconcile".to_owned(), error);
                }
            }
        }
        report
    }

    /// Saves every cohort's state with the driver's `checkpoint`.
    ///
    /// # Errors
    /// [`CohortError::Config`] naming the cohort whose state could not be saved (a store
    /// failure: the run must stop rather than trade on without a restart point).
    pub fn save(&mut self, checkpoint: &Checkpoint, now: Timestamp) -> Result<(), CohortError> {
        for slot in &mut self.slots {
            Trader::save(&mut slot.orchestrator, checkpoint, now).map_err(|e| {
                CohortError::Config(format!("saving cohort {:?}: {e}", slot.definition.name))
            })?;
        }
        Ok(())
    }

    /// Pauses or resumes buying in every cohort.
    pub fn set_paused(&mut self, paused: bool) {
        for slot in &mut self.slots {
            slot.orchestrator.set_paused(paused);
        }
    }

    /// The sum of the cohorts' activity counters ([`Trader::activity`]).
    #[must_use]
    pub fn activity(&self) -> u64 {
        self.slots
            .iter()
            .map(|slot| Trader::activity(&slot.orchestrator))
            .sum()
    }

    /// Per symbol, the earliest trade the cohorts have not booked yet.
    #[must_use]
    pub fn trade_cursors(&self) -> Vec<(Symbol, TradesFrom)> {
        let mut cursors: BTreeMap<Symbol, i64> = BTreeMap::new();
        for slot in &self.slots {
            for (symbol, from) in Trader::trade_cursors(&slot.orchestrator) {
                if let TradesFrom::TradeId(id) = from {
                    let entry = cursors.entry(symbol).or_insert(id);
                    *entry = (*entry).min(id);
                }
            }
        }
        cursors
            .into_iter()
            .map(|(symbol, id)| (symbol, TradesFrom::TradeId(id)))
            .collect()
    }

    /// Every cohort's ledger now, in slot order.
    #[must_use]
    pub fn ledgers(&self) -> Vec<CohortLedger> {
        self.slots.iter().map(CohortSlot::ledger).collect()
    }

    /// Takes the slots out (e.g. for a report at the end).
    #[must_use]
    pub fn into_slots(self) -> Vec<CohortSlot<V>> {
        self.slots
    }
}
