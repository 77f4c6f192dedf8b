//! The portfolio over candle files: the index and the cash reserve on one simulated account,
//! the trading tier (a [`HybridOrchestrator`]) on its own sub-account, everything written
//! into a database that `main_hybrid validate` can read afterwards.
//!
//! Per group of candles sharing an open time: the clock moves to their close; index coins'
//! candles go to the account (their prices), trading coins' candles to the trading
//! sub-account and its orchestrator. At every full hour: the orchestrator's hourly task, the
//! index trailing stops, the quarterly index rebalance (the first builds the index), the
//! weekly redistribution; at every snapshot (default daily) the tier values are written.
//! Regime changes behind the trading tier's mode switches go to `regime_history`.

use std::{
    collections::BTreeMap,
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
    Asset, Candle, CandleCsvReader, Fill, Order, Price, SimClock, Symbol, SymbolFilters, Timestamp,
    TradingMode,
};
use hybrid_engine::{candle_path, replay_filters, HybridOrchestrator, OrchestratorConfig};
use hybrid_exchange::{
    Balance, Exchange, ExchangeError, MatchingConfig, MatchingEngine, OrderAck, OrderRef,
    OrderRequest, SimConfig, SimExchange, Ticker24h, TickerPrice, TradesFrom,
};
use hybrid_store::{RedistributionRecord, RegimeRecord, Store};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    coingecko::StaticMarketCaps,
    manager::{PortfolioJournal, PortfolioManager},
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

/// The trading tier of a backtest: one orchestrator on its own simulated sub-account.
/// Deposits and withdrawals move free USDT between the portfolio's account and the
/// sub-account's ledger.
#[derive(Debug)]
pub struct SimTradingTier {
    orchestrator: HybridOrchestrator<SimExchange>,
    account: Arc<SimExchange>,
    quote: Asset,
}

impl SimTradingTier {
    fn free(exchange: &SimExchange, quote: &Asset) -> Decimal {
        exchange.with_engine(|e| {
            e.balances()
                .iter()
                .filter(|b| &b.asset == quote)
                .map(|b| b.free)
                .sum()
        })
    }
}

impl TradingTier for SimTradingTier {
    fn value(&self, now: Timestamp) -> Result<Decimal, PortfolioError> {
        let snapshot = block_on(self.orchestrator.equity(now))?
            .map_err(|e| PortfolioError::InvalidInput(format!("trading tier: {e}")))?;
        Ok(snapshot.equity.value())
    }

    fn deposit(&mut self, amount: Decimal, _now: Timestamp) -> Result<(), PortfolioError> {
        let amount = amount.min(Self::free(&self.account, &self.quote));
        if amount <= Decimal::ZERO {
            return Ok(());
        }
        move_quote(
            &self.account,
            self.orchestrator.exchange(),
            &self.quote,
            amount,
        );
        Ok(())
    }

    fn withdraw(&mut self, amount: Decimal, _now: Timestamp) -> Result<Decimal, PortfolioError> {
        let amount = amount.min(Self::free(self.orchestrator.exchange(), &self.quote));
        if amount <= Decimal::ZERO {
            return Ok(Decimal::ZERO);
        }
        move_quote(
            self.orchestrator.exchange(),
            &self.account,
            &self.quote,
            amount,
        );
        Ok(amount)
    }
}

/// Moves free quote between two simulated accounts (a sub-account transfer).
fn move_quote(from: &SimExchange, to: &SimExchange, quote: &Asset, amount: Decimal) {
    let line = |free| Balance {
        asset: quote.clone(),
        free,
        locked: Decimal::ZERO,
    };
    from.with_engine(|e| e.deposit(&line(-amount)));
    to.with_engine(|e| e.deposit(&line(amount)));
}

/// The portfolio's account as an [`Exchange`], shared with the trading tier for transfers.
#[derive(Debug, Clone)]
pub struct SharedSim(pub Arc<SimExchange>);

impl Exchange for SharedSim {
    async fn server_time(&self) -> Result<Timestamp, ExchangeError> {
        self.0.server_time().await
    }
    async fn exchange_info(&self) -> Result<Vec<SymbolFilters>, ExchangeError> {
        self.0.exchange_info().await
    }
    async fn symbol_filters(&self, symbol: &Symbol) -> Result<SymbolFilters, ExchangeError> {
        self.0.symbol_filters(symbol).await
    }
    async fn ticker_price(&self, symbol: &Symbol) -> Result<Price, ExchangeError> {
        self.0.ticker_price(symbol).await
    }
    async fn ticker_prices(&self) -> Result<Vec<TickerPrice>, ExchangeError> {
        self.0.ticker_prices().await
    }
    async fn ticker_24h(&self, symbol: &Symbol) -> Result<Ticker24h, ExchangeError> {
        self.0.ticker_24h(symbol).await
    }
    async fn klines(
        &self,
        symbol: &Symbol,
        interval: &str,
        start: Option<Timestamp>,
        end: Option<Timestamp>,
        limit: Option<u32>,
    ) -> Result<Vec<Candle>, ExchangeError> {
        self.0.klines(symbol, interval, start, end, limit).await
    }
    async fn balances(&self) -> Result<Vec<Balance>, ExchangeError> {
        self.0.balances().await
    }
    async fn place_order(&self, request: &OrderRequest) -> Result<OrderAck, ExchangeError> {
        self.0.place_order(request).await
    }
    async fn query_order(&self, symbol: &Symbol, order: &OrderRef) -> Result<Order, ExchangeError> {
        self.0.query_order(symbol, order).await
    }
    async fn cancel_order(
        &self,
        symbol: &Symbol,
        order: &OrderRef,
    ) -> Result<Order, ExchangeError> {
        self.0.cancel_order(symbol, order).await
    }
    async fn open_orders(&self, symbol: Option<&Symbol>) -> Result<Vec<Order>, ExchangeError> {
        self.0.open_orders(symbol).await
    }
    async fn my_trades(
        &self,
        symbol: &Symbol,
        from: TradesFrom,
    ) -> Result<Vec<Fill>, ExchangeError> {
        self.0.my_trades(symbol, from).await
    }
}

/// Polls a future that never waits (the simulated exchanges answer at once).
fn block_on<F: Future>(future: F) -> Result<F::Output, PortfolioError> {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => Ok(output),
        Poll::Pending => Err(PortfolioError::InvalidInput(
            "the exchange did not answer at once: only simulated exchanges can be replayed"
                .to_owned(),
        )),
    }
}

type CandleStream = Peekable<CandleCsvReader<BufReader<File>>>;

/// Candles of several symbols sharing one open time.
type CandleGroup = (Timestamp, Vec<(Symbol, Candle)>);

/// Candle files read in step, merged by open time.
struct Merger {
    streams: Vec<(Symbol, CandleStream)>,
}

impl Merger {
    fn open(
        dir: &std::path::Path,
        symbols: &[Symbol],
        interval: &str,
        skip_before: Option<Timestamp>,
    ) -> Result<Self, PortfolioError> {
        let mut streams = Vec::new();
        for symbol in symbols {
            let path = candle_path(dir, symbol, interval);
            let reader = CandleCsvReader::open(&path)
                .map_err(|e| PortfolioError::InvalidInput(e.to_string()))?;
            let mut stream = reader.peekable();
            if let Some(start) = skip_before {
                while stream
                    .peek()
                    .is_some_and(|c| c.as_ref().is_ok_and(|c| c.open_time() < start))
                {
                    stream.next();
                }
            }
            streams.push((symbol.clone(), stream));
        }
        Ok(Self { streams })
    }

    fn next_group(&mut self) -> Result<Option<CandleGroup>, PortfolioError> {
        let mut earliest: Option<Timestamp> = None;
        for (_, stream) in &mut self.streams {
            match stream.peek() {
                Some(Ok(candle)) => {
                    let t = candle.open_time();
                    earliest = Some(earliest.map_or(t, |e| e.min(t)));
                }
                Some(Err(_)) => {
                    if let Some(Err(error)) = stream.next() {
                        return Err(PortfolioError::InvalidInput(error.to_string()));
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

    /// Filters from each stream's first candle.
    fn filters(&mut self) -> Vec<SymbolFilters> {
        self.streams
            .iter_mut()
            .filter_map(|(symbol, stream)| match stream.peek() {
                Some(Ok(candle)) => Some(replay_filters(symbol.clone(), candle.open())),
                _ => None,
            })
            .collect()
    }
}

/// The regime a mode stands for (HOLD ← BULL, GRID ← SIDEWAYS, CASH ← BEAR).
const fn regime_of(mode: TradingMode) -> &'static str {
    match mode {
        TradingMode::Hold => "BULL",
        TradingMode::Grid => "SIDEWAYS",
        TradingMode::Cash => "BEAR",
    }
}

/// Runs the portfolio over the candle files and writes everything into the database.
///
/// # Errors
/// [`PortfolioError`]: no index coin with a candle file, unreadable candles, an orchestrator,
/// exchange or store failure.
pub fn run_portfolio_backtest(
    config: &PortfolioBacktestConfig,
    progress: &mut dyn FnMut(Timestamp),
) -> Result<PortfolioBacktestReport, PortfolioError> {
    let interval_ms = hybrid_core::kline_interval_ms(&config.interval).ok_or_else(|| {
        PortfolioError::InvalidInput(format!("unknown interval {:?}", config.interval))
    })?;
    let quote = Asset::new("USDT")?;
    let index_symbols: Vec<Symbol> = config
        .index_caps
        .caps()
        .iter()
        .filter_map(|c| Symbol::new(&format!("{}USDT", c.base)).ok())
        .filter(|s| candle_path(&config.data_dir, s, &config.interval).exists())
        .collect();
    if index_symbols.is_empty() {
        return Err(PortfolioError::InvalidInput(format!(
            "no index coin has a {} candle file in {}",
            config.interval,
            config.data_dir.display()
        )));
    }
    let warmup_start = config
        .from
        .map(|from| from.plus_millis(-i64::from(config.warmup_days) * Timestamp::DAY_MS));
    let mut index_merger = Merger::open(
        &config.data_dir,
        &index_symbols,
        &config.interval,
        config.from,
    )?;
    let mut trading_merger = Merger::open(
        &config.data_dir,
        &config.trading_symbols,
        &config.interval,
        warmup_start,
    )?;
    let index_filters = index_merger.filters();
    let trading_filters = trading_merger.filters();
    if trading_filters.len() != config.trading_symbols.len() {
        return Err(PortfolioError::InvalidInput(
            "a trading coin has no candles in the window".to_owned(),
        ));
    }
    let start_time = warmup_start
        .or(config.from)
        .unwrap_or(Timestamp::from_millis(0));
    let clock = Arc::new(SimClock::new(start_time));
    let targets = TierTargets::default();
    let trading_capital = config.capital * targets.trading.target_pct / Decimal::ONE_HUNDRED;
    let funds = |amount| {
        [Balance {
            asset: quote.clone(),
            free: amount,
            locked: Decimal::ZERO,
        }]
    };
    let sim_config = SimConfig {
        interval: config.interval.clone(),
        ..SimConfig::default()
    };
    let account = Arc::new(SimExchange::new(
        MatchingEngine::new(
            config.matching.clone(),
            index_filters.clone(),
            &funds(config.capital - trading_capital),
        ),
        Arc::clone(&clock),
        sim_config.clone(),
    ));
    let trading_exchange = SimExchange::new(
        MatchingEngine::new(
            config.matching.clone(),
            trading_filters.clone(),
            &funds(trading_capital),
        ),
        Arc::clone(&clock),
        sim_config,
    );
    let orchestrator = HybridOrchestrator::new(
        trading_exchange,
        Store::open(&config.database_url)?,
        config.orchestrator.clone(),
        trading_filters,
        start_time,
    )
    .map_err(|e| PortfolioError::InvalidInput(format!("trading tier: {e}")))?;
    let trading = SimTradingTier {
        orchestrator,
        account: Arc::clone(&account),
        quote: quote.clone(),
    };
    let mut manager = PortfolioManager::new(
        SharedSim(Arc::clone(&account)),
        trading,
        Store::open(&config.database_url)?,
        quote,
        index_filters,
        start_time,
    )?;
    let caps = config.index_caps.caps();
    let mut prices: BTreeMap<Symbol, Price> = BTreeMap::new();
    let mut points = Vec::new();
    let mut started: Option<Timestamp> = None;
    let mut last_close = start_time;
    let mut switches_seen = 0;
    let mut last_progress_day = None;
    let mut pending_index: Option<CandleGroup> = index_merger.next_group()?;
    while let Some((open_time, candles)) = trading_merger.next_group()? {
        if config.to.is_some_and(|to| open_time >= to) {
            break;
        }
        let close = open_time.plus_millis(interval_ms);
        clock
            .advance_to(close)
            .map_err(|e| PortfolioError::InvalidInput(e.to_string()))?;
        // Index coins' candles up to this open time give the account its prices.
        while let Some((t, group)) = pending_index.take() {
            if t > open_time {
                pending_index = Some((t, group));
                break;
            }
            for (symbol, candle) in &group {
                account.on_candle(symbol, candle);
                prices.insert(symbol.clone(), candle.close());
            }
            pending_index = index_merger.next_group()?;
        }
        let trading_now = config.from.is_none_or(|from| open_time >= from);
        let tier = manager.trading_mut();
        for (symbol, candle) in &candles {
            let fills = tier.orchestrator.exchange().on_candle(symbol, candle);
            if trading_now {
                block_on(tier.orchestrator.on_candle(symbol, candle, fills, close))?
                    .map_err(|e| PortfolioError::InvalidInput(format!("trading tier: {e}")))?;
            } else {
                tier.orchestrator
                    .warm_up(symbol, candle)
                    .map_err(|e| PortfolioError::InvalidInput(format!("trading tier: {e}")))?;
            }
        }
        if !trading_now {
            continue;
        }
        last_close = close;
        let hourly = close.as_millis() % Timestamp::HOUR_MS == 0;
        if started.is_none() {
            started = Some(close);
            block_on(manager.trading_mut().orchestrator.start(close))?
                .map_err(|e| PortfolioError::InvalidInput(format!("trading tier: {e}")))?;
        } else if hourly {
            block_on(manager.trading_mut().orchestrator.on_hour(close))?
                .map_err(|e| PortfolioError::InvalidInput(format!("trading tier: {e}")))?;
        }
        if hourly || points.is_empty() {
            let price_list: Vec<(Symbol, Price)> =
                prices.iter().map(|(s, p)| (s.clone(), *p)).collect();
            block_on(manager.on_prices(&price_list, close))??;
            block_on(manager.rebalance_index_if_due(&caps, &prices, close))??;
            block_on(manager.redistribute_if_due(&prices, close))??;
            switches_seen = record_regimes(&manager, switches_seen)?;
            let every = i64::from(config.snapshot_hours.max(1)) * Timestamp::HOUR_MS;
            if points.is_empty() || close.as_millis() % every == 0 {
                let breakdown = block_on(manager.snapshot(close))??;
                points.push(TierPoint {
                    time: close,
                    breakdown,
                });
                manager.persist_holdings(close)?;
            }
        }
        let day = close.as_millis() / Timestamp::DAY_MS;
        if last_progress_day != Some(day) {
            last_progress_day = Some(day);
            progress(close);
        }
    }
    let Some(start) = started else {
        return Err(PortfolioError::InvalidInput(
            "no candles between the requested dates".to_owned(),
        ));
    };
    if points.last().is_some_and(|p| p.time != last_close) {
        let breakdown = block_on(manager.snapshot(last_close))??;
        points.push(TierPoint {
            time: last_close,
            breakdown,
        });
    }
    manager.persist_holdings(last_close)?;
    let journal: PortfolioJournal = manager.journal().clone();
    let trading_journal = manager.trading().orchestrator.journal();
    Ok(PortfolioBacktestReport {
        start,
        end: last_close,
        initial_capital: config.capital,
        points,
        index_holdings: manager.index().holdings().values().cloned().collect(),
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
    })
}

/// Writes the regimes behind the trading tier's new mode switches; returns how many
/// switches are recorded now.
fn record_regimes(
    manager: &PortfolioManager<SharedSim, SimTradingTier>,
    seen: usize,
) -> Result<usize, PortfolioError> {
    let switches = &manager.trading().orchestrator.journal().switches;
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
