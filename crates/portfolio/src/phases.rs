//! Deployment phases and the go-live checklist (spec §2.2), the capital limit the engine
//! enforces, and the live-start check of the API key's permissions.
//!
//! Differs from the old system: Redis is not part of our design and is not checked; the
//! API-key check (no withdrawals, IP-restricted) is new.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{validator::ValidationReport, PortfolioError};

/// Where the system is on the way to full production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum DeploymentPhase {
    /// Paper money (or the testnet): 10 000 virtual USDT, 6 cohorts.
    Paper,
    /// First real money: 1 000 USDT, 2 cohorts.
    Alpha,
    /// 3 000 USDT, 4 cohorts.
    Beta,
    /// 100 000 USDT, 6 cohorts.
    Production,
}

/// A phase's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseLimits {
    /// The most capital the bot may trade with, USDT.
    pub max_capital_usd: Decimal,
    /// The most cohorts that may trade.
    pub max_cohorts: usize,
    /// Whether the production validator must pass to enter the phase.
    pub needs_validator: bool,
}

impl DeploymentPhase {
    /// The phases in order.
    pub const ALL: [Self; 4] = [Self::Paper, Self::Alpha, Self::Beta, Self::Production];

    /// The phase's limits (spec §2.2).
    #[must_use]
    pub fn limits(self) -> PhaseLimits {
        let (capital, cohorts, validator) = match self {
            Self::Paper => (10_000, 6, false),
            Self::Alpha => (1_000, 2, true),
            Self::Beta => (3_000, 4, true),
            Self::Production => (100_000, 6, true),
        };
        PhaseLimits {
            max_capital_usd: Decimal::from(capital),
            max_cohorts: cohorts,
            needs_validator: validator,
        }
    }

    /// Whether the phase trades real money.
    #[must_use]
    pub const fn is_live(self) -> bool {
        !matches!(self, Self::Paper)
    }
}

impl fmt::Display for DeploymentPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Paper => "PAPER",
            Self::Alpha => "ALPHA",
            Self::Beta => "BETA",
            Self::Production => "PRODUCTION",
        })
    }
}

/// The phase the system is in: paper or testnet → PAPER; live without the portfolio manager
/// or without a known total → ALPHA; else by the Σ of the tiers' values: > 3 000 →
/// PRODUCTION, > 1 000 → BETA, otherwise ALPHA.
#[must_use]
pub fn detect_phase(
    paper: bool,
    testnet: bool,
    portfolio_manager: bool,
    total_tier_value: Option<Decimal>,
) -> DeploymentPhase {
    if paper || testnet {
        return DeploymentPhase::Paper;
    }
    match (portfolio_manager, total_tier_value) {
        (true, Some(total)) if total > Decimal::from(3_000) => DeploymentPhase::Production,
        (true, Some(total)) if total > Decimal::from(1_000) => DeploymentPhase::Beta,
        _ => DeploymentPhase::Alpha,
    }
}

/// The capital the engine may trade with in `phase`: `min(requested, phase limit)`. The lead's
/// `run` calls this with the configured capital and trades with the answer.
#[must_use]
pub fn phase_capital(phase: DeploymentPhase, requested: Decimal) -> Decimal {
    requested.min(phase.limits().max_capital_usd)
}

/// Refuses capital or cohorts beyond the phase's limits (the engine's hard stop, where
/// [`phase_capital`] is the soft clamp).
///
/// # Errors
/// [`PortfolioError::PhaseLimit`] naming the limit exceeded.
pub fn enforce_phase_limits(
    phase: DeploymentPhase,
    capital: Decimal,
    cohorts: usize,
) -> Result<(), PortfolioError> {
    let limits = phase.limits();
    if capital > limits.max_capital_usd {
        return Err(PortfolioError::PhaseLimit(format!(
            "capital {capital} USDT exceeds the {phase} limit of {} USDT",
            limits.max_capital_usd
        )));
    }
    if cohorts > limits.max_cohorts {
        return Err(PortfolioError::PhaseLimit(format!(
            "{cohorts} cohorts exceed the {phase} limit of {}",
            limits.max_cohorts
        )));
    }
    Ok(())
}

/// Moving to a live phase needs the validator to pass.
///
/// # Errors
/// [`PortfolioError::NotReady`] listing the validator's failures.
pub fn require_ready_for(
    phase: DeploymentPhase,
    report: &ValidationReport,
) -> Result<(), PortfolioError> {
    if phase.limits().needs_validator && !report.is_ready {
        return Err(PortfolioError::NotReady(format!(
            "{phase} needs the production validator to pass ({}/{}): {}",
            report.passed_count,
            report.total_count,
            report.failures.join("; ")
        )));
    }
    Ok(())
}

/// What the go-live checklist looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoLiveInputs {
    /// The database URL (empty = missing).
    pub database_url: String,
    /// The time zone (`TZ`), empty = missing.
    pub timezone: String,
    /// Binance API key and secret configured.
    pub binance_keys: bool,
    /// Telegram bot token and chat id configured.
    pub telegram: bool,
    /// DeepSeek API key configured.
    pub deepseek_key: bool,
    /// Paper trading on.
    pub paper: bool,
    /// Binance testnet on.
    pub testnet: bool,
    /// Portfolio manager on.
    pub portfolio_manager: bool,
    /// Σ active tier values, USDT (`None` = no database).
    pub capital: Option<Decimal>,
    /// Cohorts that trade.
    pub active_cohorts: usize,
}

/// One checklist item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckItem {
    /// e.g. `database_url`.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// What is wrong or right.
    pub message: String,
    /// `environment`, `api_keys`, `flags`, `validation` or `capital`.
    pub category: String,
}

/// The checklist's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checklist {
    /// Every item.
    pub items: Vec<CheckItem>,
    /// Items that passed.
    pub passed: usize,
    /// Items checked.
    pub total: usize,
    /// Every item passed.
    pub ready: bool,
    /// The failing items' messages.
    pub failures: Vec<String>,
}

impl Checklist {
    /// Summarises `items`.
    #[must_use]
    pub fn from_items(items: Vec<CheckItem>) -> Self {
        let failures: Vec<String> = items
            .iter()
            .filter(|i| !i.passed)
            .map(|i| i.message.clone())
            .collect();
        Self {
            passed: items.iter().filter(|i| i.passed).count(),
            total: items.len(),
            ready: failures.is_empty(),
            failures,
            items,
        }
    }
}

fn item(category: &str, name: &str, passed: bool, ok: &str, fail: &str) -> CheckItem {
    CheckItem {
        name: name.to_owned(),
        passed,
        message: if passed { ok } else { fail }.to_owned(),
        category: category.to_owned(),
    }
}

/// The go-live checklist for moving to `target`.
#[must_use]
pub fn go_live_checklist(
    target: DeploymentPhase,
    inputs: &GoLiveInputs,
    validation: Option<&ValidationReport>,
) -> Checklist {
    let mut items = vec![
        item(
            "environment",
            "database_url",
            !inputs.database_url.trim().is_empty(),
            "database URL set",
            "database URL is empty",
        ),
        item(
            "environment",
            "timezone",
            !inputs.timezone.trim().is_empty(),
            "time zone set",
            "time zone (TZ) is empty",
        ),
    ];
    if target.is_live() {
        items.push(item(
            "api_keys",
            "binance_keys",
            inputs.binance_keys,
            "Binance key and secret set",
            "Binance API key or secret missing",
        ));
    }
    items.push(item(
        "api_keys",
        "telegram",
        inputs.telegram,
        "Telegram token and chat id set",
        "Telegram token or chat id missing",
    ));
    items.push(item(
        "api_keys",
        "deepseek_key",
        inputs.deepseek_key,
        "DeepSeek key set",
        "DeepSeek API key missing",
    ));
    if target.is_live() {
        items.push(item(
            "flags",
            "live_mode",
            !inputs.paper && !inputs.testnet,
            "paper and testnet off",
            "live trading needs paper and testnet off",
        ));
    } else {
        items.push(item(
            "flags",
            "paper_mode",
            inputs.paper || inputs.testnet,
            "paper or testnet on",
            "paper mode needs paper or testnet on",
        ));
    }
    items.push(item(
        "flags",
        "portfolio_manager",
        inputs.portfolio_manager,
        "portfolio manager on",
        "portfolio manager is off",
    ));
    let limits = target.limits();
    if limits.needs_validator {
        let ready = validation.is_some_and(|r| r.is_ready);
        items.push(item(
            "validation",
            "validator",
            ready,
            "production validator passes",
            "production validator does not pass",
        ));
        if let Some(report) = validation {
            for failure in report.failures.iter().take(3) {
                items.push(CheckItem {
                    name: "validator_failure".to_owned(),
                    passed: false,
                    message: failure.clone(),
                    category: "validation".to_owned(),
                });
            }
        }
    }
    match inputs.capital {
        Some(capital) => {
            items.push(CheckItem {
                name: "capital_within_limit".to_owned(),
                passed: capital <= limits.max_capital_usd,
                message: format!(
                    "capital {capital} USDT, {target} limit {} USDT",
                    limits.max_capital_usd
                ),
                category: "capital".to_owned(),
            });
            items.push(CheckItem {
                name: "cohorts_within_limit".to_owned(),
                passed: inputs.active_cohorts <= limits.max_cohorts,
                message: format!(
                    "{} cohorts, {target} limit {}",
                    inputs.active_cohorts, limits.max_cohorts
                ),
                category: "capital".to_owned(),
            });
        }
        None => items.push(item(
            "capital",
            "capital_check",
            false,
            "",
            "cannot check capital: no database",
        )),
    }
    Checklist::from_items(items)
}

/// What Binance reports about an API key (`GET /sapi/v1/account/apiRestrictions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPermissions {
    /// The key may withdraw funds.
    pub can_withdraw: bool,
    /// The key only works from listed IP addresses.
    pub ip_restricted: bool,
}

/// The live-start check: a key that can withdraw, or works from any IP, is refused.
///
/// # Errors
/// [`PortfolioError::UnsafeApiKey`] with what to change in Binance's API management.
pub fn check_live_key(permissions: KeyPermissions) -> Result<(), PortfolioError> {
    let mut problems = Vec::new();
    if permissions.can_withdraw {
        problems.push("it can withdraw funds (untick \"Enable Withdrawals\")");
    }
    if !permissions.ip_restricted {
        problems.push("it is not IP-restricted (choose \"Restrict access to trusted IPs only\")");
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(PortfolioError::UnsafeApiKey(format!(
            "refusing to trade live with this Binance API key: {}",
            problems.join(" and ")
        )))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::validator::{validate, Criteria, ValidationFacts};
    use rust_decimal_macros::dec;

    fn env() -> GoLiveInputs {
        GoLiveInputs {
            database_url: "postgres://db".to_owned(),
            timezone: "Europe/Berlin".to_owned(),
            binance_keys: true,
            telegram: true,
            deepseek_key: true,
            paper: true,
            testnet: true,
            portfolio_manager: true,
            capital: Some(dec!(500)),
            active_cohorts: 2,
        }
    }

    fn named<'a>(list: &'a Checklist, name: &str) -> &'a CheckItem {
        list.items.iter().find(|i| i.name == name).unwrap()
    }

    #[test]
    fn scenario_11_35_paper_target_with_everything_set() {
        let list = go_live_checklist(DeploymentPhase::Paper, &env(), None);
        assert!(list
            .items
            .iter()
            .filter(|i| i.category == "environment")
            .all(|i| i.passed));
        assert!(named(&list, "paper_mode").passed);
        assert!(list.ready, "{:?}", list.failures);
    }

    #[test]
    fn scenario_11_36_empty_database_url_fails() {
        let inputs = GoLiveInputs {
            database_url: String::new(),
            ..env()
        };
        let list = go_live_checklist(DeploymentPhase::Paper, &inputs, None);
        assert!(!named(&list, "database_url").passed);
        assert!(!list.ready);
    }

    #[test]
    fn scenario_11_37_alpha_with_live_flags_and_small_capital() {
        let inputs = GoLiveInputs {
            paper: false,
            testnet: false,
            ..env()
        };
        let list = go_live_checklist(DeploymentPhase::Alpha, &inputs, None);
        assert!(named(&list, "live_mode").passed);
        assert!(named(&list, "capital_within_limit").passed);
        // Without a passing validator, going live is not ready.
        assert!(!named(&list, "validator").passed);
        assert!(!list.ready);
        let report = validate(&ValidationFacts::default(), &Criteria::default());
        let list = go_live_checklist(DeploymentPhase::Alpha, &inputs, Some(&report));
        assert_eq!(
            list.items
                .iter()
                .filter(|i| i.name == "validator_failure")
                .count(),
            3
        );
    }

    #[test]
    fn scenario_11_38_paper_or_testnet_is_the_paper_phase() {
        assert_eq!(detect_phase(true, true, true, None), DeploymentPhase::Paper);
        assert_eq!(
            detect_phase(false, true, true, None),
            DeploymentPhase::Paper
        );
        assert_eq!(
            detect_phase(false, false, false, Some(dec!(5000))),
            DeploymentPhase::Alpha
        );
        assert_eq!(
            detect_phase(false, false, true, Some(dec!(2000))),
            DeploymentPhase::Beta
        );
        assert_eq!(
            detect_phase(false, false, true, Some(dec!(3001))),
            DeploymentPhase::Production
        );
    }

    #[test]
    fn scenario_11_39_phase_limits_grow() {
        let cap = |p: DeploymentPhase| p.limits().max_capital_usd;
        assert!(cap(DeploymentPhase::Alpha) < cap(DeploymentPhase::Beta));
        assert!(cap(DeploymentPhase::Beta) < cap(DeploymentPhase::Production));
        assert!(!DeploymentPhase::Paper.limits().needs_validator);
        for phase in &DeploymentPhase::ALL[1..] {
            assert!(phase.limits().needs_validator);
            assert!(phase.limits().max_cohorts > 0);
        }
    }

    #[test]
    fn scenario_11_40_checklist_summary() {
        let a = item("x", "a", true, "ok", "fail");
        let b = item("x", "b", false, "ok", "fail");
        let list = Checklist::from_items(vec![a.clone(), b]);
        assert_eq!((list.passed, list.total, list.ready), (1, 2, false));
        assert_eq!(list.failures, ["fail"]);
        let list = Checklist::from_items(vec![a.clone(), a]);
        assert!(list.ready && list.failures.is_empty());
    }

    #[test]
    fn live_needs_a_passing_validator_and_capital_is_limited() {
        let failing = validate(&ValidationFacts::default(), &Criteria::default());
        let error = require_ready_for(DeploymentPhase::Alpha, &failing).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("ALPHA needs the production validator"),
            "{error}"
        );
        assert!(require_ready_for(DeploymentPhase::Paper, &failing).is_ok());
        assert_eq!(
            phase_capital(DeploymentPhase::Alpha, dec!(5000)),
            dec!(1000)
        );
        assert_eq!(phase_capital(DeploymentPhase::Beta, dec!(2000)), dec!(2000));
        assert!(enforce_phase_limits(DeploymentPhase::Beta, dec!(3000), 4).is_ok());
        let error = enforce_phase_limits(DeploymentPhase::Beta, dec!(3000.01), 4).unwrap_err();
        assert!(error.to_string().contains("BETA limit of 3000"), "{error}");
        assert!(enforce_phase_limits(DeploymentPhase::Alpha, dec!(10), 3).is_err());
    }

    #[test]
    fn a_key_that_can_withdraw_or_is_not_ip_restricted_is_refused() {
        let safe = KeyPermissions {
            can_withdraw: false,
            ip_restricted: true,
        };
        assert!(check_live_key(safe).is_ok());
        let error = check_live_key(KeyPermissions {
            can_withdraw: true,
            ..safe
        })
        .unwrap_err()
        .to_string();
        assert!(error.contains("can withdraw"), "{error}");
        let error = check_live_key(KeyPermissions {
            ip_restricted: false,
            ..safe
        })
        .unwrap_err()
        .to_string();
        assert!(error.contains("not IP-restricted"), "{error}");
    }
}
