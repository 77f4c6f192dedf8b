//! The per-IP request-weight budget (apis.md §1.6).
//!
//! Binance counts weight in fixed one-minute windows (the minute resets at :00 UTC) and reports
//! the truth in `X-MBX-USED-WEIGHT-1M` on every response. We pre-charge the documented weight
//! before sending, replace our count with the header after each response, and refuse to send when
//! the request would exceed the limit or while a 429/418 `Retry-After` is running. Refusing (with a
//! `RateLimited` error that says how long to wait) rather than sleeping keeps the decision with
//! the caller: a tick loop skips a beat, an order resolution waits.
//!
//! Time is wall-clock milliseconds from a `hybrid_core::Clock`, so tests drive it with a
//! `SimClock`.

use std::sync::{
    atomic::{AtomicU32, Ordering},
    Mutex, PoisonError,
};

use hybrid_core::Timestamp;

/// The documented default `REQUEST_WEIGHT` limit per minute (as of 2026-07).
pub const DEFAULT_WEIGHT_LIMIT: u32 = 6000;

const MINUTE_MS: i64 = Timestamp::MINUTE_MS;

/// Why a request may not be sent now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refusal {
    /// Milliseconds until sending is allowed again.
    pub(crate) retry_after_ms: u64,
    /// Whether the refusal comes from an IP ban (HTTP 418).
    pub(crate) banned: bool,
}

/// Fixed-window weight accounting, shared by all requests of one client.
#[derive(Debug)]
pub(crate) struct WeightBudget {
    /// Weight allowed per window; updated from `exchangeInfo.rateLimits`.
    limit: AtomicU32,
    state: Mutex<BudgetState>,
}

#[derive(Debug, Default)]
struct BudgetState {
    /// Start of the current window, ms since the epoch, a multiple of 60 000.
    window_start_ms: i64,
    /// Weight used in the current window (ours, corrected by the server's header).
    used: u32,
    /// No request before this instant (ms since the epoch), set from `Retry-After`.
    blocked_until_ms: i64,
    /// Whether the block comes from a 418 ban.
    banned: bool,
}

impl WeightBudget {
    pub(crate) fn new(limit: u32) -> Self {
        Self {
            limit: AtomicU32::new(limit),
            state: Mutex::new(BudgetState::default()),
        }
    }

    /// Adopts the limit the exchange announces (`REQUEST_WEIGHT` per 1 MINUTE).
    pub(crate) fn set_limit(&self, limit: u32) {
        self.limit.store(limit, Ordering::Relaxed);
    }

    /// Reserves `weight` for a request about to be sent at `now`, or says why not.
    pub(crate) fn try_acquire(&self, now: Timestamp, weight: u32) -> Result<(), Refusal> {
        let mut state = self.lock();
        state.roll(now);
        let now_ms = now.as_millis();
        if now_ms < state.blocked_until_ms {
            return Err(Refusal {
                retry_after_ms: millis(state.blocked_until_ms - now_ms),
                banned: state.banned,
            });
        }
        if state.used.saturating_add(weight) > self.limit.load(Ordering::Relaxed) {
            return Err(Refusal {
                retry_after_ms: millis(state.window_start_ms + MINUTE_MS - now_ms),
                banned: false,
            });
        }
        state.used += weight;
        Ok(())
    }

    /// Adopts the server's count from `X-MBX-USED-WEIGHT-1M` (the header is the truth).
    pub(crate) fn observe_used(&self, now: Timestamp, used: u32) {
        let mut state = self.lock();
        state.roll(now);
        state.used = used;
    }

    /// Blocks every request for `retry_after_ms` after a 429 (or a 418 ban when `banned`).
    pub(crate) fn block(&self, now: Timestamp, retry_after_ms: u64, banned: bool) {
        let mut state = self.lock();
        let until = now
            .as_millis()
            .saturating_add(i64::try_from(retry_after_ms).unwrap_or(i64::MAX));
        if until >= state.blocked_until_ms {
            state.blocked_until_ms = until;
            state.banned = banned;
        }
    }

    /// Weight used in the current window, as far as we know.
    pub(crate) fn used(&self, now: Timestamp) -> u32 {
        let mut state = self.lock();
        state.roll(now);
        state.used
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BudgetState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl BudgetState {
    /// Starts a new window when `now` has left the current one.
    fn roll(&mut self, now: Timestamp) {
        let window = now.as_millis().div_euclid(MINUTE_MS) * MINUTE_MS;
        if window != self.window_start_ms {
            self.window_start_ms = window;
            self.used = 0;
        }
    }
}

fn millis(ms: i64) -> u64 {
    u64::try_from(ms.max(1)).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    #[test]
    fn refuses_past_the_limit_until_the_minute_resets() {
        let budget = WeightBudget::new(100);
        budget.try_acquire(at(60_000), 60).unwrap();
        budget.try_acquire(at(60_500), 40).unwrap();
        let refusal = budget.try_acquire(at(61_000), 1).unwrap_err();
        assert_eq!(refusal.retry_after_ms, 59_000);
        assert!(!refusal.banned);
        budget.try_acquire(at(120_000), 100).unwrap();
    }

    #[test]
    fn the_header_corrects_our_count() {
        let budget = WeightBudget::new(100);
        budget.try_acquire(at(0), 1).unwrap();
        budget.observe_used(at(10), 99);
        assert_eq!(budget.used(at(10)), 99);
        assert!(budget.try_acquire(at(20), 2).is_err());
        budget.observe_used(at(30), 10);
        budget.try_acquire(at(40), 2).unwrap();
    }

    #[test]
    fn retry_after_blocks_even_in_a_new_window() {
        let budget = WeightBudget::new(6000);
        budget.block(at(59_000), 120_000, true);
        let refusal = budget.try_acquire(at(61_000), 1).unwrap_err();
        assert_eq!(
            refusal,
            Refusal {
                retry_after_ms: 118_000,
                banned: true
            }
        );
        budget.try_acquire(at(179_000), 1).unwrap();
    }
}
