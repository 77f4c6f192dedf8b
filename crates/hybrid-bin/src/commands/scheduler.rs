//! `main_hybrid scheduler`: the database-side tasks of spec §6 on the wall clock, each under
//! its task lock (PostgreSQL advisory locks, so several processes on one database never run
//! the same task at once) and recorded in `task_runs`.
//!
//! The trading tasks (mode evaluation hourly, reconciliation every 30 minutes, the 6-hourly
//! rebalance, snapshots) run inside `main_hybrid run` on the market's clock, so that a replay
//! and a backtest keep the same timing. This process runs what needs only the database:
//! retention (03:00), stale-order detection (every 30 min) and the daily summary (20:00),
//! whose alerts go through the notification outbox that `main_hybrid telegram` delivers.

use std::time::Duration;

use anyhow::Context as _;
use hybrid_core::{Clock, SystemClock, Timestamp};
use hybrid_engine::{Schedule, TaskOutcome, TaskRunner, TaskSpec, TASKS};
use hybrid_store::{NewNotification, Severity, Store, RETENTION_TABLES};

use crate::{cli::SchedulerArgs, config::LoadedConfig};

/// The tasks this process runs (the rest run inside `main_hybrid run`).
const DATABASE_TASKS: &[&str] = &["stale_orders", "retention", "daily_summary"];

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
                match run_task(&runner, task.name, &clock, hold)? {
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
            run_task(&runner, task, &clock, hold)?;
        }
        pause(Duration::from_secs(args.tick_secs.max(1)));
    }
    tracing::info!("scheduler stopped");
    Ok(())
}

fn run_task(
    runner: &TaskRunner,
    task: &str,
    clock: &SystemClock,
    hold: Duration,
) -> anyhow::Result<TaskOutcome<()>> {
    let store = runner.store();
    let outcome = runner.run(
        task,
        || clock.now(),
        || -> anyhow::Result<()> {
            match task {
                "retention" => retention(store, clock.now())?,
                "stale_orders" => stale_orders(store, clock.now())?,
                "daily_summary" => daily_summary(store, clock.now())?,
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
