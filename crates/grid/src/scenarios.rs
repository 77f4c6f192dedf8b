//! The §11 grid scenarios of `spec/trading-core.md`, one test per scenario number.
//!
//! Deliberate changes from the original (the spec lists them as its bugs or gaps):
//! - 20: the narrow 42000–42100 grid still builds its 6 levels, but [`GridConfig::new`]
//!   refuses it as unprofitable (0.05 % steps against a 0.3 % minimum).
//! - 21: initial sells need inventory; with none, no sells are placed (the original returned
//!   them as targets only). The top level never gets a buy: it has nowhere to sell.
//! - 28: a price of 0 cannot be expressed ([`Price`] is > 0); min notional 999 999 is
//!   refused at configuration time (too few levels) instead of placing nothing.
//! - 29: a price of 0 cannot reach the breaker for the same reason.
//! - 34 and 37: an order cancelled after a partial fill gets its follow-up for what filled
//!   (when that meets the minimums; otherwise it waits as dust), instead of none.
//! - 35: failure `k` waits `[2, 5, 15, 30, 60][k − 1]` minutes and the 5th retry happens;
//!   the original abandoned after the 4th.
//! - 36: a restart where every saved order filled does not lay a fresh grid over the
//!   follow-ups (the original's bug).
//!
//! Not here: 27, 31, 32 (risk gate and ticks: `hybrid-risk` and the engine), 41 and the
//! asymmetric grid (unused by the live path), 44 (the kline cache is engine I/O).

use hybrid_core::{
    Asset, Candle, ClientOrderId, CohortId, Fill, Order, OrderKind, OrderStatus, Price, Quantity,
    Side, Symbol, SymbolFilters, Timestamp,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::{
    dynamic::{self, VolatilityClass},
    levels::nearest_level,
    BotState, GridBot, GridConfig, GridError, GridFingerprint, GridIntent, GridParams, Severity,
};

const COHORT: CohortId = CohortId::new(1);

fn filters(symbol: &str) -> SymbolFilters {
    let mut f = SymbolFilters::with_steps(Symbol::new(symbol).unwrap(), dec!(0.01), dec!(0.00001));
    f.min_notional = dec!(5);
    f
}

fn config(lower: Decimal, upper: Decimal, n: u32, investment: Decimal) -> GridConfig {
    GridConfig::new(
        GridParams::new(lower, upper, n, investment),
        filters("BTCUSDT"),
    )
    .unwrap()
}

fn with_base(
    lower: Decimal,
    upper: Decimal,
    n: u32,
    investment: Decimal,
    base: Decimal,
) -> GridConfig {
    let mut params = GridParams::new(lower, upper, n, investment);
    params.initial_base = base;
    GridConfig::new(params, filters("BTCUSDT")).unwrap()
}

fn t(minutes: i64) -> Timestamp {
    Timestamp::from_millis(minutes * Timestamp::MINUTE_MS)
}

fn p(v: Decimal) -> Price {
    Price::new(v).unwrap()
}

fn places(intents: &[GridIntent]) -> Vec<(ClientOrderId, Side, Decimal, Decimal)> {
    intents
        .iter()
        .filter_map(|i| match i {
            GridIntent::Place {
                client_order_id,
                order,
                ..
            } => Some((
                client_order_id.clone(),
                order.side(),
                order.price().value(),
                order.quantity().value(),
            )),
            _ => None,
        })
        .collect()
}

fn cancels(intents: &[GridIntent]) -> usize {
    intents
        .iter()
        .filter(|i| matches!(i, GridIntent::Cancel { .. }))
        .count()
}

fn halted(intents: &[GridIntent]) -> bool {
    intents.iter().any(|i| matches!(i, GridIntent::Halt { .. }))
}

/// A full fill of `qty` with the fee charged in the asset received (0.1 %).
fn fill(id: &ClientOrderId, side: Side, price: Decimal, qty: Decimal, trade_id: i64) -> Fill {
    let symbol = Symbol::new("BTCUSDT").unwrap();
    let (commission, commission_asset) = match side {
        Side::Buy => (qty * dec!(0.001), symbol.base()),
        Side::Sell => (qty * price * dec!(0.001), symbol.quote()),
    };
    Fill {
        client_order_id: id.clone(),
        exchange_order_id: 1,
        trade_id,
        symbol,
        side,
        price: p(price),
        quantity: Quantity::new(qty).unwrap(),
        commission,
        commission_asset,
        is_maker: true,
        time: t(0),
    }
}

fn order(
    symbol: &str,
    seq: u64,
    side: Side,
    price: Decimal,
    qty: Decimal,
    filled: Decimal,
    status: OrderStatus,
) -> Order {
    let symbol = Symbol::new(symbol).unwrap();
    Order {
        client_order_id: ClientOrderId::new(COHORT, &symbol, seq).unwrap(),
        exchange_order_id: Some(i64::try_from(seq).unwrap()),
        cohort: COHORT,
        symbol,
        side,
        kind: OrderKind::Limit,
        time_in_force: None,
        price: Some(p(price)),
        quantity: Quantity::new(qty).unwrap(),
        filled_quantity: Quantity::new(filled).unwrap(),
        filled_quote: hybrid_core::Notional::new(filled * price),
        status,
        created_at: t(0),
        updated_at: t(0),
    }
}

/// Places the grid at `price` and returns the bot and the placed orders.
fn seeded(
    cfg: GridConfig,
    price: Decimal,
) -> (GridBot, Vec<(ClientOrderId, Side, Decimal, Decimal)>) {
    let mut bot = GridBot::new(cfg, COHORT, 1, t(0));
    let placed = places(&bot.on_price(p(price), t(0)));
    (bot, placed)
}

#[test]
fn scenario_11_17_levels_are_exact_and_evenly_spaced() {
    let cfg = config(dec!(40000), dec!(50000), 5, dec!(100));
    let prices: Vec<Decimal> = cfg.levels().iter().map(|l| l.price.value()).collect();
    let qtys: Vec<Decimal> = cfg.levels().iter().map(|l| l.quantity.value()).collect();
    assert_eq!(
        prices,
        vec![
            dec!(40000),
            dec!(42000),
            dec!(44000),
            dec!(46000),
            dec!(48000),
            dec!(50000)
        ]
    );
    assert_eq!(
        qtys,
        vec![
            dec!(0.0005),
            dec!(0.00047),
            dec!(0.00045),
            dec!(0.00043),
            dec!(0.00041),
            dec!(0.0004)
        ]
    );
    for level in cfg.levels() {
        let ideal = dec!(20) / level.price.value();
        assert!(level.quantity.value() <= ideal && ideal - level.quantity.value() < dec!(0.00001));
    }
    assert!(cfg.dropped().is_empty());
}

#[test]
fn scenario_11_18_min_notional_500_drops_every_level() {
    let mut f = filters("BTCUSDT");
    f.min_notional = dec!(500);
    let err =
        GridConfig::new(GridParams::new(dec!(40000), dec!(50000), 5, dec!(100)), f).unwrap_err();
    assert_eq!(
        err,
        GridError::TooFewLevels {
            kept: 0,
            dropped: 6
        }
    );
}

#[test]
fn scenario_11_19_step_0_001_rounds_every_quantity_to_zero() {
    let f = SymbolFilters::with_steps(Symbol::new("BTCUSDT").unwrap(), dec!(0.01), dec!(0.001));
    let err =
        GridConfig::new(GridParams::new(dec!(40000), dec!(50000), 5, dec!(100)), f).unwrap_err();
    assert!(matches!(
        err,
        GridError::TooFewLevels {
            kept: 0,
            dropped: 6
        }
    ));
}

#[test]
fn scenario_11_20_level_counts_and_plain_numbers() {
    assert_eq!(
        config(dec!(40000), dec!(50000), 2, dec!(100))
            .levels()
            .len(),
        3
    );
    let narrow = GridConfig::levels_only(
        GridParams::new(dec!(42000), dec!(42100), 5, dec!(100)),
        filters("BTCUSDT"),
    )
    .unwrap();
    assert_eq!(narrow.levels().len(), 6);
    assert!(narrow
        .levels()
        .windows(2)
        .all(|w| w[1].price.value() - w[0].price.value() < dec!(30)));
    // Changed: the narrow grid is refused at configuration time, naming the minimum spacing.
    let err = GridConfig::new(
        GridParams::new(dec!(42000), dec!(42100), 5, dec!(100)),
        filters("BTCUSDT"),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("minimum profitable spacing is 0.3%"),
        "{err}"
    );
    let btc = config(dec!(90000), dec!(110000), 5, dec!(1000));
    let shib_filters =
        SymbolFilters::with_steps(Symbol::new("SHIBUSDT").unwrap(), dec!(0.00000001), dec!(1));
    let shib = GridConfig::new(
        GridParams::new(dec!(0.00001), dec!(0.00002), 5, dec!(100)),
        shib_filters,
    )
    .unwrap();
    for level in btc.levels().iter().chain(shib.levels()) {
        let text = format!("{} {}", level.price, level.quantity);
        assert!(!text.contains('e') && !text.contains('E'), "{text}");
    }
}

#[test]
fn scenario_11_21_initial_orders_buy_below_and_sell_above_against_inventory() {
    let cfg = with_base(dec!(40000), dec!(50000), 5, dec!(100), dec!(0.01));
    let (_, at_45k) = seeded(cfg.clone(), dec!(45000));
    assert!(at_45k
        .iter()
        .filter(|o| o.1 == Side::Buy)
        .all(|o| o.2 < dec!(45000)));
    assert!(at_45k
        .iter()
        .filter(|o| o.1 == Side::Sell)
        .all(|o| o.2 > dec!(45000)));
    assert_eq!(at_45k.iter().filter(|o| o.1 == Side::Buy).count(), 3);
    assert_eq!(at_45k.iter().filter(|o| o.1 == Side::Sell).count(), 3);
    let (_, at_35k) = seeded(cfg.clone(), dec!(35000));
    assert_eq!(at_35k.iter().filter(|o| o.1 == Side::Buy).count(), 0);
    assert!(at_35k.iter().filter(|o| o.1 == Side::Sell).count() > 0);
    let (_, at_55k) = seeded(cfg, dec!(55000));
    assert_eq!(
        at_55k.iter().filter(|o| o.1 == Side::Buy).count(),
        5,
        "top level gets no buy"
    );
    assert_eq!(at_55k.iter().filter(|o| o.1 == Side::Sell).count(), 0);
    // Without inventory there are no sells at all.
    let (_, bare) = seeded(config(dec!(40000), dec!(50000), 5, dec!(100)), dec!(45000));
    assert!(bare.iter().all(|o| o.1 == Side::Buy));
}

#[test]
fn scenario_11_22_buy_fill_places_sell_one_level_up_net_of_base_fee() {
    let (mut bot, placed) = seeded(config(dec!(40000), dec!(50000), 5, dec!(100)), dec!(41000));
    assert_eq!(placed.len(), 1);
    let (id, _, price, qty) = placed[0].clone();
    assert_eq!((price, qty), (dec!(40000), dec!(0.0005)));
    let out = places(&bot.on_fill(&fill(&id, Side::Buy, price, qty, 1), t(1)));
    assert_eq!(out.len(), 1);
    let (_, side, sell_price, sell_qty) = out[0].clone();
    assert_eq!(
        (side, sell_price, sell_qty),
        (Side::Sell, dec!(42000), dec!(0.00049))
    );
    assert!(sell_qty >= dec!(0.0005) * dec!(0.999) - dec!(0.00001));
    assert_eq!(qty - sell_qty, dec!(0.00001));
}

#[test]
fn scenario_11_23_sell_fill_places_buy_one_level_down_with_full_quantity() {
    let (mut bot, placed) = seeded(config(dec!(40000), dec!(50000), 5, dec!(100)), dec!(41000));
    let (id, _, price, qty) = placed[0].clone();
    let sell = places(&bot.on_fill(&fill(&id, Side::Buy, price, qty, 1), t(1)));
    let (sell_id, _, sell_price, sell_qty) = sell[0].clone();
    let buy = places(&bot.on_fill(&fill(&sell_id, Side::Sell, sell_price, sell_qty, 2), t(2)));
    assert_eq!(buy.len(), 1);
    assert_eq!(
        (buy[0].1, buy[0].2, buy[0].3),
        (Side::Buy, dec!(40000), dec!(0.0005))
    );
    assert!(bot.check_invariants().is_empty());
}

#[test]
fn scenario_11_24_fee_rate_controls_the_sell_quantity() {
    assert_eq!(
        GridParams::new(dec!(1), dec!(2), 2, dec!(1)).fee_rate,
        dec!(0.001)
    );
    for (fee, check) in [(dec!(0.00075), true), (dec!(0), false)] {
        let (mut bot, placed) = seeded(config(dec!(40000), dec!(50000), 5, dec!(100)), dec!(41000));
        let (id, _, price, qty) = placed[0].clone();
        let mut f = fill(&id, Side::Buy, price, qty, 1);
        f.commission = qty * fee;
        let sell = places(&bot.on_fill(&f, t(1)));
        if check {
            assert!(sell[0].3 <= qty * (Decimal::ONE - fee));
        } else {
            assert_eq!(sell[0].3, qty);
        }
    }
}

#[test]
fn scenario_11_25_unmatched_and_edge_fills_give_no_follow_up() {
    let cfg = with_base(dec!(40000), dec!(50000), 5, dec!(100), dec!(0.001));
    assert_eq!(nearest_level(cfg.levels(), dec!(99999), dec!(0.001)), None);
    let top_buy = order(
        "BTCUSDT",
        7,
        Side::Buy,
        dec!(50000),
        dec!(0.0004),
        dec!(0.0004),
        OrderStatus::Filled,
    );
    let bottom_sell = order(
        "BTCUSDT",
        8,
        Side::Sell,
        dec!(40000),
        dec!(0.0005),
        dec!(0.0005),
        OrderStatus::Filled,
    );
    let (bot, out) = GridBot::restore(cfg, COHORT, 1, None, &[top_buy, bottom_sell], t(0));
    assert!(places(&out).is_empty(), "{out:?}");
    assert_eq!(bot.pending_follow_ups(), 0);
    assert!(bot.check_invariants().is_empty());
}

#[test]
fn scenario_11_26_gridbot_follow_ups_and_tracking() {
    let cfg = config(dec!(47500), dec!(52500), 4, dec!(100));
    let prices: Vec<Decimal> = cfg.levels().iter().map(|l| l.price.value()).collect();
    assert_eq!(
        prices,
        vec![
            dec!(47500),
            dec!(48750),
            dec!(50000),
            dec!(51250),
            dec!(52500)
        ]
    );
    let (mut bot, placed) = seeded(cfg, dec!(49000));
    let (id, _, price, qty) = placed.iter().find(|o| o.2 == dec!(48750)).unwrap().clone();
    let sell = places(&bot.on_fill(&fill(&id, Side::Buy, price, qty, 1), t(1)));
    assert_eq!(sell.len(), 1);
    assert_eq!((sell[0].1, sell[0].2), (Side::Sell, dec!(50000)));
    assert_eq!(bot.live_orders()[&sell[0].0].side, Side::Sell);
    assert!(!bot.live_orders().contains_key(&id));
    let buy = places(&bot.on_fill(
        &fill(&sell[0].0, Side::Sell, dec!(50000), sell[0].3, 2),
        t(2),
    ));
    assert_eq!(buy.len(), 1);
    assert_eq!((buy[0].1, buy[0].2), (Side::Buy, dec!(48750)));
}

#[test]
fn scenario_11_28_unplaceable_grids_are_refused_up_front() {
    let mut f = filters("BTCUSDT");
    f.min_notional = dec!(999999);
    let err =
        GridConfig::new(GridParams::new(dec!(47500), dec!(52500), 4, dec!(100)), f).unwrap_err();
    assert!(matches!(err, GridError::TooFewLevels { kept: 0, .. }));
    assert!(Price::new(Decimal::ZERO).is_err());
    let (_, placed) = seeded(config(dec!(47500), dec!(52500), 4, dec!(100)), dec!(50000));
    assert!(!placed.is_empty());
}

#[test]
fn scenario_11_29_circuit_breaker() {
    let cfg = config(dec!(30000), dec!(60000), 10, dec!(1000));
    let run = |prices: &[Decimal]| -> (bool, BotState) {
        let mut bot = GridBot::new(cfg.clone(), COHORT, 1, t(0));
        let mut fired = false;
        for &price in prices {
            fired = halted(&bot.on_price(p(price), t(0)));
        }
        (fired, bot.state())
    };
    assert_eq!(run(&[dec!(50000)]), (false, BotState::Running));
    assert_eq!(run(&[dec!(50000), dec!(48000)]), (false, BotState::Running));
    assert_eq!(run(&[dec!(50000), dec!(44000)]), (true, BotState::Halted));
    assert_eq!(run(&[dec!(50000), dec!(45000)]), (true, BotState::Halted));
    assert_eq!(run(&[dec!(50000), dec!(55000)]), (false, BotState::Running));
    assert_eq!(
        run(&[dec!(50000), dec!(48000), dec!(42000)]),
        (true, BotState::Halted)
    );
    // 55000 was stored: a fall to 49000 is -10.9 % from it.
    assert_eq!(
        run(&[dec!(50000), dec!(55000), dec!(49000)]),
        (true, BotState::Halted)
    );
}

#[test]
fn scenario_11_29_breaker_cancels_live_orders_and_resume_reseeds() {
    let (mut bot, placed) = seeded(
        config(dec!(30000), dec!(60000), 10, dec!(1000)),
        dec!(50000),
    );
    let out = bot.on_price(p(dec!(44000)), t(1));
    assert_eq!(cancels(&out), placed.len());
    assert!(bot.live_orders().is_empty());
    assert!(
        bot.on_price(p(dec!(30000)), t(2)).is_empty(),
        "halted grid ignores prices"
    );
    bot.resume(t(3));
    assert!(!halted(&bot.on_price(p(dec!(40000)), t(4))));
}

#[test]
fn scenario_11_30_breaker_is_seeded_by_the_first_price() {
    let mut bot = GridBot::new(
        config(dec!(30000), dec!(60000), 10, dec!(1000)),
        COHORT,
        1,
        t(0),
    );
    assert!(!halted(&bot.on_price(p(dec!(50000)), t(0))));
    assert!(halted(&bot.on_price(p(dec!(44000)), t(1))));
}

#[test]
fn scenario_11_33_partial_fill_accumulates_without_follow_up() {
    let (mut bot, placed) = seeded(config(dec!(40000), dec!(50000), 5, dec!(100)), dec!(41000));
    let (id, _, price, _) = placed[0].clone();
    let out = bot.on_fill(&fill(&id, Side::Buy, price, dec!(0.0002), 1), t(1));
    assert!(places(&out).is_empty());
    assert_eq!(bot.live_orders()[&id].filled, dec!(0.0002));
    let out = bot.on_fill(&fill(&id, Side::Buy, price, dec!(0.0003), 2), t(2));
    let sell = places(&out);
    assert_eq!(sell.len(), 1, "complete after the second part");
    assert_eq!(sell[0].3, dec!(0.00049));
}

#[test]
fn scenario_11_34_cancelled_orders_with_and_without_fills() {
    let (mut bot, placed) = seeded(config(dec!(40000), dec!(50000), 5, dec!(100)), dec!(43000));
    let (other, ..) = placed.iter().find(|o| o.2 == dec!(42000)).unwrap().clone();
    let out = bot.on_order_closed(&other, t(1));
    assert!(
        places(&out).is_empty(),
        "nothing filled: removed, nothing placed"
    );
    assert!(!bot.live_orders().contains_key(&other));
    let (id, _, price, _) = placed.iter().find(|o| o.2 == dec!(40000)).unwrap().clone();
    bot.on_fill(&fill(&id, Side::Buy, price, dec!(0.0003), 1), t(2));
    // Changed: the filled part gets its follow-up once the order is closed.
    let out = places(&bot.on_order_closed(&id, t(3)));
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].1, out[0].2, out[0].3),
        (Side::Sell, dec!(42000), dec!(0.00029))
    );
    assert!(!bot.live_orders().contains_key(&id));
}

#[test]
fn scenario_11_34_partial_below_minimum_waits_as_dust() {
    let (mut bot, placed) = seeded(config(dec!(40000), dec!(50000), 5, dec!(100)), dec!(41000));
    let (id, _, price, _) = placed[0].clone();
    bot.on_fill(&fill(&id, Side::Buy, price, dec!(0.0001), 1), t(1));
    assert!(
        places(&bot.on_order_closed(&id, t(2))).is_empty(),
        "4.2 USDT < min notional 5"
    );
    assert!(bot.check_invariants().is_empty());
}

#[test]
fn scenario_11_35_failed_follow_up_retries_five_times_then_alerts() {
    let (mut bot, placed) = seeded(config(dec!(40000), dec!(50000), 5, dec!(100)), dec!(41000));
    let (id, _, price, qty) = placed[0].clone();
    let mut current = places(&bot.on_fill(&fill(&id, Side::Buy, price, qty, 1), t(0)))[0]
        .0
        .clone();
    let mut now = 0;
    for (retry, wait) in [2, 5, 15, 30, 60].into_iter().enumerate() {
        let out = bot.on_order_failed(&current, "timeout", t(now));
        assert!(out.iter().any(|i| matches!(
            i,
            GridIntent::Alert {
                severity: Severity::Warning,
                ..
            }
        )));
        assert!(
            places(&bot.on_timer(t(now + wait - 1))).is_empty(),
            "retry {} too early",
            retry + 1
        );
        now += wait;
        let again = places(&bot.on_timer(t(now)));
        assert_eq!(again.len(), 1, "retry {} at +{now} min", retry + 1);
        current = again[0].0.clone();
    }
    assert_eq!(now, 112, "retries at +2, +7, +22, +52 and +112 minutes");
    let out = bot.on_order_failed(&current, "timeout", t(now));
    assert!(out.iter().any(|i| matches!(i, GridIntent::Alert { severity: Severity::Critical, message } if message.contains("abandoned"))));
    assert_eq!(bot.pending_follow_ups(), 0);
    assert!(places(&bot.on_timer(t(now + 1000))).is_empty());
}

#[test]
fn scenario_11_36_downtime_fill_queues_and_places_the_follow_up() {
    let cfg = config(dec!(47500), dec!(52500), 4, dec!(200));
    let saved = order(
        "BTCUSDT",
        3001,
        Side::Buy,
        dec!(50000),
        dec!(0.001),
        dec!(0.001),
        OrderStatus::Filled,
    );
    let (mut bot, out) = GridBot::restore(cfg, COHORT, 1, None, std::slice::from_ref(&saved), t(0));
    let placed = places(&out);
    assert_eq!(placed.len(), 1);
    assert_eq!(
        (placed[0].1, placed[0].2, placed[0].3),
        (Side::Sell, dec!(51250), dec!(0.00099))
    );
    assert!(!bot.live_orders().contains_key(&saved.client_order_id));
    assert!(out.iter().any(
        |i| matches!(i, GridIntent::Alert { message, .. } if message.contains("downtime fill"))
    ));
    // Fixed bug: the next price lays no fresh grid over the restored one.
    assert!(places(&bot.on_price(p(dec!(50500)), t(1))).is_empty());
    assert!(
        placed[0].0.decode().unwrap().2 > 3001,
        "sequence continues after the restored ids"
    );
}

#[test]
fn scenario_11_37_restart_with_new_cancelled_and_mixed_orders() {
    let cfg = config(dec!(47500), dec!(52500), 4, dec!(200));
    let partial = order(
        "BTCUSDT",
        1,
        Side::Buy,
        dec!(48750),
        dec!(0.001),
        dec!(0.0005),
        OrderStatus::Canceled,
    );
    let (bot, out) = GridBot::restore(cfg.clone(), COHORT, 1, None, &[partial], t(0));
    assert_eq!(
        places(&out).len(),
        1,
        "changed: the cancelled partial gets its follow-up"
    );
    assert_eq!(bot.live_orders().len(), 1);
    assert!(bot.live_orders().values().all(|o| o.side == Side::Sell));
    let new = order(
        "BTCUSDT",
        2,
        Side::Buy,
        dec!(48750),
        dec!(0.001),
        dec!(0),
        OrderStatus::New,
    );
    let (bot, _) = GridBot::restore(
        cfg.clone(),
        COHORT,
        1,
        None,
        std::slice::from_ref(&new),
        t(0),
    );
    assert!(bot.live_orders().contains_key(&new.client_order_id));
    let filled = order(
        "BTCUSDT",
        3,
        Side::Buy,
        dec!(47500),
        dec!(0.001),
        dec!(0.001),
        OrderStatus::Filled,
    );
    let empty = order(
        "BTCUSDT",
        4,
        Side::Buy,
        dec!(50000),
        dec!(0.001),
        dec!(0),
        OrderStatus::Canceled,
    );
    let (bot, out) = GridBot::restore(cfg, COHORT, 1, None, &[filled, new.clone(), empty], t(0));
    // The follow-up of the filled 47500 buy targets 48750, which the NEW order holds: queued.
    assert_eq!(bot.pending_follow_ups(), 1);
    assert!(places(&out).is_empty());
    assert_eq!(bot.live_orders().len(), 1);
    assert!(bot.live_orders().contains_key(&new.client_order_id));
}

#[test]
fn scenario_11_38_pending_follow_ups_after_restart() {
    let cfg = with_base(dec!(47500), dec!(52500), 4, dec!(200), dec!(0.002));
    let buy = order(
        "BTCUSDT",
        1,
        Side::Buy,
        dec!(48750),
        dec!(0.001),
        dec!(0.001),
        OrderStatus::Filled,
    );
    let (bot, out) = GridBot::restore(cfg.clone(), COHORT, 1, None, &[buy], t(0));
    let placed = places(&out);
    assert_eq!(
        (placed.len(), placed[0].1, placed[0].2),
        (1, Side::Sell, dec!(50000))
    );
    assert_eq!(bot.pending_follow_ups(), 0);
    let sell = order(
        "BTCUSDT",
        2,
        Side::Sell,
        dec!(50000),
        dec!(0.001),
        dec!(0.001),
        OrderStatus::Filled,
    );
    let (_, out) = GridBot::restore(cfg, COHORT, 1, None, &[sell], t(0));
    let placed = places(&out);
    assert_eq!(
        (placed.len(), placed[0].1, placed[0].2),
        (1, Side::Buy, dec!(48750))
    );
}

#[test]
fn scenario_11_39_changed_symbol_or_investment_cancels_orphans() {
    let cfg = config(dec!(47500), dec!(52500), 4, dec!(100));
    let previous_eth = GridFingerprint {
        symbol: Symbol::new("ETHUSDT").unwrap(),
        investment: dec!(100),
        lower: dec!(47500),
        upper: dec!(52500),
        num_grids: 4,
    };
    let eth = [
        order(
            "ETHUSDT",
            1,
            Side::Buy,
            dec!(3000),
            dec!(0.01),
            dec!(0),
            OrderStatus::New,
        ),
        order(
            "ETHUSDT",
            2,
            Side::Buy,
            dec!(2900),
            dec!(0.01),
            dec!(0),
            OrderStatus::New,
        ),
    ];
    let (bot, out) = GridBot::restore(cfg.clone(), COHORT, 1, Some(&previous_eth), &eth, t(0));
    assert_eq!(cancels(&out), 2);
    assert!(bot.live_orders().is_empty());
    let mut previous_200 = bot.fingerprint();
    previous_200.investment = dec!(200);
    let btc = [order(
        "BTCUSDT",
        3,
        Side::Buy,
        dec!(48750),
        dec!(0.001),
        dec!(0),
        OrderStatus::New,
    )];
    let (bot, out) = GridBot::restore(cfg.clone(), COHORT, 1, Some(&previous_200), &btc, t(0));
    assert_eq!(cancels(&out), 1);
    assert!(bot.live_orders().is_empty());
    // Unchanged fingerprint: the order is adopted; another cohort's orders are left alone.
    let same = bot.fingerprint();
    let (bot, out) = GridBot::restore(cfg, CohortId::new(2), 1, Some(&same), &btc, t(0));
    assert_eq!(cancels(&out), 0);
    assert!(bot.live_orders().is_empty());
}

fn candle(minute: i64, open: Decimal, high: Decimal, low: Decimal, close: Decimal) -> Candle {
    Candle::new(
        t(minute),
        p(open),
        p(high),
        p(low),
        p(close),
        Quantity::ZERO,
    )
    .unwrap()
}

fn candles_with_range(pct: Decimal, n: i64) -> Vec<Candle> {
    (0..n)
        .map(|i| {
            candle(
                i,
                dec!(100),
                dec!(100) + pct / dec!(2),
                dec!(100) - pct / dec!(2),
                dec!(100),
            )
        })
        .collect()
}

#[test]
fn scenario_11_40_volatility_class_and_grid_count() {
    let classes: Vec<VolatilityClass> = [dec!(0.01), dec!(0.03), dec!(0.05), dec!(0.08)]
        .into_iter()
        .map(VolatilityClass::from_atr_pct)
        .collect();
    assert_eq!(
        classes,
        vec![
            VolatilityClass::Low,
            VolatilityClass::Normal,
            VolatilityClass::High,
            VolatilityClass::Extreme
        ]
    );
    let counts: Vec<u32> = classes.iter().map(|c| c.grid_count()).collect();
    assert_eq!(counts, vec![7, 10, 12, 15]);
}

#[test]
fn scenario_11_42_recalculation_below_the_range() {
    let reason = dynamic::rebuild_reason(dec!(90), dec!(110), dec!(80)).unwrap();
    assert!(reason.contains("below"), "{reason}");
    assert_eq!(
        dynamic::rebuild_reason(dec!(90), dec!(110), dec!(100.5)),
        None
    );
}

#[test]
fn scenario_11_43_dynamic_range_bounds_and_fallback() {
    let normal = dynamic::dynamic_range(&candles_with_range(dec!(3), 40), dec!(5), 10, None);
    assert!(!normal.fallback && normal.range_pct >= dec!(1) && normal.range_pct <= dec!(15));
    assert_eq!(normal.class, Some(VolatilityClass::Normal));
    assert_eq!(normal.range_pct, dec!(5));
    let none = dynamic::dynamic_range(&[], dec!(7), 10, None);
    assert!(none.fallback);
    assert_eq!((none.range_pct, none.num_grids), (dec!(7), 10));
    let calm = dynamic::dynamic_range(&candles_with_range(dec!(0.1), 40), dec!(1), 10, None);
    assert!(calm.range_pct >= dec!(1));
    let wild = dynamic::dynamic_range(&candles_with_range(dec!(20), 40), dec!(15), 10, None);
    assert!(wild.range_pct <= dec!(15));
    assert_eq!(
        wild.range_pct,
        dec!(10),
        "the 0.10 spacing clamp caps the range at 10 %"
    );
    let data = candles_with_range(dec!(3), 40);
    let sideways = dynamic::dynamic_range(&data, dec!(5), 10, Some(hybrid_core::Regime::Sideways));
    let bear = dynamic::dynamic_range(&data, dec!(5), 10, Some(hybrid_core::Regime::Bear));
    assert!(sideways.range_pct <= bear.range_pct);
    assert_eq!((sideways.range_pct, bear.range_pct), (dec!(4.5), dec!(5.5)));
}

#[test]
fn scenario_11_45_rebuild_near_or_outside_the_edges() {
    assert!(dynamic::rebuild_reason(dec!(95), dec!(105), dec!(90)).is_some());
    assert!(dynamic::rebuild_reason(dec!(95), dec!(105), dec!(95.2)).is_some());
    assert!(dynamic::rebuild_reason(dec!(95), dec!(105), dec!(100)).is_none());
}

#[test]
fn scenario_11_45_bot_checks_the_edges_hourly_and_cancels_on_rebuild() {
    let (mut bot, placed) = seeded(config(dec!(40000), dec!(50000), 5, dec!(100)), dec!(42000));
    assert!(places(&bot.on_price(p(dec!(40100)), t(59))).is_empty());
    assert_eq!(
        bot.state(),
        BotState::Running,
        "not checked before 60 minutes"
    );
    let out = bot.on_price(p(dec!(40100)), t(60));
    assert!(out
        .iter()
        .any(|i| matches!(i, GridIntent::Rebuild { reason } if reason.contains("below"))));
    assert_eq!(cancels(&out), placed.len());
    assert_eq!(bot.state(), BotState::RebuildRequested);
}

#[test]
fn fee_awareness_reports_positive_net_profit_per_step() {
    let cfg = config(dec!(40000), dec!(50000), 5, dec!(100));
    let profits = cfg.expected_net_profit_per_step();
    assert_eq!(profits.len(), 5);
    assert!(
        profits.iter().all(|p| p.value() > Decimal::ZERO),
        "{profits:?}"
    );
    assert_eq!(cfg.min_profitable_step(), dec!(0.003));
}

#[test]
fn invalid_fields_are_named() {
    let err = GridConfig::new(
        GridParams::new(dec!(50), dec!(40), 5, dec!(100)),
        filters("BTCUSDT"),
    )
    .unwrap_err();
    assert!(matches!(
        err,
        GridError::InvalidField { field: "upper", .. }
    ));
    let err = GridConfig::new(
        GridParams::new(dec!(40), dec!(50), 1, dec!(100)),
        filters("BTCUSDT"),
    )
    .unwrap_err();
    assert!(matches!(
        err,
        GridError::InvalidField {
            field: "num_grids",
            ..
        }
    ));
    let _ = Asset::new("BTC").unwrap();
}
