//! Property tests of the mode manager: over any sequence of regime estimates and requests,
//! switches respect the cooldown (except emergencies), a safety lock holds GRID for its full
//! time, and the decision log is consistent with the manager's state.

use hybrid_core::{Regime, Timestamp, TradingMode};
use proptest::prelude::*;
use rust_decimal::Decimal;

use crate::{DecisionReason, HybridConfig, ModeDecision, ModeManager, Probability, RegimeInput};

/// One step of a simulated run: wait, then either evaluate a regime or request a mode.
#[derive(Debug, Clone)]
enum Step {
    Evaluate(RegimeInput),
    Request(TradingMode),
}

fn regime() -> impl Strategy<Value = Option<Regime>> {
    prop_oneof![
        Just(None),
        Just(Some(Regime::Bull)),
        Just(Some(Regime::Bear)),
        Just(Some(Regime::Sideways)),
        Just(Some(Regime::Transition)),
    ]
}

fn mode() -> impl Strategy<Value = TradingMode> {
    prop_oneof![
        Just(TradingMode::Hold),
        Just(TradingMode::Grid),
        Just(TradingMode::Cash)
    ]
}

fn step() -> impl Strategy<Value = Step> {
    // Probabilities in hundredths, biased towards the interesting thresholds.
    let input =
        (regime(), 50u32..=100, 0u32..6).prop_map(|(regime, hundredths, days)| RegimeInput {
            regime,
            probability: Probability::new(Decimal::new(i64::from(hundredths), 2))
                .unwrap_or(Probability::ZERO),
            duration_days: days,
        });
    prop_oneof![
        6 => input.prop_map(Step::Evaluate),
        1 => mode().prop_map(Step::Request),
    ]
}

/// Minutes to wait before each step: from a few minutes to two days.
fn run() -> impl Strategy<Value = Vec<(i64, Step)>> {
    prop::collection::vec((1i64..=2_880, step()), 1..120)
}

fn is_emergency(decision: &ModeDecision, config: &HybridConfig) -> bool {
    decision.input.is_some_and(|input| {
        input.regime == Some(Regime::Bear)
            && input.probability.value() >= config.emergency_bear_probability
    })
}

fn simulate(config: &HybridConfig, steps: &[(i64, Step)]) -> Vec<ModeDecision> {
    let mut now = Timestamp::from_millis(1_700_000_000_000);
    let Ok(mut manager) = ModeManager::new(config.clone(), now) else {
        return Vec::new();
    };
    let mut decisions = Vec::new();
    for (wait_min, step) in steps {
        now = now.plus_millis(wait_min * Timestamp::MINUTE_MS);
        decisions.push(match step {
            Step::Evaluate(input) => manager.evaluate(*input, now),
            Step::Request(to) => manager.request_switch(*to, "property test", now),
        });
    }
    decisions
}

fn config(cooldown_hours: u32) -> HybridConfig {
    HybridConfig {
        mode_cooldown_hours: cooldown_hours,
        ..HybridConfig::default()
    }
}

proptest! {
    #[test]
    fn prop_regime_switches_respect_the_cooldown(cooldown in 0u32..48, steps in run()) {
        let config = config(cooldown);
        let cooldown_ms = i64::from(cooldown) * Timestamp::HOUR_MS;
        // Operator requests skip the cooldown by design; every regime switch must respect
        // it, measured from any earlier switch (requested ones included).
        let mut last_switch: Option<Timestamp> = None;
        for d in simulate(&config, &steps).iter().filter(|d| d.switched) {
            if let Some(last) = last_switch {
                let gap = d.at.millis_since(last);
                let excused = d.input.is_none() || is_emergency(d, &config);
                prop_assert!(gap >= cooldown_ms || excused, "switch {gap} ms after the last: {d:?}");
            }
            last_switch = Some(d.at);
        }
    }

    #[test]
    fn prop_a_lock_holds_grid_for_its_full_time(cooldown in 0u32..48, steps in run()) {
        let config = config(cooldown);
        let decisions = simulate(&config, &steps);
        let lock_ms = i64::from(config.safety_lock_days) * Timestamp::DAY_MS;
        let mut locked_at: Option<Timestamp> = None;
        for d in &decisions {
            if locked_at.is_some_and(|since| d.at.millis_since(since) >= lock_ms) {
                locked_at = None;
            }
            if locked_at.is_some() {
                prop_assert_eq!(d.from, TradingMode::Grid);
                prop_assert_eq!(d.to, TradingMode::Grid);
            }
            if let DecisionReason::SafetyLockEngaged { until, .. } = d.reason {
                prop_assert_eq!(d.to, TradingMode::Grid);
                prop_assert_eq!(until.millis_since(d.at), lock_ms);
                locked_at = Some(d.at);
            }
        }
    }

    #[test]
    fn prop_decisions_chain_and_switch_only_when_modes_differ(cooldown in 0u32..48, steps in run()) {
        let decisions = simulate(&config(cooldown), &steps);
        let mut mode = TradingMode::Grid;
        for d in &decisions {
            prop_assert_eq!(d.from, mode);
            prop_assert_eq!(d.switched, d.from != d.to);
            mode = d.to;
        }
    }

    #[test]
    fn prop_snapshot_restores_the_same_behaviour(steps in run(), tail in run()) {
        let config = config(24);
        let mut now = Timestamp::from_millis(1_700_000_000_000);
        let mut a = ModeManager::new(config.clone(), now).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for (wait, step) in &steps {
            now = now.plus_millis(wait * Timestamp::MINUTE_MS);
            if let Step::Evaluate(input) = step { a.evaluate(*input, now); }
        }
        let json = serde_json::to_string(&a.snapshot()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let snapshot = serde_json::from_str(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut b = ModeManager::restore(config, snapshot).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for (wait, step) in &tail {
            now = now.plus_millis(wait * Timestamp::MINUTE_MS);
            if let Step::Evaluate(input) = step {
                prop_assert_eq!(a.evaluate(*input, now), b.evaluate(*input, now));
            }
        }
    }
}
