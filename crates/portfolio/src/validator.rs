//! The production-readiness validator (spec §2.1): nine criteria, all of which must pass
//! before real money trades.
//!
//! [`validate`] is pure: it takes [`ValidationFacts`] (counts and values read from the
//! database by `Store::validation_counts`, see [`ValidationFacts::from_counts`]) and
//! [`Criteria`] (the thresholds, overridable) and returns a [`ValidationReport`].

use std::fmt;

use hybrid_core::Timestamp;
use hybrid_store::{Store, ValidationCounts};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The thresholds; [`Criteria::default`] holds the spec's values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Criteria {
    /// Closed trade pairs needed.
    pub min_trades: u64,
    /// Latest snapshot's Sharpe ratio needed.
    pub min_sharpe: f64,
    /// Playbook version needed.
    pub min_playbook_version: u64,
    /// Evaluated signals needed.
    pub min_signal_evaluations: u64,
    /// Regime changes needed.
    pub min_regime_changes: u64,
    /// The worst drawdown of the last 60 days must be at least this (negative percent).
    pub max_drawdown_pct: Decimal,
    /// Win rate of closed pairs needed, percent.
    pub min_win_rate_pct: Decimal,
    /// Largest allowed |current − target| of the index tier, percentage points.
    pub max_index_tracking_error_pp: Decimal,
    /// AI portfolio recommendations needed.
    pub min_ai_recommendations: u64,
}

impl Default for Criteria {
    fn default() -> Self {
        Self {
            min_trades: 5000,
            min_sharpe: 0.5,
            min_playbook_version: 4,
            min_signal_evaluations: 1000,
            min_regime_changes: 2,
            max_drawdown_pct: Decimal::from(-15),
            min_win_rate_pct: Decimal::from(45),
            max_index_tracking_error_pp: Decimal::from(5),
            min_ai_recommendations: 2,
        }
    }
}

/// What the criteria are computed from.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ValidationFacts {
    /// Closed trade pairs.
    pub closed_trades: u64,
    /// The latest non-null snapshot Sharpe ratio (`None` = no snapshot).
    pub latest_sharpe: Option<f64>,
    /// The current playbook version (0 when there is none).
    pub playbook_version: u64,
    /// Signals whose correctness was evaluated.
    pub signal_evaluations: u64,
    /// Regime rows whose regime differs from the previous one.
    pub regime_changes: u64,
    /// The lowest snapshot drawdown of the last 60 days (negative percent; `None` = none).
    pub worst_drawdown_pct: Option<Decimal>,
    /// Closed pairs with a positive net P&L.
    pub winning_trades: u64,
    /// Closed pairs with a net P&L.
    pub trades_with_pnl: u64,
    /// The active index tier row: (current %, target %); `None` = no row, or current unset.
    pub index_tier: Option<(Decimal, Decimal)>,
    /// AI portfolio recommendations stored.
    pub ai_recommendations: u64,
}

impl ValidationFacts {
    /// The facts from the database's counts.
    #[must_use]
    pub fn from_counts(counts: &ValidationCounts) -> Self {
        Self {
            closed_trades: counts.closed_trades,
            latest_sharpe: counts.latest_sharpe,
            playbook_version: counts.playbook_version,
            signal_evaluations: counts.signal_evaluations,
            regime_changes: counts.regime_changes,
            worst_drawdown_pct: counts.worst_drawdown_pct,
            winning_trades: counts.winning_trades,
            trades_with_pnl: counts.trades_with_pnl,
            index_tier: counts.index_tier,
            ai_recommendations: counts.ai_recommendations,
        }
    }
}

/// Validates the database behind `store` (the 60-day drawdown window ends at `now`). A
/// query failure gives a not-ready report naming it, never an error: the validator's answer
/// is always "ready" or "not ready, because …".
#[must_use]
pub fn validate_store(store: &Store, now: Timestamp, criteria: &Criteria) -> ValidationReport {
    match store.validation_counts(now) {
        Ok(counts) => validate(&ValidationFacts::from_counts(&counts), criteria),
        Err(error) => ValidationReport::unavailable(&error.to_string()),
    }
}

/// One criterion's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CriterionResult {
    /// The criterion's name, e.g. `min_trades`.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// The current value, rounded for display.
    pub value: String,
    /// The threshold, e.g. `>= 5000`.
    pub threshold: String,
    /// A sentence for the operator ("need 4000 more trades").
    pub message: String,
}

/// All criteria's outcomes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationReport {
    /// One result per criterion, in the spec's order.
    pub results: Vec<CriterionResult>,
    /// How many passed.
    pub passed_count: usize,
    /// How many were checked.
    pub total_count: usize,
    /// `passed / total × 100`, 2 dp (0 when nothing was checked).
    pub progress_pct: Decimal,
    /// No failures.
    pub is_ready: bool,
    /// The messages of the failed criteria.
    pub failures: Vec<String>,
}

impl ValidationReport {
    /// Summarises `results`.
    #[must_use]
    pub fn from_results(results: Vec<CriterionResult>) -> Self {
        let passed_count = results.iter().filter(|r| r.passed).count();
        let total_count = results.len();
        let failures: Vec<String> = results
            .iter()
            .filter(|r| !r.passed)
            .map(|r| r.message.clone())
            .collect();
        let progress_pct = if total_count == 0 {
            Decimal::ZERO
        } else {
            (Decimal::from(passed_count) * Decimal::ONE_HUNDRED / Decimal::from(total_count))
                .round_dp(2)
        };
        Self {
            is_ready: failures.is_empty() && total_count > 0,
            results,
            passed_count,
            total_count,
            progress_pct,
            failures,
        }
    }

    /// The report when the database cannot be read: not ready, one failure naming why.
    #[must_use]
    pub fn unavailable(reason: &str) -> Self {
        Self {
            results: Vec::new(),
            passed_count: 0,
            total_count: 9,
            progress_pct: Decimal::ZERO,
            is_ready: false,
            failures: vec![format!("Cannot connect to database: {reason}")],
        }
    }
}

impl fmt::Display for ValidationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<24} {:>12} {:>12}  result",
            "criterion", "value", "threshold"
        )?;
        for r in &self.results {
            writeln!(
                f,
                "{:<24} {:>12} {:>12}  {}  {}",
                r.name,
                r.value,
                r.threshold,
                if r.passed { "PASS" } else { "FAIL" },
                r.message
            )?;
        }
        for failure in self.failures.iter().filter(|_| self.results.is_empty()) {
            writeln!(f, "FAIL  {failure}")?;
        }
        write!(
            f,
            "{}/{} passed ({} %): {}",
            self.passed_count,
            self.total_count,
            self.progress_pct,
            if self.is_ready {
                "READY for production"
            } else {
                "NOT ready"
            }
        )
    }
}

fn result(
    name: &str,
    passed: bool,
    value: String,
    threshold: String,
    message: String,
) -> CriterionResult {
    CriterionResult {
        name: name.to_owned(),
        passed,
        value,
        threshold,
        message,
    }
}

fn at_least(name: &str, what: &str, value: u64, required: u64) -> CriterionResult {
    let passed = value >= required;
    let message = if passed {
        format!("{value} {what} (need {required})")
    } else {
        format!("{value} {what}: need {} more", required - value)
    };
    result(
        name,
        passed,
        value.to_string(),
        format!(">= {required}"),
        message,
    )
}

/// Checks the nine criteria.
#[must_use]
pub fn validate(facts: &ValidationFacts, criteria: &Criteria) -> ValidationReport {
    let sharpe = facts.latest_sharpe.unwrap_or(0.0);
    let sharpe = (sharpe * 1000.0).round() / 1000.0;
    let sharpe_ok = sharpe >= criteria.min_sharpe;
    let drawdown = facts
        .worst_drawdown_pct
        .unwrap_or(Decimal::ZERO)
        .round_dp(2);
    let drawdown_ok = drawdown >= criteria.max_drawdown_pct;
    let win_rate = if facts.trades_with_pnl == 0 {
        Decimal::ZERO
    } else {
        (Decimal::from(facts.winning_trades) * Decimal::ONE_HUNDRED
            / Decimal::from(facts.trades_with_pnl))
        .round_dp(1)
    };
    let win_ok = win_rate >= criteria.min_win_rate_pct;
    let index = match facts.index_tier {
        Some((current, target)) => {
            let error = (current - target).abs().round_dp(2);
            let ok = error <= criteria.max_index_tracking_error_pp;
            let message = format!(
                "index tier at {} % vs target {} %: {} pp off{}",
                current.round_dp(2),
                target.normalize(),
                error,
                if ok { "" } else { ", too far" }
            );
            result(
                "index_tracking_error",
                ok,
                error.to_string(),
                format!("<= {}", criteria.max_index_tracking_error_pp),
                message,
            )
        }
        None => result(
            "index_tracking_error",
            false,
            "n/a".to_owned(),
            format!("<= {}", criteria.max_index_tracking_error_pp),
            "No index tier data (no active index_holdings tier row with a current share)"
                .to_owned(),
        ),
    };
    let results = vec![
        at_least(
            "min_trades",
            "closed trades",
            facts.closed_trades,
            criteria.min_trades,
        ),
        result(
            "min_sharpe",
            sharpe_ok,
            format!("{sharpe:.3}"),
            format!(">= {}", criteria.min_sharpe),
            if sharpe_ok {
                format!("Sharpe {sharpe:.3}")
            } else {
                format!("Sharpe {sharpe:.3} below {}", criteria.min_sharpe)
            },
        ),
        at_least(
            "min_playbook_version",
            "playbook version",
            facts.playbook_version,
            criteria.min_playbook_version,
        ),
        at_least(
            "min_signal_evaluations",
            "evaluated signals",
            facts.signal_evaluations,
            criteria.min_signal_evaluations,
        ),
        at_least(
            "min_regime_changes",
            "regime changes",
            facts.regime_changes,
            criteria.min_regime_changes,
        ),
        result(
            "max_drawdown",
            drawdown_ok,
            drawdown.to_string(),
            format!(">= {}", criteria.max_drawdown_pct),
            if drawdown_ok {
                format!("worst drawdown of 60 days {drawdown} %")
            } else {
                format!(
                    "worst drawdown of 60 days {drawdown} % is deeper than {} %",
                    criteria.max_drawdown_pct
                )
            },
        ),
        result(
            "min_win_rate",
            win_ok,
            win_rate.to_string(),
            format!(">= {}", criteria.min_win_rate_pct),
            format!(
                "win rate {win_rate} % ({} of {} closed trades){}",
                facts.winning_trades,
                facts.trades_with_pnl,
                if win_ok { "" } else { ", too low" }
            ),
        ),
        index,
        at_least(
            "min_ai_recommendations",
            "AI recommendations",
            facts.ai_recommendations,
            criteria.min_ai_recommendations,
        ),
    ];
    ValidationReport::from_results(results)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rust_decimal_macros::dec;

    fn ready_facts() -> ValidationFacts {
        ValidationFacts {
            closed_trades: 6000,
            latest_sharpe: Some(0.8),
            playbook_version: 5,
            signal_evaluations: 1500,
            regime_changes: 3,
            worst_drawdown_pct: Some(dec!(-10)),
            winning_trades: 2500,
            trades_with_pnl: 5000,
            index_tier: Some((dec!(63), dec!(65))),
            ai_recommendations: 3,
        }
    }

    #[test]
    fn a_fresh_database_is_validated_with_every_criterion() {
        let store = Store::open("sqlite::memory:").unwrap();
        store.run_migrations().unwrap();
        let report = validate_store(&store, Timestamp::from_millis(0), &Criteria::default());
        assert_eq!(report.total_count, 9);
        assert!(!report.is_ready);
        // Unmigrated: the query fails and the report says so.
        let bare = Store::open("sqlite::memory:").unwrap();
        let report = validate_store(&bare, Timestamp::from_millis(0), &Criteria::default());
        assert!(
            report.failures[0].contains("Cannot connect to database"),
            "{report}"
        );
    }

    #[test]
    fn scenario_11_28_no_database_is_not_ready() {
        let report = ValidationReport::unavailable("connection refused");
        assert!(!report.is_ready);
        assert!(report.failures[0].contains("Cannot connect to database"));
        assert_eq!(report.total_count, 9);
    }

    #[test]
    fn scenario_11_29_all_nine_pass() {
        let report = validate(&ready_facts(), &Criteria::default());
        assert!(report.is_ready, "{report}");
        assert_eq!((report.passed_count, report.total_count), (9, 9));
        assert!(report.failures.is_empty());
        assert_eq!(report.progress_pct, dec!(100));
    }

    #[test]
    fn scenario_11_30_two_failures() {
        let facts = ValidationFacts {
            closed_trades: 1000,
            playbook_version: 2,
            winning_trades: 500,
            trades_with_pnl: 1000,
            ..ready_facts()
        };
        let report = validate(&facts, &Criteria::default());
        assert!(!report.is_ready);
        assert_eq!(report.passed_count, 7);
        assert_eq!(report.failures.len(), 2);
        assert!(
            report.failures[0].contains("need 4000 more"),
            "{:?}",
            report.failures
        );
    }

    #[test]
    fn scenario_11_31_all_zero_data_fails_the_trade_check_at_zero() {
        let report = validate(&ValidationFacts::default(), &Criteria::default());
        let trades = &report.results[0];
        assert_eq!(
            (trades.name.as_str(), trades.passed, trades.value.as_str()),
            ("min_trades", false, "0")
        );
        // No drawdown recorded passes (0 ≥ −15); everything that needs data fails.
        assert_eq!(report.passed_count, 1);
    }

    #[test]
    fn scenario_11_32_drawdown_limit() {
        let shallow = ValidationFacts {
            worst_drawdown_pct: Some(dec!(-5)),
            ..ready_facts()
        };
        assert!(validate(&shallow, &Criteria::default()).results[5].passed);
        let deep = ValidationFacts {
            worst_drawdown_pct: Some(dec!(-20)),
            ..ready_facts()
        };
        let report = validate(&deep, &Criteria::default());
        assert!(!report.results[5].passed);
        assert_eq!(report.results[5].value, "-20");
    }

    #[test]
    fn scenario_11_33_missing_index_tier_fails() {
        let facts = ValidationFacts {
            index_tier: None,
            ..ready_facts()
        };
        let report = validate(&facts, &Criteria::default());
        assert!(!report.results[7].passed);
        assert!(report.results[7].message.contains("No index tier data"));
        let off = ValidationFacts {
            index_tier: Some((dec!(58), dec!(65))),
            ..ready_facts()
        };
        assert!(!validate(&off, &Criteria::default()).results[7].passed);
    }

    #[test]
    fn scenario_11_34_progress_and_custom_criteria() {
        let r = |passed| CriterionResult {
            name: "x".to_owned(),
            passed,
            value: String::new(),
            threshold: String::new(),
            message: "m".to_owned(),
        };
        let report = ValidationReport::from_results(vec![r(true), r(true), r(false)]);
        assert_eq!(report.progress_pct, dec!(66.67));
        assert!(!report.is_ready);
        let criteria = Criteria {
            min_trades: 100,
            ..Criteria::default()
        };
        let facts = ValidationFacts {
            closed_trades: 150,
            ..ValidationFacts::default()
        };
        let report = validate(&facts, &criteria);
        assert!(report.results[0].passed);
        assert_eq!(report.results[0].threshold, ">= 100");
    }
}
