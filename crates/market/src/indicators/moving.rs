//! Simple and exponential moving averages.

use std::collections::VecDeque;

use super::{check_period, run_batch};
use crate::error::MarketError;

/// Simple moving average over the last `period` values, kept as a running sum.
#[derive(Debug, Clone)]
pub struct Sma {
    period: usize,
    window: VecDeque<f64>,
    sum: f64,
}

impl Sma {
    /// An SMA over `period` values.
    ///
    /// # Errors
    /// [`MarketError::InvalidPeriod`] for a period of zero.
    pub fn new(period: usize) -> Result<Self, MarketError> {
        check_period("sma period", period, 1)?;
        Ok(Self {
            period,
            window: VecDeque::with_capacity(period + 1),
            sum: 0.0,
        })
    }

    /// Adds a value; the mean of the last `period` values once there are that many.
    pub fn update(&mut self, value: f64) -> Option<f64> {
        self.window.push_back(value);
        self.sum += value;
        if self.window.len() > self.period {
            self.sum -= self.window.pop_front().unwrap_or(0.0);
        }
        self.value()
    }

    /// The current mean, `None` during warm-up.
    #[must_use]
    pub fn value(&self) -> Option<f64> {
        let n = self.period as f64;
        (self.window.len() == self.period).then(|| self.sum / n)
    }
}

/// Exponential moving average with `alpha = 2/(period+1)`, seeded by the SMA of the first
/// `period` values (so the first output appears at the same index as the SMA's).
#[derive(Debug, Clone)]
pub struct Ema {
    alpha: f64,
    seed: Sma,
    value: Option<f64>,
}

impl Ema {
    /// An EMA over `period` values.
    ///
    /// # Errors
    /// [`MarketError::InvalidPeriod`] for a period of zero.
    pub fn new(period: usize) -> Result<Self, MarketError> {
        check_period("ema period", period, 1)?;
        let alpha = 2.0 / (period as f64 + 1.0);
        Ok(Self {
            alpha,
            seed: Sma::new(period)?,
            value: None,
        })
    }

    /// Adds a value; the EMA once warmed up.
    pub fn update(&mut self, value: f64) -> Option<f64> {
        self.value = match self.value {
            Some(previous) => Some(previous + self.alpha * (value - previous)),
            None => self.seed.update(value),
        };
        self.value
    }

    /// The current EMA, `None` during warm-up.
    #[must_use]
    pub const fn value(&self) -> Option<f64> {
        self.value
    }
}

/// SMA of every prefix: `None` for the first `period − 1` values.
///
/// # Errors
/// [`MarketError::InvalidPeriod`] for a period of zero.
pub fn sma(values: &[f64], period: usize) -> Result<Vec<Option<f64>>, MarketError> {
    Ok(run_batch(&mut Sma::new(period)?, values, Sma::update))
}

/// EMA of every prefix: `None` for the first `period − 1` values.
///
/// # Errors
/// [`MarketError::InvalidPeriod`] for a period of zero.
pub fn ema(values: &[f64], period: usize) -> Result<Vec<Option<f64>>, MarketError> {
    Ok(run_batch(&mut Ema::new(period)?, values, Ema::update))
}

#[cfg(test)]
mod tests {
    use super::super::assert_close;
    use super::*;

    #[test]
    fn sma_matches_hand_computed_means() {
        let out = sma(&[1.0, 2.0, 3.0, 4.0, 10.0], 3).unwrap();
        assert_eq!(out[..2], [None, None]);
        assert_close(out[2], 2.0);
        assert_close(out[3], 3.0);
        assert_close(out[4], 17.0 / 3.0);
    }

    #[test]
    fn ema_is_seeded_by_the_sma_then_smooths() {
        // alpha = 2/(3+1) = 0.5; seed (2+4+6)/3 = 4; then 4 + 0.5·(8−4) = 6; 6 + 0.5·(12−6) = 9.
        let out = ema(&[2.0, 4.0, 6.0, 8.0, 12.0], 3).unwrap();
        assert_eq!(out[..2], [None, None]);
        assert_close(out[2], 4.0);
        assert_close(out[3], 6.0);
        assert_close(out[4], 9.0);
    }

    #[test]
    fn zero_period_is_refused() {
        assert!(Sma::new(0).is_err());
        assert!(Ema::new(0).is_err());
    }
}

#[cfg(test)]
mod property_tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn prop_streaming_sma_equals_window_mean(
            values in proptest::collection::vec(-1e6f64..1e6, 1..60),
            period in 1usize..10,
        ) {
            let out = sma(&values, period).unwrap();
            for (i, got) in out.iter().enumerate() {
                if i + 1 < period {
                    prop_assert!(got.is_none());
                } else {
                    let window = &values[i + 1 - period..=i];
                    let want = window.iter().sum::<f64>() / period as f64;
                    prop_assert!((got.unwrap() - want).abs() < 1e-6);
                }
            }
        }

        #[test]
        fn prop_ema_stays_within_the_range_of_its_inputs(
            values in proptest::collection::vec(-1e6f64..1e6, 1..60),
            period in 1usize..10,
        ) {
            let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            for v in ema(&values, period).unwrap().into_iter().flatten() {
                prop_assert!(v >= lo - 1e-6 && v <= hi + 1e-6);
            }
        }
    }
}
