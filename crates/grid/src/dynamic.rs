//! Dynamic grid: the range and grid count from volatility (ATR) and the market regime.
//!
//! Pure functions over candles, in exact decimals. The numbers are the original's (spec §2.11)
//! with one fix: the regime multiplier takes a real [`Regime`] (the original passed the mode
//! name, so the multiplier was always 1.0).

use hybrid_core::{Candle, Regime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Bars averaged by the ATR.
pub const ATR_PERIOD: usize = 14;

/// Volatility class from ATR as a fraction of the price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum VolatilityClass {
    /// ATR% < 2 %.
    Low,
    /// 2 % ≤ ATR% < 4 %.
    Normal,
    /// 4 % ≤ ATR% < 6 %.
    High,
    /// ATR% ≥ 6 %.
    Extreme,
}

impl VolatilityClass {
    /// Classifies `atr_pct` (a fraction, 0.03 = 3 %) by the absolute thresholds 2/4/6 %.
    #[must_use]
    pub fn from_atr_pct(atr_pct: Decimal) -> Self {
        if atr_pct < Decimal::new(2, 2) {
            Self::Low
        } else if atr_pct < Decimal::new(4, 2) {
            Self::Normal
        } else if atr_pct < Decimal::new(6, 2) {
            Self::High
        } else {
            Self::Extreme
        }
    }

    /// Grid count for the class: more levels when the price moves more.
    #[must_use]
    pub const fn grid_count(self) -> u32 {
        match self {
            Self::Low => 7,
            Self::Normal => 10,
            Self::High => 12,
            Self::Extreme => 15,
        }
    }
}

/// Average true range (quote per base): the simple mean of the last 14 true ranges, or the
/// mean high − low when there are fewer than 15 candles; `None` without candles.
#[must_use]
pub fn atr(candles: &[Candle]) -> Option<Decimal> {
    if candles.is_empty() {
        return None;
    }
    if candles.len() <= ATR_PERIOD {
        let sum: Decimal = candles
            .iter()
            .map(|c| c.high().value() - c.low().value())
            .sum();
        return Some(sum / Decimal::from(candles.len()));
    }
    let true_ranges = candles
        .windows(2)
        .map(|w| true_range(&w[1], w[0].close().value()));
    let recent: Vec<Decimal> = true_ranges.skip(candles.len() - 1 - ATR_PERIOD).collect();
    Some(recent.iter().sum::<Decimal>() / Decimal::from(recent.len()))
}

fn true_range(candle: &Candle, previous_close: Decimal) -> Decimal {
    let (high, low) = (candle.high().value(), candle.low().value());
    (high - low)
        .max((high - previous_close).abs())
        .max((low - previous_close).abs())
}

/// ATR as a fraction of the last close, `None` without candles.
#[must_use]
pub fn atr_pct(candles: &[Candle]) -> Option<Decimal> {
    let last = candles.last()?.close().value();
    Some(atr(candles)? / last)
}

/// Spacing multiplier per regime: trends widen the grid, sideways markets tighten it.
#[must_use]
pub const fn regime_multiplier(regime: Option<Regime>) -> Decimal {
    match regime {
        Some(Regime::Bull | Regime::Bear) => Decimal::from_parts(11, 0, 0, false, 1),
        Some(Regime::Sideways) => Decimal::from_parts(9, 0, 0, false, 1),
        Some(Regime::Transition) | None => Decimal::ONE,
    }
}

/// `base × clamp(atr_pct / 0.03, 0.5, 2) × regime multiplier`, clamped to [0.005, 0.10];
/// all fractions.
#[must_use]
pub fn adjusted_spacing(base: Decimal, atr_pct: Decimal, regime: Option<Regime>) -> Decimal {
    let factor = (atr_pct / Decimal::new(3, 2)).clamp(Decimal::new(5, 1), Decimal::TWO);
    (base * factor * regime_multiplier(regime)).clamp(Decimal::new(5, 3), Decimal::new(10, 2))
}

/// The recommended grid half-range, in percent, from the candles (1 h bars in the original).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DynamicRange {
    /// Range in percent, 2 decimal places, within [1, 15] (in effect ≤ 10 by the spacing clamp).
    pub range_pct: Decimal,
    /// Grid count from the volatility class, or the base count without data.
    pub num_grids: u32,
    /// The class, `None` without data.
    pub class: Option<VolatilityClass>,
    /// ATR as a fraction of the price, `None` without data.
    pub atr_pct: Option<Decimal>,
    /// True when there was no data and the base values were returned.
    pub fallback: bool,
}

/// Range and grid count for a new grid. Without candles, the base values come back with
/// `fallback = true`.
#[must_use]
pub fn dynamic_range(
    candles: &[Candle],
    base_range_pct: Decimal,
    base_grids: u32,
    regime: Option<Regime>,
) -> DynamicRange {
    let Some(atr_pct) = atr_pct(candles) else {
        return DynamicRange {
            range_pct: base_range_pct,
            num_grids: base_grids,
            class: None,
            atr_pct: None,
            fallback: true,
        };
    };
    let spacing = adjusted_spacing(base_range_pct / Decimal::ONE_HUNDRED, atr_pct, regime);
    let range_pct = (spacing * Decimal::ONE_HUNDRED)
        .clamp(Decimal::ONE, Decimal::from(15))
        .round_dp(2);
    let class = VolatilityClass::from_atr_pct(atr_pct);
    DynamicRange {
        range_pct,
        num_grids: class.grid_count(),
        class: Some(class),
        atr_pct: Some(atr_pct),
        fallback: false,
    }
}

/// Whether a grid spanning `lower..upper` should be rebuilt at `price`: outside the range or
/// within 5 % of its width from an edge. The answer carries a reason with "below"/"above".
#[must_use]
pub fn rebuild_reason(lower: Decimal, upper: Decimal, price: Decimal) -> Option<String> {
    crate::bot::rebuild_reason(lower, upper, Decimal::new(5, 2), price)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hybrid_core::{Price, Quantity, Timestamp};
    use rust_decimal_macros::dec;

    fn candle(high: Decimal, low: Decimal, close: Decimal) -> Candle {
        let p = |v| Price::new(v).unwrap();
        Candle::new(
            Timestamp::from_millis(0),
            p(close),
            p(high),
            p(low),
            p(close),
            Quantity::ZERO,
        )
        .unwrap()
    }

    #[test]
    fn short_series_uses_the_mean_high_low_range() {
        let candles = [
            candle(dec!(102), dec!(98), dec!(100)),
            candle(dec!(101), dec!(99), dec!(100)),
        ];
        assert_eq!(atr(&candles), Some(dec!(3)));
        assert_eq!(atr(&[]), None);
    }

    #[test]
    fn long_series_uses_the_simple_mean_of_the_last_14_true_ranges() {
        let mut candles = vec![candle(dec!(200), dec!(100), dec!(150)); 2];
        candles.extend((0..14).map(|_| candle(dec!(101), dec!(99), dec!(100))));
        // The first of the last 14 true ranges gaps from a close of 150: |99 - 150| = 51.
        let expected = (dec!(51) + dec!(2) * dec!(13)) / dec!(14);
        assert_eq!(atr(&candles), Some(expected));
        assert_eq!(atr_pct(&candles), Some(expected / dec!(100)));
    }

    #[test]
    fn regimes_scale_and_clamps_hold() {
        assert_eq!(regime_multiplier(Some(Regime::Bull)), dec!(1.1));
        assert_eq!(regime_multiplier(Some(Regime::Sideways)), dec!(0.9));
        assert_eq!(regime_multiplier(None), Decimal::ONE);
        assert_eq!(adjusted_spacing(dec!(0.05), dec!(0.3), None), dec!(0.10));
        assert_eq!(
            adjusted_spacing(dec!(0.001), dec!(0.001), None),
            dec!(0.005)
        );
    }
}
