//! [`Recorder`]: the hook every backtest records with. It keeps the first and last close of
//! each symbol ([`Closes`]), reports progress about once per simulated day, and asks the run's
//! [`Sampler`] for a sample at the start and after every hourly task: the engine's report takes
//! the orchestrator's equity, the cohort backtest every cohort's ledger, the portfolio nothing
//! (its trader writes its own snapshots).

use hybrid_core::{Candle, Symbol, Timestamp};

use crate::driver::{Closes, DriverError, Hooks, Timer};

/// How far a replay has come, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Close time of the last candles replayed.
    pub time: Timestamp,
    /// Candles replayed so far (all symbols, warm-up included).
    pub candles: u64,
}

/// What a run samples from its trader at the start and every hour.
pub trait Sampler<T> {
    /// Trading started at `time` (after the first traded group).
    fn started(&mut self, trader: &T, time: Timestamp) {
        let _ = (trader, time);
    }

    /// A sample at `time`, the closes being those of the groups traded so far.
    fn sample(&mut self, trader: &T, time: Timestamp, closes: &Closes);
}

/// Samples nothing (a run whose trader records what it needs itself).
impl<T> Sampler<T> for () {
    fn sample(&mut self, _trader: &T, _time: Timestamp, _closes: &Closes) {}
}

/// The recording hook of a backtest (see the module docs).
pub struct Recorder<'p, S> {
    /// What the run samples.
    pub sampler: S,
    /// The first and last close of every symbol traded.
    pub closes: Closes,
    /// Candles traded (warm-up left out).
    pub traded: u64,
    replayed: u64,
    last_progress_day: Option<i64>,
    progress: &'p mut dyn FnMut(Progress),
}

impl<S: std::fmt::Debug> std::fmt::Debug for Recorder<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("sampler", &self.sampler)
            .field("traded", &self.traded)
            .finish_non_exhaustive()
    }
}

impl<'p, S> Recorder<'p, S> {
    /// A recorder sampling with `sampler` and reporting to `progress`.
    pub fn new(sampler: S, progress: &'p mut dyn FnMut(Progress)) -> Self {
        Self {
            sampler,
            closes: Closes::default(),
            traded: 0,
            replayed: 0,
            last_progress_day: None,
            progress,
        }
    }
}

impl<T, S: Sampler<T>> Hooks<T> for Recorder<'_, S> {
    fn before_group(
        &mut self,
        _trader: &mut T,
        group: &[(Symbol, Candle)],
        _close: Timestamp,
    ) -> Result<(), DriverError> {
        self.closes.observe(group);
        Ok(())
    }

    fn after_start(&mut self, trader: &mut T, close: Timestamp) -> Result<(), DriverError> {
        self.sampler.started(trader, close);
        self.sampler.sample(trader, close, &self.closes);
        Ok(())
    }

    fn after_timer(
        &mut self,
        trader: &mut T,
        timer: Timer,
        close: Timestamp,
    ) -> Result<(), DriverError> {
        if timer == Timer::Hourly {
            self.sampler.sample(trader, close, &self.closes);
        }
        Ok(())
    }

    fn after_group(
        &mut self,
        _trader: &mut T,
        group: &[(Symbol, Candle)],
        close: Timestamp,
        traded: bool,
    ) -> Result<(), DriverError> {
        self.replayed += group.len() as u64;
        if traded {
            self.traded += group.len() as u64;
        }
        let day = close.as_millis() / Timestamp::DAY_MS;
        if self.last_progress_day != Some(day) {
            self.last_progress_day = Some(day);
            (self.progress)(Progress {
                time: close,
                candles: self.replayed,
            });
        }
        Ok(())
    }
}
