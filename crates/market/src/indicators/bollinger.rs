//! Bollinger bands.

use std::collections::VecDeque;

use super::{check_period, run_batch};
use crate::error::MarketError;

/// One Bollinger reading, in price units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BollingerBands {
    /// Middle band: the SMA.
    pub middle: f64,
    /// Middle + k standard deviations.
    pub upper: f64,
    /// Middle − k standard deviations.
    pub lower: f64,
}

/// Bollinger bands (20, 2 customary): SMA ± `k` × the **population** standard deviation of the
/// window (Bollinger's own definition and TA-Lib's; pandas' default sample deviation would be
/// wider by √(n/(n−1))).
///
/// Running sums of values and squares make each update O(1). The values are centred on the
/// first price seen so that large prices (BTC at 60 000) do not lose precision to cancellation.
#[derive(Debug, Clone)]
pub struct Bollinger {
    period: usize,
    k: f64,
    origin: Option<f64>,
    window: VecDeque<f64>,
    sum: f64,
    sum_sq: f64,
}

impl Bollinger {
    /// Bands over `period` closes at `k` standard deviations.
    ///
    /// # Errors
    /// [`MarketError::InvalidPeriod`] for a period of zero.
    pub fn new(period: usize, k: f64) -> Result<Self, MarketError> {
        check_period("bollinger period", period, 1)?;
        Ok(Self {
            period,
            k,
            origin: None,
            window: VecDeque::with_capacity(period + 1),
            sum: 0.0,
            sum_sq: 0.0,
        })
    }

    /// Adds a close; the bands once `period` closes have been seen.
    pub fn update(&mut self, close: f64) -> Option<BollingerBands> {
        let origin = *self.origin.get_or_insert(close);
        let x = close - origin;
        self.window.push_back(x);
        self.sum += x;
        self.sum_sq += x * x;
        if self.window.len() > self.period {
            let old = self.window.pop_front().unwrap_or(0.0);
            self.sum -= old;
            self.sum_sq -= old * old;
        }
        (self.window.len() == self.period).then(|| self.bands(origin))
    }

    fn bands(&self, origin: f64) -> BollingerBands {
        let n = self.period as f64;
        let mean = self.sum / n;
        let std = (self.sum_sq / n - mean * mean).max(0.0).sqrt();
        BollingerBands {
            middle: origin + mean,
            upper: origin + mean + self.k * std,
            lower: origin + mean - self.k * std,
        }
    }
}

/// Bollinger bands of every prefix.
///
/// # Errors
/// [`MarketError::InvalidPeriod`] for a period of zero.
pub fn bollinger(
    closes: &[f64],
    period: usize,
    k: f64,
) -> Result<Vec<Option<BollingerBands>>, MarketError> {
    Ok(run_batch(
        &mut Bollinger::new(period, k)?,
        closes,
        Bollinger::update,
    ))
}

#[cfg(test)]
mod tests {
    use super::super::assert_close;
    use super::*;

    #[test]
    fn matches_hand_computed_population_deviation() {
        // [1, 2, 3]: mean 2, variance 2/3, std 0.816496…; k = 2.
        let out = bollinger(&[1.0, 2.0, 3.0, 6.0], 3, 2.0).unwrap();
        let std = (2.0f64 / 3.0).sqrt();
        let b = out[2].unwrap();
        assert_close(Some(b.middle), 2.0);
        assert_close(Some(b.upper), 2.0 + 2.0 * std);
        assert_close(Some(b.lower), 2.0 - 2.0 * std);
        // [2, 3, 6]: mean 11/3, variance (25/9 + 4/9 + 49/9)/3 = 78/27.
        let b = out[3].unwrap();
        assert_close(Some(b.middle), 11.0 / 3.0);
        assert_close(Some(b.upper), 11.0 / 3.0 + 2.0 * (78.0f64 / 27.0).sqrt());
    }

    #[test]
    fn large_prices_keep_precision() {
        let closes = [60_000.01, 60_000.02, 60_000.03];
        let b = bollinger(&closes, 3, 2.0).unwrap()[2].unwrap();
        let std = (2.0f64 / 3.0).sqrt() * 0.01;
        assert!((b.upper - b.middle - 2.0 * std).abs() < 1e-9);
    }
}

#[cfg(test)]
mod property_tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn prop_bands_are_ordered_and_centred(
            closes in proptest::collection::vec(1.0f64..1e5, 1..60),
            period in 1usize..25,
        ) {
            for b in bollinger(&closes, period, 2.0).unwrap().into_iter().flatten() {
                prop_assert!(b.lower <= b.middle + 1e-9 && b.middle <= b.upper + 1e-9);
                prop_assert!(((b.upper - b.middle) - (b.middle - b.lower)).abs() < 1e-6);
            }
        }
    }
}
