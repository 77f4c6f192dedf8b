//! The risk scenarios of `spec/trading-core.md` §11, one test (or a few) per number.
//!
//! Deliberate changes, each also noted at the test:
//! - 27: "no modules" and "exceptions let the order through" have no counterpart: the guard
//!   always exists and is pure, so nothing can throw. The CVaR cap is a share of the free
//!   quote balance (the original's `max_position` in effect), and a BUY also needs the
//!   symbol's allocation.
//! - 29: a price of 0 cannot reach the breaker: `Price` refuses it at construction.
//! - 34/§3.4: every stop sells `bought × (1 − fee)` truncated to the lot step, HOLD included
//!   (the original sold the gross quantity for HOLD and could hit insufficient balance).
//! - 46: while a sale is pending the stop does not ask to sell again; there is no one-step
//!   legacy trigger (trigger then confirm gives the same result).
//! - 48: DB writes and UUID ids belong to the store; here the stop round-trips through its
//!   serialisable form, keyed by (cohort, symbol) instead of a UUID.
//! - 50: filters are an input, so "symbol info throws" cannot happen; after "insufficient
//!   balance" the retry sells `min(intended, free)`, never the whole free balance.
//! - 63: tightening for CASH never lowers the stop price.
#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use hybrid_core::{
    CohortId, Notional, Price, Quantity, Regime, Side, Symbol, SymbolFilters, Timestamp,
    TradingMode,
};
use hybrid_risk::{
    available_risk_budget, kelly_fraction, regime_multiplier, stop_loss_distance, AlertSeverity,
    Confidence, ExecutionConfig, ExecutionStep, GuardConfig, MarketSell, OrderIntent, OrderPurpose,
    PortfolioView, PositionRisk, PositionSizer, RefusalReason, RiskError, RiskEvent, RiskGuard,
    RiskMetrics, SellOutcome, SizingInput, StopConfig, StopDistance, StopExecutionPolicy,
    StopIntent, StopKind, StopLossBook, StopPhase, StopRequest,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn btc() -> Symbol {
    Symbol::new("BTCUSDT").unwrap()
}

fn eth() -> Symbol {
    Symbol::new("ETHUSDT").unwrap()
}

fn p(v: Decimal) -> Price {
    Price::new(v).unwrap()
}

fn q(v: Decimal) -> Quantity {
    Quantity::new(v).unwrap()
}

fn n(v: Decimal) -> Notional {
    Notional::new(v)
}

fn t(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

const COHORT: CohortId = CohortId::new(1);

fn fine_filters() -> SymbolFilters {
    SymbolFilters::with_steps(btc(), dec!(0.01), dec!(0.00000001))
}

fn book() -> StopLossBook {
    StopLossBook::new(StopConfig::default()).unwrap()
}

fn request(kind: StopKind, distance: StopDistance, entry: Decimal) -> StopRequest {
    StopRequest {
        cohort: COHORT,
        symbol: btc(),
        kind,
        distance,
        entry: p(entry),
        bought: q(dec!(1)),
    }
}

fn sells(intents: &[StopIntent]) -> Vec<MarketSell> {
    intents
        .iter()
        .filter_map(|i| match i {
            StopIntent::MarketSell(s) => Some(s.clone()),
            StopIntent::Alert(_) => None,
        })
        .collect()
}

// ---------------------------------------------------------------- 27: risk gate

fn guard() -> RiskGuard {
    RiskGuard::new(GuardConfig::default()).unwrap()
}

fn order(side: Side, quantity: Decimal, price: Decimal) -> OrderIntent {
    OrderIntent {
        cohort: COHORT,
        symbol: btc(),
        side,
        quantity: q(quantity),
        price: p(price),
        purpose: OrderPurpose::Strategy,
    }
}

/// Free quote `free`, `other` invested in ETH, a BTC allocation of `btc_allocation`.
fn view(free: Decimal, other: Decimal, btc_allocation: Decimal) -> PortfolioView {
    PortfolioView {
        free_quote: n(free),
        invested: [(eth(), n(other))].into(),
        allocations: [(btc(), n(btc_allocation))].into(),
    }
}

fn refusal(
    result: Result<hybrid_risk::RiskApproved<OrderIntent>, hybrid_risk::RiskRefused<OrderIntent>>,
) -> RefusalReason {
    result.unwrap_err().into_parts().1
}

#[test]
fn scenario_11_27_healthy_portfolio_allows_with_no_reason() {
    let approved = guard().check(
        order(Side::Buy, dec!(0.001), dec!(50000)),
        &view(dec!(1000), dec!(0), dec!(1000)),
        t(0),
    );
    assert!(approved.is_ok());
}

#[test]
fn scenario_11_27_portfolio_stop_blocks_buy_and_sell_over_permissive_checks() {
    let mut g = guard();
    g.observe_portfolio(n(dec!(10000)), t(0));
    let events = g.observe_portfolio(n(dec!(9000)), t(1));
    assert!(matches!(events[..], [RiskEvent::DailyDrawdownHalt { .. }]));
    let permissive = view(dec!(9000), dec!(0), dec!(100000));
    for side in [Side::Buy, Side::Sell] {
        let reason = refusal(g.check(order(side, dec!(0.001), dec!(50000)), &permissive, t(2)));
        assert!(reason.to_string().contains("drawdown"), "{reason}");
    }
}

#[test]
fn scenario_11_27_cvar_cap_blocks_and_allows() {
    let g = guard();
    let buy = order(Side::Buy, dec!(0.001), dec!(50000));
    // 25 % of a free 100 is a cap of 25 < 50.
    let reason = refusal(g.check(buy.clone(), &view(dec!(100), dec!(0), dec!(1000)), t(0)));
    assert_eq!(
        reason,
        RefusalReason::PositionTooLarge {
            value: n(dec!(50)),
            max: n(dec!(25))
        }
    );
    assert!(reason.to_string().contains("CVaR"));
    // A cap of 100 allows it.
    assert!(g
        .check(buy, &view(dec!(400), dec!(0), dec!(1000)), t(0))
        .is_ok());
}

#[test]
fn scenario_11_27_available_capital_blocks_and_allows() {
    let g = guard();
    let buy = order(Side::Buy, dec!(0.001), dec!(50000));
    // Total 4950 with 3950 invested: available min(4950 − 3950 − 990, 3960 − 3950) = 10.
    let reason = refusal(g.check(buy.clone(), &view(dec!(1000), dec!(3950), dec!(1000)), t(0)));
    assert_eq!(
        reason,
        RefusalReason::InsufficientAvailableCapital {
            value: n(dec!(50)),
            available: n(dec!(10))
        }
    );
    assert!(reason.to_string().contains("available capital"));
    // Total 4000 with 3000 invested: available 200.
    assert!(g
        .check(buy, &view(dec!(1000), dec!(3000), dec!(1000)), t(0))
        .is_ok());
}

#[test]
fn scenario_11_27_sell_ignores_cvar_and_allocation() {
    let g = guard();
    // Free 4 → CVaR cap 1; no allocation at all; nothing available.
    let tight = PortfolioView {
        free_quote: n(dec!(4)),
        invested: [(eth(), n(dec!(100000)))].into(),
        allocations: Default::default(),
    };
    assert!(g
        .check(order(Side::Sell, dec!(0.001), dec!(50000)), &tight, t(0))
        .is_ok());
}

// ---------------------------------------------------------------- 29: circuit breaker

#[test]
fn scenario_11_29_circuit_breaker() {
    let fresh = |first: Decimal| {
        let mut g = guard();
        assert_eq!(g.on_price(&btc(), p(first)), None);
        g
    };
    // First call at 50000 stores it.
    let g = fresh(dec!(50000));
    assert_eq!(g.last_price(&btc()), Some(p(dec!(50000))));
    // 50000 → 48000: no trigger, 48000 stored.
    let mut g = fresh(dec!(50000));
    assert_eq!(g.on_price(&btc(), p(dec!(48000))), None);
    assert_eq!(g.last_price(&btc()), Some(p(dec!(48000))));
    // 50000 → 44000 (−12 %) triggers and is not stored.
    let mut g = fresh(dec!(50000));
    let event = g.on_price(&btc(), p(dec!(44000))).unwrap();
    assert!(
        matches!(event, RiskEvent::CircuitBreakerTripped { drop_pct, .. } if drop_pct == dec!(12))
    );
    assert!(g.is_tripped(&btc()));
    assert_eq!(g.last_price(&btc()), Some(p(dec!(50000))));
    // Exactly −10 % triggers.
    let mut g = fresh(dec!(50000));
    assert!(g.on_price(&btc(), p(dec!(45000))).is_some());
    // Rises never trigger: 55000 stored.
    let mut g = fresh(dec!(50000));
    assert_eq!(g.on_price(&btc(), p(dec!(55000))), None);
    assert_eq!(g.last_price(&btc()), Some(p(dec!(55000))));
    // A price of 0 cannot be built, so it cannot trigger (deliberate change: a type).
    assert!(Price::new(dec!(0)).is_err());
    // 50000 → 48000 → 42000 (−12.5 % from 48000) triggers.
    let mut g = fresh(dec!(50000));
    assert_eq!(g.on_price(&btc(), p(dec!(48000))), None);
    let event = g.on_price(&btc(), p(dec!(42000))).unwrap();
    assert!(
        matches!(event, RiskEvent::CircuitBreakerTripped { drop_pct, .. } if drop_pct == dec!(12.5))
    );
}

// ---------------------------------------------------------------- 34: stop on a partial buy

#[test]
fn scenario_11_34_partial_buy_stop_quantity_is_net_of_fee() {
    let mut book = book();
    let mut req = request(
        StopKind::Trailing,
        StopDistance::ForMode(TradingMode::Grid),
        dec!(40000),
    );
    req.bought = q(dec!(0.0005));
    let stop = book.create(req.clone(), &fine_filters(), t(0)).unwrap();
    assert_eq!(stop.quantity().value(), dec!(0.0004995));
    // On BTC's real step (0.00001) it is truncated so the sale stays within the balance.
    let mut book = StopLossBook::new(StopConfig::default()).unwrap();
    let coarse = SymbolFilters::with_steps(btc(), dec!(0.01), dec!(0.00001));
    assert_eq!(
        book.create(req, &coarse, t(0)).unwrap().quantity().value(),
        dec!(0.00049)
    );
}

// ---------------------------------------------------------------- 46: two-phase trigger

fn fixed_5_at_100_triggered_at_94() -> StopLossBook {
    let mut book = book();
    book.create(
        request(StopKind::Fixed, StopDistance::Percent(dec!(5)), dec!(100)),
        &fine_filters(),
        t(0),
    )
    .unwrap();
    let intents = book.on_price(&btc(), p(dec!(94)), t(1));
    assert_eq!(sells(&intents).len(), 1);
    book
}

#[test]
fn scenario_11_46_trigger_keeps_the_stop_with_the_triggered_price() {
    let book = fixed_5_at_100_triggered_at_94();
    let stop = book.get(COHORT, &btc()).unwrap();
    assert_eq!(stop.phase(), StopPhase::Triggered);
    assert_eq!(stop.trigger().unwrap().price, p(dec!(94)));
}

#[test]
fn scenario_11_46_confirm_closes_with_minus_six_percent() {
    let mut book = fixed_5_at_100_triggered_at_94();
    let closed = book.confirm_sold(COHORT, &btc()).unwrap();
    assert_eq!(closed.phase(), StopPhase::Confirmed);
    assert_eq!(closed.result_pct(), Some(dec!(-6)));
    assert!(book.get(COHORT, &btc()).is_none());
}

#[test]
fn scenario_11_46_reactivate_clears_the_trigger() {
    let mut book = fixed_5_at_100_triggered_at_94();
    let stop = book.sell_failed(COHORT, &btc()).unwrap();
    assert_eq!(stop.phase(), StopPhase::Active);
    assert_eq!(stop.trigger(), None);
    assert_eq!(stop.result_pct(), None);
}

#[test]
fn scenario_11_46_pending_sale_is_not_reported_again() {
    // Changed: the original reported the stop on every update while the sale was pending.
    let mut book = fixed_5_at_100_triggered_at_94();
    assert!(book.on_price(&btc(), p(dec!(90)), t(2)).is_empty());
}

// ---------------------------------------------------------------- 47: stop prices

#[test]
fn scenario_11_47_stop_prices() {
    let stop_price = |kind, distance, entry| {
        let mut book = book();
        book.create(request(kind, distance, entry), &fine_filters(), t(0))
            .unwrap()
            .stop_price()
            .value()
    };
    // HOLD's 7 % is the trail distance itself.
    assert_eq!(
        stop_price(
            StopKind::Trailing,
            StopDistance::ForMode(TradingMode::Hold),
            dec!(50000)
        ),
        dec!(46500)
    );
    assert_eq!(
        stop_price(
            StopKind::Trailing,
            StopDistance::Percent(dec!(3)),
            dec!(50000)
        ),
        dec!(48500)
    );
    assert_eq!(
        stop_price(StopKind::Fixed, StopDistance::Percent(dec!(5)), dec!(50000)),
        dec!(47500)
    );

    let mut book = book();
    book.create(
        request(
            StopKind::Trailing,
            StopDistance::ForMode(TradingMode::Hold),
            dec!(100000),
        ),
        &fine_filters(),
        t(0),
    )
    .unwrap();
    assert!(book.on_price(&btc(), p(dec!(110000)), t(1)).is_empty());
    assert_eq!(
        book.get(COHORT, &btc()).unwrap().stop_price(),
        p(dec!(102300))
    );
}

// ---------------------------------------------------------------- 48: restore

#[test]
fn scenario_11_48_restored_stop_keeps_its_trailing_progress() {
    let mut book = book();
    book.create(
        request(
            StopKind::Trailing,
            StopDistance::ForMode(TradingMode::Grid),
            dec!(50000),
        ),
        &fine_filters(),
        t(0),
    )
    .unwrap();
    book.on_price(&btc(), p(dec!(51000)), t(1));
    let saved = book.get(COHORT, &btc()).unwrap().clone();
    assert_eq!(saved.highest(), p(dec!(51000)));
    assert_eq!(saved.stop_price(), p(dec!(48450)));

    let mut restarted = StopLossBook::new(StopConfig::default()).unwrap();
    restarted.restore(saved).unwrap();
    let stop = restarted.get(COHORT, &btc()).unwrap();
    assert_eq!(
        (stop.stop_price(), stop.highest(), stop.phase()),
        (p(dec!(48450)), p(dec!(51000)), StopPhase::Active)
    );
    // An empty store gives an empty book.
    assert!(StopLossBook::new(StopConfig::default()).unwrap().is_empty());
}

#[test]
fn scenario_11_48_trigger_changes_nothing_until_confirmed() {
    let mut book = book();
    book.create(
        request(
            StopKind::Trailing,
            StopDistance::ForMode(TradingMode::Grid),
            dec!(50000),
        ),
        &fine_filters(),
        t(0),
    )
    .unwrap();
    book.on_price(&btc(), p(dec!(40000)), t(1));
    assert_eq!(book.len(), 1);
    let closed = book.confirm_sold(COHORT, &btc()).unwrap();
    assert_eq!(closed.trigger().unwrap().price, p(dec!(40000)));
    assert!(book.is_empty());
}

// ---------------------------------------------------------------- 49: stop check

fn policy() -> StopExecutionPolicy {
    StopExecutionPolicy::new(ExecutionConfig::default()).unwrap()
}

#[test]
fn scenario_11_49_successful_sell_confirms_failed_sell_reactivates() {
    for (outcomes, confirmed) in [
        (vec![SellOutcome::Filled], true),
        (vec![SellOutcome::Failed { reason: "x".into() }; 3], false),
    ] {
        let mut book = book();
        book.create(
            request(StopKind::Fixed, StopDistance::Percent(dec!(5)), dec!(100)),
            &fine_filters(),
            t(0),
        )
        .unwrap();
        let sell = sells(&book.on_price(&btc(), p(dec!(94)), t(1))).remove(0);
        let (mut execution, _) = policy().start(&sell, None, &fine_filters(), t(1));
        let mut step = ExecutionStep::Sold;
        for outcome in outcomes {
            step = execution.on_outcome(outcome, t(2)).unwrap();
        }
        match step {
            ExecutionStep::Sold => {
                book.confirm_sold(COHORT, &btc()).unwrap();
            }
            ExecutionStep::GiveUp(_) => {
                book.sell_failed(COHORT, &btc()).unwrap();
            }
            ExecutionStep::Sell { .. } => panic!("unexpected retry"),
        }
        assert_eq!(book.get(COHORT, &btc()).is_none(), confirmed);
        if !confirmed {
            assert_eq!(book.get(COHORT, &btc()).unwrap().phase(), StopPhase::Active);
        }
    }
}

#[test]
fn scenario_11_49_no_trigger_no_sell() {
    let mut book = book();
    book.create(
        request(StopKind::Fixed, StopDistance::Percent(dec!(5)), dec!(100)),
        &fine_filters(),
        t(0),
    )
    .unwrap();
    assert!(book.on_price(&btc(), p(dec!(96)), t(1)).is_empty());
}

// ---------------------------------------------------------------- 50: stop executor

fn market_sell(quantity: Decimal) -> MarketSell {
    MarketSell {
        cohort: COHORT,
        symbol: btc(),
        quantity: q(quantity),
        stop_price: p(dec!(47500)),
        trigger_price: p(dec!(47000)),
    }
}

fn step_filters(step: Decimal) -> SymbolFilters {
    SymbolFilters::with_steps(btc(), dec!(0.01), step)
}

fn first_sell_quantity(step: &ExecutionStep) -> Quantity {
    match step {
        ExecutionStep::Sell { quantity, .. } => *quantity,
        other => panic!("expected a sell, got {other:?}"),
    }
}

#[test]
fn scenario_11_50_balance_covers_intent_one_sell() {
    let (mut ex, step) = policy().start(
        &market_sell(dec!(0.5)),
        Some(q(dec!(0.5))),
        &step_filters(dec!(0.001)),
        t(0),
    );
    assert_eq!(first_sell_quantity(&step), q(dec!(0.5)));
    assert_eq!(
        ex.on_outcome(SellOutcome::Filled, t(10)).unwrap(),
        ExecutionStep::Sold
    );
    assert_eq!(ex.attempts(), 1);
}

#[test]
fn scenario_11_50_fail_then_succeed_waits_two_seconds_once() {
    let (mut ex, _) = policy().start(
        &market_sell(dec!(0.5)),
        Some(q(dec!(0.5))),
        &step_filters(dec!(0.001)),
        t(0),
    );
    let retry = ex
        .on_outcome(
            SellOutcome::Failed {
                reason: "timeout".into(),
            },
            t(100),
        )
        .unwrap();
    assert_eq!(
        retry,
        ExecutionStep::Sell {
            at: t(2_100),
            quantity: q(dec!(0.5)),
            attempt: 2
        }
    );
    assert_eq!(
        ex.on_outcome(SellOutcome::Filled, t(2_200)).unwrap(),
        ExecutionStep::Sold
    );
    assert_eq!(ex.attempts(), 2);
}

#[test]
fn scenario_11_50_three_failures_give_a_critical_alert() {
    let (mut ex, _) = policy().start(
        &market_sell(dec!(0.5)),
        None,
        &step_filters(dec!(0.001)),
        t(0),
    );
    let fail = || SellOutcome::Failed {
        reason: "timeout".into(),
    };
    assert!(matches!(
        ex.on_outcome(fail(), t(0)).unwrap(),
        ExecutionStep::Sell { attempt: 2, .. }
    ));
    assert!(matches!(
        ex.on_outcome(fail(), t(0)).unwrap(),
        ExecutionStep::Sell { attempt: 3, .. }
    ));
    let ExecutionStep::GiveUp(alert) = ex.on_outcome(fail(), t(0)).unwrap() else {
        panic!("expected a give-up");
    };
    assert_eq!(ex.attempts(), 3);
    assert_eq!(alert.severity, AlertSeverity::Critical);
    for needle in ["FAILED after 3 attempts", "CRITICAL", "Manual sell needed"] {
        assert!(alert.message.contains(needle), "{}", alert.message);
    }
}

#[test]
fn scenario_11_50_smaller_balance_caps_the_sale() {
    let (_, step) = policy().start(
        &market_sell(dec!(0.5)),
        Some(q(dec!(0.3))),
        &step_filters(dec!(0.001)),
        t(0),
    );
    assert!(first_sell_quantity(&step) <= q(dec!(0.3)));
}

#[test]
fn scenario_11_50_unknown_balance_sells_the_intent() {
    let (_, step) = policy().start(
        &market_sell(dec!(0.5)),
        None,
        &step_filters(dec!(0.001)),
        t(0),
    );
    assert_eq!(first_sell_quantity(&step), q(dec!(0.5)));
}

#[test]
fn scenario_11_50_quantity_is_truncated_to_the_step() {
    let (_, step) = policy().start(
        &market_sell(dec!(0.1234567)),
        None,
        &step_filters(dec!(0.001)),
        t(0),
    );
    assert_eq!(first_sell_quantity(&step), q(dec!(0.123)));
}

#[test]
fn scenario_11_50_dust_balance_is_zero_quantity_and_no_sell() {
    let (ex, step) = policy().start(
        &market_sell(dec!(0.5)),
        Some(q(dec!(0.0000001))),
        &step_filters(dec!(0.001)),
        t(0),
    );
    let ExecutionStep::GiveUp(alert) = step else {
        panic!("expected a give-up");
    };
    assert!(alert.message.contains("zero quantity"), "{}", alert.message);
    assert_eq!(ex.attempts(), 0);
}

#[test]
fn scenario_11_50_insufficient_balance_retries_with_what_is_owned() {
    // Changed: the original retried with the whole free balance (possibly another cohort's).
    let (mut ex, _) = policy().start(
        &market_sell(dec!(0.5)),
        None,
        &step_filters(dec!(0.001)),
        t(0),
    );
    let retry = ex
        .on_outcome(
            SellOutcome::InsufficientBalance { free: q(dec!(2.0)) },
            t(0),
        )
        .unwrap();
    assert_eq!(first_sell_quantity(&retry), q(dec!(0.5)));
    let retry = ex
        .on_outcome(
            SellOutcome::InsufficientBalance {
                free: q(dec!(0.4995)),
            },
            t(0),
        )
        .unwrap();
    assert_eq!(first_sell_quantity(&retry), q(dec!(0.499)));
}

// ---------------------------------------------------------------- 51–53: CVaR and sizing

/// 100 deterministic normal returns (Box–Muller over a 64-bit LCG), mean `mu`, sd `sigma`.
fn normal_returns(count: usize, mu: f64, sigma: f64) -> Vec<f64> {
    let mut state: u64 = 42;
    let mut uniform = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    (0..count)
        .map(|_| {
            let (u1, u2) = (uniform(), uniform());
            mu + sigma * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        })
        .collect()
}

#[test]
fn scenario_11_51_tail_metrics_on_normal_returns() {
    let m = RiskMetrics::from_returns(&normal_returns(100, 0.001, 0.03));
    assert!(m.var_95 > 0.0);
    assert!(m.var_99 >= m.var_95);
    assert!(m.cvar_95 >= m.var_95);
    assert!(m.volatility > 0.0);
    assert_eq!(m.sample_size, 100);
}

#[test]
fn scenario_11_52_position_size_within_max_and_monotone_in_confidence() {
    let returns = normal_returns(50, 0.001, 0.03);
    let size = |confidence: Decimal| {
        PositionSizer::default().position_size(&SizingInput {
            portfolio_value: n(dec!(10000)),
            returns: &returns,
            confidence: Confidence::new(confidence).unwrap(),
            regime: None,
        })
    };
    let sized = size(dec!(0.5));
    assert!(sized.size > Notional::ZERO);
    assert!(sized.size <= sized.max_position);
    assert!(size(dec!(0.9)).size >= size(dec!(0.3)).size);
}

#[test]
fn scenario_11_52_regime_stop_distance_and_risk_budget() {
    assert_eq!(
        dec!(0.05) * regime_multiplier(Some(Regime::Bear)),
        dec!(0.075)
    );
    assert_eq!(
        dec!(0.05) * regime_multiplier(Some(Regime::Bull)),
        dec!(0.045)
    );
    assert_eq!(stop_loss_distance(dec!(0.05)), dec!(0.10));
    assert_eq!(
        available_risk_budget(n(dec!(10000)), &[], dec!(0.10)),
        dec!(0.10)
    );
    let one = [PositionRisk {
        value: n(dec!(2500)),
        cvar_95: dec!(0.05),
    }];
    assert_eq!(
        available_risk_budget(n(dec!(10000)), &one, dec!(0.10)),
        dec!(0.0875)
    );
}

#[test]
fn scenario_11_53_confidence_is_counted_once() {
    let mut returns = vec![0.02; 12];
    returns.extend([-0.01; 8]);
    let sized = PositionSizer::default().position_size(&SizingInput {
        portfolio_value: n(dec!(10000)),
        returns: &returns,
        confidence: Confidence::new(dec!(0.5)).unwrap(),
        regime: None,
    });
    assert_eq!(sized.cvar_used, dec!(0.01));
    assert_eq!(sized.risk_adjusted_size, n(dec!(15000)));
    assert_eq!(sized.kelly_size, n(dec!(2000)));
    assert_eq!(sized.size, n(dec!(1500)));
    assert_eq!(sized.max_position, n(dec!(2500)));
    assert_eq!(sized.expected_max_loss, n(dec!(15)));
    assert_ne!(sized.size, n(dec!(656.25)));
    // The double-counting variant scaled the win rate too: p = 0.6 × 0.75 = 0.45.
    assert_eq!(
        kelly_fraction(dec!(0.45), dec!(0.02), dec!(0.01)) * dec!(10000),
        dec!(875)
    );
}

// ---------------------------------------------------------------- 63/64: CASH and HOLD → GRID

#[test]
fn scenario_11_63_cash_tightens_the_hold_stop() {
    let mut book = book();
    book.create(
        request(
            StopKind::Trailing,
            StopDistance::ForMode(TradingMode::Hold),
            dec!(50000),
        ),
        &fine_filters(),
        t(0),
    )
    .unwrap();
    let stop = book
        .tighten_for_cash(COHORT, &btc(), p(dec!(52000)))
        .unwrap();
    assert_eq!(stop.distance_pct(), dec!(3));
    assert_eq!(stop.stop_price(), p(dec!(50440)));
    assert_eq!(stop.quantity(), q(dec!(0.999)));
    // Changed: a tightening that would lower the stop keeps the higher one.
    let stop = book
        .tighten_for_cash(COHORT, &btc(), p(dec!(51000)))
        .unwrap();
    assert_eq!(stop.stop_price(), p(dec!(50440)));
}

#[test]
fn scenario_11_64_hold_to_grid_cancels_the_stop_exactly_once() {
    let mut book = book();
    book.create(
        request(
            StopKind::Trailing,
            StopDistance::ForMode(TradingMode::Hold),
            dec!(50000),
        ),
        &fine_filters(),
        t(0),
    )
    .unwrap();
    assert_eq!(
        book.cancel(COHORT, &btc()).unwrap().phase(),
        StopPhase::Cancelled
    );
    assert!(matches!(
        book.cancel(COHORT, &btc()),
        Err(RiskError::NoStop { .. })
    ));
}

// ---------------------------------------------------------------- 73: available capital

#[test]
fn scenario_11_73_available_capital() {
    let g = guard();
    assert_eq!(
        g.available_capital(n(dec!(1000)), n(dec!(400))),
        n(dec!(400))
    );
    assert_eq!(
        g.available_capital(n(dec!(1000)), n(dec!(750))),
        n(dec!(50))
    );
}
