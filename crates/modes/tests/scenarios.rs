//! The mode scenarios of `spec/trading-core.md` §11 (54–60, 64, 65 and the constraint part
//! of 73), one test (or a few) per number, through the public API only.
//!
//! Deliberate changes, each also noted at the test:
//! - 54: the "dict" round-trip is the serde form of [`ModeState`]; a minimal form needs the
//!   mode and its start time (a state without a start time has no meaning).
//! - 55: the mode and the preset are typed, so "INVALID"/"unknown" are refused where text is
//!   parsed (environment variables, serde), with the field named; the environment is read
//!   through a lookup function, not the process environment.
//! - 59/65: when the safety lock forces GRID, the decision is a real switch
//!   (`switched = true`, reason `SafetyLockEngaged`) so the engine runs the transition plans;
//!   the original returned false and left the symbols in their old mode (spec §5.4 **Bug**).
//! - 60: an unknown preset name is an error; the per-mode mapping it used to select is the
//!   explicit choice `by_mode`.
//! - 64: transitions are plans of intents rather than mutations of orchestrator state, and
//!   coins are never orphaned: GRID → HOLD keeps the grid inventory under the hold stop,
//!   HOLD → GRID hands the held coins to the grid, GRID → CASH sells the inventory.
#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::collections::BTreeMap;

use hybrid_core::{
    ClientOrderId, CohortId, Notional, Price, Quantity, Regime, Symbol, Timestamp, TradingMode,
};
use hybrid_modes::{
    plan_transition, AllocationConstraints, CoinCategory, ConstraintPreset, DecisionReason,
    HybridConfig, ModeDecision, ModeManager, ModeState, ModesError, PresetSelection, Probability,
    RegimeInput, SymbolPosition, TransitionStep,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use TradingMode::{Cash, Grid, Hold};

const H: i64 = Timestamp::HOUR_MS;

fn at(hours: i64) -> Timestamp {
    Timestamp::from_millis(1_704_067_200_000 + hours * H)
}

fn p(value: Decimal) -> Probability {
    Probability::new(value).unwrap()
}

fn regime(r: Regime, prob: Decimal, days: u32) -> RegimeInput {
    RegimeInput {
        regime: Some(r),
        probability: p(prob),
        duration_days: days,
    }
}

fn manager_with(config: HybridConfig) -> ModeManager {
    ModeManager::new(config, at(0)).unwrap()
}

fn manager(cooldown_hours: u32) -> ModeManager {
    manager_with(HybridConfig {
        mode_cooldown_hours: cooldown_hours,
        ..HybridConfig::default()
    })
}

fn says(decision: &ModeDecision, text: &str) -> bool {
    decision.reason.to_string().contains(text)
}

fn problem_fields(result: Result<(), ModesError>) -> Vec<String> {
    match result {
        Err(ModesError::InvalidConfig { problems }) => {
            problems.into_iter().map(|p| p.field).collect()
        }
        other => panic!("expected config problems, got {other:?}"),
    }
}

fn from_env(vars: &[(&str, &str)]) -> Result<HybridConfig, ModesError> {
    let vars: BTreeMap<&str, &str> = vars.iter().copied().collect();
    HybridConfig::from_env_vars(|name| vars.get(name).map(|v| (*v).to_owned()))
}

#[test]
fn scenario_11_54_mode_parsing_and_state() {
    assert_eq!("HOLD".parse::<TradingMode>().unwrap(), Hold);
    assert_eq!("GRID".parse::<TradingMode>().unwrap(), Grid);
    assert_eq!("CASH".parse::<TradingMode>().unwrap(), Cash);
    assert!("INVALID".parse::<TradingMode>().is_err());

    let state = ModeState::new(Grid, at(0));
    assert_eq!(state.previous_mode, None);
    assert_eq!(state.regime_probability, Probability::ZERO);
    assert_eq!(state.transition_count_24h, 0);

    let hours = state.mode_duration_hours(at(5));
    assert!(dec!(4.9) <= hours && hours <= dec!(5.1), "{hours}");
}

#[test]
fn scenario_11_54_state_round_trip_and_minimal_form() {
    let mut m = manager(0);
    m.evaluate(regime(Regime::Bull, dec!(0.82), 3), at(1));
    let json = serde_json::to_string(m.state()).unwrap();
    let back: ModeState = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, m.state());

    // Changed: the minimal form needs the mode and its start time.
    let minimal: ModeState =
        serde_json::from_str(r#"{"current_mode":"HOLD","mode_since":0}"#).unwrap();
    assert_eq!(minimal.regime_probability, Probability::ZERO);
    assert_eq!(minimal.previous_mode, None);
}

#[test]
fn scenario_11_55_defaults_are_valid() {
    let c = HybridConfig::default();
    assert_eq!(c.validate(), Ok(()));
    assert_eq!(c.initial_mode, Grid);
    assert_eq!(c.min_regime_probability, dec!(0.75));
    assert_eq!(
        c.constraints_preset,
        PresetSelection::Fixed(ConstraintPreset::Small)
    );
}

#[test]
fn scenario_11_55_each_invalid_value_names_its_field() {
    let d = HybridConfig::default;
    let cases: [(HybridConfig, &str); 9] = [
        (
            HybridConfig {
                min_regime_probability: dec!(0.3),
                ..d()
            },
            "min_regime_probability",
        ),
        (
            HybridConfig {
                min_regime_probability: dec!(1.5),
                ..d()
            },
            "min_regime_probability",
        ),
        (
            HybridConfig {
                hold_trailing_stop_pct: dec!(60),
                ..d()
            },
            "hold_trailing_stop_pct",
        ),
        (
            HybridConfig {
                total_investment: dec!(5),
                ..d()
            },
            "total_investment",
        ),
        (
            HybridConfig {
                max_symbols: 0,
                ..d()
            },
            "max_symbols",
        ),
        (
            HybridConfig {
                max_symbols: 25,
                ..d()
            },
            "max_symbols",
        ),
        (
            HybridConfig {
                min_position_usd: dec!(2),
                ..d()
            },
            "min_position_usd",
        ),
        (
            HybridConfig {
                min_confidence: dec!(1.5),
                ..d()
            },
            "min_confidence",
        ),
        (
            HybridConfig {
                cash_exit_timeout_hours: dec!(-1),
                ..d()
            },
            "cash_exit_timeout_hours",
        ),
    ];
    for (config, field) in cases {
        let fields = problem_fields(config.validate());
        assert!(fields.iter().any(|f| f == field), "{field}: {fields:?}");
    }
    // Changed: mode and preset are typed; text is refused where it is parsed.
    let fields = problem_fields(from_env(&[("HYBRID_INITIAL_MODE", "INVALID")]).map(drop));
    assert_eq!(fields, ["initial_mode"]);
    let fields = problem_fields(from_env(&[("HYBRID_CONSTRAINTS_PRESET", "unknown")]).map(drop));
    assert_eq!(fields, ["constraints_preset"]);
    assert!(serde_json::from_str::<HybridConfig>(r#"{"constraints_preset":"unknown"}"#).is_err());
}

#[test]
fn scenario_11_55_the_four_presets_are_valid() {
    for name in ["small", "conservative", "balanced", "aggressive"] {
        let config = from_env(&[("HYBRID_CONSTRAINTS_PRESET", name)]).unwrap();
        assert_eq!(config.constraints_preset.as_str(), name);
    }
}

#[test]
fn scenario_11_55_several_problems_at_once() {
    let result = from_env(&[
        ("HYBRID_INITIAL_MODE", "X"),
        ("HYBRID_MIN_REGIME_PROBABILITY", "2.0"),
        ("HYBRID_TOTAL_INVESTMENT", "1"),
        ("HYBRID_MAX_SYMBOLS", "50"),
    ]);
    let fields = problem_fields(result.map(drop));
    assert!(fields.len() >= 4, "{fields:?}");
}

#[test]
fn scenario_11_55_from_the_environment() {
    let config = from_env(&[
        ("HYBRID_INITIAL_MODE", "HOLD"),
        ("HYBRID_ENABLE_MODE_SWITCHING", "false"),
        ("HYBRID_TOTAL_INVESTMENT", "800"),
        ("HYBRID_MAX_SYMBOLS", "5"),
    ])
    .unwrap();
    assert_eq!(config.initial_mode, Hold);
    assert!(!config.enable_mode_switching);
    assert_eq!(config.total_investment, dec!(800));
    assert_eq!(config.max_symbols, 5);

    let empty = from_env(&[]).unwrap();
    assert_eq!(empty.initial_mode, Grid);
    assert!(empty.enable_mode_switching);
}

#[test]
fn scenario_11_56_evaluation_from_grid() {
    let none = RegimeInput {
        regime: None,
        probability: Probability::ZERO,
        duration_days: 0,
    };
    let cases = [
        (none, Grid, "None"),
        (regime(Regime::Transition, dec!(0.8), 0), Grid, "TRANSITION"),
        (regime(Regime::Sideways, dec!(0.9), 5), Grid, "Already"),
        (regime(Regime::Bull, dec!(0.85), 3), Hold, ""),
        (regime(Regime::Bear, dec!(0.80), 3), Cash, ""),
        (regime(Regime::Bull, dec!(0.60), 5), Grid, "below threshold"),
        (regime(Regime::Bull, dec!(0.85), 1), Grid, "duration"),
    ];
    for (input, mode, text) in cases {
        let d = manager(24).evaluate(input, at(1));
        assert_eq!(d.to, mode, "{input:?}");
        assert!(says(&d, text), "{input:?}: {}", d.reason);
    }
}

#[test]
fn scenario_11_57_emergency() {
    let config = HybridConfig {
        min_regime_duration_days: 5,
        ..HybridConfig::default()
    };
    let d = manager_with(config.clone()).evaluate(regime(Regime::Bear, dec!(0.85), 0), at(1));
    assert_eq!((d.to, d.switched), (Cash, true));
    assert!(says(&d, "Emergency"));

    let d = manager_with(config).evaluate(regime(Regime::Bear, dec!(0.80), 0), at(1));
    assert_eq!(d.to, Grid);
    assert!(says(&d, "duration"));

    let disabled = HybridConfig {
        enable_mode_switching: false,
        ..HybridConfig::default()
    };
    let d = manager_with(disabled).evaluate(regime(Regime::Bull, dec!(0.95), 10), at(1));
    assert_eq!((d.to, d.reason.clone()), (Grid, DecisionReason::Disabled));
    assert!(says(&d, "disabled"));
}

#[test]
fn scenario_11_58_switching_and_cooldown() {
    let mut m = manager(0);
    let d = m.request_switch(Hold, "test", at(1));
    assert!(d.switched);
    assert_eq!(m.state().previous_mode, Some(Grid));
    assert_eq!(m.history().len(), 1);
    assert!(matches!(&m.history()[0].reason, DecisionReason::Requested { note } if note == "test"));

    assert!(!m.request_switch(Hold, "again", at(2)).switched);

    let mut m = manager(24);
    m.evaluate(regime(Regime::Bull, dec!(0.85), 3), at(0));
    let d = m.evaluate(regime(Regime::Bear, dec!(0.80), 3), at(0));
    assert_eq!(d.to, Hold);
    assert!(says(&d, "cooldown"));

    let mut m = manager(1);
    m.evaluate(regime(Regime::Bull, dec!(0.85), 3), at(0));
    let d = m.evaluate(regime(Regime::Bear, dec!(0.80), 3), at(2));
    assert_eq!(d.to, Cash);

    let mut m = manager(24);
    m.evaluate(regime(Regime::Bull, dec!(0.85), 3), at(0));
    let d = m.evaluate(regime(Regime::Bear, dec!(0.85), 3), at(0));
    assert_eq!(d.to, Cash);
    assert!(says(&d, "Emergency"));
}

#[test]
fn scenario_11_58_managers_are_independent() {
    let mut a = manager(0);
    let b = manager(0);
    a.request_switch(Hold, "only a", at(1));
    assert_eq!((a.mode(), b.mode()), (Hold, Grid));
}

#[test]
fn scenario_11_59_third_request_in_48h_locks_grid() {
    let mut m = manager(0);
    assert!(m.request_switch(Hold, "1", at(0)).switched);
    assert!(m.request_switch(Cash, "2", at(1)).switched);
    let d = m.request_switch(Hold, "3", at(2));
    // The requested HOLD is refused; changed: the forced GRID is a real switch.
    assert_ne!(m.mode(), Hold);
    assert_eq!((d.to, d.switched), (Grid, true));
    assert!(matches!(
        d.reason,
        DecisionReason::SafetyLockEngaged {
            requested: Hold,
            ..
        }
    ));
    assert!(says(&d, "Safety lock"));
}

/// A manager whose safety lock was set at hour 2.
fn locked() -> ModeManager {
    let mut m = manager(0);
    m.request_switch(Hold, "1", at(0));
    m.request_switch(Cash, "2", at(1));
    m.request_switch(Hold, "3", at(2));
    assert!(m.safety_lock().is_some());
    m
}

#[test]
fn scenario_11_59_an_active_lock_returns_grid() {
    let mut m = locked();
    let d = m.evaluate(regime(Regime::Bull, dec!(0.9), 5), at(2));
    assert_eq!((d.to, d.switched), (Grid, false));
    assert!(says(&d, "Safety lock"));
}

#[test]
fn scenario_11_59_a_lock_8_days_old_is_cleared() {
    let mut m = locked();
    let d = m.evaluate(regime(Regime::Bull, dec!(0.9), 5), at(2 + 8 * 24));
    assert_eq!((d.to, d.switched), (Hold, true));
    assert!(d.released_lock.is_some());
    assert!(m.safety_lock().is_none());
}

#[test]
fn scenario_11_59_a_lock_6_days_old_remains() {
    let mut m = locked();
    let d = m.evaluate(regime(Regime::Bull, dec!(0.9), 5), at(2 + 6 * 24));
    assert_eq!(d.to, Grid);
    assert!(says(&d, "Safety lock"));
}

#[test]
fn scenario_11_60_constraint_presets() {
    let with = |name: &str| HybridConfig {
        constraints_preset: name.parse().unwrap(),
        ..HybridConfig::default()
    };
    assert_eq!(
        with("small").constraints_for(Grid),
        ConstraintPreset::Small.constraints()
    );
    for mode in [Hold, Grid, Cash] {
        assert_eq!(
            with("balanced").constraints_for(mode),
            ConstraintPreset::Balanced.constraints()
        );
    }
    assert_eq!(
        with("conservative").constraints_for(Hold),
        ConstraintPreset::Conservative.constraints()
    );
    assert_eq!(
        with("aggressive").constraints_for(Cash),
        ConstraintPreset::Aggressive.constraints()
    );
    // Changed: "unknown" is an error; `by_mode` is the per-mode mapping.
    assert!("unknown".parse::<PresetSelection>().is_err());
    let by_mode = with("by_mode");
    assert_eq!(
        by_mode.constraints_for(Grid),
        ConstraintPreset::Balanced.constraints()
    );
    assert_eq!(
        by_mode.constraints_for(Hold),
        ConstraintPreset::Aggressive.constraints()
    );
    assert_eq!(
        by_mode.constraints_for(Cash),
        ConstraintPreset::Conservative.constraints()
    );
    let mut m = manager_with(by_mode);
    m.request_switch(Hold, "bull", at(1));
    assert_eq!(m.constraints(), ConstraintPreset::Aggressive.constraints());
}

#[test]
fn scenario_11_60_regime_mapping_and_regime_info() {
    assert_eq!(Regime::Bull.preferred_mode(), Some(Hold));
    assert_eq!(Regime::Sideways.preferred_mode(), Some(Grid));
    assert_eq!(Regime::Bear.preferred_mode(), Some(Cash));

    let mut m = manager(24);
    m.update_regime_info(Some(Regime::Bull), p(dec!(0.82)));
    assert_eq!(m.state().last_regime, Some(Regime::Bull));
    assert_eq!(m.state().regime_probability, p(dec!(0.82)));
}

fn position(qty: Decimal, orders: u64, has_stop: bool) -> SymbolPosition {
    let symbol = Symbol::new("BTCUSDT").unwrap();
    let open_order_ids = (1..=orders)
        .map(|n| ClientOrderId::new(CohortId::new(1), &symbol, n).unwrap())
        .collect();
    SymbolPosition {
        symbol,
        price: Price::new(dec!(50000)).unwrap(),
        base_qty_held: Quantity::new(qty).unwrap(),
        open_order_ids,
        avg_entry_price: None,
        allocation: Notional::new(dec!(50)),
        has_stop,
    }
}

fn plan(from: TradingMode, to: TradingMode, pos: &SymbolPosition) -> Vec<TransitionStep> {
    plan_transition(from, to, pos, &HybridConfig::default()).unwrap()
}

fn count(steps: &[TransitionStep], pred: impl Fn(&TransitionStep) -> bool) -> usize {
    steps.iter().filter(|s| pred(s)).count()
}

#[test]
fn scenario_11_64_grid_to_hold_cancels_and_keeps_the_inventory() {
    let steps = plan(Grid, Hold, &position(dec!(0.001), 2, false));
    assert!(
        matches!(&steps[0], TransitionStep::CancelGridOrders { order_ids } if order_ids.len() == 2)
    );
    // Changed (spec §4.6 Bug): the grid's coins become the hold position.
    assert!(
        matches!(steps[1], TransitionStep::KeepInventoryAsHold { trailing_stop_pct, .. } if trailing_stop_pct == dec!(7))
    );
}

#[test]
fn scenario_11_64_grid_to_cash_drops_the_grid() {
    let steps = plan(Grid, Cash, &position(dec!(0), 2, false));
    assert_eq!(
        count(&steps, |s| matches!(
            s,
            TransitionStep::CancelGridOrders { .. }
        )),
        1
    );
    assert_eq!(
        count(&steps, |s| matches!(
            s,
            TransitionStep::SellAfterTimeout { .. }
        )),
        0
    );
}

#[test]
fn scenario_11_64_hold_to_grid_cancels_the_stop_once() {
    let steps = plan(Hold, Grid, &position(dec!(0.001), 0, true));
    assert_eq!(count(&steps, |s| *s == TransitionStep::CancelStop), 1);
    // Changed (Gap): the held coins back the new grid instead of being orphaned.
    assert!(
        matches!(steps.last(), Some(TransitionStep::StartGrid { initial_base, .. }) if initial_base.value() == dec!(0.001))
    );
}

#[test]
fn scenario_11_64_hold_to_cash_tightens_and_starts_the_exit() {
    let steps = plan(Hold, Cash, &position(dec!(0.001), 0, true));
    assert_eq!(
        steps,
        [
            TransitionStep::TightenStop {
                quantity: Quantity::new(dec!(0.001)).unwrap(),
                trailing_stop_pct: dec!(3)
            },
            TransitionStep::SellAfterTimeout {
                quantity: Quantity::new(dec!(0.001)).unwrap(),
                hours: dec!(2)
            },
        ]
    );
}

#[test]
fn scenario_11_64_cash_to_grid_and_hold_clear_the_exit() {
    let grid = plan(Cash, Grid, &position(dec!(0), 0, false));
    assert_eq!(grid[0], TransitionStep::CancelCashExit);
    assert!(
        matches!(grid[1], TransitionStep::StartGrid { quote_budget, .. } if quote_budget.value() == dec!(50))
    );
    let hold = plan(Cash, Hold, &position(dec!(0), 0, false));
    assert_eq!(hold[0], TransitionStep::CancelCashExit);
    assert!(
        matches!(hold[1], TransitionStep::BuyAllocation { quote, .. } if quote.value() == dec!(50))
    );
}

#[test]
fn scenario_11_65_evaluate_and_switch_from_grid() {
    assert!(
        !manager(24)
            .evaluate(regime(Regime::Sideways, dec!(0.8), 3), at(1))
            .switched
    );
    let d = manager(24).evaluate(regime(Regime::Bull, dec!(0.8), 3), at(1));
    assert_eq!((d.switched, d.to), (true, Hold));
    let d = manager(24).evaluate(regime(Regime::Bear, dec!(0.9), 3), at(1));
    assert_eq!((d.switched, d.to), (true, Cash));
    for input in [
        regime(Regime::Bull, dec!(0.50), 5),
        regime(Regime::Bull, dec!(0.85), 1),
    ] {
        assert!(!manager(24).evaluate(input, at(1)).switched);
    }
    let disabled = HybridConfig {
        enable_mode_switching: false,
        ..HybridConfig::default()
    };
    assert!(
        !manager_with(disabled)
            .evaluate(regime(Regime::Bull, dec!(0.99), 10), at(1))
            .switched
    );
}

#[test]
fn scenario_11_65_lock_forces_grid_with_cooldown_0() {
    let mut m = manager(0);
    assert_eq!(
        m.evaluate(regime(Regime::Bull, dec!(0.85), 3), at(1)).to,
        Hold
    );
    assert_eq!(
        m.evaluate(regime(Regime::Bear, dec!(0.90), 1), at(2)).to,
        Cash
    );
    let d = m.evaluate(regime(Regime::Sideways, dec!(0.80), 3), at(3));
    assert_eq!(m.mode(), Grid);
    // Changed: the forced switch reports `switched`, so the engine runs CASH → GRID.
    assert_eq!((d.from, d.switched), (Cash, true));
}

#[test]
fn scenario_11_65_cooldown_24h_and_emergency_bypass() {
    let mut m = manager(24);
    assert!(
        m.evaluate(regime(Regime::Bull, dec!(0.85), 3), at(1))
            .switched
    );
    assert!(
        !m.evaluate(regime(Regime::Sideways, dec!(0.85), 3), at(2))
            .switched
    );

    let mut m = manager(24);
    assert!(
        m.evaluate(regime(Regime::Bull, dec!(0.85), 3), at(1))
            .switched
    );
    let d = m.evaluate(regime(Regime::Bear, dec!(0.90), 0), at(2));
    assert_eq!((d.switched, d.to), (true, Cash));
}

#[test]
fn scenario_11_73_constraint_numbers() {
    let d = AllocationConstraints::default();
    assert_eq!(
        (
            d.max_per_coin_pct,
            d.min_position_usd.value(),
            d.max_position_usd.value()
        ),
        (dec!(10), dec!(10), dec!(500))
    );
    assert_eq!(
        (d.min_cash_reserve_pct, d.max_open_positions),
        (dec!(20), 10)
    );
    let row = |preset: ConstraintPreset| {
        let c = preset.constraints();
        (
            c.max_per_coin_pct,
            c.min_cash_reserve_pct,
            c.max_open_positions,
        )
    };
    assert_eq!(row(ConstraintPreset::Conservative), (dec!(8), dec!(30), 6));
    assert_eq!(row(ConstraintPreset::Balanced), (dec!(10), dec!(20), 10));
    assert_eq!(row(ConstraintPreset::Aggressive), (dec!(15), dec!(10), 15));
    assert_eq!(d.max_for_coin(CoinCategory::LargeCap, 1), dec!(10));
    assert_eq!(d.max_for_coin(CoinCategory::MidCap, 2), dec!(10));
    assert_eq!(d.max_for_coin(CoinCategory::Ai, 3), dec!(5));
    let total = Notional::new(dec!(1000));
    assert_eq!(
        d.available(total, Notional::new(dec!(400))).value(),
        dec!(400)
    );
    assert_eq!(
        d.available(total, Notional::new(dec!(750))).value(),
        dec!(50)
    );
}
