//! `main_hybrid watchdog`: watches the trading loop's heartbeat file from outside the trading
//! process and raises a critical notification (through the outbox, sent by the `telegram`
//! process) when it goes stale, a reminder every hour while it stays stale, and an important
//! one when it recovers. With `--once` it checks a single time and exits 1 when stale, so it
//! also serves as a container health check.

use std::{path::Path, time::Duration};

use anyhow::Context as _;

use hybrid_core::{Clock, SystemClock, Timestamp};
use hybrid_store::{NewNotification, Severity, Store};

use crate::{cli::WatchdogArgs, config::LoadedConfig};

/// How often a still-stale heartbeat is reported again, milliseconds.
const REMIND_EVERY_MS: i64 = 3_600_000;

/// What the watchdog concluded from one look at the heartbeat.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Alert {
    /// Stale (or missing) for the first time, or again after `REMIND_EVERY_MS`.
    Stale(String),
    /// Fresh again after an alert.
    Recovered(String),
}

/// The watchdog's memory between two looks.
#[derive(Debug, Default)]
struct Watch {
    /// When the current stale spell was last reported.
    alerted_at: Option<Timestamp>,
}

impl Watch {
    /// `age_ms` is the heartbeat's age (None: no file).
    fn observe(
        &mut self,
        age_ms: Option<i64>,
        stale_after_ms: i64,
        now: Timestamp,
    ) -> Option<Alert> {
        let stale = age_ms.is_none_or(|age| age > stale_after_ms);
        match (stale, self.alerted_at) {
            (true, Some(at)) if now.millis_since(at) < REMIND_EVERY_MS => None,
            (true, _) => {
                self.alerted_at = Some(now);
                Some(Alert::Stale(match age_ms {
                    Some(age) => format!(
                        "Trading loop heartbeat is stale: last written {} s ago (limit {} s). The bot may be stuck or stopped; check the container and its logs.",
                        age / 1000,
                        stale_after_ms / 1000
                    ),
                    None => "Trading loop heartbeat file is missing: the bot is not running or cannot write its data folder.".to_owned(),
                }))
            }
            (false, Some(_)) => {
                self.alerted_at = None;
                Some(Alert::Recovered(format!(
                    "Trading loop heartbeat is fresh again ({} s old).",
                    age_ms.unwrap_or_default() / 1000
                )))
            }
            (false, None) => None,
        }
    }
}

/// Runs the watchdog (or one check with `--once`).
pub(crate) fn run(loaded: &LoadedConfig, args: &WatchdogArgs) -> anyhow::Result<()> {
    let store = super::telegram::open_store(loaded)?;
    let clock = SystemClock;
    let stale_after_ms = i64::from(loaded.config.telegram.heartbeat_stale_secs) * 1000;
    let mut watch = Watch::default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let stop = super::shutdown_signal()?;
        loop {
            let now = clock.now();
            let age = heartbeat_age_ms(&args.heartbeat, now);
            if let Some(alert) = watch.observe(age, stale_after_ms, now) {
                raise(&store, &alert, now);
            }
            if args.once {
                let stale = age.is_none_or(|a| a > stale_after_ms);
                println!(
                    "heartbeat {}: {}",
                    args.heartbeat.display(),
                    match age {
                        Some(a) =>
                            format!("{} s old{}", a / 1000, if stale { " (stale)" } else { "" }),
                        None => "missing".to_owned(),
                    }
                );
                if stale {
                    anyhow::bail!("the heartbeat is stale");
                }
                return Ok(());
            }
            let mut flag = stop.clone();
            tokio::select! {
                _ = flag.wait_for(|s| *s) => return Ok(()),
                () = tokio::time::sleep(Duration::from_secs(args.check_secs)) => {}
            }
        }
    })
}

/// The file's age by its modification time, in milliseconds (None when it cannot be read).
fn heartbeat_age_ms(path: &Path, now: Timestamp) -> Option<i64> {
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok()?;
    let written = modified.duration_since(std::time::UNIX_EPOCH).ok()?;
    let written_ms = i64::try_from(written.as_millis()).ok()?;
    Some(now.as_millis() - written_ms)
}

/// Queues the alert; a database failure is logged (and printed) instead, since the watchdog
/// must keep watching.
fn raise(store: &Store, alert: &Alert, now: Timestamp) {
    let (kind, severity, text) = match alert {
        Alert::Stale(text) => ("heartbeat_stale", Severity::Critical, text),
        Alert::Recovered(text) => ("heartbeat_recovered", Severity::Important, text),
    };
    eprintln!("watchdog: {text}");
    let queued = store.enqueue_notification(&NewNotification {
        at: now,
        cohort: None,
        kind: kind.to_owned(),
        severity,
        text: text.clone(),
    });
    if let Err(error) = queued {
        tracing::error!(%error, "cannot queue the watchdog alert");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_once_reminds_hourly_and_reports_recovery() {
        let mut watch = Watch::default();
        let at = Timestamp::from_millis;
        assert_eq!(watch.observe(Some(10_000), 300_000, at(0)), None);
        assert!(matches!(
            watch.observe(Some(301_000), 300_000, at(1_000)),
            Some(Alert::Stale(text)) if text.contains("301 s ago")
        ));
        assert_eq!(watch.observe(Some(400_000), 300_000, at(60_000)), None);
        assert!(matches!(
            watch.observe(None, 300_000, at(1_000 + REMIND_EVERY_MS)),
            Some(Alert::Stale(text)) if text.contains("missing")
        ));
        assert!(matches!(
            watch.observe(Some(5_000), 300_000, at(2 * REMIND_EVERY_MS)),
            Some(Alert::Recovered(_))
        ));
        assert_eq!(
            watch.observe(Some(5_000), 300_000, at(3 * REMIND_EVERY_MS)),
            None
        );
    }
}
