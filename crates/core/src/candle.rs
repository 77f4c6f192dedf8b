//! OHLCV candles.

use serde::{Deserialize, Serialize};

use crate::{
    error::CoreError,
    money::{Price, Quantity},
    time::Timestamp,
};

/// One candle (kline): prices in quote per base, volume in base units.
///
/// Only consistent candles can be built: `high ≥ max(open, close)`, `low ≤ min(open, close)`,
/// all prices positive and volume not negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candle {
    open_time: Timestamp,
    open: Price,
    high: Price,
    low: Price,
    close: Price,
    volume: Quantity,
}

impl Candle {
    /// A validated candle.
    ///
    /// # Errors
    /// [`CoreError::InvalidCandle`] naming the broken rule.
    pub fn new(
        open_time: Timestamp,
        open: Price,
        high: Price,
        low: Price,
        close: Price,
        volume: Quantity,
    ) -> Result<Self, CoreError> {
        let invalid = |reason: String| CoreError::InvalidCandle {
            open_time_ms: open_time.as_millis(),
            reason,
        };
        if high < open.max(close) {
            return Err(invalid(format!(
                "high {high} is below max(open {open}, close {close})"
            )));
        }
        if low > open.min(close) {
            return Err(invalid(format!(
                "low {low} is above min(open {open}, close {close})"
            )));
        }
        Ok(Self {
            open_time,
            open,
            high,
            low,
            close,
            volume,
        })
    }

    /// When the candle opened (UTC).
    #[must_use]
    pub const fn open_time(&self) -> Timestamp {
        self.open_time
    }
    /// First traded price.
    #[must_use]
    pub const fn open(&self) -> Price {
        self.open
    }
    /// Highest traded price.
    #[must_use]
    pub const fn high(&self) -> Price {
        self.high
    }
    /// Lowest traded price.
    #[must_use]
    pub const fn low(&self) -> Price {
        self.low
    }
    /// Last traded price.
    #[must_use]
    pub const fn close(&self) -> Price {
        self.close
    }
    /// Traded volume in base units.
    #[must_use]
    pub const fn volume(&self) -> Quantity {
        self.volume
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn p(v: rust_decimal::Decimal) -> Price {
        Price::new(v).unwrap()
    }

    #[test]
    fn consistent_candle_is_accepted() {
        let c = Candle::new(
            Timestamp::from_millis(0),
            p(dec!(10)),
            p(dec!(12)),
            p(dec!(9)),
            p(dec!(11)),
            Quantity::new(dec!(5)).unwrap(),
        )
        .unwrap();
        assert_eq!(c.close().value(), dec!(11));
    }

    #[test]
    fn high_below_close_is_refused() {
        let err = Candle::new(
            Timestamp::from_millis(7),
            p(dec!(10)),
            p(dec!(10.5)),
            p(dec!(9)),
            p(dec!(11)),
            Quantity::ZERO,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("high 10.5 is below max(open 10, close 11)"),
            "{err}"
        );
    }

    #[test]
    fn low_above_open_is_refused() {
        let err = Candle::new(
            Timestamp::from_millis(7),
            p(dec!(10)),
            p(dec!(12)),
            p(dec!(10.5)),
            p(dec!(11)),
            Quantity::ZERO,
        )
        .unwrap_err();
        assert!(err.to_string().contains("low 10.5 is above"), "{err}");
    }
}
