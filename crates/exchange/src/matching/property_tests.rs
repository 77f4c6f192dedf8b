//! Property tests of the matching engine: random sequences of orders, cancels, ticks and candles
//! must keep the account sound whatever the configuration.

use std::collections::{HashMap, HashSet};

use hybrid_core::{Candle, OrderKind, Price, Quantity, Side, Timestamp};
use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::{
    candle_path,
    tests::{btcusdt, engine_with, request},
    MatchingConfig, MatchingEngine, PartialFillConfig,
};
use crate::exchange::OrderRef;

const INITIAL_QUOTE: Decimal = dec!(10000);
const INITIAL_BASE: Decimal = dec!(1);

#[derive(Debug, Clone)]
enum Op {
    Limit {
        side: Side,
        cents: i64,
        steps: i64,
        maker: bool,
    },
    Market {
        side: Side,
        steps: i64,
    },
    Cancel {
        pick: usize,
    },
    Tick {
        cents: i64,
    },
    Candle {
        open: i64,
        a: i64,
        b: i64,
        close: i64,
    },
}

fn side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Buy), Just(Side::Sell)]
}

/// Prices between 45,000.00 and 55,000.00 in cents.
fn cents() -> impl Strategy<Value = i64> {
    4_500_000i64..5_500_000
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (side(), cents(), 1i64..40_000, any::<bool>())
            .prop_map(|(side, cents, steps, maker)| Op::Limit { side, cents, steps, maker }),
        1 => (side(), 1i64..20_000).prop_map(|(side, steps)| Op::Market { side, steps }),
        1 => any::<usize>().prop_map(|pick| Op::Cancel { pick }),
        2 => cents().prop_map(|cents| Op::Tick { cents }),
        2 => (cents(), cents(), cents(), cents())
            .prop_map(|(open, a, b, close)| Op::Candle { open, a, b, close }),
    ]
}

fn config() -> impl Strategy<Value = MatchingConfig> {
    (
        any::<bool>(),
        any::<bool>(),
        0u32..20,
        prop::option::of(1u32..10),
    )
        .prop_map(
            |(touch, maker_discount, slippage_bp, partial_tenths)| MatchingConfig {
                maker_fee: if maker_discount {
                    dec!(0.00075)
                } else {
                    dec!(0.001)
                },
                taker_fee: dec!(0.001),
                market_slippage: Decimal::new(i64::from(slippage_bp), 4),
                partial_fill: partial_tenths.map(|tenths| PartialFillConfig {
                    max_fill_ratio: Decimal::new(i64::from(tenths), 1),
                }),
                fill_on_touch: touch,
            },
        )
}

fn price(cents: i64) -> Price {
    Price::new(Decimal::new(cents, 2)).unwrap()
}

fn candle(open: i64, a: i64, b: i64, close: i64, at: Timestamp) -> Candle {
    let high = open.max(a).max(b).max(close);
    let low = open.min(a).min(b).min(close);
    let volume = Quantity::new(dec!(1)).unwrap();
    Candle::new(
        at,
        price(open),
        price(high),
        price(low),
        price(close),
        volume,
    )
    .unwrap()
}

/// Applies one operation; returns the ids of orders it cancelled.
fn apply(engine: &mut MatchingEngine, op: &Op, sequence: u64, at: Timestamp) -> Option<i64> {
    let symbol = btcusdt();
    match *op {
        Op::Limit {
            side,
            cents,
            steps,
            maker,
        } => {
            let kind = if maker {
                OrderKind::LimitMaker
            } else {
                OrderKind::Limit
            };
            let price = Some(Decimal::new(cents, 2));
            let _ = engine.place(
                &request(sequence, side, kind, price, Decimal::new(steps, 5)),
                at,
            );
        }
        Op::Market { side, steps } => {
            let _ = engine.place(
                &request(
                    sequence,
                    side,
                    OrderKind::Market,
                    None,
                    Decimal::new(steps, 5),
                ),
                at,
            );
        }
        Op::Cancel { pick } => {
            let open = engine.open_orders(None);
            if !open.is_empty() {
                let id = open[pick % open.len()].exchange_order_id?;
                return engine
                    .cancel(&symbol, &OrderRef::Exchange(id), at)
                    .ok()
                    .map(|o| o.exchange_order_id.unwrap_or_default());
            }
        }
        Op::Tick { cents } => {
            engine.on_price(&symbol, price(cents), at);
        }
        Op::Candle { open, a, b, close } => {
            engine.on_candle(&symbol, &candle(open, a, b, close, at));
        }
    }
    None
}

fn totals(engine: &MatchingEngine) -> HashMap<String, (Decimal, Decimal)> {
    engine
        .balances()
        .into_iter()
        .map(|b| (b.asset.as_str().to_owned(), (b.free, b.locked)))
        .collect()
}

fn check_invariants(
    engine: &MatchingEngine,
    cancelled: &HashMap<i64, i64>,
) -> Result<(), TestCaseError> {
    let state = engine.state();
    let balances = totals(engine);
    for (asset, (free, locked)) in &balances {
        prop_assert!(
            *free >= Decimal::ZERO && *locked >= Decimal::ZERO,
            "{asset}: {free}/{locked}"
        );
    }
    let (quote_free, quote_locked) = balances.get("USDT").copied().unwrap_or_default();
    let (base_free, base_locked) = balances.get("BTC").copied().unwrap_or_default();
    // Reservations: exactly what the open orders still need.
    let open = engine.open_orders(None);
    let reserved_quote: Decimal = open
        .iter()
        .filter(|o| o.side == Side::Buy)
        .map(|o| {
            o.price
                .map_or(Decimal::ZERO, |p| (p * o.remaining()).value())
        })
        .sum();
    let reserved_base: Decimal = open
        .iter()
        .filter(|o| o.side == Side::Sell)
        .map(|o| o.remaining().value())
        .sum();
    prop_assert_eq!(quote_locked, reserved_quote);
    prop_assert_eq!(base_locked, reserved_base);
    // Conservation: every change of the account is a fill, and each fill changes
    // `quote + base × fill_price` by exactly minus its fee.
    let (mut quote, mut base) = (INITIAL_QUOTE, INITIAL_BASE);
    let mut filled: HashMap<i64, Decimal> = HashMap::new();
    for fill in &state.trades {
        let notional = fill.notional().value();
        match fill.side {
            Side::Buy => {
                quote -= notional;
                base += fill.quantity.value() - fill.commission;
            }
            Side::Sell => {
                quote += notional - fill.commission;
                base -= fill.quantity.value();
            }
        }
        *filled.entry(fill.exchange_order_id).or_default() += fill.quantity.value();
        if let Some(cancel_trade_id) = cancelled.get(&fill.exchange_order_id) {
            prop_assert!(
                fill.trade_id < *cancel_trade_id,
                "cancelled order {} filled",
                fill.exchange_order_id
            );
        }
    }
    prop_assert_eq!(quote_free + quote_locked, quote);
    prop_assert_eq!(base_free + base_locked, base);
    // No order fills beyond its quantity, and its record matches its fills.
    for order in &state.orders {
        let id = order.exchange_order_id.unwrap_or_default();
        prop_assert!(order.filled_quantity <= order.quantity);
        prop_assert_eq!(
            order.filled_quantity.value(),
            filled.get(&id).copied().unwrap_or_default()
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn prop_account_stays_sound(config in config(), ops in prop::collection::vec(op(), 1..60)) {
        let mut engine = engine_with(config);
        engine.on_price(&btcusdt(), price(5_000_000), Timestamp::from_millis(0));
        let mut cancelled: HashMap<i64, i64> = HashMap::new();
        for (step, op) in ops.iter().enumerate() {
            let at = Timestamp::from_millis(60_000 * (step as i64 + 1));
            let next_trade_id = engine.state().next_trade_id;
            if let Some(id) = apply(&mut engine, op, step as u64 + 1, at) {
                cancelled.insert(id, next_trade_id);
            }
            check_invariants(&engine, &cancelled)?;
        }
    }

    #[test]
    fn prop_value_changes_only_by_fees(config in config(), ops in prop::collection::vec(op(), 1..40)) {
        let mut engine = engine_with(config);
        engine.on_price(&btcusdt(), price(5_000_000), Timestamp::from_millis(0));
        let mut seen: HashSet<i64> = HashSet::new();
        for (step, op) in ops.iter().enumerate() {
            let before = totals(&engine);
            let at = Timestamp::from_millis(60_000 * (step as i64 + 1));
            apply(&mut engine, op, step as u64 + 1, at);
            let after = totals(&engine);
            let new_fills: Vec<_> = engine.state().trades.into_iter().filter(|f| seen.insert(f.trade_id)).collect();
            if new_fills.len() != 1 {
                continue;
            }
            // With one fill, value at the fill price moves by exactly minus the fee's value.
            let fill = &new_fills[0];
            let value = |t: &HashMap<String, (Decimal, Decimal)>| {
                let (qf, ql) = t.get("USDT").copied().unwrap_or_default();
                let (bf, bl) = t.get("BTC").copied().unwrap_or_default();
                qf + ql + (bf + bl) * fill.price.value()
            };
            let fee_value = match fill.side {
                Side::Buy => fill.commission * fill.price.value(),
                Side::Sell => fill.commission,
            };
            prop_assert_eq!(value(&after) - value(&before), -fee_value);
        }
    }

    #[test]
    fn prop_candle_equals_its_four_ticks(config in config(), ops in prop::collection::vec(op(), 1..40)) {
        let mut by_candle = engine_with(config.clone());
        let mut by_ticks = engine_with(config);
        let symbol = btcusdt();
        for engine in [&mut by_candle, &mut by_ticks] {
            engine.on_price(&symbol, price(5_000_000), Timestamp::from_millis(0));
        }
        for (step, op) in ops.iter().enumerate() {
            let at = Timestamp::from_millis(60_000 * (step as i64 + 1));
            if let Op::Candle { open, a, b, close } = *op {
                let candle = candle(open, a, b, close, at);
                by_candle.on_candle(&symbol, &candle);
                for tick in candle_path(&candle) {
                    by_ticks.on_price(&symbol, tick, at);
                }
            } else {
                apply(&mut by_candle, op, step as u64 + 1, at);
                apply(&mut by_ticks, op, step as u64 + 1, at);
            }
            prop_assert_eq!(by_candle.state(), by_ticks.state());
        }
    }
}
