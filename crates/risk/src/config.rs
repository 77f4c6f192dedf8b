//! Every risk threshold in one validated configuration, with the spec's defaults (§10.4).
//!
//! Units are part of each field name: `_pct` fields are percentages (7 means 7 %), `_fraction`
//! fields are plain fractions (0.02 means 2 %), `_ms` fields are milliseconds. Each part is
//! validated when the component that uses it is built, so an invalid value never reaches
//! trading code.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::RiskError;

/// All risk settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskConfig {
    /// Stop-loss distances and fee reduction.
    pub stops: StopConfig,
    /// The retry policy for stop-loss market sells.
    pub execution: ExecutionConfig,
    /// CVaR / Kelly position sizing.
    pub sizing: SizingConfig,
    /// The order gate: drawdowns, circuit breaker, allocation.
    pub guard: GuardConfig,
}

/// Stop-loss settings (spec §3.1, §3.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StopConfig {
    /// Trailing distance of a HOLD position's stop, in percent (spec: 7).
    pub hold_trailing_pct: Decimal,
    /// Trailing distance of a stop on a grid buy fill, in percent (spec: 5).
    pub grid_trailing_pct: Decimal,
    /// The tightened trailing distance on the way to CASH, in percent (spec: 3).
    pub cash_trailing_pct: Decimal,
    /// The taker fee as a fraction (0.001 = 0.1 %). A stop sells `bought × (1 − fee)` so the
    /// sale never asks for coins the buy fee already took.
    pub fee_fraction: Decimal,
}

/// The stop-loss sell retry policy (spec §3.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExecutionConfig {
    /// Market-sell attempts before giving up with a critical alert (spec: 3).
    pub max_attempts: u32,
    /// Wait after failed attempt `n` (1-based) before attempt `n + 1`, in milliseconds.
    /// Spec: 2 s, 5 s, 10 s; with 3 attempts only the first two waits are used (as in the
    /// original), the third applies if `max_attempts` is raised to 4.
    pub retry_delays_ms: Vec<i64>,
}

/// Position sizing (spec §3.8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SizingConfig {
    /// Share of the portfolio one position may lose at its CVaR, as a fraction (spec: 0.02).
    pub risk_budget_fraction: Decimal,
    /// Largest position as a fraction of the portfolio (spec: 0.25).
    pub max_position_fraction: Decimal,
    /// Smallest position as a fraction of the portfolio (spec: 0.01).
    pub min_position_fraction: Decimal,
}

/// The order gate (spec §2.8, §2.9, §3.3, §7.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GuardConfig {
    /// Loss since the start of the UTC day that halts trading, in percent (spec: 10).
    pub max_daily_drawdown_pct: Decimal,
    /// Loss from the highest portfolio value seen that halts trading, in percent. Not in the
    /// original; 15 matches the production validator's drawdown limit.
    pub max_portfolio_drawdown_pct: Decimal,
    /// A price drop between two ticks that trips the circuit breaker, in percent (spec: 10).
    pub circuit_breaker_pct: Decimal,
    /// Largest single BUY as a fraction of the free quote balance (spec §2.8: CVaR
    /// `max_position`, in effect 0.25).
    pub max_order_fraction_of_free: Decimal,
    /// Share of the portfolio always kept in the quote currency, in percent (spec: 20).
    pub min_cash_reserve_pct: Decimal,
    /// Largest share of the portfolio invested in coins, in percent (spec: 80).
    pub max_total_exposure_pct: Decimal,
}

impl Default for StopConfig {
    fn default() -> Self {
        Self {
            hold_trailing_pct: Decimal::from(7),
            grid_trailing_pct: Decimal::from(5),
            cash_trailing_pct: Decimal::from(3),
            fee_fraction: Decimal::new(1, 3),
        }
    }
}

impl Default for ExecutionConfig {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            retry_delays_ms: vec![2_000, 5_000, 10_000],
        }
    }
}

impl Default for SizingConfig {
    fn default() -> Self {
        Self {
            risk_budget_fraction: Decimal::new(2, 2),
            max_position_fraction: Decimal::new(25, 2),
            min_position_fraction: Decimal::new(1, 2),
        }
    }
}

impl Default for GuardConfig {
    fn default() -> Self {
        Self {
            max_daily_drawdown_pct: Decimal::from(10),
            max_portfolio_drawdown_pct: Decimal::from(15),
            circuit_breaker_pct: Decimal::from(10),
            max_order_fraction_of_free: Decimal::new(25, 2),
            min_cash_reserve_pct: Decimal::from(20),
            max_total_exposure_pct: Decimal::from(80),
        }
    }
}

impl RiskConfig {
    /// Checks every part.
    ///
    /// # Errors
    /// [`RiskError::InvalidConfig`] naming the first bad key.
    pub fn validate(&self) -> Result<(), RiskError> {
        self.stops.validate()?;
        self.execution.validate()?;
        self.sizing.validate()?;
        self.guard.validate()
    }
}

impl StopConfig {
    /// Checks that every distance is a percentage strictly between 0 and 100 and the fee a
    /// fraction in `[0, 1)`.
    ///
    /// # Errors
    /// [`RiskError::InvalidConfig`] naming the first bad key.
    pub fn validate(&self) -> Result<(), RiskError> {
        open_percent("stops.hold_trailing_pct", self.hold_trailing_pct)?;
        open_percent("stops.grid_trailing_pct", self.grid_trailing_pct)?;
        open_percent("stops.cash_trailing_pct", self.cash_trailing_pct)?;
        if self.fee_fraction < Decimal::ZERO || self.fee_fraction >= Decimal::ONE {
            return Err(invalid(
                "stops.fee_fraction",
                self.fee_fraction,
                "must be in [0, 1)",
            ));
        }
        Ok(())
    }
}

impl ExecutionConfig {
    /// Checks that there is at least one attempt, a positive wait before every retry, and no
    /// absurd number of attempts.
    ///
    /// # Errors
    /// [`RiskError::InvalidConfig`] naming the first bad key.
    pub fn validate(&self) -> Result<(), RiskError> {
        if !(1..=10).contains(&self.max_attempts) {
            return Err(invalid_text(
                "execution.max_attempts",
                self.max_attempts.to_string(),
                "must be between 1 and 10",
            ));
        }
        let needed = usize::try_from(self.max_attempts - 1).unwrap_or(usize::MAX);
        if self.retry_delays_ms.len() < needed {
            return Err(invalid_text(
                "execution.retry_delays_ms",
                format!("{:?}", self.retry_delays_ms),
                "needs one wait per retry (max_attempts - 1 entries)",
            ));
        }
        if let Some(bad) = self.retry_delays_ms.iter().find(|ms| **ms <= 0) {
            return Err(invalid_text(
                "execution.retry_delays_ms",
                bad.to_string(),
                "every wait must be positive",
            ));
        }
        Ok(())
    }

    /// The wait after failed attempt `attempt` (1-based), in milliseconds.
    pub(crate) fn delay_after(&self, attempt: u32) -> i64 {
        let idx = usize::try_from(attempt.saturating_sub(1)).unwrap_or(usize::MAX);
        self.retry_delays_ms
            .get(idx)
            .or(self.retry_delays_ms.last())
            .copied()
            .unwrap_or(0)
    }
}

impl SizingConfig {
    /// Checks `0 < min ≤ max ≤ 1` and `0 < risk budget ≤ 1`.
    ///
    /// # Errors
    /// [`RiskError::InvalidConfig`] naming the first bad key.
    pub fn validate(&self) -> Result<(), RiskError> {
        unit_fraction("sizing.risk_budget_fraction", self.risk_budget_fraction)?;
        unit_fraction("sizing.max_position_fraction", self.max_position_fraction)?;
        unit_fraction("sizing.min_position_fraction", self.min_position_fraction)?;
        if self.min_position_fraction > self.max_position_fraction {
            return Err(invalid(
                "sizing.min_position_fraction",
                self.min_position_fraction,
                "must not exceed sizing.max_position_fraction",
            ));
        }
        Ok(())
    }
}

impl GuardConfig {
    /// Checks that every percentage is in range and that reserve and exposure fit in 100 %.
    ///
    /// # Errors
    /// [`RiskError::InvalidConfig`] naming the first bad key.
    pub fn validate(&self) -> Result<(), RiskError> {
        open_percent("guard.max_daily_drawdown_pct", self.max_daily_drawdown_pct)?;
        open_percent(
            "guard.max_portfolio_drawdown_pct",
            self.max_portfolio_drawdown_pct,
        )?;
        open_percent("guard.circuit_breaker_pct", self.circuit_breaker_pct)?;
        unit_fraction(
            "guard.max_order_fraction_of_free",
            self.max_order_fraction_of_free,
        )?;
        closed_percent("guard.min_cash_reserve_pct", self.min_cash_reserve_pct)?;
        closed_percent("guard.max_total_exposure_pct", self.max_total_exposure_pct)?;
        if self.min_cash_reserve_pct + self.max_total_exposure_pct > Decimal::ONE_HUNDRED {
            return Err(invalid(
                "guard.max_total_exposure_pct",
                self.max_total_exposure_pct,
                "plus guard.min_cash_reserve_pct must not exceed 100",
            ));
        }
        Ok(())
    }
}

/// A percentage strictly between 0 and 100.
fn open_percent(key: &'static str, value: Decimal) -> Result<(), RiskError> {
    if value <= Decimal::ZERO || value >= Decimal::ONE_HUNDRED {
        return Err(invalid(
            key,
            value,
            "must be a percentage between 0 and 100 (exclusive)",
        ));
    }
    Ok(())
}

/// A percentage in `[0, 100]`.
fn closed_percent(key: &'static str, value: Decimal) -> Result<(), RiskError> {
    if value < Decimal::ZERO || value > Decimal::ONE_HUNDRED {
        return Err(invalid(
            key,
            value,
            "must be a percentage between 0 and 100",
        ));
    }
    Ok(())
}

/// A fraction in `(0, 1]`.
fn unit_fraction(key: &'static str, value: Decimal) -> Result<(), RiskError> {
    if value <= Decimal::ZERO || value > Decimal::ONE {
        return Err(invalid(key, value, "must be a fraction in (0, 1]"));
    }
    Ok(())
}

fn invalid(key: &'static str, value: Decimal, reason: &'static str) -> RiskError {
    invalid_text(key, value.to_string(), reason)
}

fn invalid_text(key: &'static str, value: String, reason: &'static str) -> RiskError {
    RiskError::InvalidConfig { key, value, reason }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn defaults_are_the_spec_values_and_valid() {
        let config = RiskConfig::default();
        assert_eq!(config.validate(), Ok(()));
        assert_eq!(config.stops.hold_trailing_pct, dec!(7));
        assert_eq!(config.stops.grid_trailing_pct, dec!(5));
        assert_eq!(config.stops.cash_trailing_pct, dec!(3));
        assert_eq!(config.stops.fee_fraction, dec!(0.001));
        assert_eq!(config.execution.max_attempts, 3);
        assert_eq!(config.execution.retry_delays_ms, vec![2_000, 5_000, 10_000]);
        assert_eq!(config.sizing.risk_budget_fraction, dec!(0.02));
        assert_eq!(config.sizing.max_position_fraction, dec!(0.25));
        assert_eq!(config.sizing.min_position_fraction, dec!(0.01));
        assert_eq!(config.guard.max_daily_drawdown_pct, dec!(10));
        assert_eq!(config.guard.circuit_breaker_pct, dec!(10));
    }

    #[test]
    fn errors_name_the_key() {
        let mut config = RiskConfig::default();
        config.stops.hold_trailing_pct = dec!(120);
        let err = config.validate().unwrap_err();
        assert!(err.to_string().contains("stops.hold_trailing_pct"), "{err}");

        let mut config = RiskConfig::default();
        config.guard.min_cash_reserve_pct = dec!(30);
        let err = config.validate().unwrap_err();
        assert!(
            err.to_string().contains("guard.max_total_exposure_pct"),
            "{err}"
        );

        let mut config = RiskConfig::default();
        config.sizing.min_position_fraction = dec!(0.5);
        assert!(config.validate().is_err());
    }

    #[test]
    fn execution_needs_one_wait_per_retry() {
        let config = ExecutionConfig {
            max_attempts: 3,
            retry_delays_ms: vec![2_000],
        };
        assert!(config.validate().is_err());
        let config = ExecutionConfig {
            max_attempts: 0,
            retry_delays_ms: vec![],
        };
        assert!(config.validate().is_err());
        let config = ExecutionConfig {
            max_attempts: 2,
            retry_delays_ms: vec![0],
        };
        assert!(config.validate().is_err());
    }

    #[test]
    fn delay_after_uses_the_table() {
        let config = ExecutionConfig::default();
        assert_eq!(config.delay_after(1), 2_000);
        assert_eq!(config.delay_after(2), 5_000);
        assert_eq!(config.delay_after(3), 10_000);
    }
}
