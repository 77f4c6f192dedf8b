//! `HybridConfig`: every setting of mode management, with the spec's defaults (§4.7, §10.1,
//! §10.4) and a validation that reports every problem at once.
//!
//! Units are part of each field name: `_pct` fields are percentages (7 means 7 %), `_usd`
//! and `total_investment` are quote amounts (USDT), `_hours`/`_days` are durations.
//! Probabilities are fractions in `[0, 1]`.

use std::{fmt, str::FromStr};

use hybrid_core::{Timestamp, TradingMode};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    constraints::{AllocationConstraints, CoinCategory, PresetSelection, PRESET_NAMES},
    error::{ConfigProblem, ModesError},
};

/// Mode management settings for one orchestrator (one cohort).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HybridConfig {
    /// The mode before the first regime decision (spec: GRID).
    pub initial_mode: TradingMode,
    /// Let regime decisions move coins between modes (spec: true; cohorts default to false).
    pub enable_mode_switching: bool,
    /// Regime probability a switch needs, a fraction (spec: 0.75; allowed 0.5..=1).
    pub min_regime_probability: Decimal,
    /// Whole days a regime must have lasted before a switch (spec: 2).
    pub min_regime_duration_days: u32,
    /// Hours after a switch during which only an emergency may switch again (spec: 24).
    pub mode_cooldown_hours: u32,
    /// Trailing stop distance of a HOLD position, percent (spec: 7; allowed 0 < x ≤ 50).
    pub hold_trailing_stop_pct: Decimal,
    /// Trailing stop distance while leaving for CASH, percent (spec §10.4: 3).
    pub cash_trailing_stop_pct: Decimal,
    /// Default half-width of a grid around the price, percent (spec: 5).
    pub grid_range_percent: Decimal,
    /// Default number of grid intervals (spec: 3; replaced by the dynamic count).
    pub num_grids: u32,
    /// Hours a CASH exit waits under the tight stop before selling at market (spec: 2).
    pub cash_exit_timeout_hours: Decimal,
    /// Most symbols traded at once (spec: 8; allowed 1..=20).
    pub max_symbols: u32,
    /// Smallest position worth opening, USDT (spec: 10; at least 5).
    pub min_position_usd: Decimal,
    /// Quote the orchestrator may commit across all symbols, USDT (spec: 400; at least 10).
    pub total_investment: Decimal,
    /// Opportunity confidence the allocator needs, a fraction (spec: 0.3).
    pub min_confidence: Decimal,
    /// Categories the allocator may pick coins from (spec: all but MEME).
    pub allowed_categories: Vec<CoinCategory>,
    /// Allocation limits to use (spec: small).
    pub constraints_preset: PresetSelection,
    /// BEAR probability that goes to CASH at once, past duration and cooldown (spec: 0.85).
    pub emergency_bear_probability: Decimal,
    /// Switches inside the lock window after which the next request locks GRID (spec: 2).
    pub safety_lock_max_transitions: u32,
    /// The window switches are counted in, hours (spec: 48).
    pub safety_lock_window_hours: u32,
    /// How long the safety lock holds GRID, days (spec: 7).
    pub safety_lock_days: u32,
}

impl Default for HybridConfig {
    fn default() -> Self {
        Self {
            initial_mode: TradingMode::Grid,
            enable_mode_switching: true,
            min_regime_probability: Decimal::new(75, 2),
            min_regime_duration_days: 2,
            mode_cooldown_hours: 24,
            hold_trailing_stop_pct: Decimal::from(7),
            cash_trailing_stop_pct: Decimal::from(3),
            grid_range_percent: Decimal::from(5),
            num_grids: 3,
            cash_exit_timeout_hours: Decimal::from(2),
            max_symbols: 8,
            min_position_usd: Decimal::from(10),
            total_investment: Decimal::from(400),
            min_confidence: Decimal::new(3, 1),
            allowed_categories: CoinCategory::ALL[..6].to_vec(),
            constraints_preset: PresetSelection::default(),
            emergency_bear_probability: Decimal::new(85, 2),
            safety_lock_max_transitions: 2,
            safety_lock_window_hours: 48,
            safety_lock_days: 7,
        }
    }
}

/// One range rule per line: field, value, whether it holds, what is allowed.
type Rule = (&'static str, String, bool, &'static str);

impl HybridConfig {
    /// Checks every field and reports every problem, not only the first.
    ///
    /// # Errors
    /// [`ModesError::InvalidConfig`] listing each bad field with its value and what is allowed.
    pub fn validate(&self) -> Result<(), ModesError> {
        let problems: Vec<ConfigProblem> = self
            .rules()
            .into_iter()
            .filter(|(_, _, ok, _)| !ok)
            .map(|(field, value, _, allowed)| ConfigProblem::new(field, value, allowed))
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ModesError::InvalidConfig { problems })
        }
    }

    /// The allocation limits for `mode` under the configured preset (spec §4.5).
    #[must_use]
    pub fn constraints_for(&self, mode: TradingMode) -> AllocationConstraints {
        self.constraints_preset.constraints_for(mode)
    }

    /// The cooldown in milliseconds.
    pub(crate) fn cooldown_ms(&self) -> i64 {
        i64::from(self.mode_cooldown_hours) * Timestamp::HOUR_MS
    }

    /// The safety-lock counting window in milliseconds.
    pub(crate) fn lock_window_ms(&self) -> i64 {
        i64::from(self.safety_lock_window_hours) * Timestamp::HOUR_MS
    }

    /// How long the safety lock lasts, in milliseconds.
    pub(crate) fn lock_duration_ms(&self) -> i64 {
        i64::from(self.safety_lock_days) * Timestamp::DAY_MS
    }

    #[rustfmt::skip]
    fn rules(&self) -> Vec<Rule> {
        let d = Decimal::from;
        vec![
            rule("min_regime_probability", self.min_regime_probability, in_range(self.min_regime_probability, Decimal::new(5, 1), d(1)), "0.5 to 1"),
            rule("min_regime_duration_days", self.min_regime_duration_days, self.min_regime_duration_days <= 365, "0 to 365"),
            rule("mode_cooldown_hours", self.mode_cooldown_hours, self.mode_cooldown_hours <= 720, "0 to 720"),
            rule("hold_trailing_stop_pct", self.hold_trailing_stop_pct, above_at_most(self.hold_trailing_stop_pct, d(0), d(50)), "greater than 0 and at most 50"),
            rule("cash_trailing_stop_pct", self.cash_trailing_stop_pct, above_at_most(self.cash_trailing_stop_pct, d(0), d(50)), "greater than 0 and at most 50"),
            rule("grid_range_percent", self.grid_range_percent, above_at_most(self.grid_range_percent, d(0), d(30)), "greater than 0 and at most 30"),
            rule("num_grids", self.num_grids, (2..=50).contains(&self.num_grids), "2 to 50"),
            rule("cash_exit_timeout_hours", self.cash_exit_timeout_hours, in_range(self.cash_exit_timeout_hours, d(0), d(168)), "0 to 168"),
            rule("max_symbols", self.max_symbols, (1..=20).contains(&self.max_symbols), "1 to 20"),
            rule("min_position_usd", self.min_position_usd, self.min_position_usd >= d(5), "at least 5"),
            rule("total_investment", self.total_investment, self.total_investment >= d(10), "at least 10"),
            rule("min_position_usd", self.min_position_usd, self.min_position_usd <= self.total_investment, "at most total_investment"),
            rule("min_confidence", self.min_confidence, in_range(self.min_confidence, d(0), d(1)), "0 to 1"),
            rule("allowed_categories", format!("{:?}", self.allowed_categories), !self.allowed_categories.is_empty(), "at least one category"),
            rule("emergency_bear_probability", self.emergency_bear_probability, in_range(self.emergency_bear_probability, Decimal::new(5, 1), d(1)), "0.5 to 1"),
            rule("safety_lock_max_transitions", self.safety_lock_max_transitions, (1..=10).contains(&self.safety_lock_max_transitions), "1 to 10"),
            rule("safety_lock_window_hours", self.safety_lock_window_hours, (1..=720).contains(&self.safety_lock_window_hours), "1 to 720"),
            rule("safety_lock_days", self.safety_lock_days, (1..=90).contains(&self.safety_lock_days), "1 to 90"),
        ]
    }
}

fn rule(field: &'static str, value: impl fmt::Display, ok: bool, allowed: &'static str) -> Rule {
    (field, value.to_string(), ok, allowed)
}

fn in_range(value: Decimal, low: Decimal, high: Decimal) -> bool {
    (low..=high).contains(&value)
}

fn above_at_most(value: Decimal, low: Decimal, high: Decimal) -> bool {
    value > low && value <= high
}

/// The environment variables [`HybridConfig::from_env_vars`] reads (spec §10.1), with the
/// field each one sets.
pub const ENV_VARS: [(&str, &str); 13] = [
    ("HYBRID_INITIAL_MODE", "initial_mode"),
    ("HYBRID_ENABLE_MODE_SWITCHING", "enable_mode_switching"),
    ("HYBRID_MIN_REGIME_PROBABILITY", "min_regime_probability"),
    (
        "HYBRID_MIN_REGIME_DURATION_DAYS",
        "min_regime_duration_days",
    ),
    ("HYBRID_MODE_COOLDOWN_HOURS", "mode_cooldown_hours"),
    ("HYBRID_HOLD_TRAILING_STOP_PCT", "hold_trailing_stop_pct"),
    ("HYBRID_CASH_EXIT_TIMEOUT_HOURS", "cash_exit_timeout_hours"),
    ("HYBRID_MIN_POSITION_USD", "min_position_usd"),
    ("HYBRID_MAX_SYMBOLS", "max_symbols"),
    ("HYBRID_TOTAL_INVESTMENT", "total_investment"),
    ("HYBRID_CONSTRAINTS_PRESET", "constraints_preset"),
    ("GRID_RANGE_PERCENT", "grid_range_percent"),
    ("NUM_GRIDS", "num_grids"),
];

impl HybridConfig {
    /// The defaults overridden by the variables of [`ENV_VARS`] (spec §10.1), then validated.
    ///
    /// Pure: `var` looks a name up (pass `|name| std::env::var(name).ok()` in the binary, a
    /// map in tests). Every unparsable value and every range problem is reported together.
    ///
    /// # Errors
    /// [`ModesError::InvalidConfig`] listing every unparsable or out-of-range field.
    pub fn from_env_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ModesError> {
        let mut config = Self::default();
        let mut problems = Vec::new();
        for (name, field) in ENV_VARS {
            if let Some(text) = var(name) {
                if let Err(allowed) = config.set_field(field, text.trim()) {
                    problems.push(ConfigProblem::new(field, &text, allowed));
                }
            }
        }
        if let Err(ModesError::InvalidConfig { problems: more }) = config.validate() {
            // A field that did not parse kept its (valid) default, so no problem is doubled.
            problems.extend(more);
        }
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(ModesError::InvalidConfig { problems })
        }
    }

    /// Parses `text` into `field`; on failure returns what the field accepts.
    #[rustfmt::skip]
    fn set_field(&mut self, field: &str, text: &str) -> Result<(), &'static str> {
        match field {
            "initial_mode" => self.initial_mode = parse(text, "HOLD, GRID or CASH")?,
            "enable_mode_switching" => self.enable_mode_switching = parse_bool(text)?,
            "min_regime_probability" => self.min_regime_probability = parse(text, "a decimal number")?,
            "min_regime_duration_days" => self.min_regime_duration_days = parse(text, "a whole number")?,
            "mode_cooldown_hours" => self.mode_cooldown_hours = parse(text, "a whole number")?,
            "hold_trailing_stop_pct" => self.hold_trailing_stop_pct = parse(text, "a decimal number")?,
            "cash_exit_timeout_hours" => self.cash_exit_timeout_hours = parse(text, "a decimal number")?,
            "min_position_usd" => self.min_position_usd = parse(text, "a decimal number")?,
            "max_symbols" => self.max_symbols = parse(text, "a whole number")?,
            "total_investment" => self.total_investment = parse(text, "a decimal number")?,
            "constraints_preset" => self.constraints_preset = parse(text, PRESET_NAMES)?,
            "grid_range_percent" => self.grid_range_percent = parse(text, "a decimal number")?,
            "num_grids" => self.num_grids = parse(text, "a whole number")?,
            _ => return Err("a known field"),
        }
        Ok(())
    }
}

fn parse<T: FromStr>(text: &str, allowed: &'static str) -> Result<T, &'static str> {
    text.parse().map_err(|_| allowed)
}

/// `true`/`false` in any case, or `1`/`0`.
fn parse_bool(text: &str) -> Result<bool, &'static str> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err("true or false"),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use rust_decimal_macros::dec;

    use super::*;

    fn problems(config: &HybridConfig) -> Vec<String> {
        match config.validate() {
            Ok(()) => Vec::new(),
            Err(ModesError::InvalidConfig { problems }) => {
                problems.into_iter().map(|p| p.field).collect()
            }
            Err(other) => panic!("unexpected error {other}"),
        }
    }

    #[test]
    fn defaults_are_the_spec_values_and_valid() {
        let c = HybridConfig::default();
        assert_eq!(c.initial_mode, TradingMode::Grid);
        assert!(c.enable_mode_switching);
        assert_eq!(c.min_regime_probability, dec!(0.75));
        assert_eq!((c.min_regime_duration_days, c.mode_cooldown_hours), (2, 24));
        assert_eq!(c.hold_trailing_stop_pct, dec!(7));
        assert_eq!(c.cash_exit_timeout_hours, dec!(2));
        assert_eq!(
            (c.max_symbols, c.min_position_usd, c.total_investment),
            (8, dec!(10), dec!(400))
        );
        assert_eq!(c.emergency_bear_probability, dec!(0.85));
        assert_eq!(c.allowed_categories.len(), 6);
        assert!(!c.allowed_categories.contains(&CoinCategory::Meme));
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn every_problem_is_reported() {
        let config = HybridConfig {
            min_regime_probability: dec!(2.0),
            total_investment: dec!(1),
            max_symbols: 50,
            hold_trailing_stop_pct: dec!(0),
            ..HybridConfig::default()
        };
        let fields = problems(&config);
        // total_investment 1 is also below min_position_usd 10: both rules speak.
        assert_eq!(
            fields,
            [
                "min_regime_probability",
                "hold_trailing_stop_pct",
                "max_symbols",
                "total_investment",
                "min_position_usd"
            ]
        );
    }

    #[test]
    fn boundaries_are_inclusive_where_the_spec_says() {
        let edge = HybridConfig {
            min_regime_probability: dec!(0.5),
            hold_trailing_stop_pct: dec!(50),
            max_symbols: 20,
            min_position_usd: dec!(5),
            total_investment: dec!(10),
            min_confidence: dec!(1),
            ..HybridConfig::default()
        };
        assert_eq!(edge.validate(), Ok(()));
    }

    #[test]
    fn env_vars_override_and_collect_parse_errors() {
        let vars: BTreeMap<&str, &str> = [
            ("HYBRID_INITIAL_MODE", "X"),
            ("HYBRID_MIN_REGIME_PROBABILITY", "2.0"),
            ("HYBRID_ENABLE_MODE_SWITCHING", "maybe"),
        ]
        .into();
        let err = HybridConfig::from_env_vars(|k| vars.get(k).map(|v| (*v).to_owned()));
        let Err(ModesError::InvalidConfig { problems }) = err else {
            panic!("expected problems");
        };
        let fields: Vec<_> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "initial_mode",
                "enable_mode_switching",
                "min_regime_probability"
            ]
        );
        assert_eq!(problems[0].allowed, "HOLD, GRID or CASH");
    }

    #[test]
    fn json_round_trip_and_partial_input_defaults() {
        let config = HybridConfig::default();
        let json = serde_json::to_string(&config).unwrap();
        let back: HybridConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, config);
        let partial: HybridConfig =
            serde_json::from_str(r#"{"initial_mode":"HOLD","constraints_preset":"by_mode"}"#)
                .unwrap();
        assert_eq!(partial.initial_mode, TradingMode::Hold);
        assert_eq!(partial.constraints_preset, PresetSelection::ByMode);
        assert!(serde_json::from_str::<HybridConfig>(r#"{"nonsense":1}"#).is_err());
    }
}
