//! Unit tests of the matching engine: one behaviour per test, through the public API only.

use hybrid_core::{
    Asset, Candle, ClientOrderId, CohortId, OrderKind, OrderStatus, Price, Quantity, Side, Symbol,
    SymbolFilters, TimeInForce, Timestamp,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::{MatchingConfig, MatchingEngine, PartialFillConfig};
use crate::{
    error::ExchangeError,
    exchange::{Balance, OrderRef, OrderRequest, TradesFrom},
};

pub(crate) fn btcusdt() -> Symbol {
    Symbol::new("BTCUSDT").unwrap()
}

pub(crate) fn filters() -> SymbolFilters {
    SymbolFilters {
        min_qty: dec!(0.00001),
        max_qty: dec!(9000),
        min_notional: dec!(5),
        max_num_orders: 200,
        ..SymbolFilters::with_steps(btcusdt(), dec!(0.01), dec!(0.00001))
    }
}

pub(crate) fn balance(asset: &str, free: Decimal) -> Balance {
    Balance {
        asset: Asset::new(asset).unwrap(),
        free,
        locked: Decimal::ZERO,
    }
}

pub(crate) fn engine_with(config: MatchingConfig) -> MatchingEngine {
    MatchingEngine::new(
        config,
        vec![filters()],
        &[balance("USDT", dec!(10000)), balance("BTC", dec!(1))],
    )
}

fn engine() -> MatchingEngine {
    engine_with(MatchingConfig::default())
}

pub(crate) fn request(
    sequence: u64,
    side: Side,
    kind: OrderKind,
    price: Option<Decimal>,
    quantity: Decimal,
) -> OrderRequest {
    OrderRequest {
        client_order_id: ClientOrderId::new(CohortId::new(1), &btcusdt(), sequence).unwrap(),
        cohort: CohortId::new(1),
        symbol: btcusdt(),
        side,
        kind,
        time_in_force: (kind == OrderKind::Limit).then_some(TimeInForce::GoodTillCancel),
        price: price.map(|p| Price::new(p).unwrap()),
        quantity: Quantity::new(quantity).unwrap(),
    }
}

fn limit(sequence: u64, side: Side, price: Decimal, quantity: Decimal) -> OrderRequest {
    request(sequence, side, OrderKind::Limit, Some(price), quantity)
}

fn t(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

fn p(value: Decimal) -> Price {
    Price::new(value).unwrap()
}

fn free_locked(engine: &MatchingEngine, asset: &str) -> (Decimal, Decimal) {
    engine
        .balances()
        .into_iter()
        .find(|b| b.asset.as_str() == asset)
        .map_or((Decimal::ZERO, Decimal::ZERO), |b| (b.free, b.locked))
}

fn candle(open: Decimal, high: Decimal, low: Decimal, close: Decimal) -> Candle {
    Candle::new(
        t(60_000),
        p(open),
        p(high),
        p(low),
        p(close),
        Quantity::new(dec!(10)).unwrap(),
    )
    .unwrap()
}

#[test]
fn limit_buy_reserves_quote_and_rests() {
    let mut engine = engine();
    engine.on_price(&btcusdt(), p(dec!(50000)), t(0));
    let ack = engine
        .place(&limit(1, Side::Buy, dec!(49000), dec!(0.1)), t(1))
        .unwrap();
    assert_eq!(ack.order.status, OrderStatus::New);
    assert!(ack.fills.is_empty());
    assert_eq!(free_locked(&engine, "USDT"), (dec!(5100), dec!(4900)));
    assert_eq!(engine.open_orders(Some(&btcusdt())).len(), 1);
}

#[test]
fn resting_buy_fills_at_its_limit_as_maker_with_fee_in_base() {
    let mut engine = engine();
    engine.on_price(&btcusdt(), p(dec!(50000)), t(0));
    engine
        .place(&limit(1, Side::Buy, dec!(49000), dec!(0.1)), t(1))
        .unwrap();
    assert!(
        engine.on_price(&btcusdt(), p(dec!(49000)), t(2)).is_empty(),
        "a touch does not fill"
    );
    let fills = engine.on_price(&btcusdt(), p(dec!(48999.99)), t(3));
    assert_eq!(fills.len(), 1);
    let fill = &fills[0];
    assert_eq!((fill.price, fill.is_maker), (p(dec!(49000)), true));
    assert_eq!(
        (fill.commission, fill.commission_asset.as_str()),
        (dec!(0.0001), "BTC")
    );
    assert_eq!(free_locked(&engine, "USDT"), (dec!(5100), dec!(0)));
    assert_eq!(free_locked(&engine, "BTC"), (dec!(1.0999), dec!(0)));
    assert!(engine.open_orders(None).is_empty());
}

#[test]
fn fill_on_touch_fills_at_the_limit_price() {
    let mut engine = engine_with(MatchingConfig {
        fill_on_touch: true,
        ..MatchingConfig::default()
    });
    engine
        .place(&limit(1, Side::Sell, dec!(51000), dec!(0.5)), t(1))
        .unwrap();
    let fills = engine.on_price(&btcusdt(), p(dec!(51000)), t(2));
    assert_eq!(fills.len(), 1);
    assert_eq!(
        free_locked(&engine, "USDT"),
        (dec!(10000) + dec!(25500) - dec!(25.5), dec!(0))
    );
}

#[test]
fn market_buy_fills_at_slipped_price_and_charges_fee_once() {
    let mut engine = engine_with(MatchingConfig {
        market_slippage: dec!(0.001),
        ..MatchingConfig::default()
    });
    engine.on_price(&btcusdt(), p(dec!(50000)), t(0));
    let ack = engine
        .place(
            &request(1, Side::Buy, OrderKind::Market, None, dec!(0.1)),
            t(1),
        )
        .unwrap();
    assert_eq!(ack.order.status, OrderStatus::Filled);
    assert_eq!(ack.fills[0].price, p(dec!(50050)));
    assert!(!ack.fills[0].is_maker);
    assert_eq!(free_locked(&engine, "USDT"), (dec!(4995), dec!(0)));
    assert_eq!(free_locked(&engine, "BTC"), (dec!(1.0999), dec!(0)));
}

#[test]
fn market_buy_of_the_whole_balance_never_goes_negative() {
    // The old paper exchange charged the fee twice and ended at -1 USDT here.
    let mut engine = MatchingEngine::new(
        MatchingConfig::default(),
        vec![filters()],
        &[balance("USDT", dec!(1000))],
    );
    engine.on_price(&btcusdt(), p(dec!(50000)), t(0));
    engine
        .place(
            &request(1, Side::Buy, OrderKind::Market, None, dec!(0.02)),
            t(1),
        )
        .unwrap();
    assert_eq!(free_locked(&engine, "USDT"), (dec!(0), dec!(0)));
    assert_eq!(free_locked(&engine, "BTC"), (dec!(0.01998), dec!(0)));
}

#[test]
fn market_sell_pays_fee_in_quote() {
    let mut engine = engine();
    engine.on_price(&btcusdt(), p(dec!(50000)), t(0));
    let ack = engine
        .place(
            &request(1, Side::Sell, OrderKind::Market, None, dec!(1)),
            t(1),
        )
        .unwrap();
    assert_eq!(
        (
            ack.fills[0].commission,
            ack.fills[0].commission_asset.as_str()
        ),
        (dec!(50), "USDT")
    );
    assert_eq!(free_locked(&engine, "USDT"), (dec!(59950), dec!(0)));
    assert_eq!(free_locked(&engine, "BTC"), (dec!(0), dec!(0)));
}

#[test]
fn marketable_limit_fills_at_once_as_taker_with_price_improvement() {
    let mut engine = engine();
    engine.on_price(&btcusdt(), p(dec!(50000)), t(0));
    let ack = engine
        .place(&limit(1, Side::Buy, dec!(50100), dec!(0.1)), t(1))
        .unwrap();
    assert_eq!(ack.order.status, OrderStatus::Filled);
    assert_eq!(
        (ack.fills[0].price, ack.fills[0].is_maker),
        (p(dec!(50000)), false)
    );
    assert_eq!(free_locked(&engine, "USDT"), (dec!(5000), dec!(0)));
}

#[test]
fn rejections_use_binance_codes_and_change_nothing() {
    let mut engine = engine();
    engine.on_price(&btcusdt(), p(dec!(50000)), t(0));
    let cases = [
        (
            limit(1, Side::Buy, dec!(49000.001), dec!(0.1)),
            Some(-1013),
            "Filter failure: PRICE_FILTER",
        ),
        (
            limit(2, Side::Buy, dec!(49000), dec!(0.000001)),
            Some(-1013),
            "Filter failure: LOT_SIZE",
        ),
        (
            limit(3, Side::Buy, dec!(49000), dec!(0.0001)),
            Some(-1013),
            "Filter failure: NOTIONAL",
        ),
        (
            limit(4, Side::Buy, dec!(49000), dec!(1)),
            Some(-2010),
            "Account has insufficient balance for requested action.",
        ),
        (
            request(
                5,
                Side::Buy,
                OrderKind::LimitMaker,
                Some(dec!(50000)),
                dec!(0.1),
            ),
            Some(-2010),
            "Order would immediately match and take.",
        ),
    ];
    for (request, code, msg) in cases {
        let error = engine.place(&request, t(1)).unwrap_err();
        assert_eq!(error.binance_code(), code, "{msg}");
        assert_eq!(error.binance_msg(), Some(msg));
    }
    assert_eq!(free_locked(&engine, "USDT"), (dec!(10000), dec!(0)));
    assert!(engine.open_orders(None).is_empty());
}

#[test]
fn duplicate_client_id_is_refused_only_while_open() {
    let mut engine = engine();
    engine.on_price(&btcusdt(), p(dec!(50000)), t(0));
    engine
        .place(&limit(1, Side::Buy, dec!(49000), dec!(0.1)), t(1))
        .unwrap();
    let error = engine
        .place(&limit(1, Side::Buy, dec!(48000), dec!(0.1)), t(2))
        .unwrap_err();
    assert_eq!(error, ExchangeError::duplicate_order());
    engine.on_price(&btcusdt(), p(dec!(48500)), t(3));
    assert!(engine
        .place(&limit(1, Side::Buy, dec!(48000), dec!(0.1)), t(4))
        .is_ok());
}

#[test]
fn cancel_releases_the_reservation_and_a_cancelled_order_never_fills() {
    let mut engine = engine();
    let ack = engine
        .place(&limit(1, Side::Sell, dec!(51000), dec!(0.5)), t(1))
        .unwrap();
    assert_eq!(free_locked(&engine, "BTC"), (dec!(0.5), dec!(0.5)));
    let id = ack.order.exchange_order_id.unwrap();
    let cancelled = engine
        .cancel(&btcusdt(), &OrderRef::Exchange(id), t(2))
        .unwrap();
    assert_eq!(cancelled.status, OrderStatus::Canceled);
    assert_eq!(free_locked(&engine, "BTC"), (dec!(1), dec!(0)));
    assert!(engine.on_price(&btcusdt(), p(dec!(60000)), t(3)).is_empty());
    let again = engine
        .cancel(&btcusdt(), &OrderRef::Exchange(id), t(4))
        .unwrap_err();
    assert_eq!(again, ExchangeError::unknown_order_sent());
}

#[test]
fn query_finds_orders_by_either_id_and_checks_the_symbol() {
    let mut engine = engine();
    let ack = engine
        .place(&limit(1, Side::Sell, dec!(51000), dec!(0.5)), t(1))
        .unwrap();
    let by_client = engine
        .query(
            &btcusdt(),
            &OrderRef::Client(ack.order.client_order_id.clone()),
        )
        .unwrap();
    assert_eq!(by_client, ack.order);
    let other = Symbol::new("ETHUSDT").unwrap();
    let error = engine.query(&other, &OrderRef::Exchange(1)).unwrap_err();
    assert_eq!(error, ExchangeError::order_does_not_exist());
    assert_eq!(
        engine
            .query(&btcusdt(), &OrderRef::Exchange(99))
            .unwrap_err(),
        error
    );
}

#[test]
fn unknown_symbol_and_market_without_price_are_refused() {
    let mut engine = engine();
    let mut eth = request(1, Side::Buy, OrderKind::Market, None, dec!(0.1));
    eth.symbol = Symbol::new("ETHUSDT").unwrap();
    assert_eq!(
        engine.place(&eth, t(1)).unwrap_err(),
        ExchangeError::invalid_symbol()
    );
    let error = engine
        .place(
            &request(2, Side::Buy, OrderKind::Market, None, dec!(0.1)),
            t(1),
        )
        .unwrap_err();
    assert!(matches!(error, ExchangeError::InvalidRequest(_)), "{error}");
}

#[test]
fn bullish_candle_visits_low_before_high() {
    let mut engine = engine();
    engine.on_price(&btcusdt(), p(dec!(50000)), t(0));
    engine
        .place(&limit(1, Side::Buy, dec!(49500), dec!(0.1)), t(1))
        .unwrap();
    engine
        .place(&limit(2, Side::Sell, dec!(50500), dec!(0.1)), t(1))
        .unwrap();
    let fills = engine.on_candle(
        &btcusdt(),
        &candle(dec!(50000), dec!(50600), dec!(49400), dec!(50200)),
    );
    let sides: Vec<Side> = fills.iter().map(|f| f.side).collect();
    assert_eq!(sides, [Side::Buy, Side::Sell]);
    let fills = engine.on_candle(
        &btcusdt(),
        &candle(dec!(50000), dec!(50600), dec!(49400), dec!(49800)),
    );
    assert!(fills.is_empty());
}

#[test]
fn bearish_candle_visits_high_before_low() {
    let mut engine = engine();
    engine.on_price(&btcusdt(), p(dec!(50000)), t(0));
    engine
        .place(&limit(1, Side::Buy, dec!(49500), dec!(0.1)), t(1))
        .unwrap();
    engine
        .place(&limit(2, Side::Sell, dec!(50500), dec!(0.1)), t(1))
        .unwrap();
    let fills = engine.on_candle(
        &btcusdt(),
        &candle(dec!(50000), dec!(50600), dec!(49400), dec!(49800)),
    );
    let sides: Vec<Side> = fills.iter().map(|f| f.side).collect();
    assert_eq!(sides, [Side::Sell, Side::Buy]);
}

#[test]
fn a_candle_that_only_touches_a_limit_does_not_fill_it() {
    let mut engine = engine();
    engine.on_price(&btcusdt(), p(dec!(50000)), t(0));
    engine
        .place(&limit(1, Side::Buy, dec!(49500), dec!(0.1)), t(1))
        .unwrap();
    let fills = engine.on_candle(
        &btcusdt(),
        &candle(dec!(50000), dec!(50100), dec!(49500), dec!(49900)),
    );
    assert!(fills.is_empty());
}

#[test]
fn partial_fills_slice_the_order_per_event() {
    let mut engine = engine_with(MatchingConfig {
        partial_fill: Some(PartialFillConfig {
            max_fill_ratio: dec!(0.4),
        }),
        ..MatchingConfig::default()
    });
    let ack = engine
        .place(&limit(1, Side::Sell, dec!(51000), dec!(0.5)), t(1))
        .unwrap();
    let id = OrderRef::Exchange(ack.order.exchange_order_id.unwrap());
    let quantities: Vec<Decimal> = (2..6)
        .flat_map(|ms| engine.on_price(&btcusdt(), p(dec!(51001)), t(ms)))
        .map(|f| f.quantity.value())
        .collect();
    assert_eq!(quantities, [dec!(0.2), dec!(0.2), dec!(0.1)]);
    assert_eq!(
        engine.query(&btcusdt(), &id).unwrap().status,
        OrderStatus::Filled
    );
    assert_eq!(engine.trades(&btcusdt(), TradesFrom::TradeId(2)).len(), 2);
}

#[test]
fn ioc_remainder_expires_and_releases_its_reservation() {
    let mut engine = engine_with(MatchingConfig {
        partial_fill: Some(PartialFillConfig {
            max_fill_ratio: dec!(0.5),
        }),
        ..MatchingConfig::default()
    });
    engine.on_price(&btcusdt(), p(dec!(50000)), t(0));
    let mut ioc = limit(1, Side::Buy, dec!(50000), dec!(0.1));
    ioc.time_in_force = Some(TimeInForce::ImmediateOrCancel);
    let ack = engine.place(&ioc, t(1)).unwrap();
    assert_eq!(ack.order.status, OrderStatus::Expired);
    assert_eq!(ack.order.filled_quantity.value(), dec!(0.05));
    assert_eq!(free_locked(&engine, "USDT"), (dec!(7500), dec!(0)));
    let mut fok = limit(2, Side::Buy, dec!(50000), dec!(0.1));
    fok.time_in_force = Some(TimeInForce::FillOrKill);
    let ack = engine.place(&fok, t(2)).unwrap();
    assert_eq!(
        (ack.order.status, ack.fills.len()),
        (OrderStatus::Expired, 0)
    );
    assert_eq!(free_locked(&engine, "USDT"), (dec!(7500), dec!(0)));
}

#[test]
fn state_round_trips_through_json_and_restore() {
    let mut engine = engine();
    engine.on_price(&btcusdt(), p(dec!(50000)), t(0));
    engine
        .place(&limit(1, Side::Buy, dec!(49000), dec!(0.1)), t(1))
        .unwrap();
    engine
        .place(&limit(2, Side::Sell, dec!(51000), dec!(0.1)), t(1))
        .unwrap();
    engine.on_price(&btcusdt(), p(dec!(51000.01)), t(2));
    let json = serde_json::to_string(&engine.state()).unwrap();
    let mut restored = MatchingEngine::restore(
        MatchingConfig::default(),
        vec![filters()],
        serde_json::from_str(&json).unwrap(),
    );
    assert_eq!(restored.state(), engine.state());
    let fills = restored.on_price(&btcusdt(), p(dec!(48000)), t(3));
    assert_eq!(fills.len(), 1);
    assert_eq!(fills[0].trade_id, 2);
    let next = restored
        .place(&limit(3, Side::Buy, dec!(47000), dec!(0.1)), t(4))
        .unwrap();
    assert_eq!(next.order.exchange_order_id, Some(3));
}
