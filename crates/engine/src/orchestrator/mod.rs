//! [`HybridOrchestrator`]: one cohort's symbols, each in HOLD, GRID or CASH, driven candle by
//! candle (spec §5, DESIGN "The tick").
//!
//! For every candle of a symbol the orchestrator: aggregates it into daily candles (and, when a
//! day closes, asks the [`RegimeDetector`](hybrid_market::RegimeDetector) for the regime);
//! feeds the price to the [`RiskGuard`] circuit breaker; books the exchange's fills (store,
//! trade pairs, grid); walks the stop-loss book along the candle's path and sells what fires; then
//! runs the mode's behaviour (the grid's intents, the CASH exit deadline). Once an hour
//! ([`HybridOrchestrator::on_hour`]) each symbol's [`ModeManager`] evaluates the latest
//! regime with its hysteresis; a switch runs [`plan_transition`]'s steps. Every order goes
//! through the guard, is recorded in the [`Store`] before it is sent, and carries a client
//! order id.
//!
//! Choices of this first cut (recorded in the report):
//! - each symbol has its own mode manager and regime detector (its own coin's days);
//! - allocation is an equal split of the equity across the symbols, taken when a symbol
//!   enters a mode (the scored allocator needs scanner inputs a replay does not have);
//! - after a stop-loss sells a HOLD position, the symbol buys back only once a new day has
//!   closed and the regime is still BULL (no buy-stop-buy churn within a day); a HOLD entry
//!   the guard refused is retried every hour;
//! - a tripped circuit breaker (a drop of 10 % between two closes) blocks the symbol's buys
//!   until the next UTC midnight, when the orchestrator re-arms it (the operator's decision
//!   in live trading);
//! - the state (modes, managers, positions, stops, grid parameters) is saved as one document
//!   every hour (when configured) and restored with [`HybridOrchestrator::restore_state`];
//! - the store is called synchronously: fine for the backtest, to be moved behind
//!   `spawn_blocking` for the live loop.

mod execute;
mod persist;
mod rebalance_task;
mod reconcile;
mod state;
mod trader;
mod transition;

pub use self::reconcile::ReconcileReport;

use std::collections::BTreeMap;

use hybrid_core::{
    Asset, Candle, ClientOrderId, CohortId, CoreError, Fill, Notional, Price, Symbol,
    SymbolFilters, Timestamp, TradingMode,
};
use hybrid_exchange::{candle_path, Account, ExchangeError};
use hybrid_market::{MarketError, RegimeConfig, RegimeReport};
use hybrid_modes::{HybridConfig, ModeManager, ModesError, Probability, RegimeInput};
use hybrid_risk::{GuardConfig, RiskError, RiskGuard, StopConfig, StopIntent, StopLossBook};
use hybrid_store::{NewCohort, NewEvent, NewNotification, Severity, Store, StoreError};

use crate::driver::Checkpoint;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use self::state::{OrderOwner, SymbolState};

/// How an orchestrator trades.
#[derive(Debug, Clone)]
pub struct OrchestratorConfig {
    /// The cohort's name in the store (created if missing).
    pub cohort_name: String,
    /// Modes, hysteresis, grid shape, trailing-stop distances.
    pub hybrid: HybridConfig,
    /// Stop-loss distances and the fee the stops allow for.
    pub stops: StopConfig,
    /// The order gate.
    pub guard: GuardConfig,
    /// When the regime detector refits and on how many days.
    pub regime: RegimeConfig,
    /// The fee rate the grid plans its spacing with (the venue's taker fee).
    pub fee_rate: Decimal,
    /// Save the state document after every hourly evaluation (live: yes; a backtest that
    /// never restarts can skip the cost).
    pub save_state_hourly: bool,
}

impl OrchestratorConfig {
    /// The spec's defaults with a guard fit for a replay: single orders up to all the free
    /// quote (a HOLD entry buys the whole allocation at once), no cash reserve, full exposure
    /// and in effect no portfolio drawdown halt (99 %: a halt never resumes by itself, and the
    /// modes and the stops are what is being tested); the
    /// daily drawdown halt and the circuit breaker stay at the spec's 10 %. The state document
    /// is not saved hourly (a replay never restarts).
    #[must_use]
    pub fn backtest_defaults() -> Self {
        let guard = GuardConfig {
            max_order_fraction_of_free: Decimal::ONE,
            min_cash_reserve_pct: Decimal::ZERO,
            max_total_exposure_pct: Decimal::ONE_HUNDRED,
            max_portfolio_drawdown_pct: Decimal::from(99),
            ..GuardConfig::default()
        };
        Self {
            cohort_name: "backtest".to_owned(),
            hybrid: HybridConfig::default(),
            stops: StopConfig::default(),
            guard,
            regime: RegimeConfig::default(),
            fee_rate: Decimal::new(1, 3),
            save_state_hourly: false,
        }
    }
}

/// Why the orchestrator could not go on.
#[derive(Debug, thiserror::Error)]
pub enum OrchestratorError {
    /// The exchange failed in a way the orchestrator cannot absorb (e.g. balances unreadable).
    #[error("exchange: {0}")]
    Exchange(#[from] ExchangeError),
    /// The store failed: orders and fills can no longer be recorded, so trading stops.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// Invalid mode configuration, e.g. `min_regime_probability` outside [0.5, 1].
    #[error("modes: {0}")]
    Modes(#[from] ModesError),
    /// Invalid risk configuration.
    #[error("risk: {0}")]
    Risk(#[from] RiskError),
    /// Candles out of order for the daily aggregation.
    #[error("market data: {0}")]
    Market(#[from] MarketError),
    /// An id or amount could not be built, e.g. a client order id longer than 36 characters.
    #[error("{0}")]
    Core(#[from] CoreError),
    /// The saved state document cannot be written or read back.
    #[error("state document: {0}")]
    State(String),
    /// A candle for a symbol the orchestrator does not trade.
    #[error("unknown symbol {0}")]
    UnknownSymbol(Symbol),
}

/// One mode switch of one symbol, with the manager's reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModeSwitch {
    /// When.
    pub time: Timestamp,
    /// Which symbol.
    pub symbol: Symbol,
    /// The mode before.
    pub from: TradingMode,
    /// The mode after.
    pub to: TradingMode,
    /// The manager's sentence, e.g. "BULL confirmed …".
    pub reason: String,
}

/// The portfolio at one instant: `equity = cash + holdings` exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EquitySnapshot {
    /// When (the close of the last candle).
    pub time: Timestamp,
    /// Quote balance, free and locked.
    pub cash: Notional,
    /// Every symbol's base balance at its last close.
    pub holdings: Notional,
    /// `cash + holdings`.
    pub equity: Notional,
}

/// What the orchestrator did, for the report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    /// Every mode switch, in time order.
    pub switches: Vec<ModeSwitch>,
    /// Closed trade pairs (entry and exit fees included in `net_pnl`).
    pub closed_trades: Vec<crate::ClosedTrade>,
    /// Sum of the fills' commissions, converted to the quote at the fill price.
    pub fees: Notional,
    /// Fills booked.
    pub n_fills: u64,
    /// Orders sent and accepted.
    pub n_orders: u64,
    /// Orders the guard refused.
    pub n_risk_refusals: u64,
    /// The guard's refusals by rule (e.g. `SymbolAllocationExceeded`).
    pub risk_refusals_by_reason: BTreeMap<String, u64>,
    /// Orders the exchange rejected.
    pub n_rejections: u64,
    /// Stop-loss sales.
    pub n_stop_sales: u64,
    /// Alerts raised by the grid and the stops.
    pub n_alerts: u64,
}

/// The hybrid orchestrator of one cohort over an exchange `E`.
#[derive(Debug)]
pub struct HybridOrchestrator<E> {
    exchange: E,
    store: Store,
    cohort: CohortId,
    config: OrchestratorConfig,
    symbols: BTreeMap<Symbol, SymbolState>,
    owners: BTreeMap<ClientOrderId, OrderOwner>,
    stops: StopLossBook,
    guard: RiskGuard,
    quote: Asset,
    journal: Journal,
    /// Per symbol, the highest exchange trade id booked.
    fill_cursors: BTreeMap<Symbol, i64>,
    /// The driver's position, saved with the state.
    progress: Checkpoint,
    /// When the 6-hourly rebalance last ran.
    last_rebalance: Option<Timestamp>,
    /// Whether fills, switches and stop-loss sales also go to the notification outbox.
    notify: bool,
    /// Whether the operator paused trading: no buys; exits, stops and sells go on.
    paused: bool,
    /// Whether mode decisions and hourly equity snapshots are written to the store.
    history: bool,
    /// The equity at the start and after the last hourly task.
    last_equity: Option<EquitySnapshot>,
}

impl<E: Account> HybridOrchestrator<E> {
    /// An orchestrator trading `symbols` (with their filters) on `exchange`, recording in
    /// `store` (migrated here), every symbol starting in `config.hybrid.initial_mode` with no
    /// position. Allocation: an equal split of the quote balance.
    ///
    /// # Errors
    /// Invalid configuration, no symbols, symbols with different quote assets, or a store
    /// failure.
    pub fn new(
        exchange: E,
        store: Store,
        config: OrchestratorConfig,
        symbols: Vec<SymbolFilters>,
        now: Timestamp,
    ) -> Result<Self, OrchestratorError> {
        let quote = state::common_quote(&symbols)?;
        store.run_migrations()?;
        let cohort = store
            .upsert_cohort(
                &NewCohort {
                    name: config.cohort_name.clone(),
                    description: "hybrid orchestrator".to_owned(),
                    config: serde_json::Value::Null,
                    starting_capital: Decimal::ZERO,
                    is_active: true,
                },
                now,
            )?
            .id;
        let mut states = BTreeMap::new();
        for filters in symbols {
            let manager = ModeManager::new(config.hybrid.clone(), now)?;
            states.insert(
                filters.symbol.clone(),
                SymbolState::new(filters, manager, config.regime),
            );
        }
        Ok(Self {
            stops: StopLossBook::new(config.stops.clone())?,
            guard: RiskGuard::new(config.guard.clone())?,
            exchange,
            store,
            cohort,
            config,
            symbols: states,
            owners: BTreeMap::new(),
            quote,
            journal: Journal::default(),
            fill_cursors: BTreeMap::new(),
            progress: Checkpoint::default(),
            last_equity: None,
            last_rebalance: None,
            notify: false,
            paused: false,
            history: false,
        })
    }

    /// The exchange (the replay driver feeds candles to it).
    #[must_use]
    pub fn exchange(&self) -> &E {
        &self.exchange
    }

    /// Gives the exchange and the store back (e.g. to restart on them).
    #[must_use]
    pub fn into_parts(self) -> (E, Store) {
        (self.exchange, self.store)
    }

    /// The store the orders, fills and events are recorded in.
    #[must_use]
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// What happened so far.
    #[must_use]
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// The driver's position, saved with the next state document.
    pub fn set_progress(&mut self, progress: Checkpoint) {
        self.progress = progress;
    }

    /// Sends fills, mode switches and stop-loss sales to the notification outbox as well (the
    /// live loop; a backtest does not).
    pub fn set_notifications(&mut self, on: bool) {
        self.notify = on;
    }

    /// Writes every mode decision that mattered (`trading_mode_history`) and the hourly
    /// equity snapshot (`equity_snapshots`) to the store (the live loop; a backtest keeps them
    /// in its report instead).
    pub fn set_history(&mut self, on: bool) {
        self.history = on;
    }

    /// Pauses (`true`) or resumes trading: while paused no buy is sent (no new positions, no
    /// grid buys); stops, exits and the grid's sells go on, so open positions stay managed.
    pub fn set_paused(&mut self, paused: bool) {
        if paused != self.paused {
            tracing::warn!(paused, "trading pause changed by the operator");
        }
        self.paused = paused;
    }

    /// Whether trading is paused.
    #[must_use]
    pub const fn is_paused(&self) -> bool {
        self.paused
    }

    /// The store's id of this orchestrator's cohort.
    #[must_use]
    pub const fn cohort(&self) -> CohortId {
        self.cohort
    }

    /// The current mode of every symbol.
    #[must_use]
    pub fn modes(&self) -> BTreeMap<Symbol, TradingMode> {
        self.symbols
            .iter()
            .map(|(symbol, state)| (symbol.clone(), state.mode))
            .collect()
    }

    /// History only: a candle from before trading starts, for the regime detector.
    ///
    /// # Errors
    /// [`OrchestratorError::UnknownSymbol`]; candles out of order.
    pub fn warm_up(&mut self, symbol: &Symbol, candle: &Candle) -> Result<(), OrchestratorError> {
        let state = self.state_mut(symbol)?;
        state.observe(candle)?;
        Ok(())
    }

    /// Starts every symbol in its initial mode at the current prices (after warm-up).
    ///
    /// # Errors
    /// Exchange or store failures.
    pub async fn start(&mut self, now: Timestamp) -> Result<(), OrchestratorError> {
        let symbols: Vec<Symbol> = self.symbols.keys().cloned().collect();
        let initial = self.config.hybrid.initial_mode;
        for symbol in symbols {
            self.enter_mode(&symbol, initial, now).await?;
        }
        self.last_equity = Some(self.equity(now).await?);
        Ok(())
    }

    /// The equity at the start or after the last hourly task, whichever came last.
    #[must_use]
    pub const fn last_equity(&self) -> Option<EquitySnapshot> {
        self.last_equity
    }

    /// One candle of `symbol` and the fills the exchange reported while it traded.
    ///
    /// # Errors
    /// Store failures and unreadable balances; order rejections are absorbed and counted.
    pub async fn on_candle(
        &mut self,
        symbol: &Symbol,
        candle: &Candle,
        fills: Vec<Fill>,
        now: Timestamp,
    ) -> Result<(), OrchestratorError> {
        let state = self.state_mut(symbol)?;
        state.observe(candle)?;
        if self.guard.on_price(symbol, candle.close()).is_some() {
            self.journal.n_alerts += 1;
        }
        for fill in fills {
            self.apply_fill(&fill, now).await?;
        }
        for price in candle_path(candle) {
            self.walk_stops(symbol, price, now).await?;
        }
        self.mode_behaviour(symbol, candle, now).await
    }

    /// The hourly task: each symbol's manager evaluates its latest regime and switches
    /// (running the transition plan), a stopped-out HOLD buys back when allowed, every 6 h
    /// the portfolio is rebalanced when a symbol drifted more than 5 % from its share, the
    /// guard sees the portfolio value, and the state document is saved. Returns the equity snapshot
    /// at `now`.
    ///
    /// # Errors
    /// Exchange or store failures.
    pub async fn on_hour(&mut self, now: Timestamp) -> Result<EquitySnapshot, OrchestratorError> {
        let symbols: Vec<Symbol> = self.symbols.keys().cloned().collect();
        for symbol in &symbols {
            if now.as_millis() % Timestamp::DAY_MS == 0 && self.guard.is_tripped(symbol) {
                self.guard.rearm_circuit_breaker(symbol);
                self.record_event(now, Some(symbol), "risk", "circuit breaker re-armed")?;
            }
            self.evaluate_and_switch(symbol, now).await?;
        }
        self.maybe_rebalance(now).await?;
        let balances = self.exchange.balances().await?;
        let (snapshot, positions) = self.valuation(&balances, now);
        if self.history {
            self.record_snapshot(&snapshot, positions)?;
        }
        for event in self.guard.observe_portfolio(snapshot.equity, now) {
            self.journal.n_alerts += 1;
            self.record_event(now, None, "risk", &format!("{event:?}"))?;
        }
        if self.config.save_state_hourly {
            self.save_state(now)?;
        }
        self.last_equity = Some(snapshot);
        Ok(snapshot)
    }

    /// Cash + holdings at the last prices.
    ///
    /// # Errors
    /// The exchange's balances cannot be read.
    pub async fn equity(&self, now: Timestamp) -> Result<EquitySnapshot, OrchestratorError> {
        let balances = self.exchange.balances().await?;
        Ok(self.valuation(&balances, now).0)
    }

    /// Cash, holdings and the value held per symbol (coins at their last prices) from one
    /// reading of the balances.
    fn valuation(
        &self,
        balances: &[hybrid_exchange::Balance],
        now: Timestamp,
    ) -> (EquitySnapshot, BTreeMap<Symbol, Notional>) {
        let cash = Notional::new(
            balances
                .iter()
                .filter(|b| b.asset == self.quote)
                .map(hybrid_exchange::Balance::total)
                .sum(),
        );
        let mut holdings = Notional::ZERO;
        let mut positions = BTreeMap::new();
        for (symbol, state) in &self.symbols {
            let held = held_total(balances, symbol);
            if let Some(price) = state.last_price {
                let value = Notional::new(held * price.value());
                holdings = holdings + value;
                if !held.is_zero() {
                    positions.insert(symbol.clone(), value);
                }
            }
        }
        let snapshot = EquitySnapshot {
            time: now,
            cash,
            holdings,
            equity: cash + holdings,
        };
        (snapshot, positions)
    }

    async fn evaluate_and_switch(
        &mut self,
        symbol: &Symbol,
        now: Timestamp,
    ) -> Result<(), OrchestratorError> {
        let state = self.state_mut(symbol)?;
        let input = regime_input(state.report.as_ref());
        let decision = state.manager.evaluate(input, now);
        let target = state.manager.mode();
        let from = state.mode;
        if self.history {
            self.record_decision(symbol, &decision)?;
        }
        if target != from {
            let reason = decision.reason.to_string();
            self.journal.switches.push(ModeSwitch {
                time: now,
                symbol: symbol.clone(),
                from,
                to: target,
                reason: reason.clone(),
            });
            let message = format!("{symbol}: {from} -> {target}: {reason}");
            self.record_event(now, Some(symbol), "mode_switch", &message)?;
            self.notify(now, Severity::Important, "mode_switch", &message)?;
            self.switch_mode(symbol, from, target, now).await?;
        } else if from == TradingMode::Hold {
            self.maybe_buy_back(symbol, now).await?;
        }
        Ok(())
    }

    async fn walk_stops(
        &mut self,
        symbol: &Symbol,
        price: Price,
        now: Timestamp,
    ) -> Result<(), OrchestratorError> {
        for intent in self.stops.on_price(symbol, price, now) {
            match intent {
                StopIntent::MarketSell(sell) => {
                    self.stop_sell(&sell.symbol, sell.trigger_price, now)
                        .await?;
                }
                StopIntent::Alert(_) => self.journal.n_alerts += 1,
            }
        }
        Ok(())
    }

    async fn mode_behaviour(
        &mut self,
        symbol: &Symbol,
        candle: &Candle,
        now: Timestamp,
    ) -> Result<(), OrchestratorError> {
        let state = self.state_mut(symbol)?;
        match state.mode {
            TradingMode::Grid => {
                let intents = match state.grid.as_mut() {
                    Some(grid) => grid.on_candle(candle, now),
                    None => Vec::new(),
                };
                self.run_grid_intents(symbol, intents, now).await
            }
            TradingMode::Cash => {
                let due = state
                    .cash_exit_deadline
                    .is_some_and(|deadline| now >= deadline);
                if due {
                    self.sell_all(symbol, hybrid_store::ExitReason::CashExit, now)
                        .await?;
                    self.cancel_stop(symbol);
                    self.state_mut(symbol)?.cash_exit_deadline = None;
                }
                Ok(())
            }
            TradingMode::Hold => Ok(()),
        }
    }

    fn state_mut(&mut self, symbol: &Symbol) -> Result<&mut SymbolState, OrchestratorError> {
        self.symbols
            .get_mut(symbol)
            .ok_or_else(|| OrchestratorError::UnknownSymbol(symbol.clone()))
    }

    fn state(&self, symbol: &Symbol) -> Result<&SymbolState, OrchestratorError> {
        self.symbols
            .get(symbol)
            .ok_or_else(|| OrchestratorError::UnknownSymbol(symbol.clone()))
    }

    /// Writes a decision that mattered: a switch, or a switch the hysteresis held back (not
    /// "already in the mode", "no regime" or "switching disabled", which say nothing new).
    fn record_decision(
        &self,
        symbol: &Symbol,
        decision: &hybrid_modes::ModeDecision,
    ) -> Result<(), OrchestratorError> {
        use hybrid_modes::DecisionReason;
        if matches!(
            decision.reason,
            DecisionReason::AlreadyInMode { .. }
                | DecisionReason::NoRegime { .. }
                | DecisionReason::Disabled
        ) {
            return Ok(());
        }
        let reason = serde_json::to_string(&decision.reason)
            .map_err(|e| OrchestratorError::State(format!("mode decision: {e}")))?;
        self.store.record_mode_decision(&hybrid_store::ModeRecord {
            at: decision.at,
            cohort: self.cohort,
            symbol: symbol.clone(),
            from: decision.from,
            to: decision.to,
            switched: decision.switched,
            reason,
            regime: decision.input.as_ref().and_then(|i| i.regime),
            probability: decision.input.as_ref().map(|i| i.probability.value()),
            duration_days: decision.input.as_ref().map(|i| i.duration_days),
        })?;
        Ok(())
    }

    /// Writes the hourly snapshot with the value held per symbol.
    fn record_snapshot(
        &self,
        snapshot: &EquitySnapshot,
        positions: BTreeMap<Symbol, Notional>,
    ) -> Result<(), OrchestratorError> {
        self.store
            .record_equity_snapshot(&hybrid_store::EquityRecord {
                at: snapshot.time,
                cohort: self.cohort,
                cash: snapshot.cash,
                holdings: snapshot.holdings,
                equity: snapshot.equity,
                positions,
                prices: self
                    .symbols
                    .iter()
                    .filter_map(|(symbol, state)| Some((symbol.clone(), state.last_price?)))
                    .collect(),
            })?;
        Ok(())
    }

    /// Queues a notification for Telegram when notifications are on.
    fn notify(
        &self,
        at: Timestamp,
        severity: Severity,
        kind: &str,
        text: &str,
    ) -> Result<(), OrchestratorError> {
        if self.notify {
            self.store.enqueue_notification(&NewNotification {
                at,
                cohort: Some(self.cohort),
                kind: kind.to_owned(),
                severity,
                text: format!("[{}] {text}", self.config.cohort_name),
            })?;
        }
        Ok(())
    }

    fn record_event(
        &self,
        at: Timestamp,
        symbol: Option<&Symbol>,
        kind: &str,
        message: &str,
    ) -> Result<(), OrchestratorError> {
        self.store.append_event(&NewEvent {
            at,
            cohort: Some(self.cohort),
            symbol: symbol.cloned(),
            kind: kind.to_owned(),
            message: message.to_owned(),
            data: None,
        })?;
        Ok(())
    }
}

/// The total (free and locked) of `symbol`'s base coin in `balances`.
pub(crate) fn held_total(balances: &[hybrid_exchange::Balance], symbol: &Symbol) -> Decimal {
    let base = symbol.base();
    balances
        .iter()
        .filter(|b| b.asset == base)
        .map(hybrid_exchange::Balance::total)
        .sum()
}

/// The manager's input from the detector's latest report; no report (too little history)
/// means no regime, and the manager keeps the mode.
fn regime_input(report: Option<&RegimeReport>) -> RegimeInput {
    match report {
        Some(report) => RegimeInput {
            regime: Some(report.regime),
            probability: Probability::new(report.probability.clamp(Decimal::ZERO, Decimal::ONE))
                .unwrap_or_default(),
            duration_days: report.duration_days,
        },
        None => RegimeInput {
            regime: None,
            probability: Probability::default(),
            duration_days: 0,
        },
    }
}

#[cfg(test)]
mod tests;
