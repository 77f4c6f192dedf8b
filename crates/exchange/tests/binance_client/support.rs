//! Shared fixtures: one symbol (BTCUSDT at 100 USDT), a funded account, fast timings.

use std::time::Duration;

use hybrid_core::{
    ClientOrderId, CohortId, OrderKind, Price, Quantity, Side, Symbol, SymbolFilters, TimeInForce,
};
use hybrid_exchange::{
    binance::{BinanceClient, BinanceConfig, Credentials},
    Balance, OrderRequest,
};
use hybrid_testkit::binance::{spawn, FakeBinance, FakeBinanceConfig};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

pub(crate) const API_KEY: &str = "test-api-key-0123456789abcdef";
pub(crate) const SECRET: &str = "test-secret-NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP";

pub(crate) fn btc() -> Symbol {
    Symbol::new("BTCUSDT").unwrap()
}

pub(crate) fn filters() -> SymbolFilters {
    SymbolFilters {
        symbol: btc(),
        tick_size: dec!(0.01),
        min_price: dec!(0.01),
        max_price: dec!(1000000),
        step_size: dec!(0.0001),
        min_qty: dec!(0.0001),
        max_qty: dec!(9000),
        min_notional: dec!(5),
        max_notional: dec!(9000000),
        max_num_orders: 200,
    }
}

pub(crate) fn balance(asset: &str, free: Decimal) -> Balance {
    Balance {
        asset: hybrid_core::Asset::new(asset).unwrap(),
        free,
        locked: Decimal::ZERO,
    }
}

pub(crate) fn fake_config() -> FakeBinanceConfig {
    let mut config = FakeBinanceConfig::new(API_KEY, SECRET);
    config.symbols = vec![filters()];
    config.balances = vec![balance("USDT", dec!(1000000)), balance("BTC", dec!(100))];
    config.prices = vec![(btc(), price(dec!(100)))];
    config
}

pub(crate) async fn fake() -> FakeBinance {
    spawn(fake_config()).await
}

/// Fast timings so unknown outcomes resolve in well under a second.
pub(crate) fn client_config(fake: &FakeBinance) -> BinanceConfig {
    let mut config = BinanceConfig::with_base_url(fake.base_url())
        .with_credentials(Credentials::hmac(API_KEY, SECRET));
    config.request_timeout = Duration::from_millis(1_000);
    config.retry_base_delay = Duration::from_millis(20);
    config.recv_window_ms = 400;
    config.timestamp_margin_ms = 0;
    config.engine_timeout_ms = 0;
    config.absence_margin_ms = 100;
    config.resolve_timeout = Duration::from_secs(10);
    config
}

pub(crate) async fn client(fake: &FakeBinance) -> BinanceClient {
    client_with(client_config(fake)).await
}

pub(crate) async fn client_with(config: BinanceConfig) -> BinanceClient {
    let client = BinanceClient::new(config).unwrap();
    client.sync_time().await.unwrap();
    client
}

pub(crate) fn price(value: Decimal) -> Price {
    Price::new(value).unwrap()
}

pub(crate) fn id(sequence: u64) -> ClientOrderId {
    ClientOrderId::new(CohortId::new(1), &btc(), sequence).unwrap()
}

pub(crate) fn limit(sequence: u64, side: Side, at: Decimal, quantity: Decimal) -> OrderRequest {
    OrderRequest {
        client_order_id: id(sequence),
        cohort: CohortId::new(1),
        symbol: btc(),
        side,
        kind: OrderKind::Limit,
        time_in_force: Some(TimeInForce::GoodTillCancel),
        price: Some(price(at)),
        quantity: Quantity::new(quantity).unwrap(),
    }
}

pub(crate) fn market(sequence: u64, side: Side, quantity: Decimal) -> OrderRequest {
    OrderRequest {
        client_order_id: id(sequence),
        cohort: CohortId::new(1),
        symbol: btc(),
        side,
        kind: OrderKind::Market,
        time_in_force: None,
        price: None,
        quantity: Quantity::new(quantity).unwrap(),
    }
}

/// How many `POST /api/v3/order` requests carried this client order id.
pub(crate) fn posts_of(fake: &FakeBinance, id: &ClientOrderId) -> usize {
    let needle = format!("newClientOrderId={id}&");
    fake.requests()
        .iter()
        .filter(|r| r.method == "POST" && r.query.contains(&needle))
        .count()
}
