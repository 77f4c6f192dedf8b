//! Allocation constraints and their presets (spec §7.1, §7.2), and which preset a mode uses
//! (spec §4.5).
//!
//! Percent fields are percentages of the portfolio (10 means 10 %); USD fields are quote
//! amounts. The allocator (in the engine) reads these limits; this crate only says which
//! numbers apply.

use std::{collections::BTreeMap, fmt, str::FromStr};

use hybrid_core::{Notional, TradingMode};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::ModesError;

/// A coin's category in the watchlist (spec §7.6); limits are set per category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CoinCategory {
    /// BTC, ETH.
    LargeCap,
    /// Established alt-coins (SOL, BNB, XRP, ...).
    MidCap,
    /// Layer-2 networks (ARB, OP).
    L2,
    /// Decentralised finance (UNI, AAVE, ...).
    Defi,
    /// AI tokens (FET, RNDR, ...).
    Ai,
    /// Gaming tokens (AXS, SAND, MANA).
    Gaming,
    /// Meme coins (DOGE, SHIB, PEPE, ...).
    Meme,
}

impl CoinCategory {
    /// Every category, in the spec's order.
    pub const ALL: [Self; 7] = [
        Self::LargeCap,
        Self::MidCap,
        Self::L2,
        Self::Defi,
        Self::Ai,
        Self::Gaming,
        Self::Meme,
    ];
}

/// A named set of allocation limits (spec §7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConstraintPreset {
    /// Few, small positions and a large cash reserve.
    Conservative,
    /// The §7.1 defaults.
    Balanced,
    /// More and larger positions, little cash.
    Aggressive,
    /// For portfolios of a few hundred USDT, where 10 % per coin would be below the exchange
    /// minimum: few positions, each up to 40 %. The cohorts' default.
    Small,
}

/// Which preset the allocator uses: a fixed one, or the one that suits the current mode.
///
/// The original returns the mode's preset only for an *unknown* preset name, which its own
/// validation forbids, so the per-mode mapping never ran (spec §4.5). Here it is a choice
/// of its own, `by_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum PresetSelection {
    /// Always this preset, whatever the mode.
    Fixed(ConstraintPreset),
    /// [`ConstraintPreset::for_mode`]: HOLD → aggressive, GRID → balanced, CASH → conservative.
    ByMode,
}

/// Allocation limits (spec §7.1). `Default` gives the §7.1 defaults (equal to BALANCED).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationConstraints {
    /// Largest share of the portfolio in one coin, percent.
    pub max_per_coin_pct: Decimal,
    /// Smallest position worth opening, quote.
    pub min_position_usd: Notional,
    /// Largest single position, quote.
    pub max_position_usd: Notional,
    /// Share of the portfolio in one category when the category has no limit of its own,
    /// percent.
    pub max_per_category_pct: Decimal,
    /// Share of the portfolio per category, percent.
    pub category_limits: BTreeMap<CoinCategory, Decimal>,
    /// Share of the portfolio always kept in the quote currency, percent.
    pub min_cash_reserve_pct: Decimal,
    /// Most positions open at once.
    pub max_open_positions: u32,
    /// Largest share of the portfolio invested in coins, percent.
    pub max_total_exposure_pct: Decimal,
    /// Most positions correlated above `correlation_threshold` (unused by the original).
    pub max_correlated_positions: u32,
    /// Largest share in high-risk coins, percent (unused by the original).
    pub max_high_risk_allocation_pct: Decimal,
    /// Correlation above which two coins count as correlated, a fraction.
    pub correlation_threshold: Decimal,
    /// Drift from target that triggers a rebalance, percent.
    pub rebalance_threshold_pct: Decimal,
    /// Least time between two rebalances, hours.
    pub min_rebalance_interval_hours: u32,
    /// Share of the portfolio per coin tier (1 primary, 2 secondary, 3 experimental), percent.
    pub tier_limits: BTreeMap<u8, Decimal>,
}

impl ConstraintPreset {
    /// Every preset.
    pub const ALL: [Self; 4] = [
        Self::Conservative,
        Self::Balanced,
        Self::Aggressive,
        Self::Small,
    ];

    /// The preset that suits a mode (spec §4.5): HOLD rides a bull market with larger
    /// positions, GRID spreads risk, CASH keeps most of the portfolio in the quote currency.
    #[must_use]
    pub const fn for_mode(mode: TradingMode) -> Self {
        match mode {
            TradingMode::Hold => Self::Aggressive,
            TradingMode::Grid => Self::Balanced,
            TradingMode::Cash => Self::Conservative,
        }
    }

    /// The lower-case name used in configuration.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Conservative => "conservative",
            Self::Balanced => "balanced",
            Self::Aggressive => "aggressive",
            Self::Small => "small",
        }
    }

    /// The preset's limits (spec §7.2); fields the table leaves out keep the §7.1 defaults.
    #[must_use]
    pub fn constraints(self) -> AllocationConstraints {
        let base = AllocationConstraints::default();
        match self {
            Self::Conservative => base.with_shares(8, 25, 30, 6, 70, 10),
            Self::Balanced => base.with_shares(10, 30, 20, 10, 80, 15),
            Self::Aggressive => base.with_shares(15, 40, 10, 15, 90, 25),
            Self::Small => small(base.with_shares(40, 50, 15, 8, 85, 30)),
        }
    }
}

/// SMALL's own category and tier limits (spec §7.2).
fn small(mut constraints: AllocationConstraints) -> AllocationConstraints {
    constraints.category_limits = category_limits([50, 40, 40, 40, 40, 30, 30]);
    constraints.tier_limits = tier_limits([50, 40, 30]);
    constraints
}

impl PresetSelection {
    /// The preset for the current mode.
    #[must_use]
    pub const fn preset_for(self, mode: TradingMode) -> ConstraintPreset {
        match self {
            Self::Fixed(preset) => preset,
            Self::ByMode => ConstraintPreset::for_mode(mode),
        }
    }

    /// The limits for the current mode.
    #[must_use]
    pub fn constraints_for(self, mode: TradingMode) -> AllocationConstraints {
        self.preset_for(mode).constraints()
    }

    /// The name used in configuration.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Fixed(preset) => preset.as_str(),
            Self::ByMode => BY_MODE,
        }
    }
}

const BY_MODE: &str = "by_mode";

/// The names [`PresetSelection`] accepts, for error messages.
pub(crate) const PRESET_NAMES: &str = "small, conservative, balanced, aggressive or by_mode";

impl Default for PresetSelection {
    /// SMALL: the cohorts' and the environment's default (spec §4.7).
    fn default() -> Self {
        Self::Fixed(ConstraintPreset::Small)
    }
}

impl AllocationConstraints {
    /// The largest share of the portfolio one coin may take, percent (spec §7.1
    /// `max_for_coin`): the smallest of the per-coin cap, the category's cap (or the generic
    /// category cap), the tier's cap (or the per-coin cap) and, for LARGE_CAP, also tier 1's.
    #[must_use]
    pub fn max_for_coin(&self, category: CoinCategory, tier: u8) -> Decimal {
        let category_cap = self.category_cap(category);
        let tier_cap = self.tier_cap(tier).unwrap_or(self.max_per_coin_pct);
        let mut cap = self.max_per_coin_pct.min(category_cap).min(tier_cap);
        if category == CoinCategory::LargeCap {
            cap = cap.min(self.tier_cap(1).unwrap_or(TIER_1_FALLBACK_PCT));
        }
        cap
    }

    /// Quote that may still be invested (spec §7.1 `available`): what is left after the cash
    /// reserve, and at most what the exposure cap allows, never negative.
    #[must_use]
    pub fn available(&self, total: Notional, invested: Notional) -> Notional {
        let (total, invested) = (total.value(), invested.value());
        let after_reserve = total - invested - total * self.min_cash_reserve_pct / HUNDRED;
        let under_exposure = total * self.max_total_exposure_pct / HUNDRED - invested;
        Notional::new(after_reserve.min(under_exposure).max(Decimal::ZERO))
    }

    /// The category's own limit, or the generic per-category limit.
    #[must_use]
    pub fn category_cap(&self, category: CoinCategory) -> Decimal {
        self.category_limits
            .get(&category)
            .copied()
            .unwrap_or(self.max_per_category_pct)
    }

    fn tier_cap(&self, tier: u8) -> Option<Decimal> {
        self.tier_limits.get(&tier).copied()
    }

    /// The six numbers the presets differ in, in the spec's column order.
    fn with_shares(
        mut self,
        per_coin: i64,
        per_category: i64,
        cash_reserve: i64,
        max_positions: u32,
        max_exposure: i64,
        high_risk: i64,
    ) -> Self {
        self.max_per_coin_pct = Decimal::from(per_coin);
        self.max_per_category_pct = Decimal::from(per_category);
        self.min_cash_reserve_pct = Decimal::from(cash_reserve);
        self.max_open_positions = max_positions;
        self.max_total_exposure_pct = Decimal::from(max_exposure);
        self.max_high_risk_allocation_pct = Decimal::from(high_risk);
        self
    }
}

const HUNDRED: Decimal = Decimal::ONE_HUNDRED;

/// Tier 1's cap when a LARGE_CAP coin is checked and the tier table has no tier 1 (spec §7.1).
const TIER_1_FALLBACK_PCT: Decimal = Decimal::from_parts(15, 0, 0, false, 0);

impl Default for AllocationConstraints {
    fn default() -> Self {
        Self {
            max_per_coin_pct: Decimal::from(10),
            min_position_usd: Notional::new(Decimal::from(10)),
            max_position_usd: Notional::new(Decimal::from(500)),
            max_per_category_pct: Decimal::from(30),
            category_limits: category_limits([40, 30, 20, 20, 15, 10, 10]),
            min_cash_reserve_pct: Decimal::from(20),
            max_open_positions: 10,
            max_total_exposure_pct: Decimal::from(80),
            max_correlated_positions: 3,
            max_high_risk_allocation_pct: Decimal::from(15),
            correlation_threshold: Decimal::new(7, 1),
            rebalance_threshold_pct: Decimal::from(5),
            min_rebalance_interval_hours: 24,
            tier_limits: tier_limits([15, 10, 5]),
        }
    }
}

/// Limits for the seven categories, in [`CoinCategory::ALL`] order.
fn category_limits(pcts: [i64; 7]) -> BTreeMap<CoinCategory, Decimal> {
    CoinCategory::ALL
        .into_iter()
        .zip(pcts.map(Decimal::from))
        .collect()
}

/// Limits for tiers 1, 2 and 3.
fn tier_limits(pcts: [i64; 3]) -> BTreeMap<u8, Decimal> {
    (1..=3).zip(pcts.map(Decimal::from)).collect()
}

impl fmt::Display for ConstraintPreset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for PresetSelection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ConstraintPreset {
    type Err = ModesError;
    /// Exact lower-case names, as in the configuration.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|preset| preset.as_str() == s)
            .ok_or_else(|| unknown_preset(s))
    }
}

impl FromStr for PresetSelection {
    type Err = ModesError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == BY_MODE {
            return Ok(Self::ByMode);
        }
        s.parse().map(Self::Fixed).map_err(|_| unknown_preset(s))
    }
}

fn unknown_preset(s: &str) -> ModesError {
    ModesError::InvalidInput {
        what: "constraints preset",
        value: s.to_owned(),
        reason: "expected small, conservative, balanced, aggressive or by_mode",
    }
}

impl TryFrom<String> for PresetSelection {
    type Error = ModesError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<PresetSelection> for String {
    fn from(value: PresetSelection) -> Self {
        value.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn preset_table_matches_spec_7_2() {
        let rows = [
            (ConstraintPreset::Conservative, [8, 25, 30, 6, 70, 10]),
            (ConstraintPreset::Balanced, [10, 30, 20, 10, 80, 15]),
            (ConstraintPreset::Aggressive, [15, 40, 10, 15, 90, 25]),
            (ConstraintPreset::Small, [40, 50, 15, 8, 85, 30]),
        ];
        for (preset, [coin, category, cash, positions, exposure, high_risk]) in rows {
            let c = preset.constraints();
            assert_eq!(c.max_per_coin_pct, Decimal::from(coin), "{preset}");
            assert_eq!(c.max_per_category_pct, Decimal::from(category), "{preset}");
            assert_eq!(c.min_cash_reserve_pct, Decimal::from(cash), "{preset}");
            assert_eq!(c.max_open_positions, positions, "{preset}");
            assert_eq!(
                c.max_total_exposure_pct,
                Decimal::from(exposure),
                "{preset}"
            );
            assert_eq!(c.max_high_risk_allocation_pct, Decimal::from(high_risk));
        }
    }

    #[test]
    fn balanced_equals_the_defaults() {
        assert_eq!(
            ConstraintPreset::Balanced.constraints(),
            AllocationConstraints::default()
        );
    }

    #[test]
    fn derived_per_coin_caps() {
        let small = ConstraintPreset::Small.constraints();
        assert_eq!(small.max_for_coin(CoinCategory::LargeCap, 1), dec!(40));
        assert_eq!(small.max_for_coin(CoinCategory::MidCap, 2), dec!(40));
        assert_eq!(small.max_for_coin(CoinCategory::Gaming, 3), dec!(30));
        assert_eq!(small.max_for_coin(CoinCategory::Meme, 3), dec!(30));
        let balanced = ConstraintPreset::Balanced.constraints();
        assert_eq!(balanced.max_for_coin(CoinCategory::LargeCap, 1), dec!(10));
        assert_eq!(balanced.max_for_coin(CoinCategory::MidCap, 2), dec!(10));
        let defaults = AllocationConstraints::default();
        assert_eq!(defaults.max_for_coin(CoinCategory::Ai, 3), dec!(5));
    }

    #[test]
    fn missing_category_and_tier_fall_back() {
        let mut c = AllocationConstraints::default();
        c.category_limits.clear();
        c.tier_limits.clear();
        // Category → 30 (generic), tier → 10 (per coin), LARGE_CAP also tier 1 → 15.
        assert_eq!(c.max_for_coin(CoinCategory::LargeCap, 1), dec!(10));
        assert_eq!(c.category_cap(CoinCategory::Defi), dec!(30));
    }

    #[test]
    fn available_respects_reserve_and_exposure() {
        let c = AllocationConstraints::default();
        let total = Notional::new(dec!(1000));
        assert_eq!(
            c.available(total, Notional::new(dec!(400))).value(),
            dec!(400)
        );
        assert_eq!(
            c.available(total, Notional::new(dec!(750))).value(),
            dec!(50)
        );
        assert_eq!(c.available(total, Notional::new(dec!(900))), Notional::ZERO);
    }

    #[test]
    fn selection_parses_names_and_by_mode() {
        for preset in ConstraintPreset::ALL {
            let parsed: PresetSelection = preset.as_str().parse().unwrap();
            assert_eq!(parsed, PresetSelection::Fixed(preset));
        }
        assert_eq!(
            "by_mode".parse::<PresetSelection>().unwrap(),
            PresetSelection::ByMode
        );
        assert!("unknown".parse::<PresetSelection>().is_err());
        assert!("Small".parse::<ConstraintPreset>().is_err());
    }

    #[test]
    fn by_mode_follows_the_mode() {
        let by_mode = PresetSelection::ByMode;
        assert_eq!(
            by_mode.preset_for(TradingMode::Hold),
            ConstraintPreset::Aggressive
        );
        assert_eq!(
            by_mode.preset_for(TradingMode::Grid),
            ConstraintPreset::Balanced
        );
        assert_eq!(
            by_mode.preset_for(TradingMode::Cash),
            ConstraintPreset::Conservative
        );
        let fixed = PresetSelection::Fixed(ConstraintPreset::Small);
        assert_eq!(fixed.preset_for(TradingMode::Hold), ConstraintPreset::Small);
    }

    #[test]
    fn constraints_round_trip_through_json() {
        let small = ConstraintPreset::Small.constraints();
        let json = serde_json::to_string(&small).unwrap();
        assert!(json.contains("\"LARGE_CAP\""), "{json}");
        let back: AllocationConstraints = serde_json::from_str(&json).unwrap();
        assert_eq!(back, small);
    }
}
