//! The backtest: the one [`Driver`] loop over candle files ([`CandleFeed`]) on a
//! [`SimClock`] and a [`SimExchange`], trading one [`HybridOrchestrator`], with a recorder
//! hook that produces a deterministic [`BacktestReport`] (spec §9 replaced: no second
//! implementation of the strategy, and no second loop: `main_hybrid run --market replay`
//! drives the same orchestrator through the same driver).
//!
//! Candles before `from` only warm the regime detector up. Determinism: no wall clock, no
//! hash-map iteration in the report (maps are `BTreeMap`s), the exchange futures are polled
//! once on a no-op waker ([`block_on`]: the simulated exchange never waits), so the same inputs
//! give byte-identical JSON.

use std::{collections::BTreeMap, fmt, path::PathBuf, sync::Arc};

use hybrid_core::{
    CoreError, CsvError, Fill, Notional, Price, SimClock, Symbol, SymbolFilters, Timestamp,
    TradingMode,
};
use hybrid_exchange::{
    Account, Balance, CandleFeed, CandleSource, ExchangeError, MatchingConfig, MatchingEngine,
    ReplaySpeed, SimConfig, SimExchange,
};
use hybrid_store::Store;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    buy_and_hold_return_pct,
    driver::{simulate, Closes, DriverError, ReplayWindow},
    mode_times,
    orchestrator::{
        EquitySnapshot, HybridOrchestrator, ModeSwitch, OrchestratorConfig, OrchestratorError,
    },
    performance_report,
    record::{Progress, Recorder, Sampler},
    Drawdown, EngineError, EquityPoint, MetricsInput, ModeTimes, TradeStats,
};

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
    /// Where the orders, fills and trade pairs are recorded: `None` keeps them in memory;
    /// a database URL keeps them for auditing (`main_hybrid backtest --database URL`).
    pub database_url: Option<String>,
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
            database_url: None,
        }
    }
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
    /// The loop stopped (the orchestrator, the candle files or the venue).
    #[error("{0}")]
    Driver(#[from] DriverError),
    /// A candle file could not be read.
    #[error("{0}")]
    Exchange(#[from] ExchangeError),
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
    let feed = CandleFeed::open_dir(
        &config.data_dir,
        &config.symbols,
        &config.interval,
        ReplaySpeed::Fast,
    )?;
    run_backtest_on(config, feed, progress)
}

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
    let feed = CandleFeed::from_sources(sources, ReplaySpeed::Fast)?;
    run_backtest_on(config, feed, progress)
}

/// The wiring of a backtest: feed, simulated venue, orchestrator, recorder.
fn run_backtest_on(
    config: &BacktestConfig,
    mut feed: CandleFeed,
    progress: &mut dyn FnMut(Progress),
) -> Result<BacktestOutcome, BacktestError> {
    let interval_ms = interval_ms(&config.interval)?;
    if let Some(from) = config.from {
        feed.skip_before(from.plus_millis(-i64::from(config.warmup_days) * Timestamp::DAY_MS))?;
    }
    let filters = replay_filters_of(&mut feed)?;
    let start_time = feed
        .peek_firsts()?
        .iter()
        .filter_map(|(_, c)| c.map(|c| c.open_time()))
        .min()
        .ok_or(BacktestError::NoData)?;
    let clock = Arc::new(SimClock::new(start_time));
    let venue = Arc::new(sim_venue(config, &filters, config.capital, &clock));
    let store = Store::open(config.database_url.as_deref().unwrap_or("sqlite::memory:"))?;
    let mut orchestrator = HybridOrchestrator::new(
        Arc::clone(&venue),
        store,
        config.orchestrator.clone(),
        filters,
        start_time,
    )?;
    let mut recorder = Recorder::new(EquitySampler::default(), progress);
    let window = ReplayWindow {
        interval_ms,
        trade_from: config.from,
        trade_until: config.to,
    };
    simulate(
        &mut feed,
        &*venue,
        &mut orchestrator,
        &mut recorder,
        Arc::clone(&clock),
        window,
    )?;
    finish(recorder, config, &orchestrator, &venue)
}

/// The simulated venue of a replay: the filters' symbols, `capital` of their quote asset free.
#[must_use]
pub fn sim_venue(
    config: &BacktestConfig,
    filters: &[SymbolFilters],
    capital: Notional,
    clock: &Arc<SimClock>,
) -> SimExchange {
    let funds: Vec<Balance> = filters
        .first()
        .map(|f| Balance {
            asset: f.symbol.quote(),
            free: capital.value(),
            locked: Decimal::ZERO,
        })
        .into_iter()
        .collect();
    let engine = MatchingEngine::new(config.matching.clone(), filters.to_vec(), &funds);
    let sim_config = SimConfig {
        interval: config.interval.clone(),
        ..SimConfig::default()
    };
    SimExchange::new(engine, Arc::clone(clock), sim_config)
}

/// Replay filters from each symbol's first candle in the feed.
///
/// # Errors
/// [`BacktestError::InvalidInput`] naming a symbol without candles in the window.
pub fn replay_filters_of(feed: &mut CandleFeed) -> Result<Vec<SymbolFilters>, BacktestError> {
    feed.peek_firsts()?
        .into_iter()
        .map(|(symbol, first)| match first {
            Some(candle) => Ok(replay_filters(symbol, candle.open())),
            None => Err(BacktestError::InvalidInput(format!(
                "no candles for {symbol} in the requested window"
            ))),
        })
        .collect()
}

/// What the engine's backtest samples: the orchestrator's equity at the start and every
/// hour, with buy-and-hold's growth beside it.
#[derive(Debug, Default)]
struct EquitySampler {
    equity: Vec<EquitySnapshot>,
    /// Buy-and-hold's growth factor (mean of last / first close) at each equity point.
    buy_and_hold: Vec<(Timestamp, Decimal)>,
    start: Option<Timestamp>,
    initial_modes: BTreeMap<Symbol, TradingMode>,
}

impl<E: Account> Sampler<HybridOrchestrator<E>> for EquitySampler {
    fn started(&mut self, orchestrator: &HybridOrchestrator<E>, time: Timestamp) {
        self.start = Some(time);
        self.initial_modes = orchestrator.modes();
    }

    fn sample(&mut self, orchestrator: &HybridOrchestrator<E>, _time: Timestamp, closes: &Closes) {
        if let Some(snapshot) = orchestrator.last_equity() {
            self.equity.push(snapshot);
            self.buy_and_hold.push((snapshot.time, growth(closes)));
        }
    }
}

/// Mean over the coins seen so far of last close / first close.
fn growth(closes: &Closes) -> Decimal {
    let ratios: Vec<Decimal> = closes
        .first
        .iter()
        .filter(|(_, first)| !first.value().is_zero())
        .map(|(symbol, first)| {
            closes.last.get(symbol).map_or(first.value(), |p| p.value()) / first.value()
        })
        .collect();
    if ratios.is_empty() {
        Decimal::ONE
    } else {
        ratios.iter().sum::<Decimal>() / Decimal::from(ratios.len())
    }
}

/// The report from what the recorder sampled.
fn finish(
    recorder: Recorder<'_, EquitySampler>,
    config: &BacktestConfig,
    orchestrator: &HybridOrchestrator<Arc<SimExchange>>,
    venue: &SimExchange,
) -> Result<BacktestOutcome, BacktestError> {
    let closes = recorder.closes;
    let candles = recorder.traded;
    let sampled = recorder.sampler;
    let (Some(start), Some(last)) = (sampled.start, sampled.equity.last().copied()) else {
        return Err(BacktestError::NoData);
    };
    let journal = orchestrator.journal().clone();
    let points: Vec<EquityPoint> = sampled
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
    let buy_and_hold_by_symbol: BTreeMap<Symbol, Option<Decimal>> = closes
        .first
        .iter()
        .map(|(symbol, first)| {
            let last = closes.last.get(symbol).copied().unwrap_or(*first);
            let pct = buy_and_hold_return_pct(&[*first, last]).map(|r| r.round_dp(4));
            (symbol.clone(), pct)
        })
        .collect();
    let known: Vec<Decimal> = buy_and_hold_by_symbol.values().flatten().copied().collect();
    let buy_and_hold = (!known.is_empty())
        .then(|| (known.iter().sum::<Decimal>() / Decimal::from(known.len())).round_dp(4));
    let time_in_mode = sampled
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
    let venue_fills = venue.with_engine(|engine| engine.state().trades);
    let report = BacktestReport {
        symbols: config.symbols.clone(),
        interval: config.interval.clone(),
        start,
        end: last.time,
        candles,
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
        buy_and_hold_curve: sampled
            .buy_and_hold
            .iter()
            .map(|(t, g)| (*t, Notional::new((config.capital.value() * g).round_dp(8))))
            .collect(),
        equity_curve: sampled.equity,
    };
    Ok(BacktestOutcome {
        report,
        venue_fills,
    })
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
