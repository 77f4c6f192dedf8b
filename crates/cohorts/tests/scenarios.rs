//! The spec's §11 scenarios for cohorts (71, 72; 70 is in `definition.rs`) and allocation
//! (73–76), named by number. Where the Rust design differs (the allocator caps amounts instead
//! of validating and shrinking them), the scenario checks the equivalent behaviour and says so.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::sync::Arc;

use hybrid_cohorts::{
    default_cohorts, seed, select_coins, CohortExchange, CohortLedger, CohortOrchestrator,
    RiskTolerance,
};
use hybrid_core::{Candle, Notional, Price, Quantity, SimClock, Symbol, Timestamp};
use hybrid_engine::{
    allocate, allocate_with_policy, rebalance_orders, replay_filters, risk_multiplier,
    AllocationCandidate, AllocationPolicy, BindingCap, OrchestratorConfig, SkipReason,
};
use hybrid_exchange::{Balance, MatchingConfig, MatchingEngine, SimConfig, SimExchange};
use hybrid_market::{Category, RiskLevel};
use hybrid_modes::{AllocationConstraints, CoinCategory, ConstraintPreset};
use hybrid_store::Store;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

/// Runs a future of the simulated exchange, which never waits.
fn settle<F: std::future::Future>(future: F) -> F::Output {
    hybrid_engine::block_on(future).unwrap()
}

fn sym(code: &str) -> Symbol {
    Symbol::new(code).unwrap()
}

fn usd(v: Decimal) -> Notional {
    Notional::new(v)
}

fn flat_candle(price: Decimal, hour: i64) -> Candle {
    let p = Price::new(price).unwrap();
    Candle::new(
        Timestamp::from_millis(hour * Timestamp::HOUR_MS),
        p,
        p,
        p,
        p,
        Quantity::new(dec!(10)).unwrap(),
    )
    .unwrap()
}

/// Spec §11 scenario 71: the cohort orchestrator.
#[test]
fn scenario_11_71_cohort_orchestrator() {
    // With no cohorts nothing starts (the process exits 1, scenario 72).
    let mut empty: CohortOrchestrator<CohortExchange<SimExchange>> = CohortOrchestrator::new();
    assert_eq!(settle(empty.start(Timestamp::from_millis(0))), 0);
    assert!(empty.slots().is_empty());

    // Two cohorts give two orchestrators, keyed by name, each on its own coin.
    let coins = [(sym("BTCUSDT"), dec!(50000)), (sym("ETHUSDT"), dec!(3000))];
    let filters: Vec<_> = coins
        .iter()
        .map(|(s, p)| replay_filters(s.clone(), Price::new(*p).unwrap()))
        .collect();
    let usdt = coins[0].0.quote();
    let engine = MatchingEngine::new(
        MatchingConfig::default(),
        filters.clone(),
        &[Balance {
            asset: usdt.clone(),
            free: dec!(2000),
            locked: dec!(0),
        }],
    );
    let clock = Arc::new(SimClock::new(Timestamp::from_millis(0)));
    let shared = Arc::new(SimExchange::new(
        engine,
        Arc::clone(&clock),
        SimConfig::default(),
    ));
    let definitions: Vec<_> = default_cohorts().into_iter().skip(1).take(2).collect();
    let now = Timestamp::from_millis(0);
    let mut cohorts = CohortOrchestrator::new();
    for (definition, filters) in definitions.iter().zip(&filters) {
        let store = Store::open("sqlite::memory:").unwrap();
        let id = seed(&store, &definitions, now)
            .unwrap()
            .into_iter()
            .find(|r| r.name == definition.name)
            .unwrap()
            .id;
        let venue = CohortExchange::new(
            Arc::clone(&shared),
            CohortLedger::new(id, usdt.clone(), definition.current_capital),
        );
        let base = OrchestratorConfig::backtest_defaults();
        cohorts
            .add(
                definition.clone(),
                venue,
                store,
                vec![filters.clone()],
                &base,
                now,
            )
            .unwrap();
    }
    let names: Vec<&str> = cohorts
        .slots()
        .iter()
        .map(|s| s.definition().name.as_str())
        .collect();
    assert_eq!(names, ["balanced", "aggressive"]);
    assert_eq!(
        cohorts.owner_of(&sym("BTCUSDT")),
        Some(cohorts.slots()[0].id())
    );
    assert_eq!(
        cohorts.owner_of(&sym("ETHUSDT")),
        Some(cohorts.slots()[1].id())
    );

    // A coin belongs to one cohort: adding it to a second is refused.
    let store = Store::open("sqlite::memory:").unwrap();
    let third = default_cohorts().remove(3);
    let rows = seed(&store, std::slice::from_ref(&third), now).unwrap();
    let venue = CohortExchange::new(
        Arc::clone(&shared),
        CohortLedger::new(rows[0].id, usdt.clone(), dec!(1000)),
    );
    let error = cohorts
        .add(
            third,
            venue,
            store,
            vec![filters[0].clone()],
            &OrchestratorConfig::backtest_defaults(),
            now,
        )
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("BTCUSDT already belongs to cohort balanced"),
        "{error}"
    );

    // A tick reaches each orchestrator once.
    let close = Timestamp::from_millis(Timestamp::HOUR_MS);
    clock.advance_to(close).unwrap();
    for (symbol, price) in &coins {
        let candle = flat_candle(*price, 0);
        let fills = shared.on_candle(symbol, &candle);
        settle(cohorts.on_candle(symbol, &candle, fills, close));
    }
    assert_eq!(settle(cohorts.start(close)), 2);
    let later = Timestamp::from_millis(2 * Timestamp::HOUR_MS);
    let hour = settle(cohorts.on_hour(later));
    assert_eq!(hour.len(), 2);
    assert!(hour.iter().all(|(_, r)| r.is_ok()), "{hour:?}");
    // The status merges the cohort's information with its orchestrator's.
    let status = &cohorts.slots()[0];
    assert_eq!(status.definition().config.grid_range_pct, dec!(5));
    assert_eq!(status.symbols(), vec![sym("BTCUSDT")]);
    assert_eq!(
        status.ledger().total(&usdt) + status.ledger().total(&sym("BTCUSDT").base()) * dec!(50000),
        dec!(1000) - status.journal().fees.value()
    );

    // Without a database the defaults include the two explorer cohorts.
    let defaults = default_cohorts();
    let defi = defaults.iter().find(|c| c.name == "defi_explorer").unwrap();
    assert_eq!(
        defi.effective_categories(),
        vec![CoinCategory::Defi, CoinCategory::Ai]
    );
    assert_eq!(defi.config.risk_tolerance, RiskTolerance::High);
    let meme = defaults.iter().find(|c| c.name == "meme_hunter").unwrap();
    assert_eq!(meme.effective_categories(), vec![CoinCategory::Meme]);
    assert_eq!(
        (meme.config.grid_range_pct, meme.config.min_confidence),
        (dec!(15.0), dec!(0.2))
    );
}

/// Spec §11 scenario 72: with no coin scanned, no cohort gets an allocation (the process
/// exits 1), and each says why.
#[test]
fn scenario_11_72_no_allocation_is_reported_for_every_cohort() {
    let selections = select_coins(&default_cohorts(), &[]);
    assert_eq!(selections.len(), 6);
    assert!(selections.iter().all(|s| s.symbols.is_empty()));
    assert!(selections
        .iter()
        .all(|s| s.unfunded.as_deref() == Some("no coin was scanned")));
}

/// Spec §11 scenario 73: constraint defaults, presets, per-coin caps, available capital.
#[test]
fn scenario_11_73_constraints() {
    let d = AllocationConstraints::default();
    assert_eq!(
        (
            d.max_per_coin_pct,
            d.min_position_usd,
            d.max_position_usd,
            d.min_cash_reserve_pct,
            d.max_open_positions
        ),
        (dec!(10), usd(dec!(10)), usd(dec!(500)), dec!(20), 10)
    );
    let row = |p: ConstraintPreset| {
        let c = p.constraints();
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
    assert_eq!(d.available(usd(dec!(1000)), usd(dec!(400))), usd(dec!(400)));
    assert_eq!(d.available(usd(dec!(1000)), usd(dec!(750))), usd(dec!(50)));
}

fn candidate(
    symbol: &str,
    category: Category,
    score: Decimal,
    confidence: Decimal,
    risk: RiskLevel,
) -> AllocationCandidate {
    AllocationCandidate::scored(
        sym(symbol),
        category,
        score,
        confidence,
        risk,
        Price::new(dec!(1)).unwrap(),
    )
}

/// Spec §11 scenario 74, as the Rust allocator enforces it: instead of validating a proposal
/// and shrinking it, the allocator never proposes a violation — a coin is capped at its
/// per-coin limit (BTC at 10 % of 1000 = 100, not 150), and coins past the position limit are
/// skipped with the reason.
#[test]
fn scenario_11_74_limits_are_enforced_by_construction() {
    let balanced = ConstraintPreset::Balanced.constraints();
    let two = [
        candidate(
            "BTCUSDT",
            Category::LargeCap,
            dec!(0.5),
            dec!(1),
            RiskLevel::Medium,
        ),
        candidate(
            "ETHUSDT",
            Category::LargeCap,
            dec!(0.5),
            dec!(1),
            RiskLevel::Medium,
        ),
    ];
    let plan = allocate(&two, usd(dec!(1000)), &balanced, None);
    assert_eq!(plan.allocations.len(), 2, "{plan:?}");
    let strong = [candidate(
        "BTCUSDT",
        Category::LargeCap,
        dec!(1),
        dec!(1),
        RiskLevel::Low,
    )];
    let plan = allocate(&strong, usd(dec!(1000)), &balanced, None);
    let btc = &plan.allocations[0];
    assert!(btc.amount <= usd(dec!(100)), "{btc:?}");
    assert_eq!(btc.basis.binding_cap, Some(BindingCap::PerCoin));
    let policy = AllocationPolicy {
        max_positions: 2,
        ..AllocationPolicy::default()
    };
    let three = [
        candidate(
            "BTCUSDT",
            Category::LargeCap,
            dec!(0.9),
            dec!(0.8),
            RiskLevel::Low,
        ),
        candidate(
            "ETHUSDT",
            Category::LargeCap,
            dec!(0.8),
            dec!(0.8),
            RiskLevel::Low,
        ),
        candidate(
            "SOLUSDT",
            Category::MidCap,
            dec!(0.7),
            dec!(0.8),
            RiskLevel::Low,
        ),
    ];
    let plan = allocate_with_policy(&three, usd(dec!(1000)), &balanced, None, &policy);
    assert_eq!(plan.allocations.len(), 2);
    assert!(plan.skipped.iter().any(|(s, r)| s.as_str() == "SOLUSDT"
        && matches!(r, SkipReason::MaxPositionsReached { limit: 2 })));
}

/// Spec §11 scenario 75: the allocator.
#[test]
fn scenario_11_75_allocator() {
    let balanced = ConstraintPreset::Balanced.constraints();
    let none = allocate(&[], usd(dec!(1000)), &balanced, None);
    assert!(none.allocations.is_empty());
    assert_eq!(
        (none.total_allocated, none.cash_reserve),
        (usd(dec!(0)), usd(dec!(1000)))
    );

    let pair = [
        candidate(
            "BTCUSDT",
            Category::LargeCap,
            dec!(0.8),
            dec!(0.7),
            RiskLevel::Low,
        ),
        candidate(
            "ETHUSDT",
            Category::LargeCap,
            dec!(0.6),
            dec!(0.6),
            RiskLevel::Medium,
        ),
    ];
    let plan = allocate(&pair, usd(dec!(1000)), &balanced, None);
    let amounts: Vec<Notional> = plan.allocations.iter().map(|a| a.amount).collect();
    // The spec derives 57.31 by rounding 57.3077 to the cent; the engine rounds amounts down
    // to the cent (never more than the capital), so 57.30 and 880.56 left in cash.
    assert_eq!(amounts, [usd(dec!(62.14)), usd(dec!(57.30))]);
    assert_eq!(plan.cash_reserve, usd(dec!(880.56)));

    let policy = AllocationPolicy {
        min_confidence: dec!(0.7),
        ..AllocationPolicy::default()
    };
    let mixed = [
        candidate(
            "BTCUSDT",
            Category::LargeCap,
            dec!(0.8),
            dec!(0.8),
            RiskLevel::Low,
        ),
        candidate(
            "LOWCONFUSDT",
            Category::LargeCap,
            dec!(0.8),
            dec!(0.4),
            RiskLevel::Medium,
        ),
    ];
    let plan = allocate_with_policy(&mixed, usd(dec!(1000)), &balanced, None, &policy);
    assert_eq!(plan.allocations.len(), 1);
    assert_eq!(plan.allocations[0].symbol.as_str(), "BTCUSDT");

    let policy = AllocationPolicy {
        allowed_categories: Some(vec![Category::LargeCap]),
        ..AllocationPolicy::default()
    };
    let spread = [
        candidate(
            "BTCUSDT",
            Category::LargeCap,
            dec!(0.8),
            dec!(0.8),
            RiskLevel::Low,
        ),
        candidate("OPUSDT", Category::L2, dec!(0.8), dec!(0.8), RiskLevel::Low),
        candidate(
            "AXSUSDT",
            Category::Gaming,
            dec!(0.8),
            dec!(0.8),
            RiskLevel::Low,
        ),
    ];
    let plan = allocate_with_policy(&spread, usd(dec!(1000)), &balanced, None, &policy);
    let kept: Vec<&str> = plan.allocations.iter().map(|a| a.symbol.as_str()).collect();
    assert_eq!(kept, ["BTCUSDT"]);

    assert_eq!(
        [RiskLevel::Low, RiskLevel::Medium, RiskLevel::High].map(risk_multiplier),
        [dec!(1.2), dec!(1.0), dec!(0.7)]
    );
    // Kelly on 100 with confidence 0.3 and score 0.5: half-Kelly 0, factor 0.5 → 50.
    // (MID_CAP: LARGE_CAP keeps tier 1's 15 % fallback cap even with no tier limits.)
    let weak = [candidate(
        "SOLUSDT",
        Category::MidCap,
        dec!(0.5),
        dec!(0.3),
        RiskLevel::Medium,
    )];
    let generous = AllocationConstraints {
        max_per_coin_pct: dec!(100),
        max_per_category_pct: dec!(100),
        min_cash_reserve_pct: dec!(0),
        max_total_exposure_pct: dec!(100),
        category_limits: Default::default(),
        tier_limits: Default::default(),
        max_position_usd: usd(dec!(1000)),
        ..AllocationConstraints::default()
    };
    let plan = allocate(&weak, usd(dec!(100)), &generous, None);
    assert_eq!(plan.allocations.len(), 1, "{plan:?}");
    assert_eq!(plan.allocations[0].amount, usd(dec!(50)));
    assert_eq!(plan.allocations[0].basis.kelly_factor, dec!(0.5));
}

/// Spec §11 scenario 76: rebalance trades.
#[test]
fn scenario_11_76_rebalance_trades() {
    let target = [
        (sym("BTCUSDT"), usd(dec!(200))),
        (sym("ETHUSDT"), usd(dec!(150))),
        (sym("SOLUSDT"), usd(dec!(100))),
    ];
    let current = [
        (sym("BTCUSDT"), usd(dec!(150))),
        (sym("ETHUSDT"), usd(dec!(200))),
        (sym("AVAXUSDT"), usd(dec!(100))),
    ];
    let orders = rebalance_orders(&current, &target, usd(dec!(10)));
    let mut got: Vec<(String, Decimal)> = orders
        .iter()
        .map(|o| (o.symbol.to_string(), o.delta.value()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("AVAXUSDT".to_owned(), dec!(-100)),
            ("BTCUSDT".to_owned(), dec!(50)),
            ("ETHUSDT".to_owned(), dec!(-50)),
            ("SOLUSDT".to_owned(), dec!(100)),
        ]
    );
}

/// The cohort row keeps the cohort's definition and capital after its orchestrator starts
/// (the engine writes a placeholder row of its own).
#[test]
fn the_stored_cohort_keeps_its_definition_and_capital() {
    let coins = [(sym("BTCUSDT"), dec!(50000))];
    let filters = replay_filters(coins[0].0.clone(), Price::new(coins[0].1).unwrap());
    let usdt = coins[0].0.quote();
    let engine = MatchingEngine::new(MatchingConfig::default(), vec![filters.clone()], &[]);
    let clock = Arc::new(SimClock::new(Timestamp::from_millis(0)));
    let shared = Arc::new(SimExchange::new(engine, clock, SimConfig::default()));
    let store = Store::open("sqlite::memory:").unwrap();
    let definition = default_cohorts().remove(4);
    let now = Timestamp::from_millis(0);
    let mut cohorts = CohortOrchestrator::new();
    // Not seeded beforehand: `add` stores it; the first cohort of a fresh database is id 1.
    let venue = CohortExchange::new(
        Arc::clone(&shared),
        CohortLedger::new(hybrid_core::CohortId::new(1), usdt, dec!(1000)),
    );
    let base = OrchestratorConfig::backtest_defaults();
    let id = cohorts
        .add(definition.clone(), venue, store, vec![filters], &base, now)
        .unwrap();
    let stored = cohorts.slots()[0]
        .orchestrator()
        .store()
        .get_cohort(id)
        .unwrap()
        .unwrap();
    assert_eq!(
        hybrid_cohorts::CohortDefinition::from_record(&stored).unwrap(),
        definition
    );
}
