//! Drawdown trackers for [`crate::RiskGuard`]: the loss since the start of the UTC day
//! (spec §3.3, 10 %) and the loss from the portfolio's peak.
//!
//! Both measure `(reference − value) / reference × 100`, a positive percentage for a loss,
//! and latch once the limit is reached: the daily halt until the next UTC day, the peak halt
//! until an operator resumes. Both can also answer "would this value halt?" without changing
//! state, so a check inside a tick sees a loss before the tick's observation is recorded.

use hybrid_core::{Notional, Timestamp};
use rust_decimal::Decimal;

/// Loss since the start of the UTC day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DailyDrawdown {
    /// The start (midnight UTC) of the day the baseline belongs to; `None` before any value.
    day: Option<Timestamp>,
    /// The day's first portfolio value.
    baseline: Notional,
    /// The loss in percent that halted trading today, if any.
    halted: Option<Decimal>,
}

/// Loss from the highest portfolio value seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PeakDrawdown {
    peak: Notional,
    /// The loss in percent that halted trading, if any.
    halted: Option<Decimal>,
}

impl DailyDrawdown {
    /// Starts a new baseline at `value` on the first value of a later UTC day (or the very
    /// first value). Returns the new day's start when a day rolled over (not for the first).
    pub(crate) fn roll(&mut self, value: Notional, now: Timestamp) -> Option<Timestamp> {
        let day = now.start_of_utc_day();
        if self.day.is_some_and(|current| day <= current) {
            return None;
        }
        let first = self.day.is_none();
        *self = Self {
            day: Some(day),
            baseline: value,
            halted: None,
        };
        (!first).then_some(day)
    }

    /// Records `value` (same day as the last roll): a zero baseline is replaced by it (the
    /// original's rule); a loss reaching `limit_pct` latches the halt. Returns the loss when
    /// this value newly halted trading.
    pub(crate) fn observe(&mut self, value: Notional, limit_pct: Decimal) -> Option<Decimal> {
        if self.baseline.value() <= Decimal::ZERO {
            self.baseline = value;
            return None;
        }
        let loss = loss_pct(self.baseline, value);
        if self.halted.is_some() || loss < limit_pct {
            return None;
        }
        self.halted = Some(loss);
        self.halted
    }

    /// The loss if trading is halted at `now` with `value`, without changing state. A later
    /// UTC day is never halted: its baseline starts at its first value.
    pub(crate) fn loss_if_halted(
        &self,
        value: Notional,
        now: Timestamp,
        limit_pct: Decimal,
    ) -> Option<Decimal> {
        let same_day = self.day.is_some_and(|day| now.start_of_utc_day() <= day);
        if !same_day || self.baseline.value() <= Decimal::ZERO {
            return None;
        }
        let loss = loss_pct(self.baseline, value);
        self.halted.or((loss >= limit_pct).then_some(loss))
    }

    /// Whether today's halt is latched.
    pub(crate) const fn is_halted(&self) -> bool {
        self.halted.is_some()
    }
}

impl PeakDrawdown {
    /// Records `value`, raising the peak; returns the loss when this value newly halted.
    pub(crate) fn observe(&mut self, value: Notional, limit_pct: Decimal) -> Option<Decimal> {
        self.peak = self.peak.max(value);
        let loss = self.loss_if_halted(value, limit_pct)?;
        if self.halted.is_some() {
            return None;
        }
        self.halted = Some(loss);
        self.halted
    }

    /// The loss if trading is halted with `value`, without changing state.
    pub(crate) fn loss_if_halted(&self, value: Notional, limit_pct: Decimal) -> Option<Decimal> {
        let peak = self.peak.max(value);
        if peak.value() <= Decimal::ZERO {
            return None;
        }
        let loss = loss_pct(peak, value);
        self.halted.or((loss >= limit_pct).then_some(loss))
    }

    /// Clears the halt and restarts the peak at `value` (operator decision).
    pub(crate) fn resume(&mut self, value: Notional) {
        *self = Self {
            peak: value,
            halted: None,
        };
    }

    /// Whether the halt is latched.
    pub(crate) const fn is_halted(&self) -> bool {
        self.halted.is_some()
    }
}

/// `(reference − value) / reference × 100`: positive for a loss. `reference` is positive.
fn loss_pct(reference: Notional, value: Notional) -> Decimal {
    (reference.value() - value.value()) / reference.value() * Decimal::ONE_HUNDRED
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn n(v: Decimal) -> Notional {
        Notional::new(v)
    }

    #[test]
    fn daily_halts_at_the_limit_inclusive_and_latches() {
        let mut d = DailyDrawdown::default();
        let t = Timestamp::from_millis(0);
        assert_eq!(d.roll(n(dec!(1000)), t), None);
        assert_eq!(d.observe(n(dec!(1000)), dec!(10)), None);
        assert_eq!(d.observe(n(dec!(901)), dec!(10)), None);
        assert_eq!(d.observe(n(dec!(900)), dec!(10)), Some(dec!(10)));
        assert_eq!(d.observe(n(dec!(800)), dec!(10)), None);
        // Recovering does not lift the halt within the day.
        assert_eq!(d.loss_if_halted(n(dec!(1100)), t, dec!(10)), Some(dec!(10)));
        assert!(d.is_halted());
    }

    #[test]
    fn daily_rolls_only_forward() {
        let mut d = DailyDrawdown::default();
        let day2 = Timestamp::from_millis(2 * Timestamp::DAY_MS + 5);
        d.roll(n(dec!(1000)), day2);
        // A time in an earlier day (clock skew) does not reset.
        assert_eq!(d.roll(n(dec!(1)), Timestamp::from_millis(5)), None);
        let day3 = Timestamp::from_millis(3 * Timestamp::DAY_MS);
        assert_eq!(d.roll(n(dec!(500)), day3), Some(day3));
        assert_eq!(
            d.loss_if_halted(n(dec!(450)), day3, dec!(10)),
            Some(dec!(10))
        );
    }

    #[test]
    fn zero_baseline_takes_the_next_value() {
        let mut d = DailyDrawdown::default();
        d.roll(Notional::ZERO, Timestamp::from_millis(0));
        assert_eq!(d.observe(n(dec!(500)), dec!(10)), None);
        assert_eq!(d.observe(n(dec!(450)), dec!(10)), Some(dec!(10)));
    }

    #[test]
    fn peak_follows_the_high_and_resumes_on_request() {
        let mut p = PeakDrawdown::default();
        assert_eq!(p.observe(n(dec!(1000)), dec!(15)), None);
        assert_eq!(p.observe(n(dec!(2000)), dec!(15)), None);
        assert_eq!(p.observe(n(dec!(1700)), dec!(15)), Some(dec!(15)));
        assert!(p.is_halted());
        p.resume(n(dec!(1700)));
        assert!(!p.is_halted());
        assert_eq!(p.loss_if_halted(n(dec!(1600)), dec!(15)), None);
    }
}
