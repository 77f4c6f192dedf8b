//! The circuit breaker of one symbol (spec §2.9): a drop of at least the threshold (10 %)
//! between two consecutive prices trips it.
//!
//! The first price only initialises it. A tripping price is *not* accepted as the new
//! reference, so a crash is measured from before it started; rises never trip. Once tripped
//! it stays tripped until re-armed (an operator decision), then the next price initialises it
//! again.

use hybrid_core::Price;
use rust_decimal::Decimal;

/// Sudden-drop detector for one symbol.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CircuitBreaker {
    /// The last accepted price.
    last: Option<Price>,
    /// The drop in percent that tripped it, if it is tripped.
    tripped: Option<Decimal>,
}

impl CircuitBreaker {
    /// Feeds a price; returns `(last accepted price, drop %)` when this price trips it.
    pub(crate) fn on_price(
        &mut self,
        price: Price,
        limit_pct: Decimal,
    ) -> Option<(Price, Decimal)> {
        if self.tripped.is_some() {
            return None;
        }
        let Some(last) = self.last else {
            self.last = Some(price);
            return None;
        };
        let drop_pct = (last.value() - price.value()) / last.value() * Decimal::ONE_HUNDRED;
        if drop_pct >= limit_pct {
            self.tripped = Some(drop_pct);
            return Some((last, drop_pct));
        }
        self.last = Some(price);
        None
    }

    /// The drop that tripped it, while tripped.
    pub(crate) const fn tripped(&self) -> Option<Decimal> {
        self.tripped
    }

    /// The last accepted price.
    pub(crate) const fn last(&self) -> Option<Price> {
        self.last
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn p(v: Decimal) -> Price {
        Price::new(v).unwrap()
    }

    #[test]
    fn trips_on_a_ten_percent_drop_and_stays_tripped() {
        let mut b = CircuitBreaker::default();
        assert_eq!(b.on_price(p(dec!(100)), dec!(10)), None);
        assert_eq!(b.on_price(p(dec!(91)), dec!(10)), None);
        assert_eq!(
            b.on_price(p(dec!(81.9)), dec!(10)),
            Some((p(dec!(91)), dec!(10)))
        );
        assert_eq!(b.tripped(), Some(dec!(10)));
        assert_eq!(b.last(), Some(p(dec!(91))));
        // Already tripped: nothing new, nothing accepted.
        assert_eq!(b.on_price(p(dec!(10)), dec!(10)), None);
        assert_eq!(b.last(), Some(p(dec!(91))));
    }
}
