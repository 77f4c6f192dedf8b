//! Cohort definitions (spec §6.1, §6.2) and their mapping to an orchestrator configuration
//! (spec §6.3, `HybridConfig.from_cohort`).
//!
//! A [`CohortDefinition`] is what configuration says about a cohort: its name, its
//! [`CohortConfig`] (grid range, minimum confidence, Fear & Greed window, risk tolerance,
//! category override) and its starting capital in USDT. [`default_cohorts`] gives the six of the
//! spec, 1000 USDT each. [`from_cohort`] turns one into a [`HybridConfig`];
//! [`orchestrator_config`] into the whole [`OrchestratorConfig`] of its orchestrator.

use hybrid_core::Timestamp;
use hybrid_engine::OrchestratorConfig;
use hybrid_market::Category;
use hybrid_modes::{CoinCategory, ConstraintPreset, HybridConfig, PresetSelection};
use hybrid_store::{CohortRecord, NewCohort, Store};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::CohortError;

/// How much risk a cohort takes; decides its coin categories when it has no override.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RiskTolerance {
    /// LARGE_CAP and MID_CAP only.
    Low,
    /// LARGE_CAP, MID_CAP and L2.
    #[default]
    Medium,
    /// All seven categories, MEME included.
    High,
}

/// A cohort's strategy parameters (spec §6.1). Missing keys take the defaults, so a stored
/// JSON document from an older version still loads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CohortConfig {
    /// Grid range around the price, percent (5 means ±5 %).
    pub grid_range_pct: Decimal,
    /// Lowest scanner confidence of a coin the cohort trades, in [0, 1].
    pub min_confidence: Decimal,
    /// Lowest Fear & Greed index (0-100) at which the cohort trades.
    pub min_fear_greed: u8,
    /// Highest Fear & Greed index (0-100) at which the cohort trades.
    pub max_fear_greed: u8,
    /// Whether the learning playbook may advise the cohort.
    pub use_playbook: bool,
    /// Decides the categories when `allowed_categories` is not set.
    pub risk_tolerance: RiskTolerance,
    /// A frozen cohort's parameters are never tuned (the baseline, the control group).
    pub frozen: bool,
    /// Replaces the risk mapping when set and non-empty.
    pub allowed_categories: Option<Vec<CoinCategory>>,
}

impl Default for CohortConfig {
    fn default() -> Self {
        Self {
            grid_range_pct: Decimal::from(5),
            min_confidence: Decimal::new(5, 1),
            min_fear_greed: 0,
            max_fear_greed: 100,
            use_playbook: true,
            risk_tolerance: RiskTolerance::Medium,
            frozen: false,
            allowed_categories: None,
        }
    }
}

/// A cohort as configured: a strategy variant with its own capital.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CohortDefinition {
    /// Unique name, e.g. `balanced`; the key in the `cohorts` table.
    pub name: String,
    /// Shown in reports.
    #[serde(default)]
    pub description: String,
    /// Strategy parameters.
    #[serde(default)]
    pub config: CohortConfig,
    /// Capital the cohort starts with, USDT.
    #[serde(default = "default_capital")]
    pub starting_capital: Decimal,
    /// Capital now, USDT (starting capital plus realised P&L); the orchestrator's
    /// `total_investment`.
    #[serde(default = "default_capital")]
    pub current_capital: Decimal,
    /// An inactive cohort is loaded but never trades.
    #[serde(default = "default_true")]
    pub is_active: bool,
}

fn default_capital() -> Decimal {
    Decimal::from(1000)
}

const fn default_true() -> bool {
    true
}

impl CohortDefinition {
    /// A cohort with `config` and 1000 USDT.
    #[must_use]
    pub fn new(name: &str, description: &str, config: CohortConfig) -> Self {
        Self {
            name: name.to_owned(),
            description: description.to_owned(),
            config,
            starting_capital: default_capital(),
            current_capital: default_capital(),
            is_active: true,
        }
    }

    /// Spec §6.1 `should_trade(confidence, fear_greed)`: false when the cohort is inactive,
    /// the confidence is below its minimum, or the index is outside its window.
    ///
    /// Differs from the old system: the old trading path never called it; the cohort
    /// orchestrator checks the confidence part at coin selection.
    #[must_use]
    pub fn should_trade(&self, confidence: Decimal, fear_greed: u8) -> bool {
        self.is_active
            && confidence >= self.config.min_confidence
            && fear_greed >= self.config.min_fear_greed
            && fear_greed <= self.config.max_fear_greed
    }

    /// The categories the cohort trades (spec §6.3): the override when set and non-empty,
    /// otherwise by risk tolerance.
    #[must_use]
    pub fn effective_categories(&self) -> Vec<CoinCategory> {
        match &self.config.allowed_categories {
            Some(categories) if !categories.is_empty() => categories.clone(),
            _ => match self.config.risk_tolerance {
                RiskTolerance::Low => vec![CoinCategory::LargeCap, CoinCategory::MidCap],
                RiskTolerance::High => CoinCategory::ALL.to_vec(),
                RiskTolerance::Medium => vec![
                    CoinCategory::LargeCap,
                    CoinCategory::MidCap,
                    CoinCategory::L2,
                ],
            },
        }
    }

    /// The effective categories in the watchlist's terms.
    #[must_use]
    pub fn market_categories(&self) -> Vec<Category> {
        self.effective_categories()
            .into_iter()
            .map(market_category)
            .collect()
    }

    /// The row for the `cohorts` table (the config as JSON).
    ///
    /// # Errors
    /// [`CohortError::Config`] if the configuration cannot be serialised (never for valid
    /// values).
    pub fn to_new_cohort(&self) -> Result<NewCohort, CohortError> {
        Ok(NewCohort {
            name: self.name.clone(),
            description: self.description.clone(),
            config: serde_json::to_value(&self.config)
                .map_err(|e| CohortError::Config(format!("cohort {}: {e}", self.name)))?,
            starting_capital: self.starting_capital,
            is_active: self.is_active,
        })
    }

    /// A stored row back as a definition; a `null` config takes the defaults.
    ///
    /// # Errors
    /// [`CohortError::Config`] naming the cohort when its stored config is not a valid
    /// [`CohortConfig`].
    pub fn from_record(record: &CohortRecord) -> Result<Self, CohortError> {
        let config = if record.config.is_null() {
            CohortConfig::default()
        } else {
            serde_json::from_value(record.config.clone()).map_err(|e| {
                CohortError::Config(format!("stored config of cohort {}: {e}", record.name))
            })?
        };
        Ok(Self {
            name: record.name.clone(),
            description: record.description.clone(),
            config,
            starting_capital: record.starting_capital,
            current_capital: record.current_capital,
            is_active: record.is_active,
        })
    }

    /// Checks the values a configuration file can get wrong.
    ///
    /// # Errors
    /// [`CohortError::Config`] naming the cohort and the field.
    pub fn validate(&self) -> Result<(), CohortError> {
        let bad = |field: &str, allowed: &str| {
            Err(CohortError::Config(format!(
                "cohort {:?}: {field} must be {allowed}",
                self.name
            )))
        };
        if self.name.trim().is_empty() {
            return bad("name", "non-empty");
        }
        if self.starting_capital <= Decimal::ZERO || self.current_capital < Decimal::ZERO {
            return bad("starting_capital", "positive (USDT)");
        }
        if !(Decimal::ZERO..=Decimal::ONE).contains(&self.config.min_confidence) {
            return bad("min_confidence", "between 0 and 1");
        }
        if self.config.min_fear_greed > self.config.max_fear_greed
            || self.config.max_fear_greed > 100
        {
            return bad(
                "min_fear_greed/max_fear_greed",
                "a window within 0-100 with min <= max",
            );
        }
        Ok(())
    }
}

/// The six cohorts of spec §6.2, in load order, 1000 USDT each.
#[must_use]
pub fn default_cohorts() -> Vec<CohortDefinition> {
    let config = |grid: i64, conf: i64, risk: RiskTolerance| CohortConfig {
        grid_range_pct: Decimal::from(grid),
        min_confidence: Decimal::new(conf, 1),
        risk_tolerance: risk,
        ..CohortConfig::default()
    };
    let conservative = CohortConfig {
        grid_range_pct: Decimal::TWO,
        max_fear_greed: 40,
        ..config(0, 7, RiskTolerance::Low)
    };
    let baseline = CohortConfig {
        frozen: true,
        ..config(5, 5, RiskTolerance::Medium)
    };
    let defi = CohortConfig {
        allowed_categories: Some(vec![CoinCategory::Defi, CoinCategory::Ai]),
        ..config(10, 3, RiskTolerance::High)
    };
    let meme = CohortConfig {
        allowed_categories: Some(vec![CoinCategory::Meme]),
        ..config(15, 2, RiskTolerance::High)
    };
    vec![
        CohortDefinition::new(
            "conservative",
            "tight grids on large and mid caps, only with high confidence",
            conservative,
        ),
        CohortDefinition::new(
            "balanced",
            "the default strategy",
            config(5, 5, RiskTolerance::Medium),
        ),
        CohortDefinition::new(
            "aggressive",
            "wide grids on every category",
            config(8, 3, RiskTolerance::High),
        ),
        CohortDefinition::new(
            BASELINE,
            "frozen control group: balanced settings, never tuned",
            baseline,
        ),
        CohortDefinition::new("defi_explorer", "DeFi and AI coins", defi),
        CohortDefinition::new("meme_hunter", "meme coins, very wide grids", meme),
    ]
}

/// The name of the control cohort every other cohort is compared with.
pub const BASELINE: &str = "baseline";

/// Spec §6.3 `HybridConfig.from_cohort`: the cohort's grid range, minimum confidence,
/// categories and capital over `base` (the environment's mode settings), with 3 grids,
/// at most 3 symbols and the SMALL preset.
///
/// `base` should already carry the environment overrides (initial mode, regime thresholds,
/// cooldown, stops, minimum position). Like the old system, mode switching is off unless the
/// caller turned it on in `base` — pass `HybridConfig { enable_mode_switching: false, .. }`
/// for the old default.
#[must_use]
pub fn from_cohort(cohort: &CohortDefinition, base: &HybridConfig) -> HybridConfig {
    HybridConfig {
        grid_range_percent: cohort.config.grid_range_pct,
        min_confidence: cohort.config.min_confidence,
        total_investment: cohort.current_capital,
        num_grids: 3,
        max_symbols: 3,
        allowed_categories: cohort.effective_categories(),
        constraints_preset: PresetSelection::Fixed(ConstraintPreset::Small),
        ..base.clone()
    }
}

/// The whole orchestrator configuration of a cohort: [`from_cohort`] over `base.hybrid`, the
/// cohort's name, and the rest of `base` (stops, guard, regime, fees).
#[must_use]
pub fn orchestrator_config(
    cohort: &CohortDefinition,
    base: &OrchestratorConfig,
) -> OrchestratorConfig {
    OrchestratorConfig {
        cohort_name: cohort.name.clone(),
        hybrid: from_cohort(cohort, &base.hybrid),
        ..base.clone()
    }
}

/// The watchlist category of a modes category.
#[must_use]
pub const fn market_category(category: CoinCategory) -> Category {
    match category {
        CoinCategory::LargeCap => Category::LargeCap,
        CoinCategory::MidCap => Category::MidCap,
        CoinCategory::L2 => Category::L2,
        CoinCategory::Defi => Category::Defi,
        CoinCategory::Ai => Category::Ai,
        CoinCategory::Gaming => Category::Gaming,
        CoinCategory::Meme => Category::Meme,
    }
}

/// Spec §6.1 loading: the active cohorts of the `cohorts` table in id order; when the table
/// holds none, the `defaults` are stored and returned.
///
/// Differs from the old system: a load error is an error, not a silent fall-back to the
/// in-memory defaults (which would trade money the database does not know about).
///
/// # Errors
/// [`CohortError::Store`] on a database failure; [`CohortError::Config`] for a stored config
/// that does not parse.
pub fn load_or_seed(
    store: &Store,
    defaults: &[CohortDefinition],
    now: Timestamp,
) -> Result<Vec<CohortDefinition>, CohortError> {
    store.run_migrations()?;
    // Rows without a config object are the engine's own (a single orchestrator's cohort).
    if !store.list_cohorts()?.iter().any(|r| r.config.is_object()) {
        seed(store, defaults, now)?;
    }
    store
        .list_cohorts()?
        .iter()
        .filter(|r| r.is_active && r.config.is_object())
        .map(CohortDefinition::from_record)
        .collect()
}

/// Writes `cohorts` to the `cohorts` table (upsert by name: configuration is re-applied, the
/// current capital is kept) and returns the stored rows.
///
/// # Errors
/// [`CohortError::Store`] on a database failure; [`CohortError::Config`] for an invalid cohort.
pub fn seed(
    store: &Store,
    cohorts: &[CohortDefinition],
    now: Timestamp,
) -> Result<Vec<CohortRecord>, CohortError> {
    store.run_migrations()?;
    cohorts
        .iter()
        .map(|cohort| {
            cohort.validate()?;
            Ok(store.upsert_cohort(&cohort.to_new_cohort()?, now)?)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use rust_decimal_macros::dec;

    fn by_name(name: &str) -> CohortDefinition {
        default_cohorts()
            .into_iter()
            .find(|c| c.name == name)
            .unwrap()
    }

    /// Spec §11 scenario 70: the config defaults, the JSON round-trip, `should_trade` and
    /// `from_cohort`.
    #[test]
    fn scenario_11_70_cohort_config_and_from_cohort() {
        let config = CohortConfig::default();
        assert_eq!(config.grid_range_pct, dec!(5.0));
        assert_eq!(config.min_confidence, dec!(0.5));
        assert_eq!((config.min_fear_greed, config.max_fear_greed), (0, 100));
        assert!(config.use_playbook);
        assert_eq!(config.risk_tolerance, RiskTolerance::Medium);
        assert!(!config.frozen);
        assert_eq!(config.allowed_categories, None);

        let custom = CohortConfig {
            grid_range_pct: dec!(3.0),
            min_confidence: dec!(0.7),
            frozen: true,
            ..CohortConfig::default()
        };
        let json = serde_json::to_string(&custom).unwrap();
        assert_eq!(serde_json::from_str::<CohortConfig>(&json).unwrap(), custom);
        let partial: CohortConfig = serde_json::from_str(r#"{"grid_range_pct": "3.0"}"#).unwrap();
        assert_eq!(partial.min_confidence, dec!(0.5));

        let mut cohort = CohortDefinition::new(
            "c",
            "",
            CohortConfig {
                min_confidence: dec!(0.6),
                ..CohortConfig::default()
            },
        );
        assert!(!cohort.should_trade(dec!(0.5), 50));
        assert!(cohort.should_trade(dec!(0.7), 50));
        cohort.is_active = false;
        assert!(!cohort.should_trade(dec!(0.9), 50));

        let base = HybridConfig::default();
        let mut low = CohortDefinition::new(
            "low",
            "",
            CohortConfig {
                grid_range_pct: dec!(2.0),
                min_confidence: dec!(0.7),
                risk_tolerance: RiskTolerance::Low,
                ..CohortConfig::default()
            },
        );
        low.current_capital = dec!(100);
        let hybrid = from_cohort(&low, &base);
        assert_eq!(hybrid.grid_range_percent, dec!(2.0));
        assert_eq!(hybrid.min_confidence, dec!(0.7));
        assert_eq!(
            hybrid.allowed_categories,
            vec![CoinCategory::LargeCap, CoinCategory::MidCap]
        );
        assert_eq!(hybrid.total_investment, dec!(100));
        assert_eq!(hybrid.max_symbols, 3);
        assert_eq!(
            hybrid.constraints_preset,
            PresetSelection::Fixed(ConstraintPreset::Small)
        );

        let mut high = CohortDefinition::new(
            "high",
            "",
            CohortConfig {
                risk_tolerance: RiskTolerance::High,
                ..CohortConfig::default()
            },
        );
        high.current_capital = dec!(95);
        let hybrid = from_cohort(&high, &base);
        assert_eq!(hybrid.allowed_categories.len(), 7);
        assert!(hybrid.allowed_categories.contains(&CoinCategory::Meme));
        assert_eq!(hybrid.total_investment, dec!(95));

        let medium = CohortDefinition::new("medium", "", CohortConfig::default());
        from_cohort(&medium, &base).validate().unwrap();

        assert_eq!(
            from_cohort(&by_name("defi_explorer"), &base).allowed_categories,
            vec![CoinCategory::Defi, CoinCategory::Ai]
        );
        assert_eq!(
            from_cohort(&by_name("meme_hunter"), &base).allowed_categories,
            vec![CoinCategory::Meme]
        );
    }

    /// Spec §6.2: every default cohort with its effective categories.
    #[test]
    fn the_six_default_cohorts_match_the_spec_table() {
        let cohorts = default_cohorts();
        let names: Vec<&str> = cohorts.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "conservative",
                "balanced",
                "aggressive",
                "baseline",
                "defi_explorer",
                "meme_hunter"
            ]
        );
        let row = |name: &str| {
            let c = by_name(name);
            (
                c.config.grid_range_pct,
                c.config.min_confidence,
                c.config.max_fear_greed,
                c.config.frozen,
                c.effective_categories().len(),
                c.starting_capital,
            )
        };
        assert_eq!(
            row("conservative"),
            (dec!(2), dec!(0.7), 40, false, 2, dec!(1000))
        );
        assert_eq!(
            row("balanced"),
            (dec!(5), dec!(0.5), 100, false, 3, dec!(1000))
        );
        assert_eq!(
            row("aggressive"),
            (dec!(8), dec!(0.3), 100, false, 7, dec!(1000))
        );
        assert_eq!(
            row("baseline"),
            (dec!(5), dec!(0.5), 100, true, 3, dec!(1000))
        );
        assert_eq!(
            row("defi_explorer"),
            (dec!(10), dec!(0.3), 100, false, 2, dec!(1000))
        );
        assert_eq!(
            row("meme_hunter"),
            (dec!(15), dec!(0.2), 100, false, 1, dec!(1000))
        );
        for cohort in &cohorts {
            cohort.validate().unwrap();
            from_cohort(cohort, &HybridConfig::default())
                .validate()
                .unwrap();
        }
    }

    #[test]
    fn cohorts_round_trip_through_the_store_and_are_seeded_once() {
        let store = Store::open("sqlite::memory:").unwrap();
        let now = Timestamp::from_millis(0);
        let loaded = load_or_seed(&store, &default_cohorts(), now).unwrap();
        assert_eq!(loaded, default_cohorts());
        // A second load finds them and does not seed again; an edited row is kept.
        let mut edited = by_name("balanced");
        edited.config.grid_range_pct = dec!(6);
        seed(&store, &[edited.clone()], now).unwrap();
        let again = load_or_seed(&store, &default_cohorts(), now).unwrap();
        assert_eq!(again.len(), 6);
        assert_eq!(again[1], edited);
    }

    #[test]
    fn a_bad_cohort_is_refused_with_its_name_and_field() {
        let mut cohort = by_name("balanced");
        cohort.config.min_confidence = dec!(1.5);
        let error = cohort.validate().unwrap_err().to_string();
        assert!(
            error.contains("balanced") && error.contains("min_confidence"),
            "{error}"
        );
        let error = serde_json::from_str::<CohortConfig>(r#"{"grid_pct": 1}"#).unwrap_err();
        assert!(error.to_string().contains("grid_pct"), "{error}");
    }
}
