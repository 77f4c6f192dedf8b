//! Grid levels: the prices a grid trades at and the quantity each level buys.

use hybrid_core::{FilterViolation, Price, Quantity, Side, SymbolFilters};
use rust_decimal::{prelude::MathematicalOps, Decimal};
use serde::{Deserialize, Serialize};

use crate::config::Spacing;

/// One usable level of a grid: a tick-rounded price and the lot-rounded quantity it buys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridLevel {
    /// Position in the grid, 0 = lowest; follow-ups go to `index ± 1`.
    pub index: usize,
    /// The limit price, rounded down to the tick (quote per base).
    pub price: Price,
    /// The base quantity one buy at this level takes, `floor(investment / N / price)` to the
    /// step; it passed every filter at `price`.
    pub quantity: Quantity,
}

/// A candidate level that the symbol filters refused, kept so the operator sees why the grid
/// has fewer levels than asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedLevel {
    /// The unrounded candidate price.
    pub price: Decimal,
    /// The candidate quantity after lot rounding.
    pub quantity: Decimal,
    /// The filter that refused it.
    pub reason: FilterViolation,
}

/// The candidate prices `lower … upper` (N+1 of them), unrounded; `None` if the geometric
/// ratio cannot be computed in decimal range (absurd inputs, e.g. 1e-20…1e20).
pub(crate) fn candidate_prices(
    lower: Decimal,
    upper: Decimal,
    num_grids: u32,
    spacing: Spacing,
) -> Option<Vec<Decimal>> {
    let n = Decimal::from(num_grids);
    match spacing {
        Spacing::Arithmetic => {
            let step = (upper - lower) / n;
            Some(
                (0..=num_grids)
                    .map(|i| lower + step * Decimal::from(i))
                    .collect(),
            )
        }
        Spacing::Geometric => {
            let ratio = upper.checked_div(lower)?.checked_powd(Decimal::ONE / n)?;
            let mut prices = (0..num_grids)
                .map(|i| lower.checked_mul(ratio.checked_powu(u64::from(i))?))
                .collect::<Option<Vec<Decimal>>>()?;
            // Pin the top to `upper` exactly rather than trusting the last power.
            prices.push(upper);
            Some(prices)
        }
    }
}

/// Builds the usable levels: each candidate gets `per_level / price` of base, rounded through
/// the filters; candidates that break a filter (typically min quantity or min notional) are
/// returned as dropped with the violation.
pub(crate) fn build_levels(
    candidates: &[Decimal],
    per_level: Decimal,
    filters: &SymbolFilters,
) -> (Vec<GridLevel>, Vec<DroppedLevel>) {
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    for &candidate in candidates {
        match level_at(candidate, per_level, filters) {
            Ok((price, quantity)) => kept.push(GridLevel {
                index: kept.len(),
                price,
                quantity,
            }),
            Err((quantity, reason)) => dropped.push(DroppedLevel {
                price: candidate,
                quantity,
                reason,
            }),
        }
    }
    (kept, dropped)
}

fn level_at(
    candidate: Decimal,
    per_level: Decimal,
    filters: &SymbolFilters,
) -> Result<(Price, Quantity), (Decimal, FilterViolation)> {
    let out_of_range = FilterViolation::OutOfRange {
        what: "quantity",
        value: per_level,
    };
    let raw_qty = per_level
        .checked_div(candidate)
        .filter(|_| candidate > Decimal::ZERO)
        .ok_or((Decimal::ZERO, out_of_range))?;
    let quantity = filters
        .round_quantity(raw_qty)
        .map_err(|v| (Decimal::ZERO, v))?;
    if quantity.is_zero() {
        let reason = FilterViolation::QuantityBelowMin {
            quantity: Decimal::ZERO,
            min: filters.step_size,
        };
        return Err((Decimal::ZERO, reason));
    }
    let price = filters
        .round_price(Side::Buy, candidate)
        .map_err(|v| (quantity.value(), v))?;
    let order = filters
        .check(Side::Buy, price, quantity)
        .map_err(|v| (quantity.value(), v))?;
    Ok((order.price(), order.quantity()))
}

/// The level whose price is nearest to `price` if it lies within `tolerance` (a fraction,
/// 0.001 = 0.1 %) of it. Relative, so it works for BTC and SHIB alike; nearest rather than
/// first, so close levels are never confused (the original took the first match).
pub(crate) fn nearest_level(
    levels: &[GridLevel],
    price: Decimal,
    tolerance: Decimal,
) -> Option<usize> {
    levels
        .iter()
        .map(|l| (l.index, ((l.price.value() - price) / l.price.value()).abs()))
        .filter(|&(_, distance)| distance < tolerance)
        .min_by(|a, b| a.1.cmp(&b.1))
        .map(|(index, _)| index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hybrid_core::Symbol;
    use rust_decimal_macros::dec;

    fn filters() -> SymbolFilters {
        let mut f =
            SymbolFilters::with_steps(Symbol::new("BTCUSDT").unwrap(), dec!(0.01), dec!(0.00001));
        f.min_notional = dec!(5);
        f
    }

    #[test]
    fn geometric_candidates_have_a_constant_ratio_and_hit_both_ends() {
        let prices = candidate_prices(dec!(100), dec!(121), 2, Spacing::Geometric).unwrap();
        assert_eq!(prices.len(), 3);
        assert_eq!(prices[0], dec!(100));
        assert!((prices[1] - dec!(110)).abs() < dec!(0.0000001));
        assert_eq!(prices[2], dec!(121));
    }

    #[test]
    fn nearest_level_prefers_the_closest_within_tolerance() {
        let (levels, _) = build_levels(&[dec!(100), dec!(100.05)], dec!(50), &filters());
        assert_eq!(nearest_level(&levels, dec!(100.04), dec!(0.001)), Some(1));
        assert_eq!(nearest_level(&levels, dec!(99.99), dec!(0.001)), Some(0));
        assert_eq!(nearest_level(&levels, dec!(120), dec!(0.001)), None);
    }

    #[test]
    fn zero_quantity_is_dropped_with_a_reason() {
        let (kept, dropped) = build_levels(&[dec!(40000)], dec!(0.1), &filters());
        assert!(kept.is_empty());
        assert_eq!(dropped.len(), 1);
        assert_eq!(dropped[0].reason.binance_filter(), "LOT_SIZE");
    }
}
