//! The offset between our wall clock and Binance's (apis.md §1.4).
//!
//! `offset = serverTime − (local_before + local_after) / 2`, measured from `GET /api/v3/time`.
//! We keep the last few samples and use their median, so one slow round trip does not move the
//! offset much. The signed `timestamp` is `now + offset − margin`: the margin biases it into the
//! past, so it is never ahead of the server by the 1000 ms Binance refuses.

use std::{
    collections::VecDeque,
    sync::{Mutex, PoisonError},
};

use hybrid_core::Timestamp;

/// How many offset samples the median is taken over.
const SAMPLES: usize = 5;

/// Our estimate of `server time − local time`, in milliseconds.
#[derive(Debug, Default)]
pub(crate) struct ServerClock {
    samples: Mutex<VecDeque<i64>>,
    /// Local time of the last measurement, ms since the epoch.
    last_sync_ms: std::sync::atomic::AtomicI64,
}

impl ServerClock {
    /// Records one measurement: local time before and after the request, and the server's time.
    pub(crate) fn record(&self, before: Timestamp, after: Timestamp, server: Timestamp) {
        let midpoint = before.as_millis() + after.millis_since(before) / 2;
        let mut samples = self.lock();
        if samples.len() == SAMPLES {
            samples.pop_front();
        }
        samples.push_back(server.as_millis() - midpoint);
        self.last_sync_ms
            .store(after.as_millis(), std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether the offset was never measured, or last measured more than `max_age_ms` before
    /// `local_now` (clocks drift; Binance suggests re-syncing periodically).
    pub(crate) fn is_stale(&self, local_now: Timestamp, max_age_ms: i64) -> bool {
        let never = self.lock().is_empty();
        let last = self.last_sync_ms.load(std::sync::atomic::Ordering::Relaxed);
        never || local_now.as_millis() - last > max_age_ms
    }

    /// Forgets all samples (after -1021 the old ones are known to be wrong).
    pub(crate) fn reset(&self) {
        self.lock().clear();
    }

    /// The median offset in milliseconds; 0 before the first measurement.
    pub(crate) fn offset_ms(&self) -> i64 {
        let mut sorted: Vec<i64> = self.lock().iter().copied().collect();
        if sorted.is_empty() {
            return 0;
        }
        sorted.sort_unstable();
        sorted[sorted.len() / 2]
    }

    /// The server's time now, by our estimate.
    pub(crate) fn server_now(&self, local_now: Timestamp) -> Timestamp {
        local_now.plus_millis(self.offset_ms())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<i64>> {
        self.samples.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    #[test]
    fn offset_is_measured_from_the_round_trip_midpoint() {
        let clock = ServerClock::default();
        assert_eq!(clock.offset_ms(), 0);
        assert!(clock.is_stale(at(0), 600_000));
        clock.record(at(1_000), at(1_100), at(6_050));
        assert!(!clock.is_stale(at(601_100), 600_000));
        assert!(clock.is_stale(at(601_101), 600_000));
        assert_eq!(clock.offset_ms(), 5_000);
        assert_eq!(clock.server_now(at(2_000)), at(7_000));
    }

    #[test]
    fn the_median_ignores_one_outlier_and_reset_forgets() {
        let clock = ServerClock::default();
        for server in [5_000, 5_010, 90_000, 4_990] {
            clock.record(at(0), at(0), at(server));
        }
        assert_eq!(clock.offset_ms(), 5_010);
        clock.reset();
        assert_eq!(clock.offset_ms(), 0);
    }
}
