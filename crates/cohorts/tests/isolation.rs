//! Isolation between cohorts on one shared exchange: a cohort whose exchange calls all fail
//! keeps failing alone while the others trade on; a cohort can never spend beyond its own
//! cash, even when the shared account holds more; the ledgers add up to the account.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::sync::Arc;

use hybrid_cohorts::{
    reconcile, seed, CapitalRefusal, CohortDefinition, CohortExchange, CohortLedger,
    CohortOrchestrator, CohortVenue,
};
use hybrid_core::{
    Candle, ClientOrderId, CohortId, Fill, Order, OrderKind, Price, Quantity, Side, SimClock,
    Symbol, SymbolFilters, Timestamp,
};
use hybrid_engine::{replay_filters, OrchestratorConfig};
use hybrid_exchange::{
    Account, Balance, ExchangeError, MatchingConfig, MatchingEngine, OrderAck, OrderRef,
    OrderRequest, SimConfig, SimExchange, TradesFrom,
};
use hybrid_store::Store;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

/// A cohort venue that can be switched to fail every call.
#[derive(Debug)]
struct Flaky {
    inner: CohortExchange<SimExchange>,
    broken: bool,
}

impl Flaky {
    fn check(&self) -> Result<(), ExchangeError> {
        if self.broken {
            Err(ExchangeError::Connectivity(
                "injected: exchange unreachable".to_owned(),
            ))
        } else {
            Ok(())
        }
    }
}

impl CohortVenue for Flaky {
    fn cohort(&self) -> CohortId {
        self.inner.cohort()
    }
    fn book_fill(&self, fill: &Fill) {
        self.inner.book_fill(fill);
    }
    fn mark_price(&self, symbol: &Symbol, price: Price) {
        self.inner.mark_price(symbol, price);
    }
    fn ledger(&self) -> CohortLedger {
        self.inner.ledger()
    }
    fn credit(&self, amount: Decimal) -> Result<Decimal, CapitalRefusal> {
        self.inner.credit(amount)
    }
    fn debit(&self, amount: Decimal) -> Result<Decimal, CapitalRefusal> {
        self.inner.debit(amount)
    }
}

impl Account for Flaky {
    async fn balances(&self) -> Result<Vec<Balance>, ExchangeError> {
        self.check()?;
        self.inner.balances().await
    }
    async fn place_order(&self, request: &OrderRequest) -> Result<OrderAck, ExchangeError> {
        self.check()?;
        self.inner.place_order(request).await
    }
    async fn query_order(&self, symbol: &Symbol, order: &OrderRef) -> Result<Order, ExchangeError> {
        self.check()?;
        self.inner.query_order(symbol, order).await
    }
    async fn cancel_order(
        &self,
        symbol: &Symbol,
        order: &OrderRef,
    ) -> Result<Order, ExchangeError> {
        self.check()?;
        self.inner.cancel_order(symbol, order).await
    }
    async fn open_orders(&self, symbol: Option<&Symbol>) -> Result<Vec<Order>, ExchangeError> {
        self.check()?;
        self.inner.open_orders(symbol).await
    }
    async fn my_trades(
        &self,
        symbol: &Symbol,
        from: TradesFrom,
    ) -> Result<Vec<Fill>, ExchangeError> {
        self.check()?;
        self.inner.my_trades(symbol, from).await
    }
}

/// Runs a future of the simulated exchange, which never waits.
fn settle<F: std::future::Future>(future: F) -> F::Output {
    hybrid_engine::block_on(future).unwrap()
}

const HOUR: i64 = Timestamp::HOUR_MS;

/// A price swinging ±4 % around `base` with a period of a day: grids fill both ways.
fn candle(base: Decimal, hour: i64) -> Candle {
    let phase = |h: i64| -> Decimal {
        let x = ((h % 24) as f64 / 24.0 * std::f64::consts::TAU).sin();
        base * (Decimal::ONE + Decimal::try_from(x * 0.04).unwrap().round_dp(6))
    };
    let (open, close) = (phase(hour), phase(hour + 1));
    let high = open.max(close) * dec!(1.002);
    let low = open.min(close) * dec!(0.998);
    let p = |d: Decimal| Price::new(d.round_dp(4)).unwrap();
    Candle::new(
        Timestamp::from_millis(hour * HOUR),
        p(open),
        p(high),
        p(low),
        p(close),
        Quantity::new(dec!(1000)).unwrap(),
    )
    .unwrap()
}

struct World {
    shared: Arc<SimExchange>,
    clock: Arc<SimClock>,
    cohorts: CohortOrchestrator<Flaky>,
    coins: Vec<(Symbol, Decimal)>,
}

/// Three cohorts of 1000 USDT on one 3000 USDT account, one coin each; `broken` names the
/// cohort whose every exchange call fails.
fn world(broken: Option<&str>) -> World {
    let coins = vec![
        (Symbol::new("BTCUSDT").unwrap(), dec!(30000)),
        (Symbol::new("ETHUSDT").unwrap(), dec!(2000)),
        (Symbol::new("SOLUSDT").unwrap(), dec!(100)),
    ];
    let filters: Vec<SymbolFilters> = coins
        .iter()
        .map(|(s, p)| replay_filters(s.clone(), Price::new(*p).unwrap()))
        .collect();
    let usdt = coins[0].0.quote();
    let engine = MatchingEngine::new(
        MatchingConfig::default(),
        filters.clone(),
        &[Balance {
            asset: usdt.clone(),
            free: dec!(3000),
            locked: dec!(0),
        }],
    );
    let clock = Arc::new(SimClock::new(Timestamp::from_millis(0)));
    let shared = Arc::new(SimExchange::new(
        engine,
        Arc::clone(&clock),
        SimConfig::default(),
    ));
    let definitions: Vec<CohortDefinition> = hybrid_cohorts::default_cohorts()
        .into_iter()
        .take(3)
        .collect();
    let now = Timestamp::from_millis(0);
    for (i, (symbol, base)) in coins.iter().enumerate() {
        let _ = i;
        shared.on_candle(symbol, &candle(*base, -1));
    }
    let mut cohorts = CohortOrchestrator::new();
    let mut base = OrchestratorConfig::backtest_defaults();
    base.hybrid.enable_mode_switching = false;
    for (definition, filters) in definitions.iter().zip(filters) {
        let store = Store::open("sqlite::memory:").unwrap();
        let rows = seed(&store, &definitions, now).unwrap();
        let id = rows.iter().find(|r| r.name == definition.name).unwrap().id;
        let venue = Flaky {
            inner: CohortExchange::new(
                Arc::clone(&shared),
                CohortLedger::new(id, usdt.clone(), definition.current_capital),
            ),
            broken: broken == Some(definition.name.as_str()),
        };
        cohorts
            .add(definition.clone(), venue, store, vec![filters], &base, now)
            .unwrap();
    }
    World {
        shared,
        clock,
        cohorts,
        coins,
    }
}

fn run(world: &mut World, hours: i64) {
    for hour in 0..hours {
        let close = Timestamp::from_millis((hour + 1) * HOUR);
        world.clock.advance_to(close).unwrap();
        for (symbol, base) in &world.coins {
            let c = candle(*base, hour);
            let fills = world.shared.on_candle(symbol, &c);
            settle(world.cohorts.on_candle(symbol, &c, fills, close));
        }
        // A cohort that could not start is retried every hour.
        settle(world.cohorts.start(close));
        if hour > 0 {
            settle(world.cohorts.on_hour(close));
        }
        let ledgers = world.cohorts.ledgers();
        let refs: Vec<&CohortLedger> = ledgers.iter().collect();
        let account = world.shared.with_engine(|e| e.balances());
        assert_eq!(reconcile(&refs, &account, true), vec![], "hour {hour}");
    }
}

#[test]
fn a_cohort_whose_exchange_fails_fails_alone_while_the_others_trade_on() {
    let mut world = world(Some("balanced"));
    run(&mut world, 72);
    let slots = world.cohorts.slots();
    let get = |name: &str| slots.iter().find(|s| s.definition().name == name).unwrap();
    let broken = get("balanced");
    assert!(
        broken.failures().len() >= 72,
        "it keeps failing: {}",
        broken.failures().len()
    );
    assert!(broken
        .failures()
        .iter()
        .all(|f| f.error.contains("injected")));
    assert_eq!(broken.journal().n_orders, 0);
    assert_eq!(
        broken
            .ledger()
            .total(&Symbol::new("BTCUSDT").unwrap().quote()),
        dec!(1000)
    );
    for name in ["conservative", "aggressive"] {
        let healthy = get(name);
        assert!(
            healthy.failures().is_empty(),
            "{name}: {:?}",
            healthy.failures()
        );
        assert!(healthy.journal().n_orders > 0, "{name} trades");
        assert!(healthy.journal().n_fills > 0, "{name} fills");
    }
    // Same healthy cohorts without the broken one: exactly the same trading.
    let mut calm = self::world(None);
    run(&mut calm, 72);
    let calm_slots = calm.cohorts.slots();
    for name in ["conservative", "aggressive"] {
        let a = get(name);
        let b = calm_slots
            .iter()
            .find(|s| s.definition().name == name)
            .unwrap();
        assert_eq!(
            a.journal(),
            b.journal(),
            "{name} is unaffected by another cohort's failure"
        );
        assert_eq!(a.ledger().lines(), b.ledger().lines());
    }
}

#[test]
fn a_cohort_cannot_spend_beyond_its_own_cash_on_a_richer_account() {
    let mut world = world(None);
    run(&mut world, 24);
    let slot = &world.cohorts.slots()[0];
    let venue = slot.orchestrator().exchange();
    let usdt = world.coins[0].0.quote();
    let own = venue.ledger().free(&usdt);
    let account_free: Decimal = world
        .shared
        .with_engine(|e| e.balances())
        .iter()
        .filter(|b| b.asset == usdt)
        .map(|b| b.free)
        .sum();
    assert!(
        account_free > own + dec!(500),
        "the account holds the other cohorts' cash too"
    );
    let balances = settle(venue.balances()).unwrap();
    let shown: Decimal = balances
        .iter()
        .filter(|b| b.asset == usdt)
        .map(|b| b.free)
        .sum();
    assert_eq!(
        shown, own,
        "the orchestrator sees its own cash, not the account's"
    );

    let (symbol, base) = world.coins[0].clone();
    let id = venue.cohort();
    let order = |seq: u64, cash: Decimal| OrderRequest {
        client_order_id: ClientOrderId::new(id, &symbol, 1_000_000 + seq).unwrap(),
        cohort: id,
        symbol: symbol.clone(),
        side: Side::Buy,
        kind: OrderKind::Limit,
        time_in_force: None,
        price: Some(Price::new(base * dec!(0.5)).unwrap()),
        quantity: Quantity::new((cash / (base * dec!(0.5))).round_dp(5)).unwrap(),
    };
    let error = settle(venue.place_order(&order(1, own + dec!(100)))).unwrap_err();
    assert!(
        matches!(error, ExchangeError::InsufficientBalance { .. }),
        "{error}"
    );
    settle(venue.place_order(&order(2, own - dec!(1)))).unwrap();
    // Another cohort's id is refused outright.
    let mut foreign = order(3, dec!(10));
    foreign.cohort = CohortId::new(id.get() + 1);
    assert!(settle(venue.place_order(&foreign)).is_err());
    let ledgers = world.cohorts.ledgers();
    let refs: Vec<&CohortLedger> = ledgers.iter().collect();
    let account = world.shared.with_engine(|e| e.balances());
    assert_eq!(reconcile(&refs, &account, true), vec![]);
}

#[test]
fn a_cohort_sees_and_cancels_only_its_own_orders() {
    let mut world = world(None);
    run(&mut world, 2);
    let slots = world.cohorts.slots();
    let (a, b) = (
        slots[0].orchestrator().exchange(),
        slots[1].orchestrator().exchange(),
    );
    let open_a = settle(a.open_orders(None)).unwrap();
    let open_b = settle(b.open_orders(None)).unwrap();
    assert!(
        !open_a.is_empty() && !open_b.is_empty(),
        "both cohorts have grid orders"
    );
    assert!(open_a
        .iter()
        .all(|o| o.client_order_id.decode().unwrap().0 == a.cohort()));
    assert!(open_b
        .iter()
        .all(|o| o.client_order_id.decode().unwrap().0 == b.cohort()));
    let all = settle(world.shared.open_orders(None)).unwrap();
    let mine = slots
        .iter()
        .map(|s| {
            settle(s.orchestrator().exchange().open_orders(None))
                .unwrap()
                .len()
        })
        .sum::<usize>();
    assert_eq!(
        all.len(),
        mine,
        "every open order on the account belongs to exactly one cohort"
    );
    // B may not cancel A's order, by client id or by exchange id; A may.
    let order = &open_a[0];
    let by_client = OrderRef::Client(order.client_order_id.clone());
    let by_exchange = OrderRef::Exchange(order.exchange_order_id.unwrap());
    assert!(settle(b.cancel_order(&order.symbol, &by_client)).is_err());
    assert!(settle(b.cancel_order(&order.symbol, &by_exchange)).is_err());
    assert!(settle(b.query_order(&order.symbol, &by_client)).is_err());
    let reserved =
        a.ledger().reserved(&order.symbol.quote()) + a.ledger().reserved(&order.symbol.base());
    settle(a.cancel_order(&order.symbol, &by_client)).unwrap();
    let after =
        a.ledger().reserved(&order.symbol.quote()) + a.ledger().reserved(&order.symbol.base());
    assert!(after < reserved, "the cancel released the reservation");
    let ledgers = world.cohorts.ledgers();
    let refs: Vec<&CohortLedger> = ledgers.iter().collect();
    let account = world.shared.with_engine(|e| e.balances());
    assert_eq!(reconcile(&refs, &account, true), vec![]);
    for ledger in &ledgers {
        for line in ledger.lines() {
            let locked: Decimal = account
                .iter()
                .filter(|b| b.asset == line.asset)
                .map(|b| b.locked)
                .sum();
            assert!(line.reserved <= locked, "{line:?}");
        }
    }
}

/// `credit`/`debit` change one cohort's cash and its row in the `cohorts` table, never touch
/// what its open orders reserve, and refuse a debit beyond its free cash without a change.
#[test]
fn capital_changes_move_free_cash_and_are_recorded_in_the_cohorts_table() {
    let mut world = world(None);
    run(&mut world, 24);
    let usdt = Symbol::new("BTCUSDT").unwrap().quote();
    let slot = |world: &World, name: &str| {
        let slot = world
            .cohorts
            .slots()
            .iter()
            .find(|s| s.definition().name == name)
            .unwrap();
        (slot.id(), slot.ledger(), slot.definition().current_capital)
    };
    let (id, before, capital) = slot(&world, "aggressive");
    let reserved = before.reserved(&usdt);
    let free = before.free(&usdt);
    assert!(reserved > Decimal::ZERO, "open buys reserve cash");
    assert_eq!(capital, dec!(1000));
    let now = Timestamp::from_millis(25 * HOUR);

    let refused = world.cohorts.debit(id, free + dec!(0.01), now).unwrap_err();
    assert!(
        matches!(
            refused,
            hybrid_cohorts::CohortError::Capital(CapitalRefusal::Insufficient(_))
        ),
        "{refused}"
    );
    let (_, unchanged, same) = slot(&world, "aggressive");
    assert_eq!((unchanged, same), (before.clone(), capital));

    let stored = |world: &World| {
        let slot = world.cohorts.slots().iter().find(|s| s.id() == id).unwrap();
        slot.orchestrator()
            .store()
            .get_cohort(id)
            .unwrap()
            .unwrap()
            .current_capital
    };
    assert_eq!(world.cohorts.debit(id, free, now).unwrap(), capital - free);
    let (_, after, recorded) = slot(&world, "aggressive");
    assert_eq!(after.free(&usdt), Decimal::ZERO);
    assert_eq!(
        after.reserved(&usdt),
        reserved,
        "open orders keep their cash"
    );
    assert_eq!(recorded, capital - free);
    assert_eq!(stored(&world), capital - free);

    assert_eq!(
        world.cohorts.credit(id, dec!(250), now).unwrap(),
        capital - free + dec!(250)
    );
    assert_eq!(slot(&world, "aggressive").1.free(&usdt), dec!(250));
    assert_eq!(stored(&world), capital - free + dec!(250));
    assert!(world.cohorts.credit(id, dec!(-1), now).is_err());
    assert!(world
        .cohorts
        .credit(CohortId::new(999), dec!(1), now)
        .is_err());
    // The other cohorts are untouched.
    let (_, conservative, c) = slot(&world, "conservative");
    assert_eq!(c, dec!(1000));
    assert!(conservative.total(&usdt) > Decimal::ZERO);
}
