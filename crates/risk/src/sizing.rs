//! Position sizing from historical CVaR (95 %) and half-Kelly (spec §3.8).
//!
//! The statistics ([`RiskMetrics`], the win/loss averages) are estimates computed in `f64`,
//! the one place the crate allows it; they cross into money as `Decimal` rounded to 8 decimal
//! places ([`STAT_DP`]), far finer than any estimate is accurate. Everything after that
//! boundary (budget, Kelly, clamps) is exact.
//!
//! Deliberate changes from the original:
//! - the confidence is applied **once** (`m = 0.5 + 0.5·c` on both the CVaR size and the Kelly
//!   size), never also to the Kelly win probability (spec "fixed bug", scenario 53);
//! - with fewer than [`RiskMetrics::MIN_SAMPLES`] returns the metrics are the spec's fixed
//!   conservative values ([`RiskMetrics::CONSERVATIVE`]), never a synthetic random series.

use hybrid_core::{Asset, Notional, Regime};
use rust_decimal::{prelude::FromPrimitive, Decimal};
use serde::{Deserialize, Serialize};

use crate::{config::SizingConfig, error::RiskError};

/// Decimal places kept when a statistic becomes a `Decimal`.
pub const STAT_DP: u32 = 8;

/// Risk figures of one symbol from its historical simple returns (fractions: −0.05 = −5 %).
///
/// VaR, CVaR and max loss are positive loss fractions floored at 0.001; volatilities are
/// annualised (× √365) population standard deviations.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RiskMetrics {
    /// Loss not exceeded on 95 % of days: `−P5(r)`.
    pub var_95: f64,
    /// Loss not exceeded on 99 % of days: `−P1(r)`.
    pub var_99: f64,
    /// Mean loss on the worst 5 % of days: `−mean(r ≤ P5)`.
    pub cvar_95: f64,
    /// Mean loss on the worst 1 % of days: `−mean(r ≤ P1)`.
    pub cvar_99: f64,
    /// The worst return, negated.
    pub max_loss: f64,
    /// Annualised volatility.
    pub volatility: f64,
    /// Annualised volatility of the negative returns (equal to `volatility` if none).
    pub downside_volatility: f64,
    /// How many finite returns the figures come from (0 for the conservative defaults).
    pub sample_size: usize,
}

/// How sure the caller is of the trade, in `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "Decimal", into = "Decimal")]
pub struct Confidence(Decimal);

/// The average win and loss of a return series, for Kelly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WinLoss {
    /// Share of returns above zero (zeros count in the total only).
    pub win_rate: Decimal,
    /// Mean of the positive returns.
    pub avg_win: Decimal,
    /// Mean of the negative returns, as a positive magnitude.
    pub avg_loss: Decimal,
}

/// What one position may be, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PositionSize {
    /// The size to use: the recommendation clamped to `[min_position, max_position]`.
    pub size: Notional,
    /// The cap: `max_position_fraction × portfolio`.
    pub max_position: Notional,
    /// The floor: `min_position_fraction × portfolio`.
    pub min_position: Notional,
    /// `portfolio × budget / cvar × m`: the CVaR size after the confidence.
    pub risk_adjusted_size: Notional,
    /// `portfolio × half-Kelly` before the confidence; zero without enough data.
    pub kelly_size: Notional,
    /// The CVaR used, after the regime multiplier.
    pub cvar_used: Decimal,
    /// `m = 0.5 + 0.5 × confidence`.
    pub confidence_multiplier: Decimal,
    /// Whether the cap cut the recommendation.
    pub hit_max: bool,
    /// Whether the floor raised it.
    pub hit_min: bool,
    /// `size × cvar_used`: the expected loss on a bad day.
    pub expected_max_loss: Notional,
    /// Whether Kelly took part.
    pub method: SizingMethod,
}

/// Which rule produced the recommendation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SizingMethod {
    /// CVaR budget only (too few returns, or no win or no loss, for Kelly).
    Cvar,
    /// The smaller of the CVaR size and the Kelly size.
    CvarKelly,
}

/// The inputs of one sizing.
#[derive(Debug, Clone, Copy)]
pub struct SizingInput<'a> {
    /// The value the position is a share of, in the quote asset.
    pub portfolio_value: Notional,
    /// Historical simple returns of the symbol (fractions), oldest first.
    pub returns: &'a [f64],
    /// How sure the caller is.
    pub confidence: Confidence,
    /// The current regime, if known.
    pub regime: Option<Regime>,
}

/// Sizes positions with validated constraints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PositionSizer {
    config: SizingConfig,
}

/// An existing position for [`available_risk_budget`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PositionRisk {
    /// Its current value in the quote asset.
    pub value: Notional,
    /// Its CVaR95 as a fraction; [`DEFAULT_POSITION_CVAR`] when unknown.
    pub cvar_95: Decimal,
}

/// The CVaR assumed for a position whose returns are unknown (spec: 0.05).
pub const DEFAULT_POSITION_CVAR: Decimal = Decimal::from_parts(5, 0, 0, false, 2);

impl RiskMetrics {
    /// Fewer returns than this give [`Self::CONSERVATIVE`].
    pub const MIN_SAMPLES: usize = 10;

    /// The spec's fixed values for "not enough data".
    pub const CONSERVATIVE: Self = Self {
        var_95: 0.05,
        var_99: 0.10,
        cvar_95: 0.07,
        cvar_99: 0.12,
        max_loss: 0.10,
        volatility: 0.30,
        downside_volatility: 0.20,
        sample_size: 0,
    };

    /// The metrics of `returns`; non-finite values are ignored.
    #[must_use]
    pub fn from_returns(returns: &[f64]) -> Self {
        let mut sorted: Vec<f64> = returns.iter().copied().filter(|r| r.is_finite()).collect();
        if sorted.len() < Self::MIN_SAMPLES {
            return Self::CONSERVATIVE;
        }
        sorted.sort_by(f64::total_cmp);
        let (p5, p1) = (percentile(&sorted, 0.05), percentile(&sorted, 0.01));
        let losses: Vec<f64> = sorted.iter().copied().filter(|r| *r < 0.0).collect();
        let volatility = annualised_std(&sorted);
        Self {
            var_95: floor_loss(-p5),
            var_99: floor_loss(-p1),
            cvar_95: floor_loss(-mean_at_or_below(&sorted, p5)),
            cvar_99: floor_loss(-mean_at_or_below(&sorted, p1)),
            max_loss: floor_loss(-sorted[0]),
            volatility,
            downside_volatility: if losses.is_empty() {
                volatility
            } else {
                annualised_std(&losses)
            },
            sample_size: sorted.len(),
        }
    }
}

/// CVaR at 95 % of `returns` as a positive loss fraction (0.07 without enough data).
#[must_use]
pub fn cvar_95(returns: &[f64]) -> f64 {
    RiskMetrics::from_returns(returns).cvar_95
}

/// The half-Kelly fraction of the portfolio, clamped to `[0, 0.25]`.
///
/// `b = avg_win / avg_loss`, `f = (p·b − (1 − p)) / b`, result `clamp(f / 2, 0, 0.25)`.
/// `win_rate` is the raw rate: the confidence is applied later, once. Zero when `avg_win` or
/// `avg_loss` is not positive or `win_rate` is outside `[0, 1]`.
#[must_use]
pub fn kelly_fraction(win_rate: Decimal, avg_win: Decimal, avg_loss: Decimal) -> Decimal {
    let valid = (Decimal::ZERO..=Decimal::ONE).contains(&win_rate)
        && avg_win > Decimal::ZERO
        && avg_loss > Decimal::ZERO;
    if !valid {
        return Decimal::ZERO;
    }
    let b = avg_win / avg_loss;
    let f = (win_rate * b - (Decimal::ONE - win_rate)) / b;
    (f / Decimal::TWO).clamp(Decimal::ZERO, Decimal::new(25, 2))
}

/// `clamp(2 × cvar_95, 0.02, 0.15)`: a stop distance (fraction) suited to the symbol's tail.
#[must_use]
pub fn stop_loss_distance(cvar_95: Decimal) -> Decimal {
    (cvar_95 * Decimal::TWO).clamp(Decimal::new(2, 2), Decimal::new(15, 2))
}

/// How much of the total risk budget (fraction) is still free:
/// `max(0, max_total − Σ value / portfolio × cvar)`; all of it for an empty portfolio value.
#[must_use]
pub fn available_risk_budget(
    portfolio_value: Notional,
    positions: &[PositionRisk],
    max_total: Decimal,
) -> Decimal {
    if portfolio_value.value() <= Decimal::ZERO {
        return max_total;
    }
    let used: Decimal = positions
        .iter()
        .map(|p| p.value.value() / portfolio_value.value() * p.cvar_95)
        .sum();
    (max_total - used).max(Decimal::ZERO)
}

/// The correlation the sizing assumes between two coins (spec §3.8's fixed table): BTC–ETH
/// 0.85, SOL–ETH 0.75, ARB–OP 0.80, AVAX–SOL 0.70, any other pair 0.3. Symmetric.
#[must_use]
pub fn assumed_correlation(a: &Asset, b: &Asset) -> Decimal {
    const TABLE: [(&str, &str, i64); 4] = [
        ("BTC", "ETH", 85),
        ("SOL", "ETH", 75),
        ("ARB", "OP", 80),
        ("AVAX", "SOL", 70),
    ];
    let (a, b) = (a.as_str(), b.as_str());
    TABLE
        .iter()
        .find(|(x, y, _)| (*x == a && *y == b) || (*x == b && *y == a))
        .map_or(Decimal::new(3, 1), |(_, _, pct)| Decimal::new(*pct, 2))
}

/// The factor (in `[0.3, 1]`) to shrink a new position in `coin` by for the coins already
/// held: each held coin correlated above 0.7 multiplies by `1 − (corr − 0.7) / 0.3`.
#[must_use]
pub fn correlation_factor(coin: &Asset, held: &[Asset]) -> Decimal {
    let threshold = Decimal::new(7, 1);
    let span = Decimal::new(3, 1);
    let factor = held
        .iter()
        .map(|other| assumed_correlation(coin, other))
        .filter(|corr| *corr > threshold)
        .fold(Decimal::ONE, |acc, corr| {
            acc * (Decimal::ONE - (corr - threshold) / span)
        });
    factor.max(span)
}

/// The CVaR multiplier of a regime: BULL 0.9, BEAR 1.5, SIDEWAYS 1.1, TRANSITION 1.3,
/// unknown 1.0 (riskier regimes make positions smaller).
#[must_use]
pub fn regime_multiplier(regime: Option<Regime>) -> Decimal {
    match regime {
        Some(Regime::Bull) => Decimal::new(9, 1),
        Some(Regime::Bear) => Decimal::new(15, 1),
        Some(Regime::Sideways) => Decimal::new(11, 1),
        Some(Regime::Transition) => Decimal::new(13, 1),
        None => Decimal::ONE,
    }
}

impl Confidence {
    /// The spec's default confidence, 0.5.
    pub const DEFAULT: Self = Self(Decimal::from_parts(5, 0, 0, false, 1));

    /// A confidence in `[0, 1]`.
    ///
    /// # Errors
    /// [`RiskError::InvalidInput`] outside that range.
    pub fn new(value: Decimal) -> Result<Self, RiskError> {
        if (Decimal::ZERO..=Decimal::ONE).contains(&value) {
            Ok(Self(value))
        } else {
            Err(RiskError::InvalidInput {
                what: "confidence",
                value: value.to_string(),
                reason: "must be between 0 and 1",
            })
        }
    }

    /// The confidence as a decimal.
    #[must_use]
    pub const fn value(self) -> Decimal {
        self.0
    }

    /// `0.5 + 0.5 × confidence`: from half size (no confidence) to full size.
    #[must_use]
    pub fn multiplier(self) -> Decimal {
        let half = Decimal::new(5, 1);
        half + half * self.0
    }
}

impl Default for Confidence {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl TryFrom<Decimal> for Confidence {
    type Error = RiskError;
    fn try_from(value: Decimal) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<Confidence> for Decimal {
    fn from(value: Confidence) -> Self {
        value.0
    }
}

impl WinLoss {
    /// Kelly needs at least this many returns.
    pub const MIN_SAMPLES: usize = 20;

    /// Win rate and average win/loss, or `None` with fewer than [`Self::MIN_SAMPLES`] finite
    /// returns or without at least one win and one loss.
    #[must_use]
    pub fn from_returns(returns: &[f64]) -> Option<Self> {
        let finite: Vec<f64> = returns.iter().copied().filter(|r| r.is_finite()).collect();
        let wins: Vec<f64> = finite.iter().copied().filter(|r| *r > 0.0).collect();
        let losses: Vec<f64> = finite.iter().copied().filter(|r| *r < 0.0).collect();
        if finite.len() < Self::MIN_SAMPLES || wins.is_empty() || losses.is_empty() {
            return None;
        }
        Some(Self {
            win_rate: Decimal::from(wins.len()) / Decimal::from(finite.len()),
            avg_win: stat_to_decimal(mean(&wins)),
            avg_loss: stat_to_decimal(-mean(&losses)),
        })
    }
}

impl PositionSizer {
    /// A sizer with validated constraints.
    ///
    /// # Errors
    /// [`RiskError::InvalidConfig`] if `config` does not validate.
    pub fn new(config: SizingConfig) -> Result<Self, RiskError> {
        config.validate()?;
        Ok(Self { config })
    }

    /// The largest position the constraints allow: `max_position_fraction × portfolio`.
    #[must_use]
    pub fn max_position(&self, portfolio_value: Notional) -> Notional {
        Notional::new(portfolio_value.value() * self.config.max_position_fraction)
    }

    /// Sizes one position (spec §3.8 steps 1–7), confidence applied once.
    #[must_use]
    pub fn position_size(&self, input: &SizingInput<'_>) -> PositionSize {
        let value = input.portfolio_value.value().max(Decimal::ZERO);
        let cvar = stat_to_decimal(cvar_95(input.returns)) * regime_multiplier(input.regime);
        let base = if cvar > Decimal::ZERO {
            value * self.config.risk_budget_fraction / cvar
        } else {
            Decimal::ZERO
        };
        let m = input.confidence.multiplier();
        let risk_adjusted = base * m;
        let kelly = WinLoss::from_returns(input.returns).map_or(Decimal::ZERO, |w| {
            value * kelly_fraction(w.win_rate, w.avg_win, w.avg_loss)
        });
        let (recommended, method) = if kelly > Decimal::ZERO {
            (risk_adjusted.min(kelly * m), SizingMethod::CvarKelly)
        } else {
            (risk_adjusted, SizingMethod::Cvar)
        };
        let max = value * self.config.max_position_fraction;
        let min = value * self.config.min_position_fraction;
        let size = recommended.clamp(min, max);
        PositionSize {
            size: Notional::new(size),
            max_position: Notional::new(max),
            min_position: Notional::new(min),
            risk_adjusted_size: Notional::new(risk_adjusted),
            kelly_size: Notional::new(kelly),
            cvar_used: cvar,
            confidence_multiplier: m,
            hit_max: recommended > max,
            hit_min: recommended < min,
            expected_max_loss: Notional::new(size * cvar),
            method,
        }
    }
}

/// A statistic as a `Decimal` rounded to [`STAT_DP`] places; zero for NaN or infinities
/// (which `from_returns` already filters out).
fn stat_to_decimal(value: f64) -> Decimal {
    Decimal::from_f64(value).map_or(Decimal::ZERO, |d| d.round_dp(STAT_DP))
}

/// numpy's default percentile: linear interpolation between order statistics at index
/// `(n − 1) × q`. `sorted` is ascending and not empty.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let last = sorted.len().saturating_sub(1);
    #[expect(
        clippy::cast_precision_loss,
        reason = "return series are far below 2^52 long"
    )]
    let position = last as f64 * q;
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "position is in [0, last]"
    )]
    let lower = position.floor() as usize;
    let upper = (lower + 1).min(last);
    let weight = position - position.floor();
    sorted[lower] + (sorted[upper] - sorted[lower]) * weight
}

/// The mean of the values at or below `threshold` (never empty: the percentile is at or
/// above the minimum).
fn mean_at_or_below(sorted: &[f64], threshold: f64) -> f64 {
    let tail: Vec<f64> = sorted
        .iter()
        .copied()
        .take_while(|r| *r <= threshold)
        .collect();
    if tail.is_empty() {
        threshold
    } else {
        mean(&tail)
    }
}

fn mean(values: &[f64]) -> f64 {
    #[expect(
        clippy::cast_precision_loss,
        reason = "return series are far below 2^52 long"
    )]
    let n = values.len() as f64;
    values.iter().sum::<f64>() / n
}

/// Population standard deviation × √365.
fn annualised_std(values: &[f64]) -> f64 {
    let mu = mean(values);
    let squared: Vec<f64> = values.iter().map(|r| (r - mu).powi(2)).collect();
    let variance = mean(&squared);
    variance.sqrt() * 365f64.sqrt()
}

/// Losses are floored at 0.001 so a lucky history never sizes a position as riskless.
fn floor_loss(loss: f64) -> f64 {
    loss.max(0.001)
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn spec_example() -> Vec<f64> {
        let mut r = vec![0.02; 12];
        r.extend([-0.01; 8]);
        r
    }

    #[test]
    fn percentile_matches_numpy() {
        let sorted = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert!((percentile(&sorted, 0.05) - 1.2).abs() < 1e-12);
        assert!((percentile(&sorted, 0.5) - 3.0).abs() < 1e-12);
        assert!((percentile(&sorted, 1.0) - 5.0).abs() < 1e-12);
    }

    #[test]
    fn too_few_returns_are_conservative() {
        assert_eq!(
            RiskMetrics::from_returns(&[0.01; 9]),
            RiskMetrics::CONSERVATIVE
        );
        assert_eq!(
            RiskMetrics::from_returns(&[f64::NAN; 30]),
            RiskMetrics::CONSERVATIVE
        );
        assert!((cvar_95(&[]) - 0.07).abs() < 1e-12);
    }

    #[test]
    fn losses_are_floored() {
        let m = RiskMetrics::from_returns(&[0.01; 20]);
        assert!((m.var_95 - 0.001).abs() < 1e-12);
        assert!((m.cvar_95 - 0.001).abs() < 1e-12);
        assert!((m.max_loss - 0.001).abs() < 1e-12);
        assert!(m.volatility.abs() < 1e-12);
        assert!(m.downside_volatility.abs() < 1e-12);
    }

    #[test]
    fn kelly_of_the_spec_example() {
        let w = WinLoss::from_returns(&spec_example()).unwrap();
        assert_eq!(w.win_rate, dec!(0.6));
        assert_eq!(w.avg_win, dec!(0.02));
        assert_eq!(w.avg_loss, dec!(0.01));
        assert_eq!(kelly_fraction(w.win_rate, w.avg_win, w.avg_loss), dec!(0.2));
    }

    #[test]
    fn kelly_is_clamped_and_safe() {
        assert_eq!(kelly_fraction(dec!(0.99), dec!(1), dec!(0.01)), dec!(0.25));
        assert_eq!(kelly_fraction(dec!(0.1), dec!(0.01), dec!(0.05)), dec!(0));
        assert_eq!(kelly_fraction(dec!(0.5), dec!(0.01), dec!(0)), dec!(0));
        assert_eq!(kelly_fraction(dec!(1.5), dec!(0.01), dec!(0.01)), dec!(0));
        assert_eq!(WinLoss::from_returns(&[0.01; 30]), None);
        assert_eq!(WinLoss::from_returns(&spec_example()[..19]), None);
    }

    #[test]
    fn correlation_shrinks_correlated_positions() {
        let a = |code: &str| Asset::new(code).unwrap();
        assert_eq!(assumed_correlation(&a("ETH"), &a("BTC")), dec!(0.85));
        assert_eq!(assumed_correlation(&a("DOGE"), &a("BTC")), dec!(0.3));
        assert_eq!(correlation_factor(&a("BTC"), &[]), dec!(1));
        assert_eq!(correlation_factor(&a("BTC"), &[a("ETH")]), dec!(0.5));
        // AVAX–SOL is exactly 0.7: not above the threshold.
        assert_eq!(correlation_factor(&a("AVAX"), &[a("SOL")]), dec!(1));
        // ETH with BTC (0.5) and SOL (1 − 0.05/0.3) is floored at 0.3.
        assert_eq!(
            correlation_factor(&a("ETH"), &[a("BTC"), a("SOL"), a("BTC")]),
            dec!(0.3)
        );
    }

    #[test]
    fn confidence_is_validated() {
        assert!(Confidence::new(dec!(1.5)).is_err());
        assert!(Confidence::new(dec!(-0.1)).is_err());
        assert_eq!(Confidence::new(dec!(1)).unwrap().multiplier(), dec!(1));
        assert_eq!(Confidence::DEFAULT.multiplier(), dec!(0.75));
    }

    #[test]
    fn empty_portfolio_sizes_nothing() {
        let sizing = PositionSizer::default().position_size(&SizingInput {
            portfolio_value: Notional::ZERO,
            returns: &spec_example(),
            confidence: Confidence::DEFAULT,
            regime: None,
        });
        assert_eq!(sizing.size, Notional::ZERO);
        assert_eq!(sizing.max_position, Notional::ZERO);
    }

    #[test]
    fn without_kelly_the_floor_and_cap_apply() {
        let sizer = PositionSizer::default();
        let calm = sizer.position_size(&SizingInput {
            portfolio_value: Notional::new(dec!(1000)),
            returns: &[0.01; 12],
            confidence: Confidence::DEFAULT,
            regime: None,
        });
        assert_eq!(calm.method, SizingMethod::Cvar);
        assert!(calm.hit_max);
        assert_eq!(calm.size.value(), dec!(250));
    }
}

#[cfg(test)]
mod property_tests {
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    use super::*;

    proptest! {
        /// The size always lies within [min, max] and never exceeds the portfolio.
        #[test]
        fn prop_size_within_constraints(
            value in 0i64..10_000_000,
            returns in prop::collection::vec(-0.5f64..0.5, 0..60),
            confidence in 0i64..=100,
        ) {
            let sizing = PositionSizer::default().position_size(&SizingInput {
                portfolio_value: Notional::new(Decimal::from(value)),
                returns: &returns,
                confidence: Confidence::new(Decimal::new(confidence, 2)).unwrap(),
                regime: Some(Regime::Bear),
            });
            prop_assert!(sizing.size >= sizing.min_position);
            prop_assert!(sizing.size <= sizing.max_position);
            prop_assert!(sizing.size.value() <= Decimal::from(value));
        }

        /// More confidence never gives a smaller position.
        #[test]
        fn prop_confidence_is_monotone(
            returns in prop::collection::vec(-0.2f64..0.2, 0..60),
            low in 0i64..=100, high in 0i64..=100,
        ) {
            let (low, high) = (low.min(high), low.max(high));
            let size = |c: i64| PositionSizer::default().position_size(&SizingInput {
                portfolio_value: Notional::new(dec!(10000)),
                returns: &returns,
                confidence: Confidence::new(Decimal::new(c, 2)).unwrap(),
                regime: None,
            }).size;
            prop_assert!(size(high) >= size(low));
        }

        /// VaR99 ≥ VaR95 and CVaR ≥ VaR, all ≥ the 0.001 floor.
        #[test]
        fn prop_tail_metrics_are_ordered(returns in prop::collection::vec(-0.5f64..0.5, 10..200)) {
            let m = RiskMetrics::from_returns(&returns);
            prop_assert!(m.var_95 >= 0.001);
            prop_assert!(m.var_99 >= m.var_95 - 1e-12);
            prop_assert!(m.cvar_95 >= m.var_95 - 1e-12);
            prop_assert!(m.cvar_99 >= m.var_99 - 1e-12);
            prop_assert!(m.max_loss >= m.cvar_99 - 1e-12);
        }
    }
}
