//! The [`Driver`]: the one loop of every run. Backtests, replays, paper and live trading differ
//! only in the feed, the clock, the venue and the hooks they plug in; a single orchestrator,
//! the cohorts and the tiers differ only in the [`Trader`].
//!
//! For each group of candles sharing an open time (DESIGN.md "The tick"):
//! 1. the market clock moves to the group's close and returns the timers that came due;
//! 2. the venue sees each candle first ([`Venue::on_market`]) and answers with its fills;
//! 3. the trader gets each candle with those fills ([`Trader::on_candle`]);
//! 4. at the first traded group the trader starts; afterwards each due timer runs, in
//!    [`Timer`] order (the hourly task, then the reconciliation);
//! 5. the trader's state is saved when the [`Persistence`] policy says so, with the
//!    [`Checkpoint`] (where the driver is) in the same document;
//! 6. the run's [`Hooks`] see the result (report recorder, heartbeat, pause flag, progress).
//!
//! Price ticks between candles (a live feed) only reach the venue; their fills go to the trader
//! with the next candle. Candles before [`DriverConfig::trade_from`] only warm the trader up
//! (the venue sees them too, so a simulated venue knows the prices).
//!
//! Restart: before the first group the trader restores its saved state, if any, and returns the
//! checkpoint; groups at or before it only warm the trader up (the venue does not see them
//! again), the timers continue from their saved due times, the venue is told from which trade
//! on the trader has booked nothing ([`Venue::resume_trades`]), and the first traded group is
//! followed by a reconciliation with the exchange.

use std::{
    collections::BTreeMap,
    future::Future,
    pin::pin,
    sync::Arc,
    task::{Context, Poll, Waker},
};

use hybrid_core::{Candle, Clock, CoreError, Fill, SimClock, Symbol, TimerId, Timestamp};
use hybrid_exchange::{ExchangeError, MarketEvent, MarketFeed, TradesFrom, Venue};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::orchestrator::ReconcileReport;

/// The market-time timers of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Timer {
    /// Every full hour: mode evaluation, the rebalance when due, the equity snapshot.
    Hourly,
    /// Every 30 minutes: reconciliation with the exchange.
    Reconcile,
}

impl Timer {
    /// Every timer, in the order timers due together run.
    pub const ALL: [Self; 2] = [Self::Hourly, Self::Reconcile];

    /// The period in milliseconds of market time.
    #[must_use]
    pub const fn period_ms(self) -> i64 {
        match self {
            Self::Hourly => Timestamp::HOUR_MS,
            Self::Reconcile => RECONCILE_INTERVAL_MS,
        }
    }

    /// When the timer is first due once trading started at `start`: the next full hour for
    /// the hourly task, one period later for the others.
    #[must_use]
    pub const fn first_due(self, start: Timestamp) -> Timestamp {
        let ms = start.as_millis();
        match self {
            Self::Hourly => {
                Timestamp::from_millis((ms / Timestamp::HOUR_MS + 1) * Timestamp::HOUR_MS)
            }
            Self::Reconcile => Timestamp::from_millis(ms + RECONCILE_INTERVAL_MS),
        }
    }

    const fn name(self) -> &'static str {
        match self {
            Self::Hourly => "hourly",
            Self::Reconcile => "reconcile",
        }
    }
}

/// Reconciliation with the exchange runs this often (market time), besides after a restart
/// and at the end of a run.
pub const RECONCILE_INTERVAL_MS: i64 = 30 * Timestamp::MINUTE_MS;

/// Where the driver was when the trader's state was saved. Saved in the same document as
/// the state, so the two can never disagree after a crash.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Close of the last group of candles traded completely: a restart goes on after it.
    #[serde(default, rename = "last_candle_close")]
    pub last_close: Option<Timestamp>,
    /// When each timer is next due.
    #[serde(default)]
    pub timers: BTreeMap<Timer, Timestamp>,
}

/// When the trader's state is saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persistence {
    /// Never (a backtest keeps everything in memory and never restarts).
    Off,
    /// After groups that sent an order, booked a fill or switched a mode, after the hourly
    /// task and at the end (a paper replay: a restart repeats the quiet candles since, which
    /// the deterministic strategy trades the same way).
    OnActivity,
    /// After every group (live trading and a testnet: a restart repeats at most the group in
    /// progress).
    EveryGroup,
}

/// How a [`Driver`] runs.
#[derive(Debug, Clone)]
pub struct DriverConfig {
    /// Length of the feed's candles in milliseconds (a candle's close = open + this).
    pub interval_ms: i64,
    /// Candles opening before this only warm the trader up; `None` trades from the first.
    pub trade_from: Option<Timestamp>,
    /// Candles opening at or after this end the run; `None` runs until the feed ends.
    pub trade_until: Option<Timestamp>,
    /// When the trader's state is saved.
    pub persistence: Persistence,
    /// Whether the feed is live: its failures are logged and retried at the next poll instead
    /// of ending the run, and so are the venue's failures to report fills.
    pub live: bool,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Candles handed to the trader while trading.
    pub candles: u64,
    /// Candles of the warm-up (before `trade_from`).
    pub warm_up: u64,
    /// Candles skipped because a saved state had traded them already.
    pub skipped: u64,
    /// Whether a saved state was restored.
    pub resumed: bool,
    /// Whether the run ended on a shutdown signal (otherwise the feed or the window ended).
    pub signalled: bool,
    /// Whether the state was saved at the end.
    pub state_saved: bool,
    /// Close of the first traded group.
    pub first_close: Option<Timestamp>,
    /// Close of the last traded group.
    pub last_close: Option<Timestamp>,
}

/// What trades: one orchestrator, the cohorts, or the three tiers. Implemented in the crate
/// that owns each.
pub trait Trader {
    /// The trader's own failures.
    type Error: std::error::Error + Send + Sync + 'static;

    /// A candle from before trading starts: history for the indicators only.
    ///
    /// # Errors
    /// The trader's (e.g. candles out of order).
    fn warm_up(&mut self, symbol: &Symbol, candle: &Candle) -> Result<(), Self::Error>;

    /// Where the driver was when the trader's state was last saved, without restoring
    /// anything (the driver moves its clock there first); `None` for a fresh start.
    ///
    /// # Errors
    /// The trader's (an unreadable document, a store failure).
    fn saved_checkpoint(&mut self) -> Result<Option<Checkpoint>, Self::Error>;

    /// Restores the saved state (after [`Trader::saved_checkpoint`] found one), at `now`, the
    /// close of the last group traded.
    ///
    /// # Errors
    /// The trader's (an unreadable document, a store failure, an exchange that cannot be
    /// asked for its open orders).
    fn restore(&mut self, now: Timestamp) -> impl Future<Output = Result<(), Self::Error>>;

    /// Starts trading (the initial modes) after the first traded group.
    ///
    /// # Errors
    /// The trader's.
    fn start(&mut self, now: Timestamp) -> impl Future<Output = Result<(), Self::Error>>;

    /// One candle and the venue's fills since the last one.
    ///
    /// # Errors
    /// The trader's; order rejections are absorbed by the trader.
    fn on_candle(
        &mut self,
        symbol: &Symbol,
        candle: &Candle,
        fills: Vec<Fill>,
        now: Timestamp,
    ) -> impl Future<Output = Result<(), Self::Error>>;

    /// A timer other than [`Timer::Reconcile`] came due.
    ///
    /// # Errors
    /// The trader's.
    fn on_timer(
        &mut self,
        timer: Timer,
        now: Timestamp,
    ) -> impl Future<Output = Result<(), Self::Error>>;

    /// Brings the trader and its store in line with the exchange.
    ///
    /// # Errors
    /// The trader's (store failures; exchange failures are listed in the report).
    fn reconcile(
        &mut self,
        now: Timestamp,
    ) -> impl Future<Output = Result<ReconcileReport, Self::Error>>;

    /// Saves the state with `checkpoint`.
    ///
    /// # Errors
    /// The trader's (the store refused).
    fn save(&mut self, checkpoint: &Checkpoint, now: Timestamp) -> Result<(), Self::Error>;

    /// Pauses (`true`) or resumes buying (the operator's decision).
    fn set_paused(&mut self, paused: bool);

    /// A counter that moves whenever the trader sent an order, booked a fill, switched a mode
    /// or had an order rejected: the state is worth saving when it moved.
    fn activity(&self) -> u64;

    /// Per symbol, where the venue should start reporting own trades after a restart (the
    /// trades before were booked).
    fn trade_cursors(&self) -> Vec<(Symbol, TradesFrom)>;
}

/// What differs between runs around the loop: recording a report, a heartbeat, the pause
/// flag, snapshots, progress. Every method has a default that does nothing.
pub trait Hooks<T> {
    /// Before a traded group reaches the trader (e.g. reading the operator's pause flag).
    ///
    /// # Errors
    /// [`DriverError::Hook`] stops the run.
    fn before_group(
        &mut self,
        trader: &mut T,
        group: &[(Symbol, Candle)],
        close: Timestamp,
    ) -> Result<(), DriverError> {
        let _ = (trader, group, close);
        Ok(())
    }

    /// The trader started (first traded group).
    ///
    /// # Errors
    /// [`DriverError::Hook`] stops the run.
    fn after_start(&mut self, trader: &mut T, close: Timestamp) -> Result<(), DriverError> {
        let _ = (trader, close);
        Ok(())
    }

    /// A timer ran (the reconciliation included).
    ///
    /// # Errors
    /// [`DriverError::Hook`] stops the run.
    fn after_timer(
        &mut self,
        trader: &mut T,
        timer: Timer,
        close: Timestamp,
    ) -> Result<(), DriverError> {
        let _ = (trader, timer, close);
        Ok(())
    }

    /// A group was handled: traded (`traded`), or only used to warm up / skipped.
    ///
    /// # Errors
    /// [`DriverError::Hook`] stops the run.
    fn after_group(
        &mut self,
        trader: &mut T,
        group: &[(Symbol, Candle)],
        close: Timestamp,
        traded: bool,
    ) -> Result<(), DriverError> {
        let _ = (trader, group, close, traded);
        Ok(())
    }

    /// The run ended (feed, window or signal) after the final reconciliation and save.
    ///
    /// # Errors
    /// [`DriverError::Hook`].
    fn finish(&mut self, trader: &mut T, summary: &RunSummary) -> Result<(), DriverError> {
        let _ = (trader, summary);
        Ok(())
    }
}

impl<T> Hooks<T> for () {}

/// Two sets of hooks run one after the other (e.g. the live hooks and a run's own).
pub struct Chain<'a, T>(pub &'a mut dyn Hooks<T>, pub &'a mut dyn Hooks<T>);

impl<T> std::fmt::Debug for Chain<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Chain")
    }
}

impl<T> Hooks<T> for Chain<'_, T> {
    fn before_group(
        &mut self,
        trader: &mut T,
        group: &[(Symbol, Candle)],
        close: Timestamp,
    ) -> Result<(), DriverError> {
        self.0.before_group(trader, group, close)?;
        self.1.before_group(trader, group, close)
    }

    fn after_start(&mut self, trader: &mut T, close: Timestamp) -> Result<(), DriverError> {
        self.0.after_start(trader, close)?;
        self.1.after_start(trader, close)
    }

    fn after_timer(
        &mut self,
        trader: &mut T,
        timer: Timer,
        close: Timestamp,
    ) -> Result<(), DriverError> {
        self.0.after_timer(trader, timer, close)?;
        self.1.after_timer(trader, timer, close)
    }

    fn after_group(
        &mut self,
        trader: &mut T,
        group: &[(Symbol, Candle)],
        close: Timestamp,
        traded: bool,
    ) -> Result<(), DriverError> {
        self.0.after_group(trader, group, close, traded)?;
        self.1.after_group(trader, group, close, traded)
    }

    fn finish(&mut self, trader: &mut T, summary: &RunSummary) -> Result<(), DriverError> {
        self.0.finish(trader, summary)?;
        self.1.finish(trader, summary)
    }
}

/// The first and the last close of every symbol traded so far: what buy-and-hold is measured
/// with, and the prices a snapshot values coins at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Closes {
    /// The close of each symbol's first traded candle.
    pub first: BTreeMap<Symbol, hybrid_core::Price>,
    /// The close of each symbol's latest candle.
    pub last: BTreeMap<Symbol, hybrid_core::Price>,
}

impl Closes {
    /// Takes the closes of `group`.
    pub fn observe(&mut self, group: &[(Symbol, Candle)]) {
        for (symbol, candle) in group {
            // Speed: the symbol (a `String`) is cloned only for its first candle.
            if let Some(last) = self.last.get_mut(symbol) {
                *last = candle.close();
            } else {
                self.first.insert(symbol.clone(), candle.close());
                self.last.insert(symbol.clone(), candle.close());
            }
        }
    }
}

/// Why a run stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// The trader failed (its own message says how).
    #[error("{0}")]
    Trader(Box<dyn std::error::Error + Send + Sync>),
    /// The feed could not be read (a replay's candle files, or a live feed's failure a replay
    /// cannot retry).
    #[error("market feed: {0}")]
    Feed(ExchangeError),
    /// The venue failed to see a market event (e.g. the paper account could not be saved).
    #[error("venue: {0}")]
    Venue(ExchangeError),
    /// The market clock refused a time (candles out of order).
    #[error("market clock: {0}")]
    Clock(#[from] CoreError),
    /// A hook failed.
    #[error("{0}")]
    Hook(String),
    /// A simulated run was asked to wait (only simulated venues and fast feeds can be replayed
    /// without a runtime).
    #[error("the run had to wait: only simulated venues and fast feeds run without a runtime")]
    WouldBlock,
}

/// The one loop. See the module docs.
pub struct Driver<'a, F, V, T, H> {
    feed: &'a mut F,
    venue: &'a V,
    trader: &'a mut T,
    hooks: &'a mut H,
    market: Arc<SimClock>,
    config: DriverConfig,
    shutdown: Option<watch::Receiver<bool>>,
}

impl<F, V, T, H> std::fmt::Debug for Driver<'_, F, V, T, H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The driver's running state.
#[derive(Default)]
struct Progress {
    summary: RunSummary,
    started: bool,
    timers: BTreeMap<Timer, TimerId>,
    /// Groups at or before this close were traded by the run a saved state came from.
    resume_after: Option<Timestamp>,
    /// A restored run reconciles after its first traded group.
    reconcile_after_group: bool,
    /// Fills from price ticks, handed to the trader with the next candle.
    pending_fills: Vec<Fill>,
    last_saved_activity: Option<u64>,
}

impl<'a, F, V, T, H> Driver<'a, F, V, T, H>
where
    F: MarketFeed,
    V: Venue,
    T: Trader,
    H: Hooks<T>,
{
    /// A driver of `trader` on `venue` over `feed`. `market` is the clock of market time: it
    /// moves to each group's close and holds the timers (in a replay it is also the clock the
    /// venue and the trader stamp their records with).
    pub fn new(
        feed: &'a mut F,
        venue: &'a V,
        trader: &'a mut T,
        hooks: &'a mut H,
        market: Arc<SimClock>,
        config: DriverConfig,
    ) -> Self {
        Self {
            feed,
            venue,
            trader,
            hooks,
            market,
            config,
            shutdown: None,
        }
    }

    /// Stops the run before the next batch once `shutdown` turns `true`.
    #[must_use]
    pub fn with_shutdown(mut self, shutdown: watch::Receiver<bool>) -> Self {
        self.shutdown = Some(shutdown);
        self
    }

    /// Runs until the feed ends, the window ends or a shutdown is signalled; the state is saved
    /// at the end when trading had started (unless persistence is off).
    ///
    /// # Errors
    /// [`DriverError`]: the trader, the feed (a replay's), the venue, the clock or a hook.
    pub async fn run(mut self) -> Result<RunSummary, DriverError> {
        let mut progress = Progress::default();
        self.restore(&mut progress).await?;
        loop {
            let Some(batch) = self.next_batch(&mut progress).await? else {
                break;
            };
            if self.handle_batch(batch, &mut progress).await? {
                break;
            }
        }
        self.finish(progress).await
    }

    async fn restore(&mut self, progress: &mut Progress) -> Result<(), DriverError> {
        let Some(checkpoint) = self.trader.saved_checkpoint().map_err(trader_error)? else {
            return Ok(());
        };
        // Market time goes on from where the saved run was, so every request the restore makes
        // (open orders, own trades) carries a time after the last one it made.
        if let Some(last) = checkpoint.last_close {
            if last > self.market.now() {
                self.market.advance_to(last)?;
            }
        }
        let now = self.market.now();
        self.trader.restore(now).await.map_err(trader_error)?;
        progress.summary.resumed = true;
        progress.started = true;
        progress.resume_after = checkpoint.last_close;
        progress.reconcile_after_group = true;
        let start = checkpoint.last_close.unwrap_or(now);
        for timer in Timer::ALL {
            let due = checkpoint
                .timers
                .get(&timer)
                .copied()
                .unwrap_or_else(|| timer.first_due(start));
            let id = self.market.schedule(timer.name(), due, timer.period_ms())?;
            progress.timers.insert(timer, id);
        }
        for (symbol, from) in self.trader.trade_cursors() {
            self.venue.resume_trades(&symbol, from);
        }
        tracing::info!(
            last_close = ?checkpoint.last_close,
            "saved state restored; continuing after it"
        );
        Ok(())
    }

    /// The next batch, or `None` when the feed ended or a shutdown was signalled.
    async fn next_batch(
        &mut self,
        progress: &mut Progress,
    ) -> Result<Option<Vec<MarketEvent>>, DriverError> {
        loop {
            let next = match self.shutdown.as_mut() {
                Some(shutdown) => {
                    if *shutdown.borrow() {
                        progress.summary.signalled = true;
                        return Ok(None);
                    }
                    tokio::select! {
                        biased;
                        _ = shutdown.changed() => {
                            progress.summary.signalled = true;
                            return Ok(None);
                        }
                        next = self.feed.next_batch() => next,
                    }
                }
                None => self.feed.next_batch().await,
            };
            match next {
                Ok(batch) => return Ok(batch),
                // A live feed polls again on the next call: a network failure must not stop
                // the bot.
                Err(error) if self.config.live => {
                    tracing::warn!(%error, "market feed failed; retrying at the next tick");
                }
                Err(error) => return Err(DriverError::Feed(error)),
            }
        }
    }

    /// Handles one batch; returns whether the run's window ended.
    async fn handle_batch(
        &mut self,
        batch: Vec<MarketEvent>,
        progress: &mut Progress,
    ) -> Result<bool, DriverError> {
        let mut groups: Vec<(Timestamp, Vec<(Symbol, Candle)>)> = Vec::new();
        for event in batch {
            match event {
                MarketEvent::Price { .. } => {
                    if progress.started {
                        let fills = self.venue_fills(&event).await?;
                        progress.pending_fills.extend(fills);
                    }
                }
                MarketEvent::Candle { symbol, candle } => {
                    let open = candle.open_time();
                    match groups.iter_mut().find(|(time, _)| *time == open) {
                        Some((_, group)) => group.push((symbol, candle)),
                        None => groups.push((open, vec![(symbol, candle)])),
                    }
                }
            }
        }
        groups.sort_by_key(|(time, _)| *time);
        for (open_time, group) in groups {
            if self
                .config
                .trade_until
                .is_some_and(|until| open_time >= until)
            {
                return Ok(true);
            }
            self.handle_group(open_time, &group, progress).await?;
        }
        Ok(false)
    }

    async fn handle_group(
        &mut self,
        open_time: Timestamp,
        group: &[(Symbol, Candle)],
        progress: &mut Progress,
    ) -> Result<(), DriverError> {
        let close = open_time.plus_millis(self.config.interval_ms);
        if progress.resume_after.is_some_and(|last| close <= last) {
            for (symbol, candle) in group {
                self.trader.warm_up(symbol, candle).map_err(trader_error)?;
            }
            progress.summary.skipped += group.len() as u64;
            return self.hooks.after_group(self.trader, group, close, false);
        }
        let due = if close > self.market.now() {
            self.market.advance_to(close)?
        } else {
            Vec::new()
        };
        if self.config.trade_from.is_some_and(|from| open_time < from) {
            for (symbol, candle) in group {
                let event = MarketEvent::Candle {
                    symbol: symbol.clone(),
                    candle: *candle,
                };
                self.venue
                    .on_market(&event)
                    .await
                    .map_err(DriverError::Venue)?;
                self.trader.warm_up(symbol, candle).map_err(trader_error)?;
            }
            progress.summary.warm_up += group.len() as u64;
            return self.hooks.after_group(self.trader, group, close, false);
        }
        self.hooks.before_group(self.trader, group, close)?;
        for (symbol, candle) in group {
            let event = MarketEvent::Candle {
                symbol: symbol.clone(),
                candle: *candle,
            };
            let mut fills = std::mem::take(&mut progress.pending_fills);
            fills.extend(self.venue_fills(&event).await?);
            self.trader
                .on_candle(symbol, candle, fills, close)
                .await
                .map_err(trader_error)?;
        }
        progress.summary.candles += group.len() as u64;
        progress.summary.first_close.get_or_insert(close);
        progress.summary.last_close = Some(close);
        let mut hourly_ran = false;
        if progress.started {
            let mut timers: Vec<Timer> = due
                .iter()
                .filter_map(|event| {
                    progress
                        .timers
                        .iter()
                        .find(|(_, id)| **id == event.timer)
                        .map(|(timer, _)| *timer)
                })
                .collect();
            timers.sort();
            timers.dedup();
            for timer in timers {
                self.run_timer(timer, close).await?;
                hourly_ran |= timer == Timer::Hourly;
            }
        } else {
            self.trader.start(close).await.map_err(trader_error)?;
            progress.started = true;
            for timer in Timer::ALL {
                let id = self.market.schedule(
                    timer.name(),
                    timer.first_due(close),
                    timer.period_ms(),
                )?;
                progress.timers.insert(timer, id);
            }
            self.hooks.after_start(self.trader, close)?;
        }
        if std::mem::take(&mut progress.reconcile_after_group) {
            let report = self.trader.reconcile(close).await.map_err(trader_error)?;
            tracing::info!(%report, "saved state restored and reconciled; continuing");
        }
        self.maybe_save(progress, close, hourly_ran)?;
        self.hooks.after_group(self.trader, group, close, true)
    }

    async fn run_timer(&mut self, timer: Timer, close: Timestamp) -> Result<(), DriverError> {
        match timer {
            Timer::Reconcile => {
                let report = self.trader.reconcile(close).await.map_err(trader_error)?;
                if !report.is_clean() {
                    tracing::warn!(%report, "reconciliation repaired differences");
                }
            }
            Timer::Hourly => {
                self.trader
                    .on_timer(timer, close)
                    .await
                    .map_err(trader_error)?;
            }
        }
        self.hooks.after_timer(self.trader, timer, close)
    }

    /// The venue's fills for `event`. Live, a venue that cannot report its fills now (rate
    /// limit, network) reports them at the next event: its cursor did not move.
    async fn venue_fills(&self, event: &MarketEvent) -> Result<Vec<Fill>, DriverError> {
        match self.venue.on_market(event).await {
            Ok(fills) => Ok(fills),
            Err(error) if self.config.live => {
                tracing::warn!(%error, "the venue's fills could not be read; next event");
                Ok(Vec::new())
            }
            Err(error) => Err(DriverError::Venue(error)),
        }
    }

    fn checkpoint(&self, progress: &Progress) -> Checkpoint {
        Checkpoint {
            last_close: progress.summary.last_close,
            timers: progress
                .timers
                .iter()
                .filter_map(|(timer, id)| Some((*timer, self.market.next_due(*id)?)))
                .collect(),
        }
    }

    fn maybe_save(
        &mut self,
        progress: &mut Progress,
        now: Timestamp,
        hourly_ran: bool,
    ) -> Result<(), DriverError> {
        let activity = self.trader.activity();
        let save = match self.config.persistence {
            Persistence::Off => false,
            Persistence::EveryGroup => true,
            Persistence::OnActivity => hourly_ran || progress.last_saved_activity != Some(activity),
        };
        if save {
            let checkpoint = self.checkpoint(progress);
            self.trader.save(&checkpoint, now).map_err(trader_error)?;
            progress.last_saved_activity = Some(activity);
        }
        Ok(())
    }

    async fn finish(self, mut progress: Progress) -> Result<RunSummary, DriverError> {
        if progress.started && progress.summary.last_close.is_some() {
            let now = self.market.now();
            let report = self.trader.reconcile(now).await.map_err(trader_error)?;
            if !report.is_clean() {
                tracing::warn!(%report, "final reconciliation repaired differences");
            }
            if self.config.persistence != Persistence::Off {
                let checkpoint = self.checkpoint(&progress);
                self.trader.save(&checkpoint, now).map_err(trader_error)?;
                progress.summary.state_saved = true;
            }
        }
        self.hooks.finish(self.trader, &progress.summary)?;
        Ok(progress.summary)
    }
}

/// The candles a simulated replay trades: their length and the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayWindow {
    /// Candle length in milliseconds.
    pub interval_ms: i64,
    /// Candles opening before this only warm the trader up.
    pub trade_from: Option<Timestamp>,
    /// Candles opening at or after this end the run.
    pub trade_until: Option<Timestamp>,
}

/// Runs a backtest: the driver over a fast feed and a simulated venue, without a runtime
/// ([`block_on`]), nothing saved (a backtest never restarts).
///
/// # Errors
/// [`DriverError`]; [`DriverError::WouldBlock`] for a feed or venue that waits.
pub fn simulate<F, V, T, H>(
    feed: &mut F,
    venue: &V,
    trader: &mut T,
    hooks: &mut H,
    market: Arc<SimClock>,
    window: ReplayWindow,
) -> Result<RunSummary, DriverError>
where
    F: MarketFeed,
    V: Venue,
    T: Trader,
    H: Hooks<T>,
{
    let config = DriverConfig {
        interval_ms: window.interval_ms,
        trade_from: window.trade_from,
        trade_until: window.trade_until,
        persistence: Persistence::Off,
        live: false,
    };
    block_on(Driver::new(feed, venue, trader, hooks, market, config).run())?
}

fn trader_error<E: std::error::Error + Send + Sync + 'static>(error: E) -> DriverError {
    DriverError::Trader(Box::new(error))
}

/// Runs a future that never waits to completion without a runtime: a simulated run (fast
/// feed, simulated venue) answers everything at once. The one `block_on` of the workspace.
///
/// # Errors
/// [`DriverError::WouldBlock`] when the future had to wait (a real network or a paced feed).
pub fn block_on<Fut: Future>(future: Fut) -> Result<Fut::Output, DriverError> {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut context) {
        Poll::Ready(output) => Ok(output),
        Poll::Pending => Err(DriverError::WouldBlock),
    }
}
