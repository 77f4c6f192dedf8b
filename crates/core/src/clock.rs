//! Where time comes from: the wall clock live, a simulated clock in replay and tests.
//!
//! No code outside this module reads the wall clock (`clippy.toml` forbids `Utc::now` and
//! `SystemTime::now` elsewhere), so a backtest controls time completely.

use std::sync::{Mutex, PoisonError};

use crate::{error::CoreError, time::Timestamp};

/// A source of the current time.
pub trait Clock: Send + Sync {
    /// The current time (UTC milliseconds).
    fn now(&self) -> Timestamp;
}

/// The real wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[expect(
        clippy::disallowed_methods,
        reason = "the single place that reads the wall clock"
    )]
    fn now(&self) -> Timestamp {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp::from_millis(i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX))
    }
}

/// Identifies a timer scheduled on a [`SimClock`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimerId(u32);

/// A timer that came due while the clock advanced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerEvent {
    /// Which timer.
    pub timer: TimerId,
    /// Its name, e.g. `"mode-evaluation"`.
    pub name: String,
    /// The scheduled time it was due at (not the time the clock reached).
    pub due: Timestamp,
}

/// A simulated clock: time moves only when told, and moving it reports the timers that came due.
///
/// Shared by reference (`&SimClock` or `Arc<SimClock>` as `dyn Clock`); interior mutability
/// lets the replay driver advance it while strategies read it.
#[derive(Debug)]
pub struct SimClock {
    state: Mutex<SimState>,
}

#[derive(Debug)]
struct SimState {
    now: Timestamp,
    next_timer_id: u32,
    timers: Vec<Timer>,
}

#[derive(Debug)]
struct Timer {
    id: TimerId,
    name: String,
    next_due: Timestamp,
    interval_ms: i64,
}

impl SimClock {
    /// A clock standing at `start`, with no timers.
    #[must_use]
    pub fn new(start: Timestamp) -> Self {
        Self {
            state: Mutex::new(SimState {
                now: start,
                next_timer_id: 0,
                timers: Vec::new(),
            }),
        }
    }

    /// Schedules a repeating timer first due at `first_due`, then every `interval_ms`.
    ///
    /// # Errors
    /// [`CoreError::InvalidTimer`] for an interval ≤ 0.
    pub fn schedule(
        &self,
        name: &str,
        first_due: Timestamp,
        interval_ms: i64,
    ) -> Result<TimerId, CoreError> {
        if interval_ms <= 0 {
            return Err(CoreError::InvalidTimer {
                name: name.to_owned(),
                interval_ms,
            });
        }
        let mut state = self.lock();
        let id = TimerId(state.next_timer_id);
        state.next_timer_id += 1;
        state.timers.push(Timer {
            id,
            name: name.to_owned(),
            next_due: first_due,
            interval_ms,
        });
        Ok(id)
    }

    /// When `timer` is next due; `None` for an unknown (or cancelled) timer. A restarted run
    /// saves it so its timers continue where they were.
    #[must_use]
    pub fn next_due(&self, timer: TimerId) -> Option<Timestamp> {
        self.lock()
            .timers
            .iter()
            .find(|t| t.id == timer)
            .map(|t| t.next_due)
    }

    /// Removes a timer; unknown ids are ignored.
    pub fn cancel(&self, timer: TimerId) {
        self.lock().timers.retain(|t| t.id != timer);
    }

    /// Moves the clock to `to` and returns every timer firing in `(now, to]` — a timer that
    /// came due several times fires once per due time — ordered by due time, then by the order
    /// the timers were scheduled.
    ///
    /// # Errors
    /// [`CoreError::ClockWentBackwards`] if `to` is before the current time; the clock is
    /// unchanged.
    pub fn advance_to(&self, to: Timestamp) -> Result<Vec<TimerEvent>, CoreError> {
        let mut state = self.lock();
        if to < state.now {
            return Err(CoreError::ClockWentBackwards {
                now_ms: state.now.as_millis(),
                requested_ms: to.as_millis(),
            });
        }
        let mut fired = Vec::new();
        for timer in &mut state.timers {
            while timer.next_due <= to {
                fired.push(TimerEvent {
                    timer: timer.id,
                    name: timer.name.clone(),
                    due: timer.next_due,
                });
                timer.next_due = timer.next_due.plus_millis(timer.interval_ms);
            }
        }
        fired.sort_by_key(|event| (event.due, event.timer));
        state.now = to;
        Ok(fired)
    }

    /// Moves the clock forward by `ms` milliseconds; see [`SimClock::advance_to`].
    ///
    /// # Errors
    /// [`CoreError::ClockWentBackwards`] for a negative `ms`.
    pub fn advance_by(&self, ms: i64) -> Result<Vec<TimerEvent>, CoreError> {
        let to = self.now().plus_millis(ms);
        self.advance_to(to)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SimState> {
        // A panic while holding the lock cannot leave the state half-written (every update is a
        // single assignment or push), so a poisoned lock is safe to keep using.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Clock for SimClock {
    fn now(&self) -> Timestamp {
        self.lock().now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = Timestamp::HOUR_MS;

    #[test]
    fn advancing_returns_due_timers_in_order() {
        let clock = SimClock::new(Timestamp::from_millis(0));
        let hourly = clock
            .schedule("mode-evaluation", Timestamp::from_millis(HOUR), HOUR)
            .unwrap();
        let six_hourly = clock
            .schedule("rebalance", Timestamp::from_millis(6 * HOUR), 6 * HOUR)
            .unwrap();
        assert!(clock
            .advance_to(Timestamp::from_millis(HOUR - 1))
            .unwrap()
            .is_empty());
        let fired = clock.advance_to(Timestamp::from_millis(6 * HOUR)).unwrap();
        let names: Vec<_> = fired
            .iter()
            .map(|e| (e.name.as_str(), e.due.as_millis() / HOUR))
            .collect();
        assert_eq!(
            names,
            [
                ("mode-evaluation", 1),
                ("mode-evaluation", 2),
                ("mode-evaluation", 3),
                ("mode-evaluation", 4),
                ("mode-evaluation", 5),
                ("mode-evaluation", 6),
                ("rebalance", 6)
            ]
        );
        assert_eq!(fired[6].timer, six_hourly);
        assert_eq!(
            clock.next_due(six_hourly),
            Some(Timestamp::from_millis(12 * HOUR))
        );
        assert_eq!(clock.now().as_millis(), 6 * HOUR);
        clock.cancel(hourly);
        assert_eq!(clock.advance_by(12 * HOUR).unwrap().len(), 2);
    }

    #[test]
    fn time_never_goes_backwards() {
        let clock = SimClock::new(Timestamp::from_millis(1_000));
        let err = clock.advance_to(Timestamp::from_millis(999)).unwrap_err();
        assert_eq!(
            err,
            CoreError::ClockWentBackwards {
                now_ms: 1_000,
                requested_ms: 999
            }
        );
        assert_eq!(clock.now().as_millis(), 1_000);
        assert!(clock
            .advance_to(Timestamp::from_millis(1_000))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn zero_interval_is_refused() {
        let clock = SimClock::new(Timestamp::from_millis(0));
        assert!(clock
            .schedule("busy", Timestamp::from_millis(0), 0)
            .is_err());
    }

    #[test]
    fn system_clock_is_after_2020() {
        assert!(SystemClock.now().as_millis() > 1_577_836_800_000);
    }
}
