//! Daily candles (UTC days) from finer candles (1 m, 5 m, 1 h …).

use hybrid_core::{Candle, Quantity, Timestamp};

use crate::error::MarketError;

/// Folds finer candles into UTC-day candles as they stream in.
///
/// A day's candle opens at 00:00 UTC; open is the day's first open, close its last close, high
/// and low the extremes and volume the sum. Missing intervals inside a day (exchange outages)
/// are simply absent from the sums; a day with no candles at all produces no daily candle.
#[derive(Debug, Clone, Default)]
pub struct DailyCandleAggregator {
    current: Option<Candle>,
    last_open_time: Option<Timestamp>,
}

impl DailyCandleAggregator {
    /// Adds a candle; returns the previous day's candle when this one starts a new day.
    ///
    /// # Errors
    /// [`MarketError::OutOfOrder`] when the candle does not open after the previous one.
    pub fn push(&mut self, candle: &Candle) -> Result<Option<Candle>, MarketError> {
        if let Some(previous) = self.last_open_time {
            if candle.open_time() <= previous {
                return Err(MarketError::OutOfOrder {
                    previous,
                    got: candle.open_time(),
                });
            }
        }
        self.last_open_time = Some(candle.open_time());
        let day = candle.open_time().start_of_utc_day();
        match self.current {
            Some(current) if current.open_time() == day => {
                self.current = Some(merge(&current, candle)?);
                Ok(None)
            }
            finished => {
                self.current = Some(start_day(day, candle)?);
                Ok(finished)
            }
        }
    }

    /// The day in progress (possibly incomplete), if any.
    #[must_use]
    pub const fn finish(self) -> Option<Candle> {
        self.current
    }
}

/// Daily candles of a whole series, the last day included even if it is incomplete (check its
/// open time against "now" before treating it as closed).
///
/// # Errors
/// As [`DailyCandleAggregator::push`].
pub fn aggregate_daily<'a>(
    candles: impl IntoIterator<Item = &'a Candle>,
) -> Result<Vec<Candle>, MarketError> {
    let mut aggregator = DailyCandleAggregator::default();
    let mut days = Vec::new();
    for candle in candles {
        days.extend(aggregator.push(candle)?);
    }
    days.extend(aggregator.finish());
    Ok(days)
}

fn start_day(day: Timestamp, candle: &Candle) -> Result<Candle, MarketError> {
    Ok(Candle::new(
        day,
        candle.open(),
        candle.high(),
        candle.low(),
        candle.close(),
        candle.volume(),
    )?)
}

fn merge(day: &Candle, candle: &Candle) -> Result<Candle, MarketError> {
    let volume = Quantity::new(day.volume().value() + candle.volume().value())?;
    Ok(Candle::new(
        day.open_time(),
        day.open(),
        day.high().max(candle.high()),
        day.low().min(candle.low()),
        candle.close(),
        volume,
    )?)
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Candle builders shared by the crate's unit tests.
    use hybrid_core::{Candle, Price, Quantity, Timestamp};
    use rust_decimal::Decimal;

    /// A candle at `open_time_ms` with the given prices and volume.
    pub(crate) fn candle(open_time_ms: i64, o: f64, h: f64, l: f64, c: f64, v: f64) -> Candle {
        let d = |x: f64| Decimal::try_from(x).unwrap();
        Candle::new(
            Timestamp::from_millis(open_time_ms),
            Price::new(d(o)).unwrap(),
            Price::new(d(h)).unwrap(),
            Price::new(d(l)).unwrap(),
            Price::new(d(c)).unwrap(),
            Quantity::new(d(v)).unwrap(),
        )
        .unwrap()
    }

    /// Daily candles closing at `closes`, one per day from day 0, volume 1.
    pub(crate) fn daily_closes(closes: &[f64]) -> Vec<Candle> {
        closes
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                let day = i64::try_from(i).unwrap() * Timestamp::DAY_MS;
                candle(day, c, c, c, c, 1.0)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::test_support::candle;
    use super::*;

    const H: i64 = Timestamp::HOUR_MS;
    const D: i64 = Timestamp::DAY_MS;

    #[test]
    fn hourly_candles_fold_into_utc_days() {
        let hourly = [
            candle(22 * H, 10.0, 11.0, 9.0, 10.5, 1.0),
            candle(23 * H, 10.5, 12.0, 10.0, 11.0, 2.0),
            candle(D, 11.0, 11.5, 8.0, 9.0, 3.0),
            candle(D + 5 * H, 9.0, 9.5, 8.5, 9.2, 4.0),
        ];
        let days = aggregate_daily(&hourly).unwrap();
        assert_eq!(days.len(), 2);
        assert_eq!(days[0].open_time().as_millis(), 0);
        assert_eq!(days[0].open().value(), dec!(10));
        assert_eq!(days[0].high().value(), dec!(12));
        assert_eq!(days[0].low().value(), dec!(9));
        assert_eq!(days[0].close().value(), dec!(11));
        assert_eq!(days[0].volume().value(), dec!(3));
        assert_eq!(days[1].open_time().as_millis(), D);
        assert_eq!(days[1].low().value(), dec!(8));
        assert_eq!(days[1].close().value(), dec!(9.2));
        assert_eq!(days[1].volume().value(), dec!(7));
    }

    #[test]
    fn streaming_reports_a_day_when_the_next_one_starts() {
        let mut agg = DailyCandleAggregator::default();
        assert_eq!(agg.push(&candle(H, 1.0, 1.0, 1.0, 1.0, 1.0)).unwrap(), None);
        let done = agg.push(&candle(D, 2.0, 2.0, 2.0, 2.0, 1.0)).unwrap();
        assert_eq!(done.map(|c| c.open_time().as_millis()), Some(0));
        assert_eq!(agg.finish().map(|c| c.open_time().as_millis()), Some(D));
    }

    #[test]
    fn out_of_order_candles_are_refused() {
        let mut agg = DailyCandleAggregator::default();
        agg.push(&candle(2 * H, 1.0, 1.0, 1.0, 1.0, 1.0)).unwrap();
        let err = agg.push(&candle(H, 1.0, 1.0, 1.0, 1.0, 1.0)).unwrap_err();
        assert!(matches!(err, MarketError::OutOfOrder { .. }), "{err}");
    }
}

#[cfg(test)]
mod property_tests {
    use proptest::prelude::*;

    use super::test_support::candle;
    use super::*;

    proptest! {
        #[test]
        fn prop_days_conserve_volume_and_extremes(
            steps in proptest::collection::vec((1i64..30, 1.0f64..100.0, 0.0f64..5.0), 1..120),
        ) {
            let mut t = 0;
            let hourly: Vec<Candle> = steps
                .iter()
                .map(|&(gap_hours, price, volume)| {
                    t += gap_hours * Timestamp::HOUR_MS;
                    candle(t, price, price * 1.01, price * 0.99, price, volume)
                })
                .collect();
            let days = aggregate_daily(&hourly).unwrap();
            let volume = |cs: &[Candle]| cs.iter().map(|c| c.volume().value()).sum::<rust_decimal::Decimal>();
            prop_assert_eq!(volume(&days), volume(&hourly));
            prop_assert!(days.windows(2).all(|w| w[0].open_time() < w[1].open_time()));
            for c in &hourly {
                let day = days.iter().find(|d| d.open_time() == c.open_time().start_of_utc_day()).unwrap();
                prop_assert!(day.high() >= c.high() && day.low() <= c.low());
            }
        }
    }
}
