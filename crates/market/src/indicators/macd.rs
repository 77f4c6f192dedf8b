//! Moving average convergence/divergence.

use super::{check_period, moving::Ema, run_batch};
use crate::error::MarketError;

/// One MACD reading, in price units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MacdValue {
    /// Fast EMA − slow EMA.
    pub macd: f64,
    /// EMA of the MACD line.
    pub signal: f64,
    /// MACD − signal; its sign change is the classic crossover.
    pub histogram: f64,
}

/// MACD (12, 26, 9 customary): two EMAs of the close and an EMA of their difference.
/// The first value appears once the signal EMA has warmed up on MACD values.
#[derive(Debug, Clone)]
pub struct Macd {
    fast: Ema,
    slow: Ema,
    signal: Ema,
}

impl Macd {
    /// A MACD with the given EMA periods.
    ///
    /// # Errors
    /// [`MarketError::InvalidPeriod`] for a zero period or a fast period not shorter than the
    /// slow one.
    pub fn new(fast: usize, slow: usize, signal: usize) -> Result<Self, MarketError> {
        check_period("macd slow period", slow, fast.saturating_add(1))?;
        Ok(Self {
            fast: Ema::new(fast)?,
            slow: Ema::new(slow)?,
            signal: Ema::new(signal)?,
        })
    }

    /// Adds a close; the reading once all three EMAs are warm.
    pub fn update(&mut self, close: f64) -> Option<MacdValue> {
        // Both EMAs must see every close, so update both before bailing out on warm-up.
        let (fast, slow) = (self.fast.update(close), self.slow.update(close));
        let macd = fast? - slow?;
        let signal = self.signal.update(macd)?;
        Some(MacdValue {
            macd,
            signal,
            histogram: macd - signal,
        })
    }
}

/// MACD of every prefix.
///
/// # Errors
/// As [`Macd::new`].
pub fn macd(
    closes: &[f64],
    fast: usize,
    slow: usize,
    signal: usize,
) -> Result<Vec<Option<MacdValue>>, MarketError> {
    Ok(run_batch(
        &mut Macd::new(fast, slow, signal)?,
        closes,
        Macd::update,
    ))
}

#[cfg(test)]
mod tests {
    use super::super::assert_close;
    use super::*;

    #[test]
    fn matches_hand_computed_values() {
        // fast EMA(2) α=⅔: 1.5, 2.5, 3.5, 4.5, 3.5; slow EMA(3) α=½: 2, 3, 4, 3.5.
        // MACD: 0.5, 0.5, 0.5, 0; signal EMA(2) seeded by (0.5+0.5)/2 at index 3, then ⅔·0 + ⅓·0.5.
        let out = macd(&[1.0, 2.0, 3.0, 4.0, 5.0, 3.0], 2, 3, 2).unwrap();
        assert!(out[..3].iter().all(Option::is_none));
        let at3 = out[3].unwrap();
        assert_close(Some(at3.macd), 0.5);
        assert_close(Some(at3.signal), 0.5);
        assert_close(Some(at3.histogram), 0.0);
        let at5 = out[5].unwrap();
        assert_close(Some(at5.macd), 0.0);
        assert_close(Some(at5.signal), 0.5 / 3.0);
        assert_close(Some(at5.histogram), -0.5 / 3.0);
    }

    #[test]
    fn fast_must_be_shorter_than_slow() {
        assert!(Macd::new(26, 12, 9).is_err());
        assert!(Macd::new(12, 12, 9).is_err());
        assert!(Macd::new(12, 26, 9).is_ok());
    }
}
