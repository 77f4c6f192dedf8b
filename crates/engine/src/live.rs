//! The live loop of `main_hybrid run`: the same [`HybridOrchestrator`] as the backtest, fed
//! event by event from a [`MarketFeed`] (Binance prices polled live, or candle files replayed
//! as a live feed), until the feed ends or a shutdown is signalled.
//!
//! Per event (DESIGN.md, "The tick"): the venue sees the market first ([`LiveVenue::on_market`]:
//! the paper exchange fills its resting orders), then the orchestrator gets the candle with
//! those fills; at every new hour of market time it evaluates the modes, saves its state
//! document and a status line is logged; the heartbeat file is rewritten with the current time.
//! Prices between candles only move the paper exchange: their fills reach the orchestrator
//! with the next candle.
//!
//! Restart: the orchestrator's state document is restored before its first candle and
//! reconciled with the exchange; the document also holds the close of the last candle traded,
//! so a replay started again skips what it already traded (those candles only warm the regime
//! detector up). Reconciliation runs again every 30 minutes of market time and at the end.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::PathBuf,
    sync::{Arc, Mutex},
};

use hybrid_core::{
    Candle, Clock, CoreError, Fill, Order, Price, SimClock, Symbol, SymbolFilters, Timestamp,
};
use hybrid_exchange::{
    binance::BinanceClient, Balance, Exchange, ExchangeError, MarketEvent, MarketFeed, OrderAck,
    OrderRef, OrderRequest, PaperExchange, PaperStateStore, Ticker24h, TickerPrice, TradesFrom,
};
use hybrid_store::StoreError;
use tokio::sync::watch;

use crate::orchestrator::{HybridOrchestrator, OrchestratorError, RunProgress};

/// A venue the live loop can trade on: told about each market event before the orchestrator.
pub trait LiveVenue: Exchange {
    /// The venue's reaction to `event`: the fills it produced since the last event (a simulated
    /// venue matches its resting orders; Binance is asked for its new trades).
    ///
    /// # Errors
    /// [`ExchangeError::Storage`] when a simulated venue cannot save its account; the
    /// exchange's errors when its trades cannot be read.
    fn on_market(
        &self,
        event: &MarketEvent,
    ) -> impl std::future::Future<Output = Result<Vec<Fill>, ExchangeError>> + Send;
}

impl<S: PaperStateStore> LiveVenue for PaperExchange<ReplayMarketData, S> {
    async fn on_market(&self, event: &MarketEvent) -> Result<Vec<Fill>, ExchangeError> {
        self.market_data().observe(event);
        paper_on_market(self, event)
    }
}

impl<S: PaperStateStore> LiveVenue for PaperExchange<BinanceClient, S> {
    async fn on_market(&self, event: &MarketEvent) -> Result<Vec<Fill>, ExchangeError> {
        paper_on_market(self, event)
    }
}

/// Binance itself (testnet or live): orders are matched on its side; on each candle of a
/// symbol its new trades (since the start of the run, then since the last one seen) are read
/// back with `myTrades` and handed to the orchestrator as fills.
pub struct BinanceVenue {
    client: BinanceClient,
    start: Timestamp,
    next_trade: Mutex<BTreeMap<Symbol, i64>>,
}

impl std::fmt::Debug for BinanceVenue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BinanceVenue")
            .field("client", &self.client)
            .field("start", &self.start)
            .finish_non_exhaustive()
    }
}

impl BinanceVenue {
    /// Trades on `client`; trades made before `start` are not reported.
    #[must_use]
    pub fn new(client: BinanceClient, start: Timestamp) -> Self {
        Self {
            client,
            start,
            next_trade: Mutex::new(BTreeMap::new()),
        }
    }

    fn next_trade(&self, symbol: &Symbol) -> Option<i64> {
        self.next_trade
            .lock()
            .ok()
            .and_then(|map| map.get(symbol).copied())
    }
}

impl LiveVenue for BinanceVenue {
    async fn on_market(&self, event: &MarketEvent) -> Result<Vec<Fill>, ExchangeError> {
        let MarketEvent::Candle { symbol, .. } = event else {
            return Ok(Vec::new());
        };
        let next = self.next_trade(symbol);
        let from = next.map_or(TradesFrom::Time(self.start), TradesFrom::TradeId);
        let mut fills = self.client.my_trades(symbol, from).await?;
        fills.retain(|f| next.is_none_or(|n| f.trade_id >= n) && f.time >= self.start);
        fills.sort_by_key(|f| f.trade_id);
        if let Some(last) = fills.last() {
            if let Ok(mut map) = self.next_trade.lock() {
                map.insert(symbol.clone(), last.trade_id + 1);
            }
        }
        Ok(fills)
    }
}

impl Exchange for BinanceVenue {
    async fn server_time(&self) -> Result<Timestamp, ExchangeError> {
        self.client.server_time().await
    }

    async fn exchange_info(&self) -> Result<Vec<SymbolFilters>, ExchangeError> {
        self.client.exchange_info().await
    }

    async fn symbol_filters(&self, symbol: &Symbol) -> Result<SymbolFilters, ExchangeError> {
        self.client.symbol_filters(symbol).await
    }

    async fn ticker_price(&self, symbol: &Symbol) -> Result<Price, ExchangeError> {
        self.client.ticker_price(symbol).await
    }

    async fn ticker_prices(&self) -> Result<Vec<TickerPrice>, ExchangeError> {
        self.client.ticker_prices().await
    }

    async fn ticker_24h(&self, symbol: &Symbol) -> Result<Ticker24h, ExchangeError> {
        self.client.ticker_24h(symbol).await
    }

    async fn klines(
        &self,
        symbol: &Symbol,
        interval: &str,
        start: Option<Timestamp>,
        end: Option<Timestamp>,
        limit: Option<u32>,
    ) -> Result<Vec<Candle>, ExchangeError> {
        self.client
            .klines(symbol, interval, start, end, limit)
            .await
    }

    async fn balances(&self) -> Result<Vec<Balance>, ExchangeError> {
        self.client.balances().await
    }

    async fn place_order(&self, request: &OrderRequest) -> Result<OrderAck, ExchangeError> {
        self.client.place_order(request).await
    }

    async fn query_order(&self, symbol: &Symbol, order: &OrderRef) -> Result<Order, ExchangeError> {
        self.client.query_order(symbol, order).await
    }

    async fn cancel_order(
        &self,
        symbol: &Symbol,
        order: &OrderRef,
    ) -> Result<Order, ExchangeError> {
        self.client.cancel_order(symbol, order).await
    }

    async fn open_orders(&self, symbol: Option<&Symbol>) -> Result<Vec<Order>, ExchangeError> {
        self.client.open_orders(symbol).await
    }

    async fn my_trades(
        &self,
        symbol: &Symbol,
        from: TradesFrom,
    ) -> Result<Vec<Fill>, ExchangeError> {
        self.client.my_trades(symbol, from).await
    }
}

fn paper_on_market<D: Exchange, S: PaperStateStore>(
    paper: &PaperExchange<D, S>,
    event: &MarketEvent,
) -> Result<Vec<Fill>, ExchangeError> {
    match event {
        MarketEvent::Candle { symbol, candle } => paper.on_candle(symbol, candle),
        MarketEvent::Price { symbol, price, .. } => paper.on_price(symbol, *price),
    }
}

/// The market data of a replayed paper run: the symbols' filters and the last replayed
/// prices; it does not trade (the paper exchange does).
#[derive(Debug)]
pub struct ReplayMarketData {
    filters: Vec<SymbolFilters>,
    prices: Mutex<BTreeMap<Symbol, Price>>,
}

impl ReplayMarketData {
    /// Market data for `filters`' symbols, no price known yet.
    #[must_use]
    pub fn new(filters: Vec<SymbolFilters>) -> Self {
        Self {
            filters,
            prices: Mutex::new(BTreeMap::new()),
        }
    }

    /// Remembers the price an event carries.
    pub fn observe(&self, event: &MarketEvent) {
        let (symbol, price) = match event {
            MarketEvent::Candle { symbol, candle } => (symbol, candle.close()),
            MarketEvent::Price { symbol, price, .. } => (symbol, *price),
        };
        if let Ok(mut prices) = self.prices.lock() {
            prices.insert(symbol.clone(), price);
        }
    }

    fn last_prices(&self) -> BTreeMap<Symbol, Price> {
        self.prices.lock().map(|p| p.clone()).unwrap_or_default()
    }

    fn no_trading() -> ExchangeError {
        ExchangeError::InvalidRequest("replayed market data does not trade".to_owned())
    }
}

impl Exchange for ReplayMarketData {
    async fn server_time(&self) -> Result<Timestamp, ExchangeError> {
        Err(Self::no_trading())
    }

    async fn exchange_info(&self) -> Result<Vec<SymbolFilters>, ExchangeError> {
        Ok(self.filters.clone())
    }

    async fn symbol_filters(&self, symbol: &Symbol) -> Result<SymbolFilters, ExchangeError> {
        self.filters
            .iter()
            .find(|f| &f.symbol == symbol)
            .cloned()
            .ok_or_else(|| ExchangeError::InvalidRequest(format!("unknown symbol {symbol}")))
    }

    async fn ticker_price(&self, symbol: &Symbol) -> Result<Price, ExchangeError> {
        self.last_prices().get(symbol).copied().ok_or_else(|| {
            ExchangeError::InvalidRequest(format!("no replayed price of {symbol} yet"))
        })
    }

    async fn ticker_prices(&self) -> Result<Vec<TickerPrice>, ExchangeError> {
        Ok(self
            .last_prices()
            .into_iter()
            .map(|(symbol, price)| TickerPrice { symbol, price })
            .collect())
    }

    async fn ticker_24h(&self, _symbol: &Symbol) -> Result<Ticker24h, ExchangeError> {
        Err(Self::no_trading())
    }

    async fn klines(
        &self,
        _symbol: &Symbol,
        _interval: &str,
        _start: Option<Timestamp>,
        _end: Option<Timestamp>,
        _limit: Option<u32>,
    ) -> Result<Vec<Candle>, ExchangeError> {
        Ok(Vec::new())
    }

    async fn balances(&self) -> Result<Vec<Balance>, ExchangeError> {
        Err(Self::no_trading())
    }

    async fn place_order(&self, _request: &OrderRequest) -> Result<OrderAck, ExchangeError> {
        Err(Self::no_trading())
    }

    async fn query_order(
        &self,
        _symbol: &Symbol,
        _order: &OrderRef,
    ) -> Result<Order, ExchangeError> {
        Err(Self::no_trading())
    }

    async fn cancel_order(
        &self,
        _symbol: &Symbol,
        _order: &OrderRef,
    ) -> Result<Order, ExchangeError> {
        Err(Self::no_trading())
    }

    async fn open_orders(&self, _symbol: Option<&Symbol>) -> Result<Vec<Order>, ExchangeError> {
        Err(Self::no_trading())
    }

    async fn my_trades(
        &self,
        _symbol: &Symbol,
        _from: TradesFrom,
    ) -> Result<Vec<Fill>, ExchangeError> {
        Err(Self::no_trading())
    }
}

/// How the live loop runs.
#[derive(Clone)]
pub struct LiveConfig {
    /// The orchestrator's cohort name (names the progress document).
    pub cohort: String,
    /// Length of the feed's candles in milliseconds (a candle's close = open + this).
    pub interval_ms: i64,
    /// Number of symbols traded: the orchestrator starts once each has had a candle.
    pub n_symbols: usize,
    /// The clock stamping events: the system clock live, `sim_clock` for a replay.
    pub clock: Arc<dyn Clock>,
    /// For a replay: the simulated clock, moved to each candle's close.
    pub sim_clock: Option<Arc<SimClock>>,
    /// File rewritten with the current time (milliseconds and RFC 3339) after every event.
    pub heartbeat: Option<PathBuf>,
    /// Save the state after every candle (live trading and a testnet: a restart then repeats
    /// at most the candle in progress), rather than only after candles that traded and hourly
    /// (a paper replay, where saving costs more than the candle).
    pub save_every_candle: bool,
}

impl std::fmt::Debug for LiveConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveConfig")
            .field("cohort", &self.cohort)
            .field("interval_ms", &self.interval_ms)
            .field("n_symbols", &self.n_symbols)
            .field("replay", &self.sim_clock.is_some())
            .field("heartbeat", &self.heartbeat)
            .finish_non_exhaustive()
    }
}

/// What a live run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveSummary {
    /// Market events handled (skipped ones included).
    pub events: u64,
    /// Candles traded.
    pub candles: u64,
    /// Candles of a replay skipped because an earlier run had already traded them.
    pub skipped: u64,
    /// Whether a saved state was restored.
    pub resumed: bool,
    /// Whether the run ended on a shutdown signal (otherwise the feed ended).
    pub signalled: bool,
    /// Whether the state was saved at the end.
    pub state_saved: bool,
    /// Close of the last candle traded.
    pub last_candle_close: Option<Timestamp>,
}

/// Why the live loop stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The orchestrator failed.
    #[error("{0}")]
    Orchestrator(#[from] OrchestratorError),
    /// The feed or the venue failed.
    #[error("exchange: {0}")]
    Exchange(#[from] ExchangeError),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The simulated clock refused a time.
    #[error("{0}")]
    Core(#[from] CoreError),
    /// The heartbeat file cannot be written.
    #[error("heartbeat {path}: {source}")]
    Heartbeat {
        /// The file.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
    /// The progress document does not parse.
    #[error("progress document: {0}")]
    Progress(String),
}

/// Reconciliation with the exchange runs this often (market time), besides at start-up.
pub const RECONCILE_INTERVAL_MS: i64 = 30 * Timestamp::MINUTE_MS;

/// Runs the live loop until `feed` ends or `shutdown` turns `true`; the orchestrator state is
/// saved at the end either way (when trading had started). A live feed's failures (no
/// `sim_clock`) are logged and retried at the next tick; a replay's stop the loop.
///
/// Crash safety: the state document (with the last candle traded) is saved after every candle
/// that placed an order or booked a fill, and hourly. After a crash the restart resumes after
/// the saved candle, reconciles with the exchange (fills read back, orders looked up by client
/// id) and replays the candles since: the strategy is deterministic, so it asks again for the
/// orders it had already sent, and those are recognised by their client order ids.
///
/// # Errors
/// [`LiveError`]: a replay, venue, orchestrator, store or heartbeat failure stops the loop
/// (the state document of the last full hour remains in the store).
pub async fn run_live<F: MarketFeed, E: LiveVenue>(
    feed: &mut F,
    orchestrator: &mut HybridOrchestrator<E>,
    config: &LiveConfig,
    mut shutdown: watch::Receiver<bool>,
) -> Result<LiveSummary, LiveError> {
    let saved = orchestrator.saved_progress()?.unwrap_or_default();
    let resume_after = saved.last_candle_close;
    let mut summary = LiveSummary::default();
    let mut seen = BTreeSet::new();
    let mut started = false;
    let mut tried_restore = false;
    let mut pending_fills: Vec<Fill> = Vec::new();
    let mut last_hour = 0_i64;
    let mut next_reconcile = i64::MAX;
    loop {
        if *shutdown.borrow() {
            summary.signalled = true;
            break;
        }
        let next = tokio::select! {
            biased;
            _ = shutdown.changed() => {
                summary.signalled = true;
                break;
            }
            next = feed.next_event() => next,
        };
        let next = match next {
            Ok(next) => next,
            // A live feed polls again on the next call (after its period): a network failure
            // must not stop the bot. The heartbeat is not touched meanwhile.
            Err(error) if config.sim_clock.is_none() => {
                tracing::warn!(%error, "market feed failed; retrying at the next tick");
                continue;
            }
            Err(error) => return Err(error.into()),
        };
        let Some(event) = next else {
            break;
        };
        summary.events += 1;
        if let MarketEvent::Candle { candle, .. } = &event {
            let close = candle.open_time().plus_millis(config.interval_ms);
            if let Some(sim) = &config.sim_clock {
                if close > sim.now() {
                    sim.advance_to(close)?;
                }
            }
        }
        let now = config.clock.now();
        match &event {
            MarketEvent::Price { .. } => {
                pending_fills.extend(orchestrator.exchange().on_market(&event).await?);
            }
            MarketEvent::Candle { symbol, candle } => {
                let close = candle.open_time().plus_millis(config.interval_ms);
                if resume_after.is_some_and(|t| close <= t) {
                    orchestrator.warm_up(symbol, candle)?;
                    summary.skipped += 1;
                    touch_heartbeat(config, now)?;
                    continue;
                }
                orchestrator.set_paused(paused_by_operator(orchestrator.store())?);
                let mut fills = std::mem::take(&mut pending_fills);
                match orchestrator.exchange().on_market(&event).await {
                    Ok(new) => fills.extend(new),
                    // Live, a venue that cannot report its fills now (rate limit, network)
                    // reports them at the next candle: its cursor did not move.
                    Err(error) if config.sim_clock.is_none() => {
                        tracing::warn!(%error, "the venue's fills could not be read; next candle");
                    }
                    Err(error) => return Err(error.into()),
                }
                let mut reconcile_now = false;
                if !tried_restore {
                    tried_restore = true;
                    if orchestrator.restore_state(now).await? {
                        started = true;
                        summary.resumed = true;
                        last_hour = saved
                            .last_hour
                            .unwrap_or(now.as_millis() / Timestamp::HOUR_MS);
                        // What filled since the save reaches the strategy with this candle,
                        // as it would have without the stop; the rest of the reconciliation
                        // follows the candle (module docs of `reconcile`).
                        fills.extend(orchestrator.fills_since_saved().await?);
                        fills.sort_by_key(|f| (f.time, f.trade_id));
                        fills.dedup_by_key(|f| (f.symbol.clone(), f.trade_id));
                        reconcile_now = true;
                    }
                }
                let before = activity(orchestrator);
                orchestrator.on_candle(symbol, candle, fills, now).await?;
                if reconcile_now {
                    let report = orchestrator.reconcile(now).await?;
                    tracing::info!(%report, "saved state restored and reconciled; continuing");
                    next_reconcile = now.as_millis() + RECONCILE_INTERVAL_MS;
                }
                summary.candles += 1;
                summary.last_candle_close = Some(close);
                if !started {
                    seen.insert(symbol.clone());
                    if seen.len() >= config.n_symbols {
                        orchestrator.start(now).await?;
                        started = true;
                        last_hour = now.as_millis() / Timestamp::HOUR_MS;
                        next_reconcile = now.as_millis() + RECONCILE_INTERVAL_MS;
                        save(orchestrator, &summary, last_hour, now)?;
                    }
                } else {
                    let hour = now.as_millis() / Timestamp::HOUR_MS;
                    if hour > last_hour {
                        last_hour = hour;
                        hourly(orchestrator, &summary, now).await?;
                    }
                    if now.as_millis() >= next_reconcile {
                        next_reconcile = now.as_millis() + RECONCILE_INTERVAL_MS;
                        let report = orchestrator.reconcile(now).await?;
                        if !report.is_clean() {
                            tracing::warn!(%report, "reconciliation repaired differences");
                        }
                    }
                    if config.save_every_candle || activity(orchestrator) != before {
                        save(orchestrator, &summary, last_hour, now)?;
                    }
                }
            }
        }
        touch_heartbeat(config, now)?;
    }
    if started {
        let now = config.clock.now();
        let report = orchestrator.reconcile(now).await?;
        if !report.is_clean() {
            tracing::warn!(%report, "final reconciliation repaired differences");
        }
        save(orchestrator, &summary, last_hour, now)?;
        summary.state_saved = true;
    }
    Ok(summary)
}

/// The state document an operator (Telegram `/pause`, `/resume`) writes to pause trading:
/// `{"paused": true}`.
pub const CONTROL_DOCUMENT: &str = "control/trading";

/// Whether the operator paused trading (read before every candle, so a pause takes effect
/// within one tick).
fn paused_by_operator(store: &hybrid_store::Store) -> Result<bool, LiveError> {
    Ok(store
        .load_state(CONTROL_DOCUMENT)?
        .and_then(|doc| doc.body.get("paused").and_then(serde_json::Value::as_bool))
        .unwrap_or(false))
}

/// Orders sent, fills booked and switches made so far: when these move, the state is saved.
fn activity<E: Exchange>(orchestrator: &HybridOrchestrator<E>) -> (u64, u64, usize, u64) {
    let journal = orchestrator.journal();
    (
        journal.n_orders,
        journal.n_fills,
        journal.switches.len(),
        journal.n_rejections,
    )
}

/// The hourly task: modes evaluated, state saved, a status line.
async fn hourly<E: Exchange>(
    orchestrator: &mut HybridOrchestrator<E>,
    summary: &LiveSummary,
    now: Timestamp,
) -> Result<(), LiveError> {
    let snapshot = orchestrator.on_hour(now).await?;
    save(
        orchestrator,
        summary,
        now.as_millis() / Timestamp::HOUR_MS,
        now,
    )?;
    let journal = orchestrator.journal();
    let modes: Vec<String> = orchestrator
        .modes()
        .iter()
        .map(|(symbol, mode)| format!("{symbol}={mode:?}"))
        .collect();
    tracing::info!(
        time = %now,
        equity = %snapshot.equity.value().round_dp(2),
        candles = summary.candles,
        orders = journal.n_orders,
        fills = journal.n_fills,
        modes = %modes.join(" "),
        "status"
    );
    Ok(())
}

fn save<E: Exchange>(
    orchestrator: &mut HybridOrchestrator<E>,
    summary: &LiveSummary,
    last_hour: i64,
    now: Timestamp,
) -> Result<(), LiveError> {
    orchestrator.set_progress(RunProgress {
        last_candle_close: summary.last_candle_close,
        last_hour: Some(last_hour),
    });
    orchestrator.save_state(now)?;
    Ok(())
}

fn touch_heartbeat(config: &LiveConfig, now: Timestamp) -> Result<(), LiveError> {
    let Some(path) = &config.heartbeat else {
        return Ok(());
    };
    std::fs::write(path, format!("{} {now}\n", now.as_millis())).map_err(|source| {
        LiveError::Heartbeat {
            path: path.clone(),
            source,
        }
    })
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use hybrid_core::CandleCsvReader;
    use hybrid_exchange::{CandleReplayFeed, MatchingConfig, MemoryPaperStore, ReplaySpeed};
    use hybrid_store::Store;
    use rust_decimal::Decimal;

    use super::*;
    use crate::{backtest::replay_filters, orchestrator::OrchestratorConfig};

    type Paper = PaperExchange<ReplayMarketData, MemoryPaperStore>;

    const START_MS: i64 = 1_720_000_000_000 / Timestamp::HOUR_MS * Timestamp::HOUR_MS;

    fn symbol() -> Symbol {
        Symbol::new("BTCUSDT").unwrap()
    }

    /// `n` one-minute candles oscillating between 95 and 105.
    fn feed(n: i64) -> CandleReplayFeed<Cursor<Vec<u8>>> {
        let mut text = String::from("open_time_ms,open,high,low,close,volume\n");
        for i in 0..n {
            let price = 100 + (i % 10) - 5;
            let time = START_MS + i * Timestamp::MINUTE_MS;
            text.push_str(&format!(
                "{time},{price},{},{},{price},10\n",
                price + 1,
                price - 1
            ));
        }
        let reader = CandleCsvReader::new(Cursor::new(text.into_bytes()), "test.csv");
        CandleReplayFeed::from_readers(vec![(symbol(), reader)], ReplaySpeed::Fast).unwrap()
    }

    fn setup(
        dir: &std::path::Path,
        paper_state: MemoryPaperStore,
        store: Store,
    ) -> (HybridOrchestrator<Paper>, LiveConfig) {
        let start = Timestamp::from_millis(START_MS + Timestamp::MINUTE_MS);
        let sim = Arc::new(SimClock::new(start));
        let clock: Arc<dyn Clock> = sim.clone();
        let filters = vec![replay_filters(
            symbol(),
            Price::new(Decimal::from(100)).unwrap(),
        )];
        let paper = PaperExchange::open(
            ReplayMarketData::new(filters.clone()),
            paper_state,
            Arc::clone(&clock),
            MatchingConfig::default(),
            filters.clone(),
            &[Balance {
                asset: symbol().quote(),
                free: Decimal::from(1000),
                locked: Decimal::ZERO,
            }],
        )
        .unwrap();
        let config = OrchestratorConfig::backtest_defaults();
        let live = LiveConfig {
            cohort: config.cohort_name.clone(),
            interval_ms: Timestamp::MINUTE_MS,
            n_symbols: 1,
            clock: Arc::clone(&clock),
            sim_clock: Some(sim),
            heartbeat: Some(dir.join("heartbeat")),
            save_every_candle: false,
        };
        let orchestrator = HybridOrchestrator::new(paper, store, config, filters, start).unwrap();
        (orchestrator, live)
    }

    #[tokio::test]
    async fn a_replay_trades_saves_and_a_restart_continues_after_the_last_candle() {
        let dir = tempfile::tempdir().unwrap();
        let paper_state = MemoryPaperStore::default();
        let (mut orchestrator, live) = setup(
            dir.path(),
            paper_state.clone(),
            Store::open("sqlite::memory:").unwrap(),
        );
        let (_tx, rx) = watch::channel(false);
        let summary = run_live(&mut feed(120), &mut orchestrator, &live, rx)
            .await
            .unwrap();
        assert_eq!(summary.candles, 120);
        assert!(summary.state_saved && !summary.signalled && !summary.resumed);
        let heartbeat = std::fs::read_to_string(dir.path().join("heartbeat")).unwrap();
        let last_close = START_MS + 120 * Timestamp::MINUTE_MS;
        assert!(
            heartbeat.starts_with(&last_close.to_string()),
            "{heartbeat}"
        );
        assert!(orchestrator.journal().n_orders > 0);

        let (_, store) = orchestrator.into_parts();
        let (mut orchestrator, live) = setup(dir.path(), paper_state, store);
        let (_tx, rx) = watch::channel(false);
        let summary = run_live(&mut feed(200), &mut orchestrator, &live, rx)
            .await
            .unwrap();
        assert_eq!((summary.skipped, summary.candles), (120, 80));
        assert!(summary.resumed && summary.state_saved);
        assert_eq!(
            summary.last_candle_close,
            Some(Timestamp::from_millis(
                START_MS + 200 * Timestamp::MINUTE_MS
            ))
        );
    }

    #[tokio::test]
    async fn a_pause_written_by_the_operator_stops_buys_and_a_resume_lets_them_go() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open("sqlite::memory:").unwrap();
        store.run_migrations().unwrap();
        let pause = |paused: bool| serde_json::json!({ "paused": paused, "by": 42 });
        store
            .save_state(CONTROL_DOCUMENT, &pause(true), Timestamp::from_millis(0))
            .unwrap();
        let (mut orchestrator, live) = setup(dir.path(), MemoryPaperStore::default(), store);
        let (_tx, rx) = watch::channel(false);
        run_live(&mut feed(60), &mut orchestrator, &live, rx)
            .await
            .unwrap();
        assert!(orchestrator.is_paused());
        assert_eq!(orchestrator.journal().n_orders, 0, "no buy while paused");

        let (_, store) = orchestrator.into_parts();
        store
            .save_state(CONTROL_DOCUMENT, &pause(false), Timestamp::from_millis(0))
            .unwrap();
        let (mut orchestrator, live) = setup(dir.path(), MemoryPaperStore::default(), store);
        let (_tx, rx) = watch::channel(false);
        run_live(&mut feed(120), &mut orchestrator, &live, rx)
            .await
            .unwrap();
        assert!(!orchestrator.is_paused());
        assert!(orchestrator.journal().n_orders > 0, "buys after the resume");
    }

    #[tokio::test]
    async fn the_live_loop_writes_hourly_equity_snapshots_that_add_up() {
        let dir = tempfile::tempdir().unwrap();
        let (mut orchestrator, live) = setup(
            dir.path(),
            MemoryPaperStore::default(),
            Store::open("sqlite::memory:").unwrap(),
        );
        orchestrator.set_history(true);
        let (_tx, rx) = watch::channel(false);
        run_live(&mut feed(190), &mut orchestrator, &live, rx)
            .await
            .unwrap();
        let snapshots = orchestrator
            .store()
            .equity_snapshots(Some(orchestrator.cohort()), Timestamp::from_millis(0))
            .unwrap();
        assert_eq!(snapshots.len(), 3, "one per hour: {snapshots:?}");
        for snapshot in &snapshots {
            assert_eq!(snapshot.cash + snapshot.holdings, snapshot.equity);
            let held = snapshot
                .positions
                .values()
                .fold(hybrid_core::Notional::ZERO, |sum, v| sum + *v);
            assert_eq!(held, snapshot.holdings);
        }
    }

    #[tokio::test]
    async fn a_signalled_shutdown_stops_before_the_next_event() {
        let dir = tempfile::tempdir().unwrap();
        let (mut orchestrator, live) = setup(
            dir.path(),
            MemoryPaperStore::default(),
            Store::open("sqlite::memory:").unwrap(),
        );
        let (tx, rx) = watch::channel(false);
        tx.send(true).unwrap();
        let summary = run_live(&mut feed(10), &mut orchestrator, &live, rx)
            .await
            .unwrap();
        assert!(summary.signalled && !summary.state_saved);
        assert_eq!(summary.events, 0);
    }
}
