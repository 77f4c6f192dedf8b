//! [`run_cohort_backtest`]: every cohort over the same candles in one replay, on one shared
//! [`SimExchange`] account (the sum of the cohorts' capital): the one [`Driver`] loop with the
//! [`CohortTrader`] (each cohort through its own [`crate::CohortExchange`] view and ledger) and
//! a recorder hook.
//!
//! The first `warmup_days` (or the days before `from`) only feed the market history the coins
//! are selected from. Every full hour, and at the start, the equity of each cohort (from its
//! own ledger), their total and the account's (from the exchange's balances) are recorded,
//! and the ledgers are reconciled with the account.
//!
//! Deterministic: same inputs and seed, same report.

use std::{collections::BTreeMap, fmt, path::PathBuf, sync::Arc};

use hybrid_core::{CohortId, Notional, Price, SimClock, Symbol, Timestamp};
use hybrid_engine::{
    interval_ms, replay_filters_of, sim_venue, simulate, BacktestConfig, BacktestError, Closes,
    EquityPoint, OrchestratorConfig, Progress, Recorder, ReplayWindow, Sampler, TradeStats,
};
use hybrid_exchange::{Balance, CandleFeed, MatchingConfig, ReplaySpeed, SimExchange};
use hybrid_store::Store;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    definition::{CohortDefinition, BASELINE},
    ledger::{reconcile, CohortLedger},
    orchestrator::CohortFailure,
    ranking::{performance, rank, Ranking},
    trader::{CohortTrader, CohortTraderConfig, ConfidenceBasis},
    CohortError,
};

/// What to replay.
#[derive(Debug, Clone)]
pub struct CohortBacktestConfig {
    /// Folder with `SYMBOL-INTERVAL.csv` files.
    pub data_dir: PathBuf,
    /// The coins on offer (every cohort chooses among them).
    pub symbols: Vec<Symbol>,
    /// Binance interval spelling, `1h` by default.
    pub interval: String,
    /// First open time traded; `None` = `warmup_days` after the start of the data.
    pub from: Option<Timestamp>,
    /// Last open time replayed (exclusive).
    pub to: Option<Timestamp>,
    /// Days of history before trading (regime detector and coin scores).
    pub warmup_days: u32,
    /// The cohorts (inactive ones are left out).
    pub cohorts: Vec<CohortDefinition>,
    /// The settings every cohort's configuration is derived from ([`crate::from_cohort`]).
    pub base: OrchestratorConfig,
    /// Fees and slippage of the simulated venue.
    pub matching: MatchingConfig,
    /// Bootstrap seed of the ranking.
    pub seed: u64,
    /// Bootstrap resamples.
    pub resamples: usize,
    /// How a coin's confidence is measured in the replay (see [`ConfidenceBasis`]).
    pub confidence_basis: ConfidenceBasis,
    /// Where every cohort's orders, fills and trade pairs are recorded: `None` keeps them in
    /// memory (one database per cohort); a URL keeps them for auditing and `compare`.
    pub database_url: Option<String>,
}

impl CohortBacktestConfig {
    /// The six default cohorts on `symbols`, 1h candles, 120 days of warm-up, the engine's
    /// backtest defaults with mode switching on, seed 1, 2000 resamples.
    #[must_use]
    pub fn new(data_dir: PathBuf, symbols: Vec<Symbol>) -> Self {
        Self {
            data_dir,
            symbols,
            interval: "1h".to_owned(),
            from: None,
            to: None,
            warmup_days: 120,
            cohorts: crate::default_cohorts(),
            base: OrchestratorConfig::backtest_defaults(),
            matching: MatchingConfig::default(),
            seed: 1,
            resamples: 2000,
            confidence_basis: ConfidenceBasis::default(),
            database_url: None,
        }
    }
}

/// One cohort's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CohortRun {
    /// The cohort's name.
    pub cohort: String,
    /// Its id in the store.
    pub id: CohortId,
    /// The coins it traded.
    pub symbols: Vec<Symbol>,
    /// Why it traded nothing, if so.
    pub unfunded: Option<String>,
    /// Capital at the start, USDT.
    pub starting_capital: Decimal,
    /// Equity at the end, USDT.
    pub final_equity: Decimal,
    /// Return, percent.
    pub return_pct: Decimal,
    /// Annualised Sharpe of the hourly equity.
    pub sharpe: Option<f64>,
    /// Deepest fall from a peak, percent.
    pub max_drawdown_pct: Option<Decimal>,
    /// Closed trades.
    pub trades: TradeStats,
    /// Fees paid, USDT.
    pub fees: Decimal,
    /// Orders accepted by the exchange.
    pub n_orders: u64,
    /// Fills.
    pub n_fills: u64,
    /// Orders refused by its risk guard.
    pub n_risk_refusals: u64,
    /// Orders rejected (its ledger could not pay, or the exchange said no).
    pub n_rejections: u64,
    /// Mode switches.
    pub n_mode_switches: usize,
    /// Errors this cohort hit (the others were not affected).
    pub failures: Vec<CohortFailure>,
}

/// The equity of every cohort at one snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CohortCurvePoint {
    /// When.
    pub time: Timestamp,
    /// Each cohort's equity (cash + coins at the last closes), by name.
    pub cohorts: BTreeMap<String, Decimal>,
    /// Σ of the cohorts' equities.
    pub total: Decimal,
    /// The account's equity from the exchange's own balances at the same prices.
    pub account: Decimal,
}

/// The result of a multi-cohort backtest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CohortBacktestReport {
    /// The coins on offer.
    pub symbols: Vec<Symbol>,
    /// Candle interval.
    pub interval: String,
    /// First snapshot.
    pub start: Timestamp,
    /// Last snapshot.
    pub end: Timestamp,
    /// Candles replayed while trading (all symbols).
    pub candles: u64,
    /// The cohorts, in configuration order.
    pub cohorts: Vec<CohortRun>,
    /// Ranking with bootstrap intervals against the baseline.
    pub ranking: Ranking,
    /// Hourly per-cohort and total equity.
    pub curve: Vec<CohortCurvePoint>,
    /// Snapshots where the ledgers did not add up to the account (should be 0).
    pub reconciliation_failures: u64,
    /// Fills that named no cohort (should be 0).
    pub unrouted_fills: u64,
    /// How coin confidence was measured.
    pub confidence_basis: ConfidenceBasis,
}

/// Runs the replay (see the module doc), calling `progress` about once per simulated day.
///
/// # Errors
/// [`CohortError::Backtest`] for bad settings, unreadable candles or no data;
/// [`CohortError::Config`] for an invalid cohort; [`CohortError::Store`] when a store fails.
pub fn run_cohort_backtest(
    config: &CohortBacktestConfig,
    progress: &mut dyn FnMut(Progress),
) -> Result<CohortBacktestReport, CohortError> {
    let step_ms = interval_ms(&config.interval)?;
    let cohorts: Vec<CohortDefinition> = config
        .cohorts
        .iter()
        .filter(|c| c.is_active)
        .cloned()
        .collect();
    let mut feed = CandleFeed::open_dir(
        &config.data_dir,
        &config.symbols,
        &config.interval,
        ReplaySpeed::Fast,
    )
    .map_err(BacktestError::from)?;
    let warmup_ms = i64::from(config.warmup_days) * Timestamp::DAY_MS;
    if let Some(from) = config.from {
        feed.skip_before(from.plus_millis(-warmup_ms))
            .map_err(BacktestError::from)?;
    }
    let filters = replay_filters_of(&mut feed)?;
    let first = feed
        .peek_firsts()
        .map_err(BacktestError::from)?
        .iter()
        .filter_map(|(_, c)| c.map(|c| c.open_time()))
        .min()
        .ok_or(BacktestError::NoData)?;
    let trade_from = config.from.unwrap_or_else(|| first.plus_millis(warmup_ms));
    let capital: Decimal = cohorts.iter().map(|c| c.current_capital).sum();
    let clock = Arc::new(SimClock::new(first));
    let venue_config = BacktestConfig {
        interval: config.interval.clone(),
        matching: config.matching.clone(),
        ..BacktestConfig::new(config.data_dir.clone(), config.symbols.clone())
    };
    let shared = Arc::new(sim_venue(
        &venue_config,
        &filters,
        Notional::new(capital),
        &clock,
    ));
    let url = config
        .database_url
        .clone()
        .unwrap_or_else(|| "sqlite::memory:".to_owned());
    let open_url = url.clone();
    let trader_config = CohortTraderConfig {
        cohorts,
        base: config.base.clone(),
        filters,
        interval_ms: step_ms,
        history_days: config.warmup_days,
        confidence_basis: config.confidence_basis,
        open_store: Box::new(move || Store::open(&open_url)),
    };
    let mut trader = CohortTrader::new(Arc::clone(&shared), trader_config, Store::open(&url)?)?;
    let sampler = CohortSampler {
        shared: Arc::clone(&shared),
        curve: Vec::new(),
        reconciliation_failures: 0,
    };
    let mut recorder = Recorder::new(sampler, progress);
    let window = ReplayWindow {
        interval_ms: step_ms,
        trade_from: Some(trade_from),
        trade_until: config.to,
    };
    simulate(
        &mut feed,
        &*shared,
        &mut trader,
        &mut recorder,
        clock,
        window,
    )
    .map_err(|e| CohortError::Backtest(BacktestError::Driver(e)))?;
    recorder.sampler.finish(recorder.traded, config, trader)
}

/// What a cohort backtest samples at the start and every hour (see the module doc).
#[derive(Debug)]
struct CohortSampler {
    shared: Arc<SimExchange>,
    curve: Vec<CohortCurvePoint>,
    reconciliation_failures: u64,
}

impl Sampler<CohortTrader<SimExchange>> for CohortSampler {
    fn sample(&mut self, trader: &CohortTrader<SimExchange>, now: Timestamp, closes: &Closes) {
        let ledgers = trader.ledgers();
        let account = self.shared.with_engine(|engine| engine.balances());
        let refs: Vec<&CohortLedger> = ledgers.iter().map(|(_, l)| l).collect();
        if !reconcile(&refs, &account, true).is_empty() {
            self.reconciliation_failures += 1;
        }
        let cohorts: BTreeMap<String, Decimal> = ledgers
            .iter()
            .map(|(name, ledger)| (name.clone(), ledger.equity(&closes.last)))
            .collect();
        let total = cohorts.values().copied().sum();
        self.curve.push(CohortCurvePoint {
            time: now,
            cohorts,
            total,
            account: account_equity(&account, &closes.last),
        });
    }
}

impl CohortSampler {
    fn finish(
        self,
        candles: u64,
        config: &CohortBacktestConfig,
        trader: CohortTrader<SimExchange>,
    ) -> Result<CohortBacktestReport, CohortError> {
        let (Some(start), Some(end)) = (
            self.curve.first().map(|p| p.time),
            self.curve.last().map(|p| p.time),
        ) else {
            return Err(BacktestError::NoData.into());
        };
        let cohorts = trader.definitions().to_vec();
        let (orchestrator, idle, ids) = trader.into_parts();
        let curve_of = |name: &str| -> Vec<EquityPoint> {
            self.curve
                .iter()
                .filter_map(|p| {
                    p.cohorts.get(name).map(|e| EquityPoint {
                        time: p.time,
                        equity: Notional::new(*e),
                    })
                })
                .collect()
        };
        let orchestrator = orchestrator.unwrap_or_default();
        let unrouted_fills = orchestrator.unrouted_fills();
        let slots = orchestrator.into_slots();
        let mut runs = Vec::new();
        let mut performances = Vec::new();
        for cohort in &cohorts {
            let points = curve_of(&cohort.name);
            let id = ids.get(&cohort.name).copied().unwrap_or(CohortId::new(0));
            let slot = slots.iter().find(|s| s.definition().name == cohort.name);
            let idle = idle.iter().find(|i| i.definition.name == cohort.name);
            let (journal, symbols, failures) = match slot {
                Some(slot) => (
                    slot.journal().clone(),
                    slot.symbols(),
                    slot.failures().to_vec(),
                ),
                None => (hybrid_engine::Journal::default(), Vec::new(), Vec::new()),
            };
            let unfunded = idle.map(|i| i.reason.clone());
            let perf = performance(
                &cohort.name,
                cohort.current_capital,
                &points,
                &journal.closed_trades,
                journal.fees.value(),
                unfunded.as_ref().map(|r| format!("not funded: {r}")),
            );
            runs.push(CohortRun {
                cohort: cohort.name.clone(),
                id,
                symbols,
                unfunded,
                starting_capital: cohort.current_capital,
                final_equity: perf.final_equity,
                return_pct: perf.return_pct,
                sharpe: perf.sharpe,
                max_drawdown_pct: perf.max_drawdown_pct,
                trades: perf.trades,
                fees: perf.fees,
                n_orders: journal.n_orders,
                n_fills: journal.n_fills,
                n_risk_refusals: journal.n_risk_refusals,
                n_rejections: journal.n_rejections,
                n_mode_switches: journal.switches.len(),
                failures,
            });
            performances.push(perf);
        }
        Ok(CohortBacktestReport {
            symbols: config.symbols.clone(),
            interval: config.interval.clone(),
            start,
            end,
            candles,
            cohorts: runs,
            ranking: rank(&performances, BASELINE, config.seed, config.resamples),
            curve: self.curve,
            reconciliation_failures: self.reconciliation_failures,
            unrouted_fills,
            confidence_basis: config.confidence_basis,
        })
    }
}

/// The account's equity from the exchange's balances: quote plus every coin at its last close.
fn account_equity(account: &[Balance], prices: &BTreeMap<Symbol, Price>) -> Decimal {
    account
        .iter()
        .map(|balance| {
            let coin = prices
                .iter()
                .find(|(symbol, _)| symbol.base() == balance.asset)
                .map(|(_, price)| price.value());
            let is_quote = prices.keys().any(|symbol| symbol.quote() == balance.asset);
            match coin {
                Some(price) => balance.total() * price,
                None if is_quote => balance.total(),
                None => Decimal::ZERO,
            }
        })
        .sum()
}

impl fmt::Display for CohortBacktestReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let date = |t: Timestamp| {
            t.to_datetime().map_or_else(
                || t.as_millis().to_string(),
                |d| d.format("%Y-%m-%d %H:%M").to_string(),
            )
        };
        writeln!(
            f,
            "cohort backtest {} ({} coins on offer)",
            self.interval,
            self.symbols.len()
        )?;
        writeln!(
            f,
            "  period          {} .. {}",
            date(self.start),
            date(self.end)
        )?;
        writeln!(f, "  candles         {}", self.candles)?;
        let basis = match self.confidence_basis {
            ConfidenceBasis::ReplayInputs => {
                "share of the 3 inputs candles carry (no Fear & Greed, no whale flows)"
            }
            ConfidenceBasis::AllInputs => {
                "share of all 5 scanner inputs (a replay reaches at most 0.6)"
            }
        };
        writeln!(f, "  confidence      {basis}")?;
        writeln!(f, "  cohorts")?;
        for run in &self.cohorts {
            let coins: Vec<&str> = run.symbols.iter().map(Symbol::as_str).collect();
            let coins = match &run.unfunded {
                Some(reason) => format!("not funded: {reason}"),
                None => coins.join(","),
            };
            writeln!(
                f,
                "    {:<15} {} -> {}  {:>8} %  orders {:>5}  fills {:>5}  switches {:>3}  {coins}",
                run.cohort,
                run.starting_capital.round_dp(2),
                run.final_equity.round_dp(2),
                run.return_pct.round_dp(2),
                run.n_orders,
                run.n_fills,
                run.n_mode_switches,
            )?;
            for failure in run.failures.iter().take(3) {
                writeln!(
                    f,
                    "      failed at {} ({}): {}",
                    date(failure.time),
                    failure.step,
                    failure.error
                )?;
            }
        }
        if let (Some(first), Some(last)) = (self.curve.first(), self.curve.last()) {
            writeln!(
                f,
                "  total equity    {} -> {} (account {} -> {})",
                first.total.round_dp(2),
                last.total.round_dp(2),
                first.account.round_dp(2),
                last.account.round_dp(2)
            )?;
        }
        writeln!(
            f,
            "  reconciliation  {} of {} snapshots off; {} unrouted fills",
            self.reconciliation_failures,
            self.curve.len(),
            self.unrouted_fills
        )?;
        writeln!(f, "  equity by cohort (every 30 days)")?;
        let names: Vec<&String> = self
            .curve
            .first()
            .map(|p| p.cohorts.keys().collect())
            .unwrap_or_default();
        let header: Vec<String> = names
            .iter()
            .map(|n| format!("{:>14}", truncate(n, 14)))
            .collect();
        writeln!(f, "    {:<16} {} {:>12}", "time", header.join(""), "total")?;
        let mut next = i64::MIN;
        for (i, point) in self.curve.iter().enumerate() {
            if point.time.as_millis() < next && i + 1 != self.curve.len() {
                continue;
            }
            next = point.time.as_millis() + 30 * Timestamp::DAY_MS;
            let values: Vec<String> = names
                .iter()
                .map(|n| {
                    format!(
                        "{:>14}",
                        point
                            .cohorts
                            .get(*n)
                            .copied()
                            .unwrap_or_default()
                            .round_dp(2)
                    )
                })
                .collect();
            writeln!(
                f,
                "    {:<16} {} {:>12}",
                date(point.time),
                values.join(""),
                point.total.round_dp(2)
            )?;
        }
        writeln!(
            f,
            "  ranking (bootstrap seed {}, {} resamples)",
            self.ranking.seed, self.ranking.resamples
        )?;
        write!(f, "{}", self.ranking)
    }
}

fn truncate(text: &str, max: usize) -> &str {
    text.get(..max).unwrap_or(text)
}
