//! [`run_cohort_backtest`]: every cohort over the same candles in one replay, on one shared
//! [`SimExchange`] account (the sum of the cohorts' capital), each cohort through its own
//! [`CohortExchange`] view and ledger.
//!
//! 1. The first `warmup_days` (or the days before `from`) only feed the market history.
//! 2. At the first traded candle the coins are scored from that history
//!    ([`scan_candidates`]: 4h technicals, 24h quote volume, 24h change — sentiment and whale
//!    flows are not in candle files, so a replay's confidence is at most 0.6), each cohort
//!    selects its coins ([`select_coins`]); the cohorts with coins get an orchestrator, warmed
//!    up on the history of their coins; the others keep their cash and are reported.
//! 3. Every candle goes to the shared exchange, its fills to their cohort, then to the cohort
//!    trading the symbol. Every full hour each cohort evaluates its modes and the equity of
//!    each cohort (from its own ledger), their total and the account's (from the exchange's
//!    balances) are recorded; the ledgers are reconciled with the account at every snapshot.
//!
//! Deterministic: same inputs and seed, same report.

use std::{
    collections::{BTreeMap, VecDeque},
    fmt,
    fs::File,
    future::Future,
    io::BufReader,
    iter::Peekable,
    path::PathBuf,
    pin::pin,
    sync::Arc,
    task::{Context, Poll, Waker},
};

use hybrid_core::{
    Candle, CandleCsvReader, CohortId, Notional, Price, Quantity, SimClock, Symbol, Timestamp,
};
use hybrid_engine::{
    candle_path, interval_ms, replay_filters, AllocationCandidate, BacktestError, EquityPoint,
    OrchestratorConfig, TradeStats,
};
use hybrid_exchange::{Balance, MatchingConfig, MatchingEngine, SimConfig, SimExchange};
use hybrid_market::{CoinScanner, RiskLevel, ScanInputs, ScoreComponent, Watchlist};
use hybrid_store::Store;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    definition::{seed, CohortDefinition, BASELINE},
    exchange::CohortExchange,
    ledger::{reconcile, CohortLedger},
    orchestrator::{CohortFailure, CohortOrchestrator},
    ranking::{performance, rank, Ranking},
    selection::select_coins,
    CohortError,
};

/// 4h candles the technical score reads (spec §7.5: 100 bars).
const TECHNICAL_BARS: usize = 100;
const FOUR_HOURS_MS: i64 = 4 * Timestamp::HOUR_MS;

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
}

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

type CohortVenueOf = CohortExchange<SimExchange>;

/// Runs the replay (see the module doc), calling `progress` with the replayed time once per
/// simulated day.
///
/// # Errors
/// [`CohortError::Backtest`] for bad settings, unreadable candles or no data;
/// [`CohortError::Config`] for an invalid cohort; [`CohortError::Store`] when the in-memory
/// store fails.
pub fn run_cohort_backtest(
    config: &CohortBacktestConfig,
    progress: &mut dyn FnMut(Timestamp),
) -> Result<CohortBacktestReport, CohortError> {
    let step_ms = interval_ms(&config.interval)?;
    let cohorts: Vec<CohortDefinition> = config
        .cohorts
        .iter()
        .filter(|c| c.is_active)
        .cloned()
        .collect();
    if cohorts.is_empty() {
        return Err(CohortError::Config("no active cohort to replay".to_owned()));
    }
    for cohort in &cohorts {
        cohort.validate()?;
    }
    let warmup_start = config
        .from
        .map(|from| from.plus_millis(-i64::from(config.warmup_days) * Timestamp::DAY_MS));
    let mut merger = Merger::open(config, warmup_start)?;
    let filters = merger.filters()?;
    let first = merger.first_time().ok_or(BacktestError::NoData)?;
    let trade_from = config
        .from
        .unwrap_or_else(|| first.plus_millis(i64::from(config.warmup_days) * Timestamp::DAY_MS));
    let quote = filters[0].symbol.quote();
    let capital: Decimal = cohorts.iter().map(|c| c.current_capital).sum();
    let engine = MatchingEngine::new(
        config.matching.clone(),
        filters.clone(),
        &[Balance {
            asset: quote.clone(),
            free: capital,
            locked: Decimal::ZERO,
        }],
    );
    let clock = Arc::new(SimClock::new(first));
    let shared = Arc::new(SimExchange::new(
        engine,
        Arc::clone(&clock),
        SimConfig {
            interval: config.interval.clone(),
            ..SimConfig::default()
        },
    ));
    let mut history: BTreeMap<Symbol, VecDeque<Candle>> = BTreeMap::new();
    let history_len = usize::try_from(i64::from(config.warmup_days) * Timestamp::DAY_MS / step_ms)
        .unwrap_or(usize::MAX)
        .max(1);
    let mut state = Run::default();
    let mut last_day = None;
    let mut last_close: BTreeMap<Symbol, Price> = BTreeMap::new();
    while let Some((open_time, candles)) = merger.next_group()? {
        if config.to.is_some_and(|to| open_time >= to) {
            break;
        }
        let close = open_time.plus_millis(step_ms);
        clock.advance_to(close).map_err(BacktestError::from)?;
        if open_time < trade_from {
            for (symbol, candle) in &candles {
                shared.on_candle(symbol, candle);
                let buffer = history.entry(symbol.clone()).or_default();
                if buffer.len() == history_len {
                    buffer.pop_front();
                }
                buffer.push_back(*candle);
            }
            continue;
        }
        if state.orchestrator.is_none() {
            state.set_up(config, &cohorts, &shared, &filters, &history, open_time)?;
            history.clear();
        }
        let Some(orchestrator) = state.orchestrator.as_mut() else {
            continue;
        };
        for (symbol, candle) in &candles {
            let fills = shared.on_candle(symbol, candle);
            block_on(orchestrator.on_candle(symbol, candle, fills, close))?;
            last_close.insert(symbol.clone(), candle.close());
            state.candles += 1;
        }
        let hourly = state.last_snapshot.is_none_or(|t: Timestamp| {
            close.as_millis().div_euclid(Timestamp::HOUR_MS)
                != t.as_millis().div_euclid(Timestamp::HOUR_MS)
        });
        if state.last_snapshot.is_none() {
            block_on(orchestrator.start(close))?;
        } else if hourly {
            block_on(orchestrator.on_hour(close))?;
        }
        if hourly {
            state.snapshot(&shared, close, &last_close);
        }
        let day = close.as_millis() / Timestamp::DAY_MS;
        if last_day != Some(day) {
            last_day = Some(day);
            progress(close);
        }
    }
    state.finish(config, &cohorts)
}

/// The replay's state once trading started.
#[derive(Default)]
struct Run {
    orchestrator: Option<CohortOrchestrator<CohortVenueOf>>,
    /// Cohorts without coins: their ledger (cash only) and why.
    idle: Vec<(CohortDefinition, CohortLedger, String)>,
    ids: BTreeMap<String, CohortId>,
    curve: Vec<CohortCurvePoint>,
    candles: u64,
    last_snapshot: Option<Timestamp>,
    reconciliation_failures: u64,
}

impl Run {
    fn set_up(
        &mut self,
        config: &CohortBacktestConfig,
        cohorts: &[CohortDefinition],
        shared: &Arc<SimExchange>,
        filters: &[hybrid_core::SymbolFilters],
        history: &BTreeMap<Symbol, VecDeque<Candle>>,
        now: Timestamp,
    ) -> Result<(), CohortError> {
        let step_ms = interval_ms(&config.interval)?;
        let candidates = scan_candidates(history, step_ms, now, config.confidence_basis);
        let selections = select_coins(cohorts, &candidates);
        let mut orchestrator = CohortOrchestrator::new();
        for (cohort, selection) in cohorts.iter().zip(selections) {
            // Every store knows every cohort under the same id, so client order ids route.
            let store = Store::open("sqlite::memory:")?;
            let rows = seed(&store, cohorts, now)?;
            let id = rows
                .iter()
                .find(|r| r.name == cohort.name)
                .map(|r| r.id)
                .ok_or_else(|| CohortError::Config(format!("cohort {} not stored", cohort.name)))?;
            self.ids.insert(cohort.name.clone(), id);
            let quote = filters[0].symbol.quote();
            let ledger = CohortLedger::new(id, quote, cohort.current_capital);
            if selection.symbols.is_empty() {
                let reason = selection.unfunded.unwrap_or_default();
                self.idle.push((cohort.clone(), ledger, reason));
                continue;
            }
            let own: Vec<_> = filters
                .iter()
                .filter(|f| selection.symbols.contains(&f.symbol))
                .cloned()
                .collect();
            let venue = CohortExchange::new(Arc::clone(shared), ledger);
            orchestrator.add(cohort.clone(), venue, store, own, &config.base, now)?;
            for symbol in &selection.symbols {
                for candle in history.get(symbol).into_iter().flatten() {
                    orchestrator.warm_up(symbol, candle, now);
                }
            }
        }
        self.orchestrator = Some(orchestrator);
        Ok(())
    }

    fn snapshot(&mut self, shared: &SimExchange, now: Timestamp, prices: &BTreeMap<Symbol, Price>) {
        self.last_snapshot = Some(now);
        let mut ledgers: Vec<(String, CohortLedger)> = Vec::new();
        if let Some(orchestrator) = &self.orchestrator {
            for slot in orchestrator.slots() {
                ledgers.push((slot.definition().name.clone(), slot.ledger()));
            }
        }
        for (cohort, ledger, _) in &self.idle {
            ledgers.push((cohort.name.clone(), ledger.clone()));
        }
        let account = shared.with_engine(|engine| engine.balances());
        let refs: Vec<&CohortLedger> = ledgers.iter().map(|(_, l)| l).collect();
        if !reconcile(&refs, &account, true).is_empty() {
            self.reconciliation_failures += 1;
        }
        let cohorts: BTreeMap<String, Decimal> = ledgers
            .iter()
            .map(|(name, ledger)| (name.clone(), ledger.equity(prices)))
            .collect();
        let total = cohorts.values().copied().sum();
        self.curve.push(CohortCurvePoint {
            time: now,
            cohorts,
            total,
            account: account_equity(&account, prices),
        });
    }

    fn finish(
        self,
        config: &CohortBacktestConfig,
        cohorts: &[CohortDefinition],
    ) -> Result<CohortBacktestReport, CohortError> {
        let (Some(start), Some(end)) = (
            self.curve.first().map(|p| p.time),
            self.curve.last().map(|p| p.time),
        ) else {
            return Err(BacktestError::NoData.into());
        };
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
        let orchestrator = self.orchestrator.unwrap_or_default();
        let unrouted_fills = orchestrator.unrouted_fills();
        let slots = orchestrator.into_slots();
        let mut runs = Vec::new();
        let mut performances = Vec::new();
        for cohort in cohorts {
            let points = curve_of(&cohort.name);
            let id = self
                .ids
                .get(&cohort.name)
                .copied()
                .unwrap_or(CohortId::new(0));
            let slot = slots.iter().find(|s| s.definition().name == cohort.name);
            let idle = self.idle.iter().find(|(c, _, _)| c.name == cohort.name);
            let (journal, symbols, failures) = match slot {
                Some(slot) => (
                    slot.journal().clone(),
                    slot.symbols(),
                    slot.failures().to_vec(),
                ),
                None => (hybrid_engine::Journal::default(), Vec::new(), Vec::new()),
            };
            let unfunded = idle.map(|(_, _, reason)| reason.clone());
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
            candles: self.candles,
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

/// The last [`TECHNICAL_BARS`] 4h candles built from shorter ones (UTC-aligned buckets).
fn to_four_hours(candles: &VecDeque<Candle>) -> Vec<Candle> {
    let mut out: Vec<Candle> = Vec::new();
    let mut bucket: Option<(Timestamp, Price, Price, Price, Price, Decimal)> = None;
    let flush = |b: Option<(Timestamp, Price, Price, Price, Price, Decimal)>,
                 out: &mut Vec<Candle>| {
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

/// Polls a future of the simulated exchange, which never waits.
fn block_on<F: Future>(future: F) -> Result<F::Output, CohortError> {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut context) {
        Poll::Ready(output) => Ok(output),
        Poll::Pending => Err(CohortError::Config(
            "the exchange did not answer at once: only the simulated exchange can be replayed"
                .to_owned(),
        )),
    }
}

/// Candles of several symbols sharing one open time.
type CandleGroup = (Timestamp, Vec<(Symbol, Candle)>);

type Stream = Peekable<CandleCsvReader<BufReader<File>>>;

/// Candle files read in step, merged by open time.
struct Merger {
    streams: Vec<(Symbol, Stream)>,
}

impl Merger {
    fn open(
        config: &CohortBacktestConfig,
        skip_before: Option<Timestamp>,
    ) -> Result<Self, CohortError> {
        if config.symbols.is_empty() {
            return Err(BacktestError::InvalidInput("no symbols to replay".to_owned()).into());
        }
        let mut streams = Vec::new();
        for symbol in &config.symbols {
            let path = candle_path(&config.data_dir, symbol, &config.interval);
            let mut stream = CandleCsvReader::open(&path)
                .map_err(BacktestError::from)?
                .peekable();
            if let Some(start) = skip_before {
                while stream
                    .next_if(|c| c.as_ref().is_ok_and(|c| c.open_time() < start))
                    .is_some()
                {}
            }
            streams.push((symbol.clone(), stream));
        }
        Ok(Self { streams })
    }

    fn filters(&mut self) -> Result<Vec<hybrid_core::SymbolFilters>, CohortError> {
        let mut filters = Vec::new();
        for (symbol, stream) in &mut self.streams {
            match stream.peek() {
                Some(Ok(candle)) => filters.push(replay_filters(symbol.clone(), candle.open())),
                Some(Err(_)) => {
                    if let Some(Err(error)) = stream.next() {
                        return Err(BacktestError::from(error).into());
                    }
                }
                None => {
                    return Err(BacktestError::InvalidInput(format!(
                        "no candles for {symbol} in the requested window"
                    ))
                    .into())
                }
            }
        }
        Ok(filters)
    }

    fn first_time(&mut self) -> Option<Timestamp> {
        self.streams
            .iter_mut()
            .filter_map(|(_, s)| {
                s.peek()
                    .and_then(|c| c.as_ref().ok())
                    .map(Candle::open_time)
            })
            .min()
    }

    fn next_group(&mut self) -> Result<Option<CandleGroup>, CohortError> {
        let mut earliest: Option<Timestamp> = None;
        for (_, stream) in &mut self.streams {
            match stream.peek() {
                Some(Ok(candle)) => {
                    let t = candle.open_time();
                    earliest = Some(earliest.map_or(t, |e| e.min(t)));
                }
                Some(Err(_)) => {
                    if let Some(Err(error)) = stream.next() {
                        return Err(BacktestError::from(error).into());
                    }
                }
                None => {}
            }
        }
        let Some(time) = earliest else {
            return Ok(None);
        };
        let mut group = Vec::new();
        for (symbol, stream) in &mut self.streams {
            if let Some(Ok(candle)) =
                stream.next_if(|c| c.as_ref().is_ok_and(|c| c.open_time() == time))
            {
                group.push((symbol.clone(), candle));
            }
        }
        Ok(Some((time, group)))
    }
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
