//! Grid configuration: raw parameters, and the validated [`GridConfig`] with its levels.

use hybrid_core::{Notional, Price, Quantity, SymbolFilters, Timestamp};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    error::GridError,
    levels::{build_levels, candidate_prices, DroppedLevel, GridLevel},
};

/// The taker fee rate of Binance spot without BNB discount (0.1 %), a fraction.
pub(crate) const DEFAULT_FEE_RATE: Decimal = Decimal::from_parts(1, 0, 0, false, 3);
/// Extra profit a step must earn beyond the round-trip fees (0.1 %), a fraction; with the
/// default fee this gives the original's minimum profitable spacing of 0.3 %.
pub(crate) const DEFAULT_PROFIT_MARGIN: Decimal = Decimal::from_parts(1, 0, 0, false, 3);
/// Relative tolerance for matching a price to a level (0.1 %), a fraction.
pub(crate) const DEFAULT_MATCH_TOLERANCE: Decimal = Decimal::from_parts(1, 0, 0, false, 3);
/// A fall between two ticks of this many percent halts the grid.
pub(crate) const DEFAULT_CIRCUIT_BREAKER_PCT: Decimal = Decimal::from_parts(10, 0, 0, false, 0);
/// Fraction of the range near either edge that triggers a rebuild (5 %).
pub(crate) const DEFAULT_REBUILD_EDGE: Decimal = Decimal::from_parts(5, 0, 0, false, 2);

/// How the levels between `lower` and `upper` are spaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Spacing {
    /// Equal price differences: `lower + i × (upper − lower) / N`.
    Arithmetic,
    /// Equal price ratios: `lower × (upper / lower)^(i / N)`; every step earns the same percent.
    Geometric,
}

/// Raw grid parameters as an operator (or the dynamic range) chooses them; turn them into a
/// [`GridConfig`] with [`GridConfig::new`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridParams {
    /// Lowest level price (quote per base).
    pub lower: Decimal,
    /// Highest level price (quote per base).
    pub upper: Decimal,
    /// Number of intervals N; the grid has N + 1 candidate levels.
    pub num_grids: u32,
    /// Level spacing.
    pub spacing: Spacing,
    /// Quote the grid starts with (its cash); may be 0 for a rebuilt grid that holds only base.
    pub investment: Decimal,
    /// Capital the levels are sized by: each level's quantity is worth `sizing_capital / N`.
    /// Equal to `investment` for a new grid; a rebuilt grid passes its whole equity (cash plus
    /// inventory at the price), so levels keep their size while buys are capped by free cash.
    pub sizing_capital: Decimal,
    /// Base already held by the grid at start; only this can back initial sells.
    pub initial_base: Decimal,
    /// Fee rate per trade as a fraction (0.001 = 0.1 %).
    pub fee_rate: Decimal,
    /// Profit a step must make beyond the round-trip fees, as a fraction.
    pub profit_margin: Decimal,
    /// Relative tolerance for matching a price to a level, as a fraction.
    pub match_tolerance: Decimal,
    /// A fall of at least this many percent between two prices halts the grid.
    pub circuit_breaker_pct: Decimal,
    /// Fraction of the range near an edge that asks for a rebuild (0.05 = 5 %).
    pub rebuild_edge: Decimal,
    /// How often the rebuild condition is checked, in milliseconds (60 min).
    pub rebuild_check_interval_ms: i64,
}

impl GridParams {
    /// Arithmetic parameters with the original's defaults for everything else.
    #[must_use]
    pub fn new(lower: Decimal, upper: Decimal, num_grids: u32, investment: Decimal) -> Self {
        Self {
            lower,
            upper,
            num_grids,
            spacing: Spacing::Arithmetic,
            investment,
            sizing_capital: investment,
            initial_base: Decimal::ZERO,
            fee_rate: DEFAULT_FEE_RATE,
            profit_margin: DEFAULT_PROFIT_MARGIN,
            match_tolerance: DEFAULT_MATCH_TOLERANCE,
            circuit_breaker_pct: DEFAULT_CIRCUIT_BREAKER_PCT,
            rebuild_edge: DEFAULT_REBUILD_EDGE,
            rebuild_check_interval_ms: Timestamp::HOUR_MS,
        }
    }

    /// Parameters centred on `price` with a half-width of `range_pct` percent
    /// (`lower = p × (1 − r/100)`, `upper = p × (1 + r/100)`), as the original's initialise did.
    #[must_use]
    pub fn around(price: Price, range_pct: Decimal, num_grids: u32, investment: Decimal) -> Self {
        let half = range_pct / Decimal::ONE_HUNDRED;
        let p = price.value();
        Self::new(
            p * (Decimal::ONE - half),
            p * (Decimal::ONE + half),
            num_grids,
            investment,
        )
    }

    /// Checks every field's range; the levels are checked by [`GridConfig::new`].
    fn validate(&self) -> Result<(), GridError> {
        let positive = [
            ("lower", self.lower),
            ("sizing_capital", self.sizing_capital),
        ];
        for (field, value) in positive {
            if value <= Decimal::ZERO {
                return Err(invalid(field, value, "must be greater than zero"));
            }
        }
        if self.investment.is_sign_negative() && !self.investment.is_zero() {
            return Err(invalid(
                "investment",
                self.investment,
                "must not be negative",
            ));
        }
        if self.upper <= self.lower {
            return Err(invalid("upper", self.upper, "must be above lower"));
        }
        if !(2..=500).contains(&self.num_grids) {
            return Err(invalid(
                "num_grids",
                self.num_grids,
                "must be between 2 and 500",
            ));
        }
        self.validate_fractions()
    }

    fn validate_fractions(&self) -> Result<(), GridError> {
        let fractions = [
            ("initial_base", self.initial_base, None),
            ("fee_rate", self.fee_rate, Some(Decimal::ONE)),
            ("profit_margin", self.profit_margin, Some(Decimal::ONE)),
            ("match_tolerance", self.match_tolerance, Some(Decimal::ONE)),
            (
                "rebuild_edge",
                self.rebuild_edge,
                Some(Decimal::from_parts(5, 0, 0, false, 1)),
            ),
        ];
        for (field, value, max) in fractions {
            if value.is_sign_negative() && !value.is_zero() {
                return Err(invalid(field, value, "must not be negative"));
            }
            if max.is_some_and(|m| value >= m) {
                return Err(invalid(
                    field,
                    value,
                    "must be a fraction below its maximum",
                ));
            }
        }
        if self.circuit_breaker_pct <= Decimal::ZERO
            || self.circuit_breaker_pct > Decimal::ONE_HUNDRED
        {
            return Err(invalid(
                "circuit_breaker_pct",
                self.circuit_breaker_pct,
                "must be in (0, 100]",
            ));
        }
        if self.rebuild_check_interval_ms <= 0 {
            return Err(invalid(
                "rebuild_check_interval_ms",
                self.rebuild_check_interval_ms,
                "must be positive",
            ));
        }
        Ok(())
    }
}

/// A validated grid: parameters, the symbol's filters and the levels that survived them.
///
/// Holding one proves: at least two levels, every level passes the filters, and the narrowest
/// step beats `2 × fee_rate + profit_margin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GridConfig {
    params: GridParams,
    filters: SymbolFilters,
    levels: Vec<GridLevel>,
    dropped: Vec<DroppedLevel>,
}

impl GridConfig {
    /// Validates `params`, builds the levels through `filters` and refuses unprofitable grids.
    ///
    /// # Errors
    /// [`GridError::InvalidField`] naming the bad parameter, [`GridError::TooFewLevels`] when
    /// fewer than two levels meet the filters, [`GridError::Unprofitable`] with the minimum
    /// profitable spacing when a step does not beat the fees plus the margin.
    pub fn new(params: GridParams, filters: SymbolFilters) -> Result<Self, GridError> {
        let config = Self::levels_only(params, filters)?;
        config.check_profitable()?;
        Ok(config)
    }

    /// Like [`GridConfig::new`] without the fee check: for inspecting a grid's levels.
    pub(crate) fn levels_only(
        params: GridParams,
        filters: SymbolFilters,
    ) -> Result<Self, GridError> {
        params.validate()?;
        filters
            .validate()
            .map_err(|e| invalid("filters", &filters.symbol, &e.to_string()))?;
        let candidates =
            candidate_prices(params.lower, params.upper, params.num_grids, params.spacing)
                .ok_or_else(|| {
                    invalid(
                        "upper",
                        params.upper,
                        "upper / lower is out of decimal range",
                    )
                })?;
        let per_level = params.sizing_capital / Decimal::from(params.num_grids);
        let (levels, dropped) = build_levels(&candidates, per_level, &filters);
        if levels.len() < 2 {
            return Err(GridError::TooFewLevels {
                kept: levels.len(),
                dropped: dropped.len(),
            });
        }
        Ok(Self {
            params,
            filters,
            levels,
            dropped,
        })
    }

    fn check_profitable(&self) -> Result<(), GridError> {
        let step_pct = self.narrowest_step() * Decimal::ONE_HUNDRED;
        let min_pct = self.min_profitable_step() * Decimal::ONE_HUNDRED;
        if step_pct <= min_pct {
            return Err(GridError::Unprofitable {
                step_pct: step_pct.round_dp(4).normalize(),
                min_pct: min_pct.normalize(),
            });
        }
        Ok(())
    }

    /// The raw parameters.
    #[must_use]
    pub fn params(&self) -> &GridParams {
        &self.params
    }

    /// The symbol's exchange filters.
    #[must_use]
    pub fn filters(&self) -> &SymbolFilters {
        &self.filters
    }

    /// The usable levels, ascending by price, indexed from 0.
    #[must_use]
    pub fn levels(&self) -> &[GridLevel] {
        &self.levels
    }

    /// The candidate levels the filters refused, with the reasons.
    #[must_use]
    pub fn dropped(&self) -> &[DroppedLevel] {
        &self.dropped
    }

    /// The smallest relative step between adjacent levels, `(p[i+1] − p[i]) / p[i]`, a fraction.
    #[must_use]
    pub fn narrowest_step(&self) -> Decimal {
        self.levels
            .windows(2)
            .map(|w| (w[1].price.value() - w[0].price.value()) / w[0].price.value())
            .min()
            .unwrap_or(Decimal::ZERO)
    }

    /// `2 × fee_rate + profit_margin`: the smallest step that pays both fees and the margin.
    #[must_use]
    pub fn min_profitable_step(&self) -> Decimal {
        Decimal::TWO * self.params.fee_rate + self.params.profit_margin
    }

    /// The expected net profit (quote) of one completed buy→sell step at every level but the
    /// top: buy `q` at `p[i]`, pay the fee in base, sell the rest (lot-rounded) at `p[i+1]`,
    /// pay the fee in quote. The smallest entry is the worst case.
    #[must_use]
    pub fn expected_net_profit_per_step(&self) -> Vec<Notional> {
        let fee = self.params.fee_rate;
        self.levels
            .windows(2)
            .map(|w| {
                let bought = w[0].quantity.value();
                let sellable = self
                    .filters
                    .round_quantity(bought * (Decimal::ONE - fee))
                    .map_or(Decimal::ZERO, Quantity::value);
                let proceeds = sellable * w[1].price.value() * (Decimal::ONE - fee);
                Notional::new(proceeds - bought * w[0].price.value())
            })
            .collect()
    }

    /// One line for the operator: levels, range, the narrowest step against the minimum, and
    /// the worst-case net profit of a completed step, e.g. `"6 levels 40000-50000, narrowest
    /// step 4.1667% (minimum 0.3%), net profit per completed step >= 0.3 quote"`.
    #[must_use]
    pub fn summary(&self) -> String {
        let worst = self
            .expected_net_profit_per_step()
            .into_iter()
            .min()
            .unwrap_or_default();
        let (first, last) = (
            self.levels[0].price,
            self.levels[self.levels.len() - 1].price,
        );
        format!(
            "{} levels {first}-{last}, narrowest step {}% (minimum {}%), net profit per completed step >= {} quote",
            self.levels.len(),
            (self.narrowest_step() * Decimal::ONE_HUNDRED).round_dp(4).normalize(),
            (self.min_profitable_step() * Decimal::ONE_HUNDRED).normalize(),
            worst.value().round_dp(4).normalize(),
        )
    }

    /// The quote each buyable level is sized by, `sizing_capital / num_grids`.
    #[must_use]
    pub fn per_level_budget(&self) -> Decimal {
        self.params.sizing_capital / Decimal::from(self.params.num_grids)
    }
}

fn invalid(field: &'static str, value: impl std::fmt::Display, reason: &str) -> GridError {
    GridError::InvalidField {
        field,
        value: value.to_string(),
        reason: reason.to_owned(),
    }
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
    fn geometric_steps_are_equal_in_percent() {
        let mut params = GridParams::new(dec!(40000), dec!(50000), 5, dec!(1000));
        params.spacing = Spacing::Geometric;
        let config = GridConfig::new(params, filters()).unwrap();
        let steps: Vec<Decimal> = config
            .levels()
            .windows(2)
            .map(|w| w[1].price.value() / w[0].price.value())
            .collect();
        let spread = steps.iter().max().unwrap() - steps.iter().min().unwrap();
        assert!(spread < dec!(0.000001), "{steps:?}");
    }

    #[test]
    fn a_higher_fee_raises_the_minimum_spacing_in_the_message() {
        let mut params = GridParams::new(dec!(40000), dec!(41000), 5, dec!(1000));
        params.fee_rate = dec!(0.002);
        let err = GridConfig::new(params, filters()).unwrap_err();
        assert_eq!(
            err,
            GridError::Unprofitable {
                step_pct: dec!(0.4902),
                min_pct: dec!(0.5)
            }
        );
        assert!(err
            .to_string()
            .contains("minimum profitable spacing is 0.5%"));
    }

    #[test]
    fn summary_names_the_step_the_minimum_and_the_profit() {
        let config = GridConfig::new(
            GridParams::new(dec!(40000), dec!(50000), 5, dec!(100)),
            filters(),
        )
        .unwrap();
        let text = config.summary();
        assert!(
            text.starts_with("6 levels 40000-50000, narrowest step 4.1667% (minimum 0.3%)"),
            "{text}"
        );
        assert!(
            text.contains("net profit per completed step >= 0.3 quote"),
            "{text}"
        );
    }

    #[test]
    fn around_centres_the_range_on_the_price() {
        let params = GridParams::around(Price::new(dec!(100)).unwrap(), dec!(5), 10, dec!(1));
        assert_eq!((params.lower, params.upper), (dec!(95), dec!(105)));
    }

    #[test]
    fn negative_fractions_are_refused_by_name() {
        let mut params = GridParams::new(dec!(40000), dec!(50000), 5, dec!(1000));
        params.fee_rate = dec!(-0.001);
        let err = GridConfig::new(params, filters()).unwrap_err();
        assert!(matches!(
            err,
            GridError::InvalidField {
                field: "fee_rate",
                ..
            }
        ));
    }
}
