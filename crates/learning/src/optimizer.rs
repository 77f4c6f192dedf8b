//! The monthly AI portfolio optimizer (spec §1.8): asks the LLM for the three tier targets and
//! passes the answer through guard rails before anything may change; every exchange is
//! recorded, every accepted recommendation stored, and it is applied automatically only with
//! confidence ≥ 0.8 once at least 3 recommendations exist.
//!
//! Differs from the old system: the old pipeline scaled to 100 *after* capping each move at
//! 5 pp, which could break both the cap and the tier bounds (20/40/40 against 10/65/25 became
//! 14.3/57.1/28.6, index moving 7.9 pp). Here the answer is projected onto the constraints:
//! each tier is clamped to `[max(min, current − 5), min(max, current + 5)]` and the residual
//! is spread over the tiers with room until the sum is 100 (± 0.05). A value that is not a
//! non-negative number is refused rather than defaulted.

use hybrid_core::{Regime, Timestamp};
use hybrid_store::{PortfolioRecommendation, Store, StoreError};
use serde_json::Value;

use crate::llm::{
    advisor::{record_exchange, Verdict},
    client::{ChatAnswer, ChatRequest, LlmError},
    validate::{extract_object, Refusal},
};

/// The largest move of a tier target per recommendation, percentage points.
pub const MAX_SHIFT_PP: f64 = 5.0;
/// Confidence needed to apply automatically.
pub const AUTO_APPLY_CONFIDENCE: f64 = 0.8;
/// Stored recommendations needed (the current one included) to apply automatically.
pub const AUTO_APPLY_MIN_STORED: i64 = 3;

/// The three tiers in the answer's order.
pub const TIERS: [&str; 3] = ["cash_reserve", "index_holdings", "trading"];
/// The allowed range of each tier, percent.
pub const TIER_BOUNDS: [(f64, f64); 3] = [(5.0, 20.0), (40.0, 80.0), (10.0, 40.0)];
/// The defaults for missing keys, percent.
const TIER_DEFAULTS: [f64; 3] = [10.0, 65.0, 25.0];

/// Tier targets in percent: cash reserve, index holdings, trading.
pub type Allocation = [f64; 3];

/// A recommendation that passed the guard rails.
#[derive(Debug, Clone, PartialEq)]
pub struct Recommendation {
    /// Targets, each rounded to 0.1, summing to 100 (± 0.1).
    pub allocation: Allocation,
    /// Confidence in [0, 1], two decimals.
    pub confidence: f64,
    /// The LLM's reasoning.
    pub reasoning: String,
}

/// The guard-rail pipeline on an optimizer answer, given the current targets if known.
///
/// # Errors
/// [`Refusal`] for an answer without a JSON object, or a tier or confidence that is not a
/// non-negative number.
pub fn guard_rails(content: &str, current: Option<Allocation>) -> Result<Recommendation, Refusal> {
    let map = extract_object(content)?;
    let mut values = TIER_DEFAULTS;
    for (i, tier) in TIERS.iter().enumerate() {
        if let Some(v) = map.get(*tier) {
            let number = v
                .as_f64()
                .filter(|n| n.is_finite() && *n >= 0.0)
                .ok_or_else(|| Refusal(format!("{tier} {v} is not a non-negative number")))?;
            values[i] = number;
        }
    }
    let confidence = match map.get("confidence") {
        None => 0.5,
        Some(v) => v
            .as_f64()
            .filter(|n| n.is_finite())
            .ok_or_else(|| Refusal(format!("confidence {v} is not a number")))?,
    };
    let sum: f64 = values.iter().sum();
    if sum > 0.0 && (sum - 100.0).abs() > 1.0 {
        for v in &mut values {
            *v *= 100.0 / sum;
        }
    }
    let allocation = project(values, current);
    Ok(Recommendation {
        allocation: allocation.map(|v| (v * 10.0).round() / 10.0),
        confidence: (confidence.clamp(0.0, 1.0) * 100.0).round() / 100.0,
        reasoning: map
            .get("reasoning")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
    })
}

/// Clamps each tier to its bounds and to ±5 pp of its current target, then spreads the
/// residual over the tiers with room, until the sum is 100 (± 0.05).
fn project(values: Allocation, current: Option<Allocation>) -> Allocation {
    let mut lower = [0.0; 3];
    let mut upper = [0.0; 3];
    for i in 0..3 {
        let (min, max) = TIER_BOUNDS[i];
        (lower[i], upper[i]) = match current {
            Some(cur) => (
                min.max(cur[i] - MAX_SHIFT_PP),
                max.min(cur[i] + MAX_SHIFT_PP),
            ),
            None => (min, max),
        };
        if lower[i] > upper[i] {
            // A current target outside its bounds: move towards the bounds by at most 5 pp.
            (lower[i], upper[i]) = (upper[i].min(lower[i]), lower[i].max(upper[i]));
        }
    }
    let mut out = [0.0; 3];
    for i in 0..3 {
        out[i] = values[i].clamp(lower[i], upper[i]);
    }
    for _ in 0..10 {
        let residual = 100.0 - out.iter().sum::<f64>();
        if residual.abs() <= 0.05 {
            break;
        }
        let room: Vec<usize> = (0..3)
            .filter(|&i| {
                if residual > 0.0 {
                    out[i] < upper[i]
                } else {
                    out[i] > lower[i]
                }
            })
            .collect();
        if room.is_empty() {
            break;
        }
        #[expect(clippy::cast_precision_loss, reason = "at most 3 tiers")]
        let share = residual / room.len() as f64;
        for i in room {
            out[i] = (out[i] + share).clamp(lower[i], upper[i]);
        }
    }
    out
}

/// Whether to apply automatically: confidence ≥ 0.8 and at least 3 stored recommendations
/// (counted after storing this one).
#[must_use]
pub fn should_auto_apply(confidence: f64, stored: i64) -> bool {
    confidence >= AUTO_APPLY_CONFIDENCE && stored >= AUTO_APPLY_MIN_STORED
}

/// Peak-to-trough fall of a value series in percent (0 for fewer than 2 points).
#[must_use]
pub fn max_drawdown_pct(values: &[f64]) -> f64 {
    let mut peak = f64::MIN;
    let mut worst = 0.0_f64;
    for v in values {
        peak = peak.max(*v);
        if peak > 0.0 {
            worst = worst.max((peak - v) / peak * 100.0);
        }
    }
    if values.len() < 2 {
        0.0
    } else {
        worst
    }
}

/// What the optimizer is told.
#[derive(Debug, Clone, PartialEq)]
pub struct OptimizerContext {
    /// Latest regime and its probability.
    pub regime: Option<(Regime, f64)>,
    /// Regime counts over 90 days.
    pub regime_counts: Vec<(Regime, u32)>,
    /// 30-day portfolio return, percent.
    pub return_30d_pct: f64,
    /// 30-day max drawdown, percent.
    pub max_drawdown_pct: f64,
    /// Closed trades in 30 days.
    pub trades_30d: u64,
    /// Their win rate, percent.
    pub win_rate_pct: f64,
    /// Top signals by accuracy with sample sizes.
    pub top_signals: Vec<(String, f64, u64)>,
    /// Current targets.
    pub current: Option<Allocation>,
}

/// The optimizer's prompt (spec §1.8).
#[must_use]
pub fn optimizer_request(context: &OptimizerContext) -> ChatRequest {
    let system = format!(
        "You are a quantitative portfolio allocator for a crypto system with three tiers: \
         cash_reserve ({}-{} %), index_holdings ({}-{} %), trading ({}-{} %). Rules: the three \
         sum to exactly 100; move no tier more than {MAX_SHIFT_PP} pp from its current target; \
         BEAR → more cash, less trading; BULL → less cash, more trading; SIDEWAYS → balanced, \
         more index; low signal accuracy → less trading; high drawdown → more cash. Answer JSON \
         only: {{\"cash_reserve\": n, \"index_holdings\": n, \"trading\": n, \"confidence\": \
         0..1, \"reasoning\": \"..\"}}.",
        TIER_BOUNDS[0].0,
        TIER_BOUNDS[0].1,
        TIER_BOUNDS[1].0,
        TIER_BOUNDS[1].1,
        TIER_BOUNDS[2].0,
        TIER_BOUNDS[2].1,
    );
    let regime = context.regime.map_or_else(
        || "unknown".to_owned(),
        |(r, p)| format!("{r} ({:.0}%)", p * 100.0),
    );
    let counts: Vec<String> = context
        .regime_counts
        .iter()
        .map(|(r, n)| format!("{r} {n}"))
        .collect();
    let signals: Vec<String> = context
        .top_signals
        .iter()
        .take(3)
        .map(|(s, a, n)| format!("{s} {a:.1}% (n={n})"))
        .collect();
    let current = context.current.map_or_else(
        || "unknown".to_owned(),
        |c| {
            format!(
                "cash_reserve {} / index_holdings {} / trading {}",
                c[0], c[1], c[2]
            )
        },
    );
    let user = format!(
        "Regime: {regime}. 90-day regimes: {}. Portfolio 30 d: return {:.2}%, max drawdown \
         {:.2}%. Trading 30 d: {} trades, win rate {:.1}%. Top signals: {}. Current targets: \
         {current}.",
        counts.join(", "),
        context.return_30d_pct,
        context.max_drawdown_pct,
        context.trades_30d,
        context.win_rate_pct,
        signals.join(", "),
    );
    ChatRequest::new("portfolio_optimizer", &system, &user, 500, 0.3)
}

/// The optimizer's result.
#[derive(Debug, Clone, PartialEq)]
pub enum OptimizerOutcome {
    /// Accepted and stored; `applied` says whether to apply it now.
    Recommended {
        /// The recommendation.
        recommendation: Recommendation,
        /// Whether the auto-apply rule allows applying it.
        applied: bool,
    },
    /// Refused or failed: nothing changes.
    Unchanged(String),
}

/// Runs the optimizer once: asks through `ask`, records the exchange, applies the guard rails,
/// stores an accepted recommendation and decides whether it is applied.
///
/// # Errors
/// [`StoreError`] from the database.
pub fn run_optimizer(
    store: &Store,
    context: &OptimizerContext,
    model: &str,
    now: Timestamp,
    ask: impl FnOnce(&ChatRequest) -> Result<ChatAnswer, LlmError>,
) -> Result<OptimizerOutcome, StoreError> {
    let request = optimizer_request(context);
    let answer = ask(&request);
    let current = context.current;
    let verdict = record_exchange(store, now, model, &request, answer, |content| {
        guard_rails(content, current).map_err(|r| r.0)
    })?;
    let recommendation = match verdict {
        Verdict::Accepted(r) => r,
        Verdict::Refused(reason) | Verdict::Failed(reason) => {
            return Ok(OptimizerOutcome::Unchanged(reason))
        }
    };
    let stored = store.portfolio_recommendation_count()? + 1;
    let applied = should_auto_apply(recommendation.confidence, stored);
    let to_json = |a: Allocation| serde_json::json!({"cash_reserve": a[0], "index_holdings": a[1], "trading": a[2]});
    store.insert_portfolio_recommendation(&PortfolioRecommendation {
        at: now,
        recommended: to_json(recommendation.allocation),
        current: current.map_or(Value::Null, to_json),
        reasoning: recommendation.reasoning.clone(),
        confidence: recommendation.confidence,
        regime: context.regime.map(|(r, _)| r),
        was_applied: applied,
    })?;
    Ok(OptimizerOutcome::Recommended {
        recommendation,
        applied,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::needless_range_loop)]

    use super::*;

    fn answer(cash: f64, index: f64, trading: f64, confidence: f64) -> String {
        format!(
            r#"{{"cash_reserve": {cash}, "index_holdings": {index}, "trading": {trading}, "confidence": {confidence}, "reasoning": "regime"}}"#
        )
    }

    fn close(a: Allocation, b: Allocation) -> bool {
        a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9)
    }

    /// Scenario 18 of spec §11.
    #[test]
    fn scenario_11_18_a_small_move_passes_unchanged() {
        let r = guard_rails(&answer(12.0, 63.0, 25.0, 0.75), Some([10.0, 65.0, 25.0])).unwrap();
        assert!(close(r.allocation, [12.0, 63.0, 25.0]), "{r:?}");
        assert!((r.confidence - 0.75).abs() < 1e-12);
    }

    /// Scenario 19 of spec §11, and the old bug: the cap and the bounds both hold after the
    /// sum is restored.
    #[test]
    fn scenario_11_19_big_moves_are_capped_and_still_sum_to_100() {
        let current = [15.0, 60.0, 25.0];
        let r = guard_rails(&answer(50.0, 30.0, 20.0, 0.9), Some(current)).unwrap();
        assert!(r.allocation[0] <= 20.5, "{r:?}");
        assert!(
            (r.allocation.iter().sum::<f64>() - 100.0).abs() <= 0.1,
            "{r:?}"
        );
        for i in 0..3 {
            assert!(
                (r.allocation[i] - current[i]).abs() <= MAX_SHIFT_PP + 1e-9,
                "{r:?}"
            );
        }
        let old_bug =
            guard_rails(&answer(20.0, 40.0, 40.0, 0.9), Some([10.0, 65.0, 25.0])).unwrap();
        for i in 0..3 {
            let shift = (old_bug.allocation[i] - [10.0, 65.0, 25.0][i]).abs();
            assert!(shift <= MAX_SHIFT_PP + 1e-9, "{old_bug:?}");
        }
        assert!((old_bug.allocation.iter().sum::<f64>() - 100.0).abs() <= 0.1);
    }

    /// Scenarios 20–22 of spec §11.
    #[test]
    fn scenario_11_20_21_22_caps_refusals_and_scaling() {
        let r = guard_rails(&answer(20.0, 55.0, 25.0, 0.5), Some([10.0, 65.0, 25.0])).unwrap();
        assert!(r.allocation[0] <= 15.1, "{r:?}");
        assert!(guard_rails("I would hold more cash.", None).is_err());
        let r = guard_rails(&answer(10.0, 60.0, 20.0, 0.5), None).unwrap();
        assert!(close(r.allocation, [11.1, 66.7, 22.2]), "{r:?}");
        assert!(guard_rails(r#"{"cash_reserve": "lots"}"#, None).is_err());
    }

    /// Scenario 23 of spec §11.
    #[test]
    fn scenario_11_23_the_prompt_names_the_tiers_regime_and_win_rate() {
        let request = optimizer_request(&OptimizerContext {
            regime: Some((Regime::Bear, 0.8)),
            regime_counts: vec![(Regime::Bear, 60)],
            return_30d_pct: -3.0,
            max_drawdown_pct: 8.0,
            trades_30d: 100,
            win_rate_pct: 45.0,
            top_signals: vec![],
            current: Some([10.0, 65.0, 25.0]),
        });
        assert!(request.messages[0].content.contains("cash_reserve"));
        assert!(request.messages[1].content.contains("BEAR"));
        assert!(request.messages[1].content.contains("45"));
    }

    /// Scenarios 24 and 25 of spec §11.
    #[test]
    fn scenario_11_24_25_auto_apply_and_drawdown() {
        assert!(!should_auto_apply(0.9, 2));
        assert!(should_auto_apply(0.9, 5));
        assert!(!should_auto_apply(0.5, 5));
        assert!((max_drawdown_pct(&[100.0, 120.0, 90.0, 110.0]) - 25.0).abs() < 1e-9);
        assert!(max_drawdown_pct(&[100.0, 110.0, 120.0]).abs() < 1e-12);
        assert!(max_drawdown_pct(&[100.0]).abs() < 1e-12);
    }

    mod property_tests {
        use proptest::prelude::*;

        use super::super::*;

        proptest! {
            /// Whatever the LLM answers, an accepted recommendation sums to 100, stays within
            /// every tier's bounds and moves no tier more than 5 pp from a feasible current
            /// target (the invariant the old scaling broke).
            #[test]
            fn prop_guard_rails_hold_bounds_cap_and_sum(
                cash in 0.0f64..200.0,
                index in 0.0f64..200.0,
                trading in 0.0f64..200.0,
                cur_cash in 5.0f64..20.0,
                cur_trading in 10.0f64..40.0,
            ) {
                let cur_index = 100.0 - cur_cash - cur_trading;
                prop_assume!((40.0..=80.0).contains(&cur_index));
                let current = [cur_cash, cur_index, cur_trading];
                let content = format!(
                    r#"{{"cash_reserve": {cash}, "index_holdings": {index}, "trading": {trading}, "confidence": 0.7}}"#
                );
                let r = guard_rails(&content, Some(current)).unwrap();
                prop_assert!((r.allocation.iter().sum::<f64>() - 100.0).abs() <= 0.15, "{r:?}");
                for i in 0..3 {
                    let (min, max) = TIER_BOUNDS[i];
                    prop_assert!(r.allocation[i] >= min - 0.05 && r.allocation[i] <= max + 0.05, "{r:?}");
                    prop_assert!((r.allocation[i] - current[i]).abs() <= MAX_SHIFT_PP + 0.05, "{r:?} vs {current:?}");
                }
            }
        }
    }
}
