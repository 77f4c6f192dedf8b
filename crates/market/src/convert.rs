//! The `f64` ↔ `Decimal` boundary: statistics run in `f64`, money and scores leave as `Decimal`.

use rust_decimal::{prelude::ToPrimitive, Decimal};

/// Decimal places kept when a statistic becomes a `Decimal`: far beyond any threshold the
/// callers compare against (0.75, 0.7), and short enough to print.
const STAT_DECIMAL_PLACES: u32 = 6;

/// A decimal as `f64` for statistics. Every `Decimal` fits (with rounding) in an `f64`.
pub(crate) fn to_f64(value: Decimal) -> f64 {
    value.to_f64().unwrap_or(f64::NAN)
}

/// A statistic as a `Decimal` rounded to six places; `None` for NaN or infinity.
pub(crate) fn to_decimal(value: f64) -> Option<Decimal> {
    if !value.is_finite() {
        return None;
    }
    Decimal::try_from(value)
        .ok()
        .map(|d| d.round_dp(STAT_DECIMAL_PLACES).normalize())
}

/// Like [`to_decimal`] but zero for non-finite input, for figures already known to be finite.
pub(crate) fn to_decimal_or_zero(value: f64) -> Decimal {
    to_decimal(value).unwrap_or(Decimal::ZERO)
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn round_trips_and_rounds() {
        assert_eq!(to_f64(dec!(1.5)), 1.5);
        assert_eq!(to_decimal(0.123_456_789), Some(dec!(0.123457)));
        assert_eq!(to_decimal(f64::NAN), None);
        assert_eq!(to_decimal_or_zero(f64::INFINITY), Decimal::ZERO);
    }
}
