//! `main_hybrid scheduler`: the database-side tasks of spec §6 on the wall clock, each under
//! its task lock (PostgreSQL advisory locks, so several processes on one database never run
//! the same task at once) and recorded in `task_runs`.
//!
//! The trading tasks (mode evaluation hourly, reconciliation every 30 minutes, the 6-hourly
//! rebalance, snapshots) run inside `main_hybrid run` on the market's clock, so that a replay
//! and a backtest keep the same timing. This process runs what needs only the database:
//! retention (03:00), stale-order detection (every 30 min) and the daily summary (20:00),
//! whose alerts go through the notification outbox that `main_hybrid telegram` delivers —
//! and the learning loop: outcomes (hourly at :05, every window that has come due, priced
//! from Binance's public 1-minute candles at decision time + window), the Bayesian signal
//! weights (22:00, global and per regime) and the playbook (Sundays 19:00).

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use anyhow::Context as _;
use hybrid_core::{Candle, Clock, Regime, Symbol, SystemClock, Timestamp};
use hybrid_engine::{Schedule, TaskOutcome, TaskRunner, TaskSpec, TASKS};
use hybrid_exchange::{
    binance::{BinanceClient, BinanceConfig, BinanceEnvironment},
    MarketData as _,
};
use hybrid_learning::{update_outcomes, update_playbook, update_weights, CandleHistory};
use hybrid_store::{NewNotification, OutcomeWindow, Severity, Store, RETENTION_TABLES};

use crate::{cli::SchedulerArgs, config::LoadedConfig};

/// The tasks this process runs (the rest run inside `main_hybrid run`).
///
/// `learning_discovery` is scheduled in [`TASKS`] but not run here yet: it needs the LLM
/// client and the exchange's 24 h tickers for its candidates.
const DATABASE_TASKS: &[&str] = &[
    "stale_orders",
    "retention",
    "daily_summary",
    "learning_outcomes",
    "learning_weights",
    "learning_playbook",
];

/// Outcome prices are the open of the 1-minute candle containing `decision time + window`.
const PRICE_INTERVAL: &str = "1m";

/// One minute, the length of [`PRICE_INTERVAL`] candles.
const PRICE_INTERVAL_MS: i64 = Timestamp::MINUTE_MS;

/// Candles per klines request (the API maximum).
const KLINES_PAGE: u32 = 1000;

/// No new order for this long while orders are open: the strategy may be stuck.
const STALE_AFTER_MS: i64 = 30 * Timestamp::MINUTE_MS;

/// Delivered notifications are kept this long.
const NOTIFICATIONS_KEEP_MS: i64 = 30 * Timestamp::DAY_MS;

/// Runs the schedule until SIGINT/SIGTERM, or each task `--repeat` times with `--once`.
pub(crate) fn run(loaded: &LoadedConfig, args: &SchedulerArgs) -> anyhow::Result<()> {
    let url = &loaded.config.database.url;
    let shown = crate::config::load_mask_url(url);
    let store = Store::open(url).with_context(|| format!("cannot open the database {shown}"))?;
    store
        .run_migrations()
        .with_context(|| format!("migrating {shown} failed"))?;
    let owner = format!("{}/{}", hostname(), std::process::id());
    let runner = TaskRunner::new(store, owner);
    let clock = SystemClock;
    let tasks: Vec<TaskSpec> = TASKS
        .iter()
        .filter(|t| DATABASE_TASKS.contains(&t.name))
        .copied()
        .collect();
    let hold = Duration::from_millis(args.hold_ms);
    if args.once {
        let mut counts = [0_u32; 3];
        for _ in 0..args.repeat.max(1) {
            for task in &tasks {
                match run_task(loaded, &runner, task.name, &clock, hold)? {
                    TaskOutcome::Ran(()) => counts[0] += 1,
                    TaskOutcome::Failed(_) => counts[1] += 1,
                    TaskOutcome::Skipped => counts[2] += 1,
                }
            }
        }
        println!(
            "scheduler: {} runs, {} failed, {} skipped (held elsewhere)",
            counts[0], counts[1], counts[2]
        );
        return Ok(());
    }
    let stop = stop_flag()?;
    let mut schedule = Schedule::new(&tasks, clock.now());
    tracing::info!(tasks = ?DATABASE_TASKS, "scheduler started");
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        for task in schedule.due(clock.now()) {
            run_task(loaded, &runner, task, &clock, hold)?;
        }
        pause(Duration::from_secs(args.tick_secs.max(1)));
    }
    tracing::info!("scheduler stopped");
    Ok(())
}

fn run_task(
    loaded: &LoadedConfig,
    runner: &TaskRunner,
    task: &str,
    clock: &SystemClock,
    hold: Duration,
) -> anyhow::Result<TaskOutcome<()>> {
    let store = runner.store();
    let base_url = match loaded.config.exchange.base_url.as_str() {
        "" => BinanceEnvironment::MarketData.base_url(),
        custom => custom,
    };
    let outcome = runner.run(
        task,
        || clock.now(),
        || -> anyhow::Result<()> {
            match task {
                "retention" => retention(store, clock.now())?,
                "stale_orders" => stale_orders(store, clock.now())?,
                "daily_summary" => daily_summary(store, clock.now())?,
                "learning_outcomes" => learning_outcomes(store, base_url, clock.now())?,
                "learning_weights" => learning_weights(store, clock.now())?,
                "learning_playbook" => learning_playbook(store, clock.now())?,
                other => anyhow::bail!("task {other} does not run in this process"),
            }
            // For drills and tests of the locks: keep the lock a while.
            if !hold.is_zero() {
                pause(hold);
            }
            Ok(())
        },
    )?;
    Ok(outcome)
}

fn retention(store: &Store, now: Timestamp) -> anyhow::Result<()> {
    let deleted = store.apply_retention(RETENTION_TABLES, now)?;
    let notifications =
        store.delete_finished_notifications(now.plus_millis(-NOTIFICATIONS_KEEP_MS))?;
    tracing::info!(?deleted, notifications, "retention");
    Ok(())
}

fn stale_orders(store: &Store, now: Timestamp) -> anyhow::Result<()> {
    let open = store.open_orders(None)?;
    let Some(newest) = open.iter().map(|o| o.created_at).max() else {
        return Ok(());
    };
    let idle = now.millis_since(newest);
    if idle > STALE_AFTER_MS {
        let text = format!(
            "{} orders open but none placed for {} minutes (last at {newest}): is the bot running?",
            open.len(),
            idle / Timestamp::MINUTE_MS
        );
        store.enqueue_notification(&NewNotification {
            at: now,
            cohort: None,
            kind: "stale_orders".to_owned(),
            severity: Severity::Critical,
            text,
        })?;
    }
    Ok(())
}

fn daily_summary(store: &Store, now: Timestamp) -> anyhow::Result<()> {
    let since = now.plus_millis(-Timestamp::DAY_MS);
    let closed: Vec<rust_decimal::Decimal> = store
        .closed_trade_pairs(None, 10_000)?
        .into_iter()
        .filter_map(|p| p.close)
        .filter(|c| c.time >= since)
        .map(|c| c.net_pnl.value())
        .collect();
    let pnl: rust_decimal::Decimal = closed.iter().sum();
    let wins = closed
        .iter()
        .filter(|pnl| **pnl > rust_decimal::Decimal::ZERO)
        .count();
    let open = store.open_orders(None)?.len();
    let text = format!(
        "Daily summary: {} trades closed in 24 h ({wins} won), realised P&L {} USDT; {open} orders open.",
        closed.len(),
        pnl.round_dp(2)
    );
    store.enqueue_notification(&NewNotification {
        at: now,
        cohort: None,
        kind: "daily_summary".to_owned(),
        severity: Severity::Routine,
        text,
    })?;
    Ok(())
}

/// Spec §3.3: every decision whose window has passed gets its outcome, priced from the
/// exchange's candles at decision time + window. Only the minutes the pending decisions need
/// are fetched; a failed fetch fails the task (recorded in `task_runs`) and the next run
/// catches up, since `update_outcomes` selects every decision still missing an outcome.
fn learning_outcomes(store: &Store, base_url: &str, now: Timestamp) -> anyhow::Result<()> {
    let needed = outcome_times(store, now)?;
    if needed.is_empty() {
        tracing::info!("learning_outcomes: no decision is due an outcome");
        return Ok(());
    }
    let client = BinanceClient::with_clock(
        BinanceConfig::with_base_url(base_url),
        Arc::new(SystemClock),
    )?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the HTTP runtime")?;
    let mut candles = BTreeMap::new();
    for (symbol, times) in &needed {
        let fetched = runtime
            .block_on(candles_covering(&client, symbol, times))
            .with_context(|| {
                format!("fetching {symbol} {PRICE_INTERVAL} klines from {base_url}")
            })?;
        candles.insert(symbol.clone(), fetched);
    }
    let history = CandleHistory::new(candles, PRICE_INTERVAL_MS);
    let run = update_outcomes(store, &history, now)?;
    tracing::info!(
        written = ?run.written,
        unpriced = run.unpriced,
        signals = run.signals_evaluated,
        "learning_outcomes"
    );
    Ok(())
}

/// The window end times of every decision missing an outcome at `now`, per symbol, sorted.
fn outcome_times(
    store: &Store,
    now: Timestamp,
) -> anyhow::Result<BTreeMap<Symbol, Vec<Timestamp>>> {
    let mut needed: BTreeMap<Symbol, Vec<Timestamp>> = BTreeMap::new();
    for window in OutcomeWindow::ALL {
        for decision in store.decisions_missing_outcome(window, now)? {
            needed
                .entry(decision.symbol)
                .or_default()
                .push(decision.at.plus_millis(window.millis()));
        }
    }
    for times in needed.values_mut() {
        times.sort_unstable();
        times.dedup();
    }
    Ok(needed)
}

/// The 1-minute candles containing each of `times` (sorted): one request per run of times
/// that fit in one page of [`KLINES_PAGE`] minutes, so nearby decisions share a request.
async fn candles_covering(
    client: &BinanceClient,
    symbol: &Symbol,
    times: &[Timestamp],
) -> anyhow::Result<Vec<Candle>> {
    let mut candles: Vec<Candle> = Vec::new();
    let mut rest = times;
    while let Some(first) = rest.first() {
        let start = Timestamp::from_millis(
            first.as_millis().div_euclid(PRICE_INTERVAL_MS) * PRICE_INTERVAL_MS,
        );
        let end = start.plus_millis(i64::from(KLINES_PAGE) * PRICE_INTERVAL_MS - 1);
        let page = client
            .klines(
                symbol,
                PRICE_INTERVAL,
                Some(start),
                Some(end),
                Some(KLINES_PAGE),
            )
            .await?;
        candles.extend(page);
        let covered = rest.partition_point(|t| *t <= end);
        rest = &rest[covered..];
    }
    candles.sort_by_key(Candle::open_time);
    candles.dedup_by_key(|c| c.open_time());
    Ok(candles)
}

/// Spec §3.9: the Bayesian signal weights, globally and per regime (each stored only with
/// enough judged decisions).
fn learning_weights(store: &Store, now: Timestamp) -> anyhow::Result<()> {
    let mut updated = Vec::new();
    if update_weights(store, "global", now, |_| true)?.is_some() {
        updated.push("global".to_owned());
    }
    for regime in [Regime::Bull, Regime::Bear, Regime::Sideways] {
        let scope = format!("regime:{regime}");
        if update_weights(store, &scope, now, |r| r.decision.regime == regime)?.is_some() {
            updated.push(scope);
        }
    }
    tracing::info!(?updated, "learning_weights");
    Ok(())
}

/// Spec §3.6: the weekly playbook (a new version only with enough judged decisions).
fn learning_playbook(store: &Store, now: Timestamp) -> anyhow::Result<()> {
    let update = update_playbook(store, now, "weekly update by main_hybrid scheduler")?;
    tracing::info!(
        version = update.version,
        produced = update.produced,
        changes = ?update.changes,
        "learning_playbook"
    );
    Ok(())
}

/// A flag set by SIGINT or SIGTERM (a small runtime on its own thread listens).
fn stop_flag() -> anyhow::Result<std::sync::Arc<std::sync::atomic::AtomicBool>> {
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the signal listener")?;
    let set = std::sync::Arc::clone(&flag);
    std::thread::spawn(move || {
        runtime.block_on(async move {
            #[cfg(unix)]
            if let Ok(mut terminate) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            #[cfg(not(unix))]
            let _ = tokio::signal::ctrl_c().await;
            set.store(true, std::sync::atomic::Ordering::SeqCst);
        });
    });
    Ok(flag)
}

/// The scheduler is a plain sequential loop (spec §6: jobs run one after another); between
/// ticks, and while a drill holds a lock, it simply waits.
#[expect(
    clippy::disallowed_methods,
    reason = "the scheduler process is synchronous; nothing else runs on this thread"
)]
fn pause(duration: Duration) {
    std::thread::sleep(duration);
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}
