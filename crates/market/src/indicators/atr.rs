//! Average true range with Wilder's smoothing.

use hybrid_core::Candle;

use super::check_period;
use crate::{convert::to_f64, error::MarketError};

/// ATR (14 customary), in price units: the Wilder-smoothed true range.
///
/// True range = max(high − low, |high − previous close|, |low − previous close|); the very first
/// candle has no previous close, so its true range is high − low. The first ATR is the simple
/// mean of the first `period` true ranges, then `atr = (atr·(n−1) + tr)/n`.
#[derive(Debug, Clone)]
pub struct Atr {
    period: usize,
    previous_close: Option<f64>,
    n_ranges: usize,
    value: f64,
}

impl Atr {
    /// An ATR over `period` candles.
    ///
    /// # Errors
    /// [`MarketError::InvalidPeriod`] for a period of zero.
    pub fn new(period: usize) -> Result<Self, MarketError> {
        check_period("atr period", period, 1)?;
        Ok(Self {
            period,
            previous_close: None,
            n_ranges: 0,
            value: 0.0,
        })
    }

    /// Adds a candle given as high, low and close; the ATR once `period` candles were seen.
    pub fn update(&mut self, high: f64, low: f64, close: f64) -> Option<f64> {
        let range = self.previous_close.map_or(high - low, |prev| {
            (high - low)
                .max((high - prev).abs())
                .max((low - prev).abs())
        });
        self.previous_close = Some(close);
        self.n_ranges += 1;
        let n = self.period as f64;
        if self.n_ranges <= self.period {
            self.value += range / n;
        } else {
            self.value = (self.value * (n - 1.0) + range) / n;
        }
        self.value()
    }

    /// Adds a candle.
    pub fn update_candle(&mut self, candle: &Candle) -> Option<f64> {
        self.update(
            to_f64(candle.high().value()),
            to_f64(candle.low().value()),
            to_f64(candle.close().value()),
        )
    }

    /// The current ATR, `None` during warm-up.
    #[must_use]
    pub fn value(&self) -> Option<f64> {
        (self.n_ranges >= self.period).then_some(self.value)
    }
}

/// Wilder ATR of every prefix of `candles`: `None` for the first `period − 1`.
///
/// # Errors
/// [`MarketError::InvalidPeriod`] for a period of zero.
pub fn atr(candles: &[Candle], period: usize) -> Result<Vec<Option<f64>>, MarketError> {
    let mut indicator = Atr::new(period)?;
    Ok(candles.iter().map(|c| indicator.update_candle(c)).collect())
}

#[cfg(test)]
mod tests {
    use super::super::assert_close;
    use super::*;

    #[test]
    fn matches_hand_computed_wilder_values() {
        // TR: 2 (first: h−l), 2, 2 → ATR 2; then TR 4 (|7−11|) → (2·2+4)/3 = 8/3;
        // then a gap up: TR max(1, |15−8|, |14−8|) = 7 → (8/3·2+7)/3 = 37/9.
        let mut atr = Atr::new(3).unwrap();
        assert_eq!(atr.update(10.0, 8.0, 9.0), None);
        assert_eq!(atr.update(11.0, 9.0, 10.0), None);
        assert_close(atr.update(12.0, 10.0, 11.0), 2.0);
        assert_close(atr.update(11.0, 7.0, 8.0), 8.0 / 3.0);
        assert_close(atr.update(15.0, 14.0, 14.5), 37.0 / 9.0);
    }
}
