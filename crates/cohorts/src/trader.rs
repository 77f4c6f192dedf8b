//! [`CohortTrader`]: the cohorts as the [`Trader`] of a run (a backtest or `main_hybrid run`).
//!
//! 1. Candles before trading starts feed the market history (one buffer per coin).
//! 2. At the first traded candle the coins are scored from that history
//!    ([`scan_candidates`]: 4h technicals, 24h quote volume, 24h change — sentiment and whale
//!    flows are not in candles, see [`ConfidenceBasis`]), each cohort selects its coins
//!    ([`select_coins`]); the cohorts with coins get an orchestrator on their own ledger view of
//!    the shared account, warmed up on the history of their coins; the others keep their cash
//!    and are reported with the reason. The selection is saved, so a restart trades the same
//!    coins.
//! 3. Every candle's fills are routed to the cohort named in their client order id, then the
//!    cohort trading the symbol gets the candle ([`CohortOrchestrator::on_candle`]); the hourly
//!    task, reconciliation and saves run for every cohort. A cohort's failure is its own.

use std::{
    collections::{BTreeMap, VecDeque},
    sync::Arc,
};

use hybrid_core::{
    Candle, CohortId, Fill, Notional, Price, Quantity, Symbol, SymbolFilters, Timestamp,
};
use hybrid_engine::{
    AllocationCandidate, Checkpoint, OrchestratorConfig, ReconcileReport, StatusLine, Timer, Trader,
};
use hybrid_exchange::{Account, TradesFrom};
use hybrid_market::{CoinScanner, RiskLevel, ScanInputs, ScoreComponent, Watchlist};
use hybrid_store::Store;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    definition::{seed, CohortDefinition},
    exchange::CohortExchange,
    ledger::CohortLedger,
    orchestrator::CohortOrchestrator,
    selection::select_coins,
    CohortError,
};

/// 4h candles the technical score reads (spec §7.5: 100 bars).
const TECHNICAL_BARS: usize = 100;
const FOUR_HOURS_MS: i64 = 4 * Timestamp::HOUR_MS;

/// The state document holding the cohorts' coin selection.
const SELECTION_DOCUMENT: &str = "cohorts/selection";

/// What a coin's scanner confidence is measured against in a replay.
///
/// The live scanner's confidence is the share of its five inputs that had data. Candle files
/// carry only three of them (technicals, volume, momentum): Fear & Greed and whale flows have
/// no history here. Measured against all five, no coin of a replay reaches 0.7, so the
/// conservative cohort (minimum 0.7) can never trade in a backtest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConfidenceBasis {
    /// The share of the inputs a replay can have (3): a coin with all three is fully
    /// confident. The report says so.
    #[default]
    ReplayInputs,
    /// The share of all five inputs, as live (a replay's coins reach at most 0.6).
    AllInputs,
}

/// Opens one cohort's store (a connection to the run's database, or a fresh in-memory one).
pub type StoreOpener = Box<dyn Fn() -> Result<Store, hybrid_store::StoreError> + Send>;

/// How the cohort trader is set up.
pub struct CohortTraderConfig {
    /// The cohorts (inactive ones are left out by the caller).
    pub cohorts: Vec<CohortDefinition>,
    /// The settings every cohort's configuration is derived from ([`crate::from_cohort`]).
    pub base: OrchestratorConfig,
    /// The rules of every coin on offer.
    pub filters: Vec<SymbolFilters>,
    /// Candle length in milliseconds.
    pub interval_ms: i64,
    /// Days of history kept for the coin scores and the regime detectors.
    pub history_days: u32,
    /// How a coin's confidence is measured.
    pub confidence_basis: ConfidenceBasis,
    /// Opens each cohort's store.
    pub open_store: StoreOpener,
}

impl std::fmt::Debug for CohortTraderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CohortTraderConfig")
            .field("cohorts", &self.cohorts.len())
            .field("interval_ms", &self.interval_ms)
            .field("history_days", &self.history_days)
            .finish_non_exhaustive()
    }
}

/// A cohort left without coins: its ledger (cash only) and why.
#[derive(Debug, Clone)]
pub struct IdleCohort {
    /// The cohort.
    pub definition: CohortDefinition,
    /// Its cash.
    pub ledger: CohortLedger,
    /// Why it got no coin.
    pub reason: String,
}

/// The saved selection.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct SavedSelection {
    /// Per cohort name: its coins, or why it has none.
    cohorts: BTreeMap<String, Result<Vec<Symbol>, String>>,
}

/// What a cohort trader leaves at the end of a run: the cohorts that traded, the idle ones,
/// and every cohort's id by name.
pub type CohortParts<A> = (
    Option<CohortOrchestrator<CohortExchange<A>>>,
    Vec<IdleCohort>,
    BTreeMap<String, CohortId>,
);

/// The cohorts as one trader. See the module docs.
pub struct CohortTrader<A> {
    shared: Arc<A>,
    config: CohortTraderConfig,
    control: Store,
    history: BTreeMap<Symbol, VecDeque<Candle>>,
    history_len: usize,
    orchestrator: Option<CohortOrchestrator<CohortExchange<A>>>,
    idle: Vec<IdleCohort>,
    ids: BTreeMap<String, CohortId>,
    paused: bool,
}

impl<A> std::fmt::Debug for CohortTrader<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CohortTrader")
            .field("config", &self.config)
            .field("set_up", &self.orchestrator.is_some())
            .field("idle", &self.idle.len())
            .finish_non_exhaustive()
    }
}

impl<A: Account> CohortTrader<A> {
    /// A trader of `config.cohorts` on `shared` (the run's account), saving its coin selection
    /// in `control`.
    ///
    /// # Errors
    /// [`CohortError::Config`] without an active cohort or with an invalid one.
    pub fn new(
        shared: Arc<A>,
        config: CohortTraderConfig,
        control: Store,
    ) -> Result<Self, CohortError> {
        if config.cohorts.is_empty() {
            return Err(CohortError::Config("no active cohort to trade".to_owned()));
        }
        for cohort in &config.cohorts {
            cohort.validate()?;
        }
        control.run_migrations()?;
        let history_len = usize::try_from(
            i64::from(config.history_days) * Timestamp::DAY_MS / config.interval_ms.max(1),
        )
        .unwrap_or(usize::MAX)
        .max(1);
        Ok(Self {
            shared,
            config,
            control,
            history: BTreeMap::new(),
            history_len,
            orchestrator: None,
            idle: Vec::new(),
            ids: BTreeMap::new(),
            paused: false,
        })
    }

    /// The cohorts that trade (after the first traded candle).
    #[must_use]
    pub const fn orchestrator(&self) -> Option<&CohortOrchestrator<CohortExchange<A>>> {
        self.orchestrator.as_ref()
    }

    /// The cohorts left without coins.
    #[must_use]
    pub fn idle(&self) -> &[IdleCohort] {
        &self.idle
    }

    /// Each cohort's id in the stores, by name.
    #[must_use]
    pub const fn ids(&self) -> &BTreeMap<String, CohortId> {
        &self.ids
    }

    /// The cohorts as configured.
    #[must_use]
    pub fn definitions(&self) -> &[CohortDefinition] {
        &self.config.cohorts
    }

    /// Every cohort's ledger now (trading and idle), by name.
    #[must_use]
    pub fn ledgers(&self) -> Vec<(String, CohortLedger)> {
        let mut ledgers: Vec<(String, CohortLedger)> = Vec::new();
        if let Some(orchestrator) = &self.orchestrator {
            for slot in orchestrator.slots() {
                ledgers.push((slot.definition().name.clone(), slot.ledger()));
            }
        }
        for idle in &self.idle {
            ledgers.push((idle.definition.name.clone(), idle.ledger.clone()));
        }
        ledgers
    }

    /// Takes the cohort orchestrator and the idle cohorts out (for a report at the end).
    #[must_use]
    pub fn into_parts(self) -> CohortParts<A> {
        (self.orchestrator, self.idle, self.ids)
    }

    fn remember(&mut self, symbol: &Symbol, candle: &Candle) {
        let buffer = self.history.entry(symbol.clone()).or_default();
        if buffer.len() == self.history_len {
            buffer.pop_front();
        }
        buffer.push_back(*candle);
    }

    /// Scores the coins, selects each cohort's and builds their orchestrators.
    fn set_up(&mut self, now: Timestamp) -> Result<(), CohortError> {
        let candidates = scan_candidates(
            &self.history,
            self.config.interval_ms,
            now,
            self.config.confidence_basis,
        );
        let selections = select_coins(&self.config.cohorts, &candidates);
        let mut saved = SavedSelection::default();
        for (cohort, selection) in self.config.cohorts.iter().zip(selections) {
            let chosen = if selection.symbols.is_empty() {
                Err(selection.unfunded.unwrap_or_default())
            } else {
                Ok(selection.symbols)
            };
            saved.cohorts.insert(cohort.name.clone(), chosen);
        }
        self.build(&saved, false, now)?;
        let body = serde_json::to_value(&saved)
            .map_err(|e| CohortError::Config(format!("cohort selection: {e}")))?;
        self.control.save_state(SELECTION_DOCUMENT, &body, now)?;
        let history = std::mem::take(&mut self.history);
        if let Some(orchestrator) = self.orchestrator.as_mut() {
            for (symbol, candles) in &history {
                for candle in candles {
                    orchestrator.warm_up(symbol, candle, now);
                }
            }
        }
        Ok(())
    }

    /// One orchestrator per cohort with coins, idle ledgers for the others; `restoring` rebuilds
    /// each ledger from the store (capital, fills, open orders) instead of starting it afresh.
    fn build(
        &mut self,
        selection: &SavedSelection,
        restoring: bool,
        now: Timestamp,
    ) -> Result<(), CohortError> {
        let quote = self
            .config
            .filters
            .first()
            .map(|f| f.symbol.quote())
            .ok_or_else(|| CohortError::Config("no coin on offer".to_owned()))?;
        let mut orchestrator = CohortOrchestrator::new();
        let cohorts = self.config.cohorts.clone();
        for cohort in &cohorts {
            // Every store knows every cohort under the same id, so client order ids route.
            let store = (self.config.open_store)()?;
            let rows = seed(&store, &cohorts, now)?;
            let row = rows
                .iter()
                .find(|r| r.name == cohort.name)
                .ok_or_else(|| CohortError::Config(format!("cohort {} not stored", cohort.name)))?;
            let id = row.id;
            self.ids.insert(cohort.name.clone(), id);
            let ledger = if restoring {
                CohortLedger::restore(
                    id,
                    quote.clone(),
                    row.current_capital,
                    &store.cohort_fills(id)?,
                    &store.open_orders(Some(id))?,
                )
            } else {
                CohortLedger::new(id, quote.clone(), cohort.current_capital)
            };
            let symbols = match selection.cohorts.get(&cohort.name) {
                Some(Ok(symbols)) if !symbols.is_empty() => symbols.clone(),
                Some(Err(reason)) => {
                    self.idle.push(IdleCohort {
                        definition: cohort.clone(),
                        ledger,
                        reason: reason.clone(),
                    });
                    continue;
                }
                _ => {
                    self.idle.push(IdleCohort {
                        definition: cohort.clone(),
                        ledger,
                        reason: "no coin selected".to_owned(),
                    });
                    continue;
                }
            };
            let own: Vec<SymbolFilters> = self
                .config
                .filters
                .iter()
                .filter(|f| symbols.contains(&f.symbol))
                .cloned()
                .collect();
            let venue = CohortExchange::new(Arc::clone(&self.shared), ledger);
            orchestrator.add(cohort.clone(), venue, store, own, &self.config.base, now)?;
        }
        orchestrator.set_paused(self.paused);
        self.orchestrator = Some(orchestrator);
        Ok(())
    }

    fn saved_selection(&self) -> Result<Option<SavedSelection>, CohortError> {
        let Some(document) = self.control.load_state(SELECTION_DOCUMENT)? else {
            return Ok(None);
        };
        serde_json::from_value(document.body)
            .map(Some)
            .map_err(|e| CohortError::Config(format!("saved cohort selection: {e}")))
    }
}

impl<A: Account> Trader for CohortTrader<A> {
    type Error = CohortError;

    fn warm_up(&mut self, symbol: &Symbol, candle: &Candle) -> Result<(), CohortError> {
        match self.orchestrator.as_mut() {
            Some(orchestrator) => orchestrator.warm_up(symbol, candle, candle.open_time()),
            None => self.remember(symbol, candle),
        }
        Ok(())
    }

    fn saved_checkpoint(&mut self) -> Result<Option<Checkpoint>, CohortError> {
        if self.orchestrator.is_none() {
            let Some(selection) = self.saved_selection()? else {
                return Ok(None);
            };
            let saved_at = self
                .control
                .load_state(SELECTION_DOCUMENT)?
                .map_or(Timestamp::from_millis(0), |doc| doc.updated_at);
            self.build(&selection, true, saved_at)?;
        }
        match self.orchestrator.as_ref() {
            Some(orchestrator) => orchestrator.saved_checkpoint(),
            None => Ok(None),
        }
    }

    async fn restore(&mut self, now: Timestamp) -> Result<(), CohortError> {
        if let Some(orchestrator) = self.orchestrator.as_mut() {
            orchestrator.restore(now).await?;
        }
        Ok(())
    }

    async fn start(&mut self, now: Timestamp) -> Result<(), CohortError> {
        if self.orchestrator.is_none() {
            self.set_up(now)?;
        }
        if let Some(orchestrator) = self.orchestrator.as_mut() {
            orchestrator.start(now).await;
        }
        Ok(())
    }

    async fn on_candle(
        &mut self,
        symbol: &Symbol,
        candle: &Candle,
        fills: Vec<Fill>,
        now: Timestamp,
    ) -> Result<(), CohortError> {
        if self.orchestrator.is_none() {
            self.set_up(now)?;
        }
        if let Some(orchestrator) = self.orchestrator.as_mut() {
            orchestrator.on_candle(symbol, candle, fills, now).await;
        }
        Ok(())
    }

    async fn on_timer(&mut self, timer: Timer, now: Timestamp) -> Result<(), CohortError> {
        if let (Timer::Hourly, Some(orchestrator)) = (timer, self.orchestrator.as_mut()) {
            orchestrator.on_hour(now).await;
        }
        Ok(())
    }

    async fn reconcile(&mut self, now: Timestamp) -> Result<ReconcileReport, CohortError> {
        match self.orchestrator.as_mut() {
            Some(orchestrator) => Ok(orchestrator.reconcile(now).await),
            None => Ok(ReconcileReport::default()),
        }
    }

    fn save(&mut self, checkpoint: &Checkpoint, now: Timestamp) -> Result<(), CohortError> {
        if let Some(orchestrator) = self.orchestrator.as_mut() {
            orchestrator.save(checkpoint, now)?;
        }
        Ok(())
    }

    fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
        if let Some(orchestrator) = self.orchestrator.as_mut() {
            orchestrator.set_paused(paused);
        }
    }

    fn activity(&self) -> u64 {
        self.orchestrator
            .as_ref()
            .map_or(0, CohortOrchestrator::activity)
    }

    fn trade_cursors(&self) -> Vec<(Symbol, TradesFrom)> {
        self.orchestrator
            .as_ref()
            .map(CohortOrchestrator::trade_cursors)
            .unwrap_or_default()
    }
}

impl<A: Account> StatusLine for CohortTrader<A> {
    fn status_line(&self) -> String {
        let Some(orchestrator) = &self.orchestrator else {
            return "cohorts not set up yet".to_owned();
        };
        orchestrator
            .slots()
            .iter()
            .map(|slot| {
                let journal = slot.journal();
                format!(
                    "{}: {} orders, {} fills",
                    slot.definition().name,
                    journal.n_orders,
                    journal.n_fills
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Scores every coin from its recent candles (see the module doc) as allocation candidates,
/// categories from the seeded watchlist (a coin it does not know stays
/// [`hybrid_market::Category::Unknown`]).
#[must_use]
pub fn scan_candidates(
    history: &BTreeMap<Symbol, VecDeque<Candle>>,
    interval_ms: i64,
    now: Timestamp,
    basis: ConfidenceBasis,
) -> Vec<AllocationCandidate> {
    let watchlist = Watchlist::seeded();
    let scanner = CoinScanner::default();
    let per_day = usize::try_from(Timestamp::DAY_MS / interval_ms.max(1))
        .unwrap_or(1)
        .max(1);
    history
        .iter()
        .filter_map(|(symbol, candles)| {
            let last = candles.back()?;
            let bars_4h = (interval_ms <= FOUR_HOURS_MS).then(|| to_four_hours(candles));
            let day: Vec<&Candle> = candles.iter().rev().take(per_day).collect();
            let quote_volume: Decimal = day
                .iter()
                .map(|c| c.volume().value() * c.close().value())
                .sum();
            let change = day.last().and_then(|first| {
                let open = first.open().value();
                (!open.is_zero())
                    .then(|| (last.close().value() / open - Decimal::ONE) * Decimal::ONE_HUNDRED)
            });
            let inputs = ScanInputs {
                candles_4h: bars_4h.as_deref(),
                quote_volume_24h: Some(quote_volume),
                change_24h_pct: change,
                ..ScanInputs::empty(symbol.clone())
            };
            let mut opportunity = scanner.score(&watchlist, &inputs, now);
            if basis == ConfidenceBasis::ReplayInputs {
                let had = REPLAY_INPUTS
                    - opportunity
                        .missing
                        .iter()
                        .filter(|c| !matches!(c, ScoreComponent::Sentiment | ScoreComponent::Whale))
                        .count();
                opportunity.confidence =
                    (Decimal::from(had) / Decimal::from(REPLAY_INPUTS)).round_dp(4);
                opportunity.risk_level =
                    risk_level(opportunity.confidence, opportunity.total_score);
            }
            Some(AllocationCandidate::from_opportunity(
                &opportunity,
                last.close(),
                Notional::new(Decimal::from(5)),
            ))
        })
        .collect()
}

/// The scanner inputs a candle file can feed: technicals, volume, momentum.
const REPLAY_INPUTS: usize = 3;

/// Spec §7.4 risk: LOW if confidence ≥ 0.7 and score ≥ 0.6, HIGH if confidence < 0.4 or
/// score < 0.3, else MEDIUM.
fn risk_level(confidence: Decimal, score: Decimal) -> RiskLevel {
    if confidence >= Decimal::new(7, 1) && score >= Decimal::new(6, 1) {
        RiskLevel::Low
    } else if confidence < Decimal::new(4, 1) || score < Decimal::new(3, 1) {
        RiskLevel::High
    } else {
        RiskLevel::Medium
    }
}

type Bucket = (Timestamp, Price, Price, Price, Price, Decimal);

/// The last [`TECHNICAL_BARS`] 4h candles built from shorter ones (UTC-aligned buckets).
fn to_four_hours(candles: &VecDeque<Candle>) -> Vec<Candle> {
    let mut out: Vec<Candle> = Vec::new();
    let mut bucket: Option<Bucket> = None;
    let flush = |b: Option<Bucket>, out: &mut Vec<Candle>| {
        if let Some((t, o, h, l, c, v)) = b {
            if let Ok(candle) =
                Candle::new(t, o, h, l, c, Quantity::new(v).unwrap_or(Quantity::ZERO))
            {
                out.push(candle);
            }
        }
    };
    for candle in candles {
        let start = Timestamp::from_millis(
            candle.open_time().as_millis().div_euclid(FOUR_HOURS_MS) * FOUR_HOURS_MS,
        );
        bucket = match bucket {
            Some((t, o, h, l, _, v)) if t == start => Some((
                t,
                o,
                h.max(candle.high()),
                l.min(candle.low()),
                candle.close(),
                v + candle.volume().value(),
            )),
            other => {
                flush(other, &mut out);
                Some((
                    start,
                    candle.open(),
                    candle.high(),
                    candle.low(),
                    candle.close(),
                    candle.volume().value(),
                ))
            }
        };
    }
    flush(bucket, &mut out);
    let skip = out.len().saturating_sub(TECHNICAL_BARS);
    out.split_off(skip)
}
