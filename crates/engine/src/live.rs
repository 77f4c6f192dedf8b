//! The live side of `main_hybrid run`: [`run_live`] wires a market feed (Binance prices polled,
//! or candle files replayed as a live feed), a venue (the paper exchange, Binance testnet or
//! live), a trader and the [`LiveHooks`] into the one [`Driver`] loop, until the feed ends or a
//! shutdown is signalled.
//!
//! What live adds to the loop, as hooks: the operator's pause flag (the state document
//! [`CONTROL_DOCUMENT`], written by Telegram `/pause`) read before a group at most once per
//! second of wall time; the heartbeat file rewritten at most once per second of wall time (a
//! file that cannot be written is reported, never a reason to stop trading); an hourly status
//! line. The driver saves the trader's state with its checkpoint after every group (live
//! trading, a testnet) or after groups that traded (a paper replay), so a restart continues
//! after the last saved group (see `driver.rs`).

use std::{path::PathBuf, sync::Arc};

use hybrid_core::{Candle, Clock, SimClock, Symbol, SystemClock, Timestamp};
use hybrid_exchange::{MarketFeed, Venue};
use hybrid_store::Store;
use tokio::sync::watch;

use crate::driver::{
    Chain, Driver, DriverConfig, DriverError, Hooks, Persistence, RunSummary, Timer, Trader,
};

/// The state document an operator (Telegram `/pause`, `/resume`) writes to pause trading:
/// `{"paused": true}`.
pub const CONTROL_DOCUMENT: &str = "control/trading";

/// Wall-clock milliseconds between two reads of the pause flag or two heartbeat writes.
const WALL_THROTTLE_MS: i64 = 1_000;

/// How the live loop runs.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// Length of the feed's candles in milliseconds (a candle's close = open + this).
    pub interval_ms: i64,
    /// The clock of market time: moved to each group's close (in a replay the venue and the
    /// trader stamp their records with it too).
    pub market_clock: Arc<SimClock>,
    /// Whether the feed polls Binance (failures retried) rather than replaying files.
    pub live_feed: bool,
    /// File rewritten with the current time (milliseconds and RFC 3339).
    pub heartbeat: Option<PathBuf>,
    /// When the trader's state is saved.
    pub persistence: Persistence,
}

/// What the loop does around the trader when it runs live (see the module docs).
#[derive(Debug)]
pub struct LiveHooks {
    control: Store,
    heartbeat: Option<PathBuf>,
    live_feed: bool,
    last_pause_read: Option<i64>,
    last_heartbeat: Option<i64>,
    heartbeat_failing: bool,
}

impl LiveHooks {
    /// Hooks reading the pause flag from `control` and writing `heartbeat`.
    #[must_use]
    pub const fn new(control: Store, heartbeat: Option<PathBuf>, live_feed: bool) -> Self {
        Self {
            control,
            heartbeat,
            live_feed,
            last_pause_read: None,
            last_heartbeat: None,
            heartbeat_failing: false,
        }
    }

    /// Whether `last` is at least a second of wall time ago (and moves it to now if so).
    fn due(last: &mut Option<i64>) -> bool {
        let now = SystemClock.now().as_millis();
        if last.is_some_and(|t| now - t < WALL_THROTTLE_MS) {
            return false;
        }
        *last = Some(now);
        true
    }

    fn touch_heartbeat(&mut self, now: Timestamp, force: bool) {
        let Some(path) = &self.heartbeat else {
            return;
        };
        if !force && !Self::due(&mut self.last_heartbeat) {
            return;
        }
        match std::fs::write(path, format!("{} {now}\n", now.as_millis())) {
            Ok(()) => {
                if std::mem::take(&mut self.heartbeat_failing) {
                    tracing::info!(path = %path.display(), "the heartbeat file is written again");
                }
            }
            Err(error) if !self.heartbeat_failing => {
                self.heartbeat_failing = true;
                tracing::error!(
                    path = %path.display(),
                    %error,
                    "cannot write the heartbeat file; trading goes on (the watchdog will alert)"
                );
            }
            Err(_) => {}
        }
    }
}

/// Whether the operator paused trading.
///
/// # Errors
/// The store cannot be read.
pub fn paused_by_operator(store: &Store) -> Result<bool, hybrid_store::StoreError> {
    Ok(store
        .load_state(CONTROL_DOCUMENT)?
        .and_then(|doc| doc.body.get("paused").and_then(serde_json::Value::as_bool))
        .unwrap_or(false))
}

impl<T: Trader + StatusLine> Hooks<T> for LiveHooks {
    fn before_group(
        &mut self,
        trader: &mut T,
        _group: &[(Symbol, Candle)],
        _close: Timestamp,
    ) -> Result<(), DriverError> {
        if Self::due(&mut self.last_pause_read) {
            let paused = paused_by_operator(&self.control)
                .map_err(|e| DriverError::Hook(format!("reading the pause flag: {e}")))?;
            trader.set_paused(paused);
        }
        Ok(())
    }

    fn after_timer(
        &mut self,
        trader: &mut T,
        timer: Timer,
        close: Timestamp,
    ) -> Result<(), DriverError> {
        if timer == Timer::Hourly && self.live_feed {
            tracing::info!(time = %close, status = %trader.status_line(), "status");
        }
        Ok(())
    }

    fn after_group(
        &mut self,
        _trader: &mut T,
        _group: &[(Symbol, Candle)],
        close: Timestamp,
        _traded: bool,
    ) -> Result<(), DriverError> {
        self.touch_heartbeat(close, false);
        Ok(())
    }

    fn finish(&mut self, _trader: &mut T, summary: &RunSummary) -> Result<(), DriverError> {
        if let Some(close) = summary.last_close {
            self.touch_heartbeat(close, true);
        }
        Ok(())
    }
}

/// A one-line summary of a trader for the hourly status line.
pub trait StatusLine {
    /// E.g. `equity 1012.34, 120 orders, 80 fills, BTCUSDT=Grid ETHUSDT=Hold`.
    fn status_line(&self) -> String;
}

/// Runs `trader` on `venue` over `feed` until the feed ends or `shutdown` turns `true`, with
/// the [`LiveHooks`] and any extra `hooks` (e.g. snapshots of cohorts); the trader's state is
/// saved at the end when trading had started.
///
/// # Errors
/// [`DriverError`]: a replay's candle files, the venue, the trader or a hook.
pub async fn run_live<F, V, T, H>(
    feed: &mut F,
    venue: &V,
    trader: &mut T,
    hooks: &mut H,
    config: &LiveConfig,
    control: Store,
    shutdown: watch::Receiver<bool>,
) -> Result<RunSummary, DriverError>
where
    F: MarketFeed,
    V: Venue,
    T: Trader + StatusLine,
    H: Hooks<T>,
{
    let mut live = LiveHooks::new(control, config.heartbeat.clone(), config.live_feed);
    let mut all = Chain(&mut live, hooks);
    let driver_config = DriverConfig {
        interval_ms: config.interval_ms,
        trade_from: None,
        trade_until: None,
        persistence: config.persistence,
        live: config.live_feed,
    };
    Driver::new(
        feed,
        venue,
        trader,
        &mut all,
        Arc::clone(&config.market_clock),
        driver_config,
    )
    .with_shutdown(shutdown)
    .run()
    .await
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use hybrid_core::{CandleCsvReader, Price};
    use hybrid_exchange::{
        Balance, CandleFeed, CandleSource, MatchingConfig, MemoryPaperStore, PaperExchange,
        ReplaySpeed,
    };
    use hybrid_store::Store;
    use rust_decimal::Decimal;

    use super::*;
    use crate::{
        backtest::replay_filters,
        orchestrator::{HybridOrchestrator, OrchestratorConfig},
    };

    type Paper = Arc<PaperExchange<MemoryPaperStore>>;

    const START_MS: i64 = 1_720_000_000_000 / Timestamp::HOUR_MS * Timestamp::HOUR_MS;

    fn symbol() -> Symbol {
        Symbol::new("BTCUSDT").unwrap()
    }

    /// `n` one-minute candles oscillating between 95 and 105.
    fn feed(n: i64) -> CandleFeed {
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
        let reader: CandleSource = Box::new(CandleCsvReader::new(
            Cursor::new(text.into_bytes()),
            "test.csv",
        ));
        CandleFeed::from_sources(vec![(symbol(), reader)], ReplaySpeed::Fast).unwrap()
    }

    struct Setup {
        venue: Paper,
        orchestrator: HybridOrchestrator<Paper>,
        live: LiveConfig,
    }

    fn setup(dir: &std::path::Path, paper_state: MemoryPaperStore, store: Store) -> Setup {
        let start = Timestamp::from_millis(START_MS + Timestamp::MINUTE_MS);
        let sim = Arc::new(SimClock::new(start));
        let clock: Arc<dyn Clock> = sim.clone();
        let filters = vec![replay_filters(
            symbol(),
            Price::new(Decimal::from(100)).unwrap(),
        )];
        let venue = Arc::new(
            PaperExchange::open(
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
            .unwrap(),
        );
        let config = OrchestratorConfig::backtest_defaults();
        let live = LiveConfig {
            interval_ms: Timestamp::MINUTE_MS,
            market_clock: sim,
            live_feed: false,
            heartbeat: Some(dir.join("heartbeat")),
            persistence: Persistence::OnActivity,
        };
        let orchestrator =
            HybridOrchestrator::new(Arc::clone(&venue), store, config, filters, start).unwrap();
        Setup {
            venue,
            orchestrator,
            live,
        }
    }

    async fn run(setup: &mut Setup, n: i64, control: Store) -> RunSummary {
        let (_tx, rx) = watch::channel(false);
        run_live(
            &mut feed(n),
            &setup.venue,
            &mut setup.orchestrator,
            &mut (),
            &setup.live,
            control,
            rx,
        )
        .await
        .unwrap()
    }

    fn control() -> Store {
        let store = Store::open("sqlite::memory:").unwrap();
        store.run_migrations().unwrap();
        store
    }

    #[tokio::test]
    async fn a_replay_trades_saves_and_a_restart_continues_after_the_last_candle() {
        let dir = tempfile::tempdir().unwrap();
        let paper_state = MemoryPaperStore::default();
        let mut first = setup(
            dir.path(),
            paper_state.clone(),
            Store::open("sqlite::memory:").unwrap(),
        );
        let summary = run(&mut first, 120, control()).await;
        assert_eq!(summary.candles, 120);
        assert!(summary.state_saved && !summary.signalled && !summary.resumed);
        let heartbeat = std::fs::read_to_string(dir.path().join("heartbeat")).unwrap();
        let last_close = START_MS + 120 * Timestamp::MINUTE_MS;
        assert!(
            heartbeat.starts_with(&last_close.to_string()),
            "{heartbeat}"
        );
        assert!(first.orchestrator.journal().n_orders > 0);

        let (_, store) = first.orchestrator.into_parts();
        let mut second = setup(dir.path(), paper_state, store);
        let summary = run(&mut second, 200, control()).await;
        assert_eq!((summary.skipped, summary.candles), (120, 80));
        assert!(summary.resumed && summary.state_saved);
        assert_eq!(
            summary.last_close,
            Some(Timestamp::from_millis(
                START_MS + 200 * Timestamp::MINUTE_MS
            ))
        );
    }

    #[tokio::test]
    async fn a_pause_written_by_the_operator_stops_buys_and_a_resume_lets_them_go() {
        let dir = tempfile::tempdir().unwrap();
        let pause = |paused: bool| serde_json::json!({ "paused": paused, "by": 42 });
        let control = control();
        control
            .save_state(CONTROL_DOCUMENT, &pause(true), Timestamp::from_millis(0))
            .unwrap();
        let mut paused = setup(
            dir.path(),
            MemoryPaperStore::default(),
            Store::open("sqlite::memory:").unwrap(),
        );
        run(&mut paused, 60, control).await;
        assert!(paused.orchestrator.is_paused());
        assert_eq!(
            paused.orchestrator.journal().n_orders,
            0,
            "no buy while paused"
        );

        let control = super::tests::control();
        control
            .save_state(CONTROL_DOCUMENT, &pause(false), Timestamp::from_millis(0))
            .unwrap();
        let mut resumed = setup(
            dir.path(),
            MemoryPaperStore::default(),
            Store::open("sqlite::memory:").unwrap(),
        );
        run(&mut resumed, 120, control).await;
        assert!(!resumed.orchestrator.is_paused());
        assert!(
            resumed.orchestrator.journal().n_orders > 0,
            "buys after the resume"
        );
    }

    #[tokio::test]
    async fn the_live_loop_writes_hourly_equity_snapshots_that_add_up() {
        let dir = tempfile::tempdir().unwrap();
        let mut setup = setup(
            dir.path(),
            MemoryPaperStore::default(),
            Store::open("sqlite::memory:").unwrap(),
        );
        setup.orchestrator.set_history(true);
        run(&mut setup, 190, control()).await;
        let snapshots = setup
            .orchestrator
            .store()
            .equity_snapshots(Some(setup.orchestrator.cohort()), Timestamp::from_millis(0))
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
        let mut setup = setup(
            dir.path(),
            MemoryPaperStore::default(),
            Store::open("sqlite::memory:").unwrap(),
        );
        let (tx, rx) = watch::channel(false);
        tx.send(true).unwrap();
        let summary = run_live(
            &mut feed(10),
            &setup.venue,
            &mut setup.orchestrator,
            &mut (),
            &setup.live,
            control(),
            rx,
        )
        .await
        .unwrap();
        assert!(summary.signalled && !summary.state_saved);
        assert_eq!(summary.candles, 0);
    }

    #[tokio::test]
    async fn an_unwritable_heartbeat_is_reported_and_trading_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let mut setup = setup(
            dir.path(),
            MemoryPaperStore::default(),
            Store::open("sqlite::memory:").unwrap(),
        );
        setup.live.heartbeat = Some(dir.path().join("no-such-folder").join("heartbeat"));
        let summary = run(&mut setup, 120, control()).await;
        assert_eq!(summary.candles, 120);
        assert!(setup.orchestrator.journal().n_orders > 0);
    }
}
