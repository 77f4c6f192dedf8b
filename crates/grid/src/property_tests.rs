//! Property tests: for any sequence of prices, fills (whole or partial), failed placements,
//! closed orders and timers, the grid doctor finds nothing and the books reconcile with the
//! fills and fees that went in.

use hybrid_core::{
    ClientOrderId, CohortId, Fill, Notional, Order, OrderKind, OrderStatus, Price, Quantity, Side,
    Symbol, SymbolFilters, Timestamp,
};
use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::{GridBot, GridConfig, GridIntent, GridParams, LiveOrder, Spacing};

#[derive(Debug, Clone)]
enum Step {
    /// Move the price by this many basis points, then fill what it crossed.
    Price(i32),
    /// Fill this many percent of the oldest live order.
    Partial(u8),
    /// The placement of live order number `n % len` failed.
    Fail(usize),
    /// The exchange closed live order number `n % len`.
    Close(usize),
    /// Time passes, in minutes.
    Timer(i64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (-250i32..250).prop_map(Step::Price),
        1 => (1u8..100).prop_map(Step::Partial),
        1 => any::<usize>().prop_map(Step::Fail),
        1 => any::<usize>().prop_map(Step::Close),
        1 => (1i64..120).prop_map(Step::Timer),
    ]
}

fn filters() -> SymbolFilters {
    let mut f =
        SymbolFilters::with_steps(Symbol::new("BTCUSDT").unwrap(), dec!(0.01), dec!(0.00001));
    f.min_notional = dec!(5);
    f
}

/// What the test itself booked, to compare with the bot's ledger.
#[derive(Default)]
struct Books {
    cash: Decimal,
    inventory: Decimal,
    trade_id: i64,
}

struct World {
    bot: GridBot,
    books: Books,
    price: Decimal,
    now: i64,
}

impl World {
    fn fill(&mut self, id: &ClientOrderId, qty: Decimal) {
        let order = self.bot.live_orders()[id].clone();
        let value = order.price.value() * qty;
        let (commission, asset) = match order.side {
            Side::Buy => (qty * dec!(0.001), Symbol::new("BTCUSDT").unwrap().base()),
            Side::Sell => (value * dec!(0.001), Symbol::new("BTCUSDT").unwrap().quote()),
        };
        match order.side {
            Side::Buy => {
                self.books.cash -= value;
                self.books.inventory += qty - commission;
            }
            Side::Sell => {
                self.books.cash += value - commission;
                self.books.inventory -= qty;
            }
        }
        self.books.trade_id += 1;
        let fill = Fill {
            client_order_id: id.clone(),
            exchange_order_id: 1,
            trade_id: self.books.trade_id,
            symbol: Symbol::new("BTCUSDT").unwrap(),
            side: order.side,
            price: order.price,
            quantity: Quantity::new(qty).unwrap(),
            commission,
            commission_asset: asset,
            is_maker: true,
            time: Timestamp::from_millis(self.now),
        };
        let out = self.bot.on_fill(&fill, Timestamp::from_millis(self.now));
        assert_healthy(&self.bot, &out);
    }

    fn apply(&mut self, step: &Step) {
        let now = Timestamp::from_millis(self.now);
        let ids: Vec<ClientOrderId> = self.bot.live_orders().keys().cloned().collect();
        match *step {
            Step::Price(bp) => {
                self.price =
                    (self.price * (Decimal::ONE + Decimal::from(bp) / dec!(10000))).round_dp(2);
                let out = self.bot.on_price(Price::new(self.price).unwrap(), now);
                assert_healthy(&self.bot, &out);
                self.cross();
            }
            Step::Partial(pct) => {
                if let Some(id) = ids.first() {
                    let order = &self.bot.live_orders()[id];
                    let rest = order.quantity.value() - order.filled;
                    let qty = (rest * Decimal::from(pct) / dec!(100)).round_dp(5);
                    if qty > Decimal::ZERO {
                        self.fill(id, qty);
                    }
                }
            }
            Step::Fail(n) | Step::Close(n) if !ids.is_empty() => {
                let id = &ids[n % ids.len()];
                let out = if matches!(step, Step::Fail(_))
                    && self.bot.live_orders()[id].filled.is_zero()
                {
                    self.bot.on_order_failed(id, "timeout", now)
                } else {
                    self.bot.on_order_closed(id, now)
                };
                assert_healthy(&self.bot, &out);
            }
            Step::Fail(_) | Step::Close(_) => {}
            Step::Timer(minutes) => {
                self.now += minutes * Timestamp::MINUTE_MS;
                let out = self.bot.on_timer(Timestamp::from_millis(self.now));
                assert_healthy(&self.bot, &out);
            }
        }
        self.now += Timestamp::MINUTE_MS;
    }

    /// Fills every live order the current price crossed, in full.
    fn cross(&mut self) {
        let crossed: Vec<(ClientOrderId, Decimal)> = self
            .bot
            .live_orders()
            .iter()
            .filter(|(_, o)| match o.side {
                Side::Buy => self.price <= o.price.value(),
                Side::Sell => self.price >= o.price.value(),
            })
            .map(|(id, o)| (id.clone(), o.quantity.value() - o.filled))
            .collect();
        for (id, qty) in crossed {
            if self.bot.live_orders().contains_key(&id) {
                self.fill(&id, qty);
            }
        }
    }
}

fn exchange_order(id: &ClientOrderId, live: &LiveOrder) -> Order {
    Order {
        client_order_id: id.clone(),
        exchange_order_id: None,
        cohort: CohortId::new(1),
        symbol: Symbol::new("BTCUSDT").unwrap(),
        side: live.side,
        kind: OrderKind::Limit,
        time_in_force: None,
        price: Some(live.price),
        quantity: live.quantity,
        filled_quantity: Quantity::ZERO,
        filled_quote: Notional::ZERO,
        status: OrderStatus::New,
        created_at: Timestamp::from_millis(0),
        updated_at: Timestamp::from_millis(0),
    }
}

fn assert_healthy(bot: &GridBot, out: &[GridIntent]) {
    let breaches = bot.check_invariants();
    assert!(breaches.is_empty(), "{breaches:?}");
    assert!(
        !out.iter()
            .any(|i| matches!(i, GridIntent::Halt { reason } if reason.contains("doctor"))),
        "{out:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn prop_invariants_hold_and_books_reconcile(
        num_grids in 3u32..12,
        geometric in any::<bool>(),
        base_milli in 0u32..20,
        start_bp in 0i32..10000,
        steps in prop::collection::vec(step(), 1..80),
    ) {
        let mut params = GridParams::new(dec!(40000), dec!(50000), num_grids, dec!(1000));
        params.spacing = if geometric { Spacing::Geometric } else { Spacing::Arithmetic };
        params.initial_base = Decimal::from(base_milli) / dec!(1000);
        params.circuit_breaker_pct = dec!(100);
        let config = GridConfig::new(params.clone(), filters()).unwrap();
        let price = dec!(40000) + Decimal::from(start_bp);
        let mut world = World {
            bot: GridBot::new(config, CohortId::new(1), 1, Timestamp::from_millis(0)),
            books: Books { cash: params.investment, inventory: params.initial_base, trade_id: 0 },
            price,
            now: 0,
        };
        let out = world.bot.on_price(Price::new(price).unwrap(), Timestamp::from_millis(0));
        assert_healthy(&world.bot, &out);
        for step in &steps {
            world.apply(step);
            prop_assert_eq!(world.bot.ledger().cash, world.books.cash);
            prop_assert_eq!(world.bot.ledger().inventory, world.books.inventory);
            prop_assert!(world.bot.ledger().cash >= Decimal::ZERO);
            prop_assert!(world.bot.ledger().inventory >= Decimal::ZERO);
        }
    }

    #[test]
    fn prop_restore_adopts_every_open_order(
        num_grids in 3u32..12,
        start_bp in 0i32..10000,
        steps in prop::collection::vec(step(), 1..60),
    ) {
        let mut params = GridParams::new(dec!(40000), dec!(50000), num_grids, dec!(1000));
        params.circuit_breaker_pct = dec!(100);
        let config = GridConfig::new(params.clone(), filters()).unwrap();
        let price = dec!(40000) + Decimal::from(start_bp);
        let mut world = World {
            bot: GridBot::new(config, CohortId::new(1), 1, Timestamp::from_millis(0)),
            books: Books { cash: params.investment, inventory: Decimal::ZERO, trade_id: 0 },
            price,
            now: 0,
        };
        world.bot.on_price(Price::new(price).unwrap(), Timestamp::from_millis(0));
        for step in steps.iter().filter(|s| matches!(s, Step::Price(_) | Step::Timer(_))) {
            world.apply(step);
        }
        // The exchange reports the open orders; the books before them are cash and inventory.
        let open: Vec<Order> = world.bot.live_orders().iter().map(|(id, o)| exchange_order(id, o)).collect();
        let mut params = world.bot.config().params().clone();
        params.investment = world.bot.ledger().cash;
        params.initial_base = world.bot.ledger().inventory;
        let config = GridConfig::new(params, filters()).unwrap();
        let (restored, out) = GridBot::restore(config, CohortId::new(1), 1, None, &open, Timestamp::from_millis(world.now));
        assert_healthy(&restored, &out);
        let cancels = out.iter().filter(|i| matches!(i, GridIntent::Cancel { .. })).count();
        prop_assert_eq!(cancels, 0);
        let before: Vec<_> = world.bot.live_orders().iter().map(|(id, o)| (id, o.level, o.side, o.price)).collect();
        let after: Vec<_> = restored.live_orders().iter().map(|(id, o)| (id, o.level, o.side, o.price)).collect();
        prop_assert_eq!(before, after);
    }

    #[test]
    fn prop_config_never_panics(
        lower in (1i64..i64::MAX, 0u32..28),
        upper in (1i64..i64::MAX, 0u32..28),
        investment in (1i64..i64::MAX, 0u32..28),
        num_grids in 0u32..600,
        geometric in any::<bool>(),
    ) {
        let d = |(m, e): (i64, u32)| Decimal::new(m, e);
        let mut params = GridParams::new(d(lower), d(upper), num_grids, d(investment));
        params.spacing = if geometric { Spacing::Geometric } else { Spacing::Arithmetic };
        if let Ok(config) = GridConfig::new(params, filters()) {
            prop_assert!(config.levels().len() >= 2);
        }
    }

    #[test]
    fn prop_levels_ascend_and_pass_the_filters(
        lower in 1_000u32..60_000,
        width_pct in 3u32..60,
        num_grids in 2u32..30,
        geometric in any::<bool>(),
    ) {
        let lower = Decimal::from(lower);
        let upper = lower * (Decimal::ONE + Decimal::from(width_pct) / dec!(100));
        let mut params = GridParams::new(lower, upper, num_grids, dec!(1000));
        params.spacing = if geometric { Spacing::Geometric } else { Spacing::Arithmetic };
        let Ok(config) = GridConfig::new(params, filters()) else { return Ok(()); };
        let per_level = config.per_level_budget();
        for (i, level) in config.levels().iter().enumerate() {
            prop_assert_eq!(level.index, i);
            prop_assert!(config.filters().check(Side::Buy, level.price, level.quantity).is_ok());
            prop_assert!(level.price.value() * level.quantity.value() <= per_level);
        }
        for pair in config.levels().windows(2) {
            prop_assert!(pair[0].price < pair[1].price);
        }
        prop_assert!(config.narrowest_step() > config.min_profitable_step());
    }
}
