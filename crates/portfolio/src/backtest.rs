//! The portfolio over candle files: the one [`Driver`] loop trading a [`PortfolioTrader`] on
//! one simulated account. The cash reserve and the index holdings are the index cohort's
//! ledger view of the account; the trading tier (a [`HybridOrchestrator`]) trades on its own
//! ledger view; money moves between them as ledger debits and credits, and every order and
//! snapshot is written into a database that `main_hybrid validate` can read afterwards.
//!
//! Per group of candles sharing an open time, the driver hands index coins' candles to the
//! trader (their prices) and trading coins' candles to the trading tier. At the start and every
//! full hour: the orchestrator's hourly task, the index trailing stops, the quarterly index
//! rebalance (the first builds the index), the weekly redistribution; at every snapshot
//! (default daily) the tier values are written. Regime changes behind the trading tier's mode
//! switches go to `regime_history`.

use std::{collections::BTreeMap, path::PathBuf, sync::Arc};

use hybrid_cohorts::{CohortExchange, CohortLedger, CohortVenue};
use hybrid_core::{Asset, Candle, Fill, Notional, Price, SimClock, Symbol, Timestamp, TradingMode};
use hybrid_engine::{
    block_on, interval_ms, replay_filters_of, sim_venue, simulate, BacktestConfig, Checkpoint,
    HybridOrchestrator, OrchestratorConfig, Progress, ReconcileReport, Recorder, ReplayWindow,
    Timer, Trader,
};
use hybrid_exchange::{
    candle_file_path, Account, CandleFeed, MatchingConfig, ReplaySpeed, TradesFrom,
};
use hybrid_store::{RedistributionRecord, RegimeRecord, Store};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    coingecko::StaticMarketCaps,
    index::MarketCap,
    manager::{index_cohort, PortfolioJournal, PortfolioManager},
    tiers::{TierBreakdown, TierTargets},
    trading::TradingTier,
    IndexHolding, PortfolioError,
};

/// What to replay.
#[derive(Debug, Clone)]
pub struct PortfolioBacktestConfig {
    /// Folder with `SYMBOL-INTERVAL.csv` files.
    pub data_dir: PathBuf,
    /// Candle interval (`1h` by default).
    pub interval: String,
    /// First open time traded (earlier candles warm the regime detectors up).
    pub from: Option<Timestamp>,
    /// End of the replay, exclusive.
    pub to: Option<Timestamp>,
    /// Starting capital, USDT, split by the tier targets.
    pub capital: Decimal,
    /// The coins the trading tier trades.
    pub trading_symbols: Vec<Symbol>,
    /// The index's market caps (coins without a candle file are left out).
    pub index_caps: StaticMarketCaps,
    /// Days of warm-up before `from`.
    pub warmup_days: u32,
    /// Hours between tier snapshots (24 = daily at midnight UTC).
    pub snapshot_hours: u32,
    /// The trading tier's settings.
    pub orchestrator: OrchestratorConfig,
    /// Fees and slippage of both simulated accounts.
    pub matching: MatchingConfig,
    /// Where everything is written (a file or server: two connections write to it).
    pub database_url: String,
}

impl PortfolioBacktestConfig {
    /// Defaults: 10 000 USDT, 1h candles, BTC and ETH traded, the bundled index list, 120
    /// days of warm-up, daily snapshots.
    #[must_use]
    pub fn new(data_dir: PathBuf, database_url: &str) -> Self {
        let trading_symbols = ["BTCUSDT", "ETHUSDT"]
            .iter()
            .filter_map(|s| Symbol::new(s).ok())
            .collect();
        Self {
            data_dir,
            interval: "1h".to_owned(),
            from: None,
            to: None,
            capital: Decimal::from(10_000),
            trading_symbols,
            index_caps: StaticMarketCaps::default_list(),
            warmup_days: 120,
            snapshot_hours: 24,
            orchestrator: OrchestratorConfig {
                cohort_name: "portfolio_trading".to_owned(),
                ..OrchestratorConfig::backtest_defaults()
            },
            matching: MatchingConfig::default(),
            database_url: database_url.to_owned(),
        }
    }
}

/// The tiers at one snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierPoint {
    /// When.
    pub time: Timestamp,
    /// The split.
    pub breakdown: TierBreakdown,
}

/// What the portfolio backtest produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortfolioBacktestReport {
    /// First traded close.
    pub start: Timestamp,
    /// Last close.
    pub end: Timestamp,
    /// Starting capital.
    pub initial_capital: Decimal,
    /// Every snapshot.
    pub points: Vec<TierPoint>,
    /// The index at the end.
    pub index_holdings: Vec<IndexHolding>,
    /// Index orders, stops, rebalances (redistributions are listed separately).
    pub index_orders: u64,
    /// Index trailing-stop sales.
    pub stop_sales: u64,
    /// Index rebalances.
    pub rebalances: u64,
    /// Redistributions (time, transfers JSON, reason).
    pub redistributions: Vec<(Timestamp, serde_json::Value)>,
    /// Mode switches of the trading tier.
    pub mode_switches: usize,
    /// Closed trades of the trading tier.
    pub closed_trades: usize,
}

/// The regime a mode stands for (HOLD ← BULL, GRID ← SIDEWAYS, CASH ← BEAR).
const fn regime_of(mode: TradingMode) -> &'static str {
    match mode {
        TradingMode::Hold => "BULL",
        TradingMode::Grid => "SIDEWAYS",
        TradingMode::Cash => "BEAR",
    }
}

/// The trading tier as one orchestrator on its own ledger view of the shared account.
/// Deposits and withdrawals are credits and debits of that ledger's free quote.
#[derive(Debug)]
pub struct OrchestratorTier<A> {
    orchestrator: HybridOrchestrator<Arc<CohortExchange<A>>>,
    view: Arc<CohortExchange<A>>,
}

impl<A: Account> OrchestratorTier<A> {
    /// The tier of `orchestrator`, which trades on `view`.
    #[must_use]
    pub const fn new(
        orchestrator: HybridOrchestrator<Arc<CohortExchange<A>>>,
        view: Arc<CohortExchange<A>>,
    ) -> Self {
        Self { orchestrator, view }
    }

    /// The orchestrator.
    #[must_use]
    pub const fn orchestrator(&self) -> &HybridOrchestrator<Arc<CohortExchange<A>>> {
        &self.orchestrator
    }
}

impl<A: Account> TradingTier for OrchestratorTier<A> {
    fn value(&self, now: Timestamp) -> Result<Decimal, PortfolioError> {
        // The ledger view answers at once: equity never waits on the network.
        let snapshot = block_on(self.orchestrator.equity(now))
            .map_err(|e| PortfolioError::InvalidInput(format!("trading tier: {e}")))?
            .map_err(|e| PortfolioError::InvalidInput(format!("trading tier: {e}")))?;
        Ok(snapshot.equity.value())
    }

    fn deposit(&mut self, amount: Decimal, _now: Timestamp) -> Result<(), PortfolioError> {
        if amount > Decimal::ZERO {
            self.view.credit(amount).map_err(tier_capital)?;
        }
        Ok(())
    }

    fn withdraw(&mut self, amount: Decimal, _now: Timestamp) -> Result<Decimal, PortfolioError> {
        let quote = self.view.ledger().quote().clone();
        let amount = amount.min(self.view.ledger().free(&quote));
        if amount <= Decimal::ZERO {
            return Ok(Decimal::ZERO);
        }
        self.view.debit(amount).map_err(tier_capital)?;
        Ok(amount)
    }
}

fn tier_capital(refusal: hybrid_cohorts::CapitalRefusal) -> PortfolioError {
    PortfolioError::InvalidInput(format!("trading tier: {refusal}"))
}

/// The three tiers as the [`Trader`] of a run (see the module doc).
pub struct PortfolioTrader<A> {
    manager: PortfolioManager<Arc<CohortExchange<A>>, OrchestratorTier<A>>,
    index_symbols: Vec<Symbol>,
    caps: Vec<MarketCap>,
    prices: BTreeMap<Symbol, Price>,
    snapshot_every_ms: i64,
    points: Vec<TierPoint>,
    switches_seen: usize,
}

impl<A> std::fmt::Debug for PortfolioTrader<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortfolioTrader")
            .field("index_symbols", &self.index_symbols)
            .field("points", &self.points.len())
            .finish_non_exhaustive()
    }
}

impl<A: Account> PortfolioTrader<A> {
    /// The tier snapshots so far.
    #[must_use]
    pub fn points(&self) -> &[TierPoint] {
        &self.points
    }

    /// The manager.
    #[must_use]
    pub const fn manager(&self) -> &PortfolioManager<Arc<CohortExchange<A>>, OrchestratorTier<A>> {
        &self.manager
    }

    fn orchestrator_mut(&mut self) -> &mut HybridOrchestrator<Arc<CohortExchange<A>>> {
        &mut self.manager.trading_mut().orchestrator
    }

    /// The portfolio's part of the hourly task (and of the start): index stops, rebalance,
    /// redistribution, regimes, the snapshot when one is due.
    async fn portfolio_hour(&mut self, now: Timestamp) -> Result<(), PortfolioError> {
        let price_list: Vec<(Symbol, Price)> =
            self.prices.iter().map(|(s, p)| (s.clone(), *p)).collect();
        self.manager.on_prices(&price_list, now).await?;
        self.manager
            .rebalance_index_if_due(&self.caps, &self.prices, now)
            .await?;
        self.manager.redistribute_if_due(&self.prices, now).await?;
        self.switches_seen = record_regimes(&self.manager, self.switches_seen)?;
        if self.points.is_empty() || now.as_millis() % self.snapshot_every_ms == 0 {
            self.snapshot(now).await?;
        }
        Ok(())
    }

    async fn snapshot(&mut self, now: Timestamp) -> Result<(), PortfolioError> {
        let breakdown = self.manager.snapshot(now).await?;
        self.points.push(TierPoint {
            time: now,
            breakdown,
        });
        self.manager.persist_holdings(now)
    }
}

fn trading_error(error: hybrid_engine::OrchestratorError) -> PortfolioError {
    PortfolioError::InvalidInput(format!("trading tier: {error}"))
}

impl<A: Account> Trader for PortfolioTrader<A> {
    type Error = PortfolioError;

    fn warm_up(&mut self, symbol: &Symbol, candle: &Candle) -> Result<(), PortfolioError> {
        let orchestrator = self.orchestrator_mut();
        if orchestrator.modes().contains_key(symbol) {
            orchestrator
                .warm_up(symbol, candle)
                .map_err(trading_error)?;
        }
        Ok(())
    }

    fn saved_checkpoint(&mut self) -> Result<Option<Checkpoint>, PortfolioError> {
        // A backtest starts afresh; `run` with tiers restores through the cohorts (issue 14).
        Ok(None)
    }

    async fn restore(&mut self, _now: Timestamp) -> Result<(), PortfolioError> {
        Ok(())
    }

    async fn start(&mut self, now: Timestamp) -> Result<(), PortfolioError> {
        self.orchestrator_mut()
            .start(now)
            .await
            .map_err(trading_error)?;
        self.portfolio_hour(now).await
    }

    async fn on_candle(
        &mut self,
        symbol: &Symbol,
        candle: &Candle,
        fills: Vec<Fill>,
        now: Timestamp,
    ) -> Result<(), PortfolioError> {
        if self.index_symbols.contains(symbol) {
            self.prices.insert(symbol.clone(), candle.close());
        }
        let view = Arc::clone(&self.manager.trading().view);
        for fill in &fills {
            view.book_fill(fill);
        }
        let orchestrator = self.orchestrator_mut();
        if orchestrator.modes().contains_key(symbol) {
            view.mark_price(symbol, candle.close());
            orchestrator
                .on_candle(symbol, candle, fills, now)
                .await
                .map_err(trading_error)?;
        }
        Ok(())
    }

    async fn on_timer(&mut self, timer: Timer, now: Timestamp) -> Result<(), PortfolioError> {
        if timer == Timer::Hourly {
            self.orchestrator_mut()
                .on_hour(now)
                .await
                .map_err(trading_error)?;
            self.portfolio_hour(now).await?;
        }
        Ok(())
    }

    async fn reconcile(&mut self, now: Timestamp) -> Result<ReconcileReport, PortfolioError> {
        self.orchestrator_mut()
            .reconcile(now)
            .await
            .map_err(trading_error)
    }

    fn save(&mut self, checkpoint: &Checkpoint, now: Timestamp) -> Result<(), PortfolioError> {
        Trader::save(self.orchestrator_mut(), checkpoint, now).map_err(trading_error)?;
        self.manager.persist_holdings(now)
    }

    fn set_paused(&mut self, paused: bool) {
        self.orchestrator_mut().set_paused(paused);
    }

    fn activity(&self) -> u64 {
        Trader::activity(self.manager.trading().orchestrator())
    }

    fn trade_cursors(&self) -> Vec<(Symbol, TradesFrom)> {
        Trader::trade_cursors(self.manager.trading().orchestrator())
    }
}

/// Runs the portfolio over the candle files and writes everything into the database.
///
/// # Errors
/// [`PortfolioError`]: no index coin with a candle file, unreadable candles, an orchestrator,
/// exchange or store failure.
pub fn run_portfolio_backtest(
    config: &PortfolioBacktestConfig,
    progress: &mut dyn FnMut(Progress),
) -> Result<PortfolioBacktestReport, PortfolioError> {
    let step_ms = interval_ms(&config.interval).map_err(invalid)?;
    let quote = Asset::new("USDT")?;
    let index_symbols: Vec<Symbol> = config
        .index_caps
        .caps()
        .iter()
        .filter_map(|c| Symbol::new(&format!("{}USDT", c.base)).ok())
        .filter(|s| candle_file_path(&config.data_dir, s, &config.interval).exists())
        .collect();
    if index_symbols.is_empty() {
        return Err(PortfolioError::InvalidInput(format!(
            "no index coin has a {} candle file in {}",
            config.interval,
            config.data_dir.display()
        )));
    }
    // One feed: the index coins first, then the trading coins the index does not hold.
    let mut symbols = index_symbols.clone();
    symbols.extend(
        config
            .trading_symbols
            .iter()
            .filter(|s| !index_symbols.contains(s))
            .cloned(),
    );
    let mut feed = CandleFeed::open_dir(
        &config.data_dir,
        &symbols,
        &config.interval,
        ReplaySpeed::Fast,
    )
    .map_err(invalid)?;
    let warmup_start = config
        .from
        .map(|from| from.plus_millis(-i64::from(config.warmup_days) * Timestamp::DAY_MS));
    if let Some(start) = warmup_start {
        feed.skip_before(start).map_err(invalid)?;
    }
    let filters = replay_filters_of(&mut feed).map_err(invalid)?;
    let start_time = warmup_start
        .or(config.from)
        .unwrap_or(Timestamp::from_millis(0));
    let clock = Arc::new(SimClock::new(start_time));
    let venue_config = BacktestConfig {
        interval: config.interval.clone(),
        matching: config.matching.clone(),
        ..BacktestConfig::new(config.data_dir.clone(), symbols.clone())
    };
    let account = Arc::new(sim_venue(
        &venue_config,
        &filters,
        Notional::new(config.capital),
        &clock,
    ));
    let targets = TierTargets::default();
    let trading_capital = config.capital * targets.trading.target_pct / Decimal::ONE_HUNDRED;
    let trading_filters: Vec<_> = filters
        .iter()
        .filter(|f| config.trading_symbols.contains(&f.symbol))
        .cloned()
        .collect();
    let index_filters: Vec<_> = filters
        .iter()
        .filter(|f| index_symbols.contains(&f.symbol))
        .cloned()
        .collect();
    let manager_store = Store::open(&config.database_url)?;
    let owner = index_cohort(&manager_store, start_time)?;
    let orchestrator_store = Store::open(&config.database_url)?;
    orchestrator_store.run_migrations()?;
    let trading_cohort = orchestrator_store
        .upsert_cohort(
            &hybrid_store::NewCohort {
                name: config.orchestrator.cohort_name.clone(),
                description: "portfolio trading tier".to_owned(),
                config: serde_json::Value::Null,
                starting_capital: trading_capital,
                is_active: true,
            },
            start_time,
        )?
        .id;
    let trading_view = Arc::new(CohortExchange::new(
        Arc::clone(&account),
        CohortLedger::new(trading_cohort, quote.clone(), trading_capital),
    ));
    let orchestrator = HybridOrchestrator::new(
        Arc::clone(&trading_view),
        orchestrator_store,
        config.orchestrator.clone(),
        trading_filters,
        start_time,
    )
    .map_err(trading_error)?;
    let index_view = Arc::new(CohortExchange::new(
        Arc::clone(&account),
        CohortLedger::new(owner, quote.clone(), config.capital - trading_capital),
    ));
    let manager = PortfolioManager::new(
        index_view,
        OrchestratorTier::new(orchestrator, trading_view),
        manager_store,
        quote,
        index_filters,
        start_time,
    )?;
    let mut trader = PortfolioTrader {
        manager,
        index_symbols,
        caps: config.index_caps.caps().clone(),
        prices: BTreeMap::new(),
        snapshot_every_ms: i64::from(config.snapshot_hours.max(1)) * Timestamp::HOUR_MS,
        points: Vec::new(),
        switches_seen: 0,
    };
    let mut hooks = Recorder::new((), progress);
    let window = ReplayWindow {
        interval_ms: step_ms,
        trade_from: config.from,
        trade_until: config.to,
    };
    let summary = simulate(&mut feed, &*account, &mut trader, &mut hooks, clock, window)
        .map_err(|e| PortfolioError::InvalidInput(e.to_string()))?;
    let (Some(start), Some(last_close)) = (summary.first_close, summary.last_close) else {
        return Err(PortfolioError::InvalidInput(
            "no candles between the requested dates".to_owned(),
        ));
    };
    if trader.points.last().is_some_and(|p| p.time != last_close) {
        block_on(trader.snapshot(last_close)).map_err(invalid)??;
    }
    trader.manager.persist_holdings(last_close)?;
    let journal: PortfolioJournal = trader.manager.journal().clone();
    let trading_journal = trader.manager.trading().orchestrator().journal();
    Ok(PortfolioBacktestReport {
        start,
        end: last_close,
        initial_capital: config.capital,
        index_holdings: trader
            .manager
            .index()
            .holdings()
            .values()
            .cloned()
            .collect(),
        index_orders: journal.index_orders,
        stop_sales: journal.stop_sales,
        rebalances: journal.rebalances,
        redistributions: journal
            .redistributions
            .iter()
            .map(|r: &RedistributionRecord| (r.at, r.transfers.clone()))
            .collect(),
        mode_switches: trading_journal.switches.len(),
        closed_trades: trading_journal.closed_trades.len(),
        points: trader.points,
    })
}

fn invalid(error: impl std::fmt::Display) -> PortfolioError {
    PortfolioError::InvalidInput(error.to_string())
}

/// Writes the regimes behind the trading tier's new mode switches; returns how many
/// switches are recorded now.
fn record_regimes<A: Account>(
    manager: &PortfolioManager<Arc<CohortExchange<A>>, OrchestratorTier<A>>,
    seen: usize,
) -> Result<usize, PortfolioError> {
    let switches = &manager.trading().orchestrator().journal().switches;
    for switch in switches.iter().skip(seen) {
        manager.store().record_regime(&RegimeRecord {
            at: switch.time,
            symbol: Some(switch.symbol.clone()),
            regime: regime_of(switch.to).to_owned(),
            probability: None,
            previous_regime: Some(regime_of(switch.from).to_owned()),
        })?;
    }
    Ok(switches.len())
}
