//! The replay driver: the same [`HybridOrchestrator`] as live, on a [`SimClock`] and a
//! [`SimExchange`], over candle CSV files streamed and merged by open time (never all in
//! memory), producing a deterministic [`BacktestReport`] (spec §9 replaced: no second
//! implementation of the strategy).
//!
//! Per group of candles sharing an open time: the clock moves to their close; each candle goes
//! to the exchange (which fills resting orders along the candle's path) and then, with those
//! fills, to the orchestrator; at every full hour the orchestrator evaluates the modes and the
//! equity is snapshotted. Candles before `from` only warm the regime detector up.
//!
//! Determinism: no wall clock, no hash-map iteration in the report (maps are `BTreeMap`s), the
//! exchange futures are polled once on a no-op waker (the simulated exchange never waits), so
//! the same inputs give byte-identical JSON.

use std::{
    collections::BTreeMap,
    fmt,
    future::Future,
    iter::Peekable,
    path::{Path, PathBuf},
    pin::pin,
    sync::Arc,
    task::{Context, Poll, Waker},
};

use hybrid_core::{
    Candle, CandleCsvReader, CoreError, CsvError, Fill, Notional, Price, SimClock, Symbol,
    SymbolFilters, Timestamp, TradingMode,
};
use hybrid_exchange::{Balance, MatchingConfig, MatchingEngine, SimConfig, SimExchange};
use hybrid_store::Store;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    buy_and_hold_return_pct, mode_times,
    orchestrator::{
        EquitySnapshot, HybridOrchestrator, ModeSwitch, OrchestratorConfig, OrchestratorError,
    },
    performance_report, Drawdown, EngineError, EquityPoint, MetricsInput, ModeTimes, TradeStats,
};

/// The [`SimClock`] timer of the hourly task: mode evaluation, then the equity snapshot.
const MODE_EVALUATION: &str = "mode-evaluation";

/// What to replay and how.
#[derive(Debug, Clone)]
pub struct BacktestConfig {
    /// Folder with `SYMBOL-INTERVAL.csv` files.
    pub data_dir: PathBuf,
    /// The symbols traded (one quote asset).
    pub symbols: Vec<Symbol>,
    /// Binance interval spelling: `1m`, `5m`, `15m`, `30m`, `1h`, `4h`, `1d`.
    pub interval: String,
    /// First open time traded (inclusive); `None` = the start of the data.
    pub from: Option<Timestamp>,
    /// Last open time replayed (exclusive); `None` = the end of the data.
    pub to: Option<Timestamp>,
    /// Starting quote balance.
    pub capital: Notional,
    /// Days of candles before `from` fed to the regime detector only.
    pub warmup_days: u32,
    /// The orchestrator's settings.
    pub orchestrator: OrchestratorConfig,
    /// The simulated venue's fees and slippage.
    pub matching: MatchingConfig,
}

impl BacktestConfig {
    /// Defaults: 1000 USDT, 1h candles, the whole data, 120 days of warm-up, the
    /// orchestrator's [`OrchestratorConfig::backtest_defaults`], 0.1 % fees.
    #[must_use]
    pub fn new(data_dir: PathBuf, symbols: Vec<Symbol>) -> Self {
        Self {
            data_dir,
            symbols,
            interval: "1h".to_owned(),
            from: None,
            to: None,
            capital: Notional::new(Decimal::from(1000)),
            warmup_days: 120,
            orchestrator: OrchestratorConfig::backtest_defaults(),
            matching: MatchingConfig::default(),
        }
    }
}

/// How far the replay has come, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Close time of the last candles replayed.
    pub time: Timestamp,
    /// Candles replayed so far (all symbols, warm-up included).
    pub candles: u64,
}

/// Why a backtest could not run.
#[derive(Debug, thiserror::Error)]
pub enum BacktestError {
    /// Bad settings, e.g. an unknown interval or no symbols.
    #[error("{0}")]
    InvalidInput(String),
    /// A candle file is missing or malformed.
    #[error("{0}")]
    Csv(#[from] CsvError),
    /// The orchestrator stopped.
    #[error("{0}")]
    Orchestrator(#[from] OrchestratorError),
    /// The store could not be opened.
    #[error("store: {0}")]
    Store(#[from] hybrid_store::StoreError),
    /// The clock or a value failed.
    #[error("{0}")]
    Core(#[from] CoreError),
    /// The metrics refused the equity curve.
    #[error("metrics: {0}")]
    Metrics(#[from] EngineError),
    /// No candle of the requested symbols lies in the requested window.
    #[error("no candles between the requested dates")]
    NoData,
}

/// The result of a backtest. Deterministic: serialise it with `serde_json` and the same
/// inputs give the same bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestReport {
    /// Symbols traded.
    pub symbols: Vec<Symbol>,
    /// Candle interval.
    pub interval: String,
    /// Close of the first traded candle (the start of the equity curve).
    pub start: Timestamp,
    /// Close of the last candle.
    pub end: Timestamp,
    /// Candles replayed while trading (all symbols).
    pub candles: u64,
    /// How the capital is split among the symbols.
    pub allocation: String,
    /// Starting quote balance.
    pub initial_capital: Notional,
    /// Equity at the end.
    pub final_equity: Notional,
    /// `(final / first equity − 1) × 100`.
    pub total_return_pct: Decimal,
    /// Equal-weight buy-and-hold of the same coins over the same candles (no fees), percent.
    pub buy_and_hold_return_pct: Option<Decimal>,
    /// Buy-and-hold per coin, percent.
    pub buy_and_hold_by_symbol: BTreeMap<Symbol, Option<Decimal>>,
    /// Compound annual return, percent.
    pub annualised_return_pct: Option<f64>,
    /// Deepest fall of the hourly equity from a peak.
    pub max_drawdown: Option<Drawdown>,
    /// Sharpe ratio of hourly returns, annualised, risk-free 0.
    pub sharpe: Option<f64>,
    /// Sortino ratio, annualised.
    pub sortino: Option<f64>,
    /// Annualised return / max drawdown.
    pub calmar: Option<f64>,
    /// Sum of every fill's commission in quote.
    pub fees: Notional,
    /// Fills.
    pub n_fills: u64,
    /// Orders accepted by the exchange.
    pub n_orders: u64,
    /// Orders refused by the risk guard.
    pub n_risk_refusals: u64,
    /// The guard's refusals by rule.
    pub risk_refusals_by_reason: BTreeMap<String, u64>,
    /// Orders rejected by the exchange.
    pub n_rejections: u64,
    /// Stop-loss sales.
    pub n_stop_sales: u64,
    /// Alerts raised.
    pub n_alerts: u64,
    /// Closed trade pairs: count, win rate, profit factor, P&L.
    pub trades: TradeStats,
    /// Time each symbol spent in each mode.
    pub time_in_mode: BTreeMap<Symbol, ModeTimes>,
    /// Every mode switch with its reason.
    pub mode_switches: Vec<ModeSwitch>,
    /// Hourly equity, `equity = cash + holdings` at every point.
    pub equity_curve: Vec<EquitySnapshot>,
    /// Equal-weight buy-and-hold of the same coins from the same capital at the equity
    /// curve's times (no fees), for the chart.
    #[serde(default)]
    pub buy_and_hold_curve: Vec<(Timestamp, Notional)>,
}

/// A report and the venue's own record of every fill (to check the report against).
#[derive(Debug, Clone)]
pub struct BacktestOutcome {
    /// The report.
    pub report: BacktestReport,
    /// Every fill of the simulated venue, oldest first.
    pub venue_fills: Vec<Fill>,
}

/// Runs a backtest, calling `progress` about once per simulated day.
///
/// # Errors
/// [`BacktestError`]: bad settings, unreadable candles, an orchestrator failure, or no candles
/// in the window.
pub fn run_backtest(
    config: &BacktestConfig,
    progress: &mut dyn FnMut(Progress),
) -> Result<BacktestOutcome, BacktestError> {
    run_backtest_from(config, file_sources(config)?, progress)
}

/// Each symbol's `DIR/SYMBOL-INTERVAL.csv`, opened for streaming.
fn file_sources(config: &BacktestConfig) -> Result<Vec<(Symbol, CandleSource)>, BacktestError> {
    let mut sources = Vec::new();
    for symbol in &config.symbols {
        let path = candle_path(&config.data_dir, symbol, &config.interval);
        let reader: CandleSource = Box::new(CandleCsvReader::open(&path)?);
        sources.push((symbol.clone(), reader));
    }
    Ok(sources)
}

/// A symbol's candles, oldest first, from anywhere: a CSV file ([`run_backtest`]) or memory
/// (benchmarks of the replay loop without the parsing).
pub type CandleSource = Box<dyn Iterator<Item = Result<Candle, CsvError>>>;

/// Runs a backtest over the given candle sources instead of `config.data_dir`'s files (one
/// per symbol of `config.symbols`, same order), calling `progress` about once per simulated day.
///
/// # Errors
/// As [`run_backtest`].
pub fn run_backtest_from(
    config: &BacktestConfig,
    sources: Vec<(Symbol, CandleSource)>,
    progress: &mut dyn FnMut(Progress),
) -> Result<BacktestOutcome, BacktestError> {
    let interval_ms = interval_ms(&config.interval)?;
    let warmup_start = config
        .from
        .map(|from| from.plus_millis(-i64::from(config.warmup_days) * Timestamp::DAY_MS));
    let mut merger = CandleMerger::open(sources, warmup_start)?;
    let filters = merger.filters()?;
    let start_time = merger.first_time().ok_or(BacktestError::NoData)?;
    let clock = Arc::new(SimClock::new(start_time));
    let quote = filters[0].symbol.quote();
    let engine = MatchingEngine::new(
        config.matching.clone(),
        filters.clone(),
        &[Balance {
            asset: quote,
            free: config.capital.value(),
            locked: Decimal::ZERO,
        }],
    );
    let sim_config = SimConfig {
        interval: config.interval.clone(),
        ..SimConfig::default()
    };
    let exchange = SimExchange::new(engine, Arc::clone(&clock), sim_config);
    let store = Store::open("sqlite::memory:")?;
    let mut orchestrator = HybridOrchestrator::new(
        exchange,
        store,
        config.orchestrator.clone(),
        filters,
        start_time,
    )?;
    let mut replay = Replay::default();
    let mut n_candles: u64 = 0;
    let mut last_progress_day = None;
    while let Some(group) = merger.next_group()? {
        let (open_time, candles) = group;
        if config.to.is_some_and(|to| open_time >= to) {
            break;
        }
        let close = open_time.plus_millis(interval_ms);
        let due = clock.advance_to(close)?;
        n_candles += candles.len() as u64;
        let trading = config.from.is_none_or(|from| open_time >= from);
        if trading {
            let hourly_due = due.iter().any(|event| event.name == MODE_EVALUATION);
            replay.trade(&mut orchestrator, &candles, close, hourly_due)?;
            if replay.candles == candles.len() as u64 {
                // Trading just started: the hourly task runs from the next full hour on.
                let next_hour = (close.as_millis() / Timestamp::HOUR_MS + 1) * Timestamp::HOUR_MS;
                clock.schedule(
                    MODE_EVALUATION,
                    Timestamp::from_millis(next_hour),
                    Timestamp::HOUR_MS,
                )?;
            }
        } else {
            for (symbol, candle) in &candles {
                orchestrator.exchange().on_candle(symbol, candle);
                orchestrator.warm_up(symbol, candle)?;
            }
        }
        let day = close.as_millis() / Timestamp::DAY_MS;
        if last_progress_day != Some(day) {
            last_progress_day = Some(day);
            progress(Progress {
                time: close,
                candles: n_candles,
            });
        }
    }
    replay.finish(config, orchestrator)
}

/// The trading part of a replay.
#[derive(Debug, Default)]
struct Replay {
    started: bool,
    candles: u64,
    equity: Vec<EquitySnapshot>,
    /// Buy-and-hold's growth factor (mean of last / first close) at each equity point.
    buy_and_hold: Vec<(Timestamp, Decimal)>,
    first_close: BTreeMap<Symbol, Price>,
    last_close: BTreeMap<Symbol, Price>,
    start: Option<Timestamp>,
    initial_modes: BTreeMap<Symbol, TradingMode>,
}

impl Replay {
    fn trade(
        &mut self,
        orchestrator: &mut HybridOrchestrator<SimExchange>,
        candles: &[(Symbol, Candle)],
        close: Timestamp,
        hourly_due: bool,
    ) -> Result<(), BacktestError> {
        for (symbol, candle) in candles {
            let fills = orchestrator.exchange().on_candle(symbol, candle);
            block_on(orchestrator.on_candle(symbol, candle, fills, close))??;
            // Speed: the symbol (a `String`) is cloned only for its first candle.
            if let Some(last) = self.last_close.get_mut(symbol) {
                *last = candle.close();
            } else {
                self.first_close.insert(symbol.clone(), candle.close());
                self.last_close.insert(symbol.clone(), candle.close());
            }
            self.candles += 1;
        }
        if !self.started {
            self.started = true;
            self.start = Some(close);
            block_on(orchestrator.start(close))??;
            self.initial_modes = orchestrator.modes();
            self.equity.push(block_on(orchestrator.equity(close))??);
            self.buy_and_hold.push((close, self.growth()));
        } else if hourly_due {
            self.equity.push(block_on(orchestrator.on_hour(close))??);
            self.buy_and_hold.push((close, self.growth()));
        }
        Ok(())
    }

    /// Mean over the coins seen so far of last close / first close.
    fn growth(&self) -> Decimal {
        let ratios: Vec<Decimal> = self
            .first_close
            .iter()
            .filter(|(_, first)| !first.value().is_zero())
            .map(|(symbol, first)| {
                self.last_close
                    .get(symbol)
                    .map_or(first.value(), |p| p.value())
                    / first.value()
            })
            .collect();
        if ratios.is_empty() {
            Decimal::ONE
        } else {
            ratios.iter().sum::<Decimal>() / Decimal::from(ratios.len())
        }
    }

    fn finish(
        self,
        config: &BacktestConfig,
        orchestrator: HybridOrchestrator<SimExchange>,
    ) -> Result<BacktestOutcome, BacktestError> {
        let (Some(start), Some(last)) = (self.start, self.equity.last().copied()) else {
            return Err(BacktestError::NoData);
        };
        let journal = orchestrator.journal().clone();
        let points: Vec<EquityPoint> = self
            .equity
            .iter()
            .map(|s| EquityPoint {
                time: s.time,
                equity: s.equity,
            })
            .collect();
        let metrics = performance_report(&MetricsInput {
            equity: &points,
            trades: &journal.closed_trades,
            benchmark_prices: &[],
            mode_timeline: &[],
        })?;
        let buy_and_hold_by_symbol: BTreeMap<Symbol, Option<Decimal>> = self
            .first_close
            .iter()
            .map(|(symbol, first)| {
                let last = self.last_close.get(symbol).copied().unwrap_or(*first);
                let pct = buy_and_hold_return_pct(&[*first, last]).map(|r| r.round_dp(4));
                (symbol.clone(), pct)
            })
            .collect();
        let known: Vec<Decimal> = buy_and_hold_by_symbol.values().flatten().copied().collect();
        let buy_and_hold = (!known.is_empty())
            .then(|| (known.iter().sum::<Decimal>() / Decimal::from(known.len())).round_dp(4));
        let time_in_mode = self
            .initial_modes
            .iter()
            .map(|(symbol, mode)| {
                let mut timeline = vec![(start, *mode)];
                timeline.extend(
                    journal
                        .switches
                        .iter()
                        .filter(|s| &s.symbol == symbol)
                        .map(|s| (s.time, s.to)),
                );
                (symbol.clone(), mode_times(&timeline, last.time))
            })
            .collect();
        let venue_fills = orchestrator
            .exchange()
            .with_engine(|engine| engine.state().trades);
        let report = BacktestReport {
            symbols: config.symbols.clone(),
            interval: config.interval.clone(),
            start,
            end: last.time,
            candles: self.candles,
            allocation: "equal split of the equity at each mode entry".to_owned(),
            initial_capital: config.capital,
            final_equity: last.equity,
            total_return_pct: metrics.total_return_pct.round_dp(4),
            buy_and_hold_return_pct: buy_and_hold,
            buy_and_hold_by_symbol,
            annualised_return_pct: metrics.annualised_return_pct,
            max_drawdown: metrics.max_drawdown,
            sharpe: metrics.sharpe,
            sortino: metrics.sortino,
            calmar: metrics.calmar,
            fees: journal.fees,
            n_fills: journal.n_fills,
            n_orders: journal.n_orders,
            n_risk_refusals: journal.n_risk_refusals,
            risk_refusals_by_reason: journal.risk_refusals_by_reason.clone(),
            n_rejections: journal.n_rejections,
            n_stop_sales: journal.n_stop_sales,
            n_alerts: journal.n_alerts,
            trades: metrics.trades,
            time_in_mode,
            mode_switches: journal.switches,
            buy_and_hold_curve: self
                .buy_and_hold
                .iter()
                .map(|(t, g)| (*t, Notional::new((config.capital.value() * g).round_dp(8))))
                .collect(),
            equity_curve: self.equity,
        };
        Ok(BacktestOutcome {
            report,
            venue_fills,
        })
    }
}

/// The interval's length in milliseconds.
///
/// # Errors
/// [`BacktestError::InvalidInput`] for an interval other than `1m`, `3m`, `5m`, `15m`, `30m`,
/// `1h`, `2h`, `4h`, `6h`, `12h`, `1d`.
pub fn interval_ms(interval: &str) -> Result<i64, BacktestError> {
    /// The intervals a replay supports: whole minutes up to a day.
    const REPLAYABLE: [&str; 11] = [
        "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d",
    ];
    REPLAYABLE
        .contains(&interval)
        .then(|| hybrid_core::kline_interval_ms(interval))
        .flatten()
        .ok_or_else(|| {
            BacktestError::InvalidInput(format!(
                "unknown interval {interval:?}: use 1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 12h or 1d"
            ))
        })
}

/// Symbol rules for a replay, where the exchange's are not known: a tick of a millionth of
/// the first price's order of magnitude, a lot step worth about a cent to ten cents, and
/// Binance's 5 USDT minimum notional.
#[must_use]
pub fn replay_filters(symbol: Symbol, first_price: Price) -> SymbolFilters {
    let price = first_price.value();
    let mut magnitude: i32 = 0;
    let mut scaled = price;
    while scaled >= Decimal::TEN {
        scaled /= Decimal::TEN;
        magnitude += 1;
    }
    while scaled < Decimal::ONE && magnitude > -12 {
        scaled *= Decimal::TEN;
        magnitude -= 1;
    }
    let tick = power_of_ten(magnitude - 6);
    let step = power_of_ten(-(magnitude + 2)).min(Decimal::ONE);
    let mut filters = SymbolFilters::with_steps(symbol, tick, step);
    filters.min_notional = Decimal::from(5);
    filters
}

fn power_of_ten(exponent: i32) -> Decimal {
    if exponent >= 0 {
        Decimal::from(10_i64.pow(exponent.unsigned_abs().min(18)))
    } else {
        Decimal::new(1, exponent.unsigned_abs().min(28))
    }
}

/// Polls a future that never waits (the simulated exchange answers at once).
fn block_on<F: Future>(future: F) -> Result<F::Output, BacktestError> {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut context) {
        Poll::Ready(output) => Ok(output),
        Poll::Pending => Err(BacktestError::InvalidInput(
            "the exchange did not answer at once: only the simulated exchange can be replayed"
                .to_owned(),
        )),
    }
}

/// Candles of several symbols sharing one open time.
type CandleGroup = (Timestamp, Vec<(Symbol, Candle)>);

type CandleStream = Peekable<CandleSource>;

/// Candle files read in step, merged by open time.
struct CandleMerger {
    streams: Vec<(Symbol, CandleStream)>,
}

impl CandleMerger {
    /// Takes every symbol's source and skips candles before `skip_before`.
    fn open(
        sources: Vec<(Symbol, CandleSource)>,
        skip_before: Option<Timestamp>,
    ) -> Result<Self, BacktestError> {
        if sources.is_empty() {
            return Err(BacktestError::InvalidInput(
                "no symbols to replay".to_owned(),
            ));
        }
        let mut streams = Vec::new();
        for (symbol, source) in sources {
            let mut stream = source.peekable();
            if let Some(start) = skip_before {
                while let Some(Ok(candle)) = stream.peek() {
                    if candle.open_time() >= start {
                        break;
                    }
                    stream.next();
                }
            }
            streams.push((symbol, stream));
        }
        Ok(Self { streams })
    }

    /// Replay filters from each symbol's first candle.
    fn filters(&mut self) -> Result<Vec<SymbolFilters>, BacktestError> {
        let mut filters = Vec::new();
        for (symbol, stream) in &mut self.streams {
            match stream.peek() {
                Some(Ok(candle)) => filters.push(replay_filters(symbol.clone(), candle.open())),
                Some(Err(_)) => {
                    if let Some(Err(error)) = stream.next() {
                        return Err(error.into());
                    }
                }
                None => {
                    return Err(BacktestError::InvalidInput(format!(
                        "no candles for {symbol} in the requested window"
                    )))
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

    /// The next open time and every symbol's candle at it (symbols without one are absent).
    fn next_group(&mut self) -> Result<Option<CandleGroup>, BacktestError> {
        let mut earliest: Option<Timestamp> = None;
        for (_, stream) in &mut self.streams {
            match stream.peek() {
                Some(Ok(candle)) => {
                    let t = candle.open_time();
                    earliest = Some(earliest.map_or(t, |e| e.min(t)));
                }
                Some(Err(_)) => {
                    if let Some(Err(error)) = stream.next() {
                        return Err(error.into());
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

/// `DIR/SYMBOL-INTERVAL.csv`.
#[must_use]
pub fn candle_path(dir: &Path, symbol: &Symbol, interval: &str) -> PathBuf {
    dir.join(format!("{symbol}-{interval}.csv"))
}

impl fmt::Display for BacktestReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let symbols: Vec<&str> = self.symbols.iter().map(Symbol::as_str).collect();
        writeln!(
            f,
            "backtest {} {} ({})",
            symbols.join(","),
            self.interval,
            self.allocation
        )?;
        writeln!(
            f,
            "  period          {} .. {}",
            date(self.start),
            date(self.end)
        )?;
        writeln!(f, "  candles         {}", self.candles)?;
        writeln!(
            f,
            "  capital         {} -> {}",
            self.initial_capital.value(),
            self.final_equity.value().round_dp(2)
        )?;
        writeln!(
            f,
            "  total return    {} %",
            self.total_return_pct.round_dp(2)
        )?;
        let bh = self
            .buy_and_hold_return_pct
            .map_or("n/a".to_owned(), |r| format!("{} %", r.round_dp(2)));
        writeln!(f, "  buy and hold    {bh}")?;
        let dd = self.max_drawdown.map_or("n/a".to_owned(), |d| {
            format!(
                "{} % ({} .. {})",
                d.pct.round_dp(2),
                date(d.peak_time),
                date(d.trough_time)
            )
        });
        writeln!(f, "  max drawdown    {dd}")?;
        writeln!(
            f,
            "  sharpe/sortino/calmar  {} / {} / {}",
            ratio(self.sharpe),
            ratio(self.sortino),
            ratio(self.calmar)
        )?;
        writeln!(f, "  fees            {}", self.fees.value().round_dp(2))?;
        let win = self
            .trades
            .win_rate_pct
            .map_or("n/a".to_owned(), |w| format!("{} %", w.round_dp(1)));
        let pf = self
            .trades
            .profit_factor
            .map_or("n/a".to_owned(), |p| p.round_dp(2).to_string());
        writeln!(
            f,
            "  trades          {} closed, win rate {win}, profit factor {pf}",
            self.trades.n_trades
        )?;
        writeln!(
            f,
            "  orders          {} sent, {} fills, {} stop sales, {} refused by risk, {} rejected",
            self.n_orders, self.n_fills, self.n_stop_sales, self.n_risk_refusals, self.n_rejections
        )?;
        for (symbol, times) in &self.time_in_mode {
            let total = (times.hold_ms + times.grid_ms + times.cash_ms).max(1) as f64;
            let pct = |ms: i64| ms as f64 * 100.0 / total;
            writeln!(
                f,
                "  {symbol:<14}  HOLD {:.0} %  GRID {:.0} %  CASH {:.0} %",
                pct(times.hold_ms),
                pct(times.grid_ms),
                pct(times.cash_ms)
            )?;
        }
        for (rule, count) in &self.risk_refusals_by_reason {
            writeln!(f, "    refused by {rule}: {count}")?;
        }
        writeln!(f, "  mode switches   {}", self.mode_switches.len())?;
        for switch in &self.mode_switches {
            writeln!(
                f,
                "    {}  {:<10} {} -> {}  {}",
                date(switch.time),
                switch.symbol.as_str(),
                switch.from,
                switch.to,
                switch.reason
            )?;
        }
        Ok(())
    }
}

fn date(time: Timestamp) -> String {
    time.to_datetime().map_or_else(
        || time.as_millis().to_string(),
        |d| d.format("%Y-%m-%d %H:%M").to_string(),
    )
}

fn ratio(value: Option<f64>) -> String {
    value.map_or("n/a".to_owned(), |v| format!("{v:.2}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn replay_filters_scale_with_the_price() {
        let btc = replay_filters(
            Symbol::new("BTCUSDT").unwrap(),
            Price::new(dec!(29000)).unwrap(),
        );
        assert_eq!((btc.tick_size, btc.step_size), (dec!(0.01), dec!(0.000001)));
        let doge = replay_filters(
            Symbol::new("DOGEUSDT").unwrap(),
            Price::new(dec!(0.07)).unwrap(),
        );
        assert_eq!(
            (doge.tick_size, doge.step_size),
            (dec!(0.00000001), dec!(1))
        );
    }

    fn write_csv(dir: &Path, symbol: &str, hours: &[i64], price: &str) {
        let mut text = String::from("open_time_ms,open,high,low,close,volume\n");
        for hour in hours {
            let t = hour * Timestamp::HOUR_MS;
            text.push_str(&format!("{t},{price},{price},{price},{price},1\n"));
        }
        std::fs::write(dir.join(format!("{symbol}-1h.csv")), text).unwrap();
    }

    #[test]
    fn candle_files_merge_by_open_time_with_gaps_and_a_window() {
        let dir = tempfile::tempdir().unwrap();
        write_csv(dir.path(), "BTCUSDT", &[0, 1, 2, 3], "30000");
        write_csv(dir.path(), "ETHUSDT", &[1, 3], "2000");
        let symbols = vec![
            Symbol::new("BTCUSDT").unwrap(),
            Symbol::new("ETHUSDT").unwrap(),
        ];
        let config = BacktestConfig::new(dir.path().to_path_buf(), symbols);
        let skip = Some(Timestamp::from_millis(Timestamp::HOUR_MS));
        let mut merger = CandleMerger::open(file_sources(&config).unwrap(), skip).unwrap();
        let mut groups = Vec::new();
        while let Some((time, candles)) = merger.next_group().unwrap() {
            let names: Vec<&str> = candles.iter().map(|(s, _)| s.as_str()).collect();
            groups.push((time.as_millis() / Timestamp::HOUR_MS, names.join(",")));
        }
        let expected = [
            (1, "BTCUSDT,ETHUSDT"),
            (2, "BTCUSDT"),
            (3, "BTCUSDT,ETHUSDT"),
        ];
        let expected: Vec<(i64, String)> = expected
            .iter()
            .map(|(h, n)| (*h, (*n).to_owned()))
            .collect();
        assert_eq!(groups, expected);
    }

    #[test]
    fn a_missing_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let config = BacktestConfig::new(
            dir.path().to_path_buf(),
            vec![Symbol::new("BTCUSDT").unwrap()],
        );
        let error = run_backtest(&config, &mut |_| {}).unwrap_err().to_string();
        assert!(error.contains("BTCUSDT-1h.csv"), "{error}");
    }

    #[test]
    fn intervals_parse_and_unknown_ones_are_named() {
        assert_eq!(interval_ms("1h").unwrap(), Timestamp::HOUR_MS);
        assert_eq!(interval_ms("1d").unwrap(), Timestamp::DAY_MS);
        let error = interval_ms("7h").unwrap_err().to_string();
        assert!(error.contains("\"7h\""), "{error}");
    }
}
