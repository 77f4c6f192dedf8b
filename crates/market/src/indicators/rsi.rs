//! Relative strength index with Wilder's smoothing.

use super::{check_period, run_batch};
use crate::error::MarketError;

/// RSI in [0, 100] over `period` price changes, Wilder-smoothed: the first average gain and
/// loss are simple means of the first `period` changes, then `avg = (avg·(n−1) + x)/n`.
///
/// The first value needs `period + 1` prices. A window without losses reads 100, one without
/// any change reads 50 (neither side has strength).
#[derive(Debug, Clone)]
pub struct Rsi {
    period: usize,
    previous: Option<f64>,
    n_changes: usize,
    avg_gain: f64,
    avg_loss: f64,
}

impl Rsi {
    /// An RSI over `period` changes (14 is customary).
    ///
    /// # Errors
    /// [`MarketError::InvalidPeriod`] for a period of zero.
    pub fn new(period: usize) -> Result<Self, MarketError> {
        check_period("rsi period", period, 1)?;
        Ok(Self {
            period,
            previous: None,
            n_changes: 0,
            avg_gain: 0.0,
            avg_loss: 0.0,
        })
    }

    /// Adds a close; the RSI once `period` changes have been seen.
    pub fn update(&mut self, close: f64) -> Option<f64> {
        let previous = self.previous.replace(close)?;
        let change = close - previous;
        self.n_changes += 1;
        let n = self.period as f64;
        let (gain, loss) = (change.max(0.0), (-change).max(0.0));
        if self.n_changes <= self.period {
            // Seeding: accumulate the simple mean of the first `period` changes.
            self.avg_gain += gain / n;
            self.avg_loss += loss / n;
        } else {
            self.avg_gain = (self.avg_gain * (n - 1.0) + gain) / n;
            self.avg_loss = (self.avg_loss * (n - 1.0) + loss) / n;
        }
        self.value()
    }

    /// The current RSI, `None` during warm-up.
    #[must_use]
    pub fn value(&self) -> Option<f64> {
        if self.n_changes < self.period {
            return None;
        }
        Some(rsi_from_averages(self.avg_gain, self.avg_loss))
    }
}

fn rsi_from_averages(avg_gain: f64, avg_loss: f64) -> f64 {
    if avg_loss == 0.0 {
        return if avg_gain == 0.0 { 50.0 } else { 100.0 };
    }
    100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
}

/// Wilder RSI of every prefix: `None` for the first `period` closes.
///
/// # Errors
/// [`MarketError::InvalidPeriod`] for a period of zero.
pub fn rsi(closes: &[f64], period: usize) -> Result<Vec<Option<f64>>, MarketError> {
    Ok(run_batch(&mut Rsi::new(period)?, closes, Rsi::update))
}

#[cfg(test)]
mod tests {
    use super::super::assert_close;
    use super::*;

    #[test]
    fn matches_hand_computed_wilder_values() {
        // Changes +1 −1 +2 | +1 −2. Seed: gain 3/3 = 1, loss 1/3 → RS 3 → 75.
        // Then gain (1·2+1)/3 = 1, loss (⅓·2)/3 = 2/9 → RS 4.5 → 81.818…
        // Then gain (1·2)/3 = ⅔, loss (2/9·2+2)/3 = 22/27 → RS 9/11 → 45.
        let out = rsi(&[10.0, 11.0, 10.0, 12.0, 13.0, 11.0], 3).unwrap();
        assert_eq!(out[..3], [None, None, None]);
        assert_close(out[3], 75.0);
        assert_close(out[4], 100.0 - 100.0 / 5.5);
        assert_close(out[5], 45.0);
    }

    #[test]
    fn flat_and_rising_series_have_defined_values() {
        assert_close(rsi(&[5.0; 4], 3).unwrap()[3], 50.0);
        assert_close(rsi(&[1.0, 2.0, 3.0, 4.0], 3).unwrap()[3], 100.0);
    }
}

#[cfg(test)]
mod property_tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn prop_rsi_is_between_0_and_100(
            closes in proptest::collection::vec(1.0f64..1e5, 2..80),
            period in 1usize..15,
        ) {
            for v in rsi(&closes, period).unwrap().into_iter().flatten() {
                prop_assert!((0.0..=100.0).contains(&v), "{}", v);
            }
        }
    }
}
