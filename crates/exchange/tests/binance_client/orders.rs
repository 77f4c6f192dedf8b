//! Placing, querying, cancelling, listing orders and reading trades, including partial fills.

use hybrid_core::{OrderStatus, Side};
use hybrid_exchange::{Account, ExchangeError, OrderRef, TradesFrom};
use hybrid_testkit::binance::spawn;
use rust_decimal_macros::dec;

use crate::support::{btc, client, fake, fake_config, id, limit, market, posts_of, price};

#[tokio::test]
async fn market_order_fills_at_once_with_fills_and_trades() {
    let fake = fake().await;
    let client = client(&fake).await;
    let ack = client
        .place_order(&market(1, Side::Buy, dec!(0.5)))
        .await
        .unwrap();
    assert_eq!(ack.order.status, OrderStatus::Filled);
    assert_eq!(ack.order.client_order_id, id(1));
    assert_eq!(ack.order.filled_quantity.value(), dec!(0.5));
    assert_eq!(ack.fills.len(), 1);
    assert_eq!(ack.fills[0].price.value(), dec!(100));
    let trades = client.my_trades(&btc(), TradesFrom::Recent).await.unwrap();
    assert_eq!(trades.len(), 1);
    assert_eq!(trades[0].client_order_id, id(1));
    assert_eq!(trades[0].trade_id, ack.fills[0].trade_id);
    assert_eq!(posts_of(&fake, &id(1)), 1);
    let counts = client.order_counts();
    assert_eq!((counts.ten_seconds, counts.day), (Some(1), Some(1)));
}

#[tokio::test]
async fn limit_order_rests_then_is_queried_listed_and_cancelled() {
    let fake = fake().await;
    let client = client(&fake).await;
    let ack = client
        .place_order(&limit(2, Side::Buy, dec!(90), dec!(1)))
        .await
        .unwrap();
    assert_eq!(ack.order.status, OrderStatus::New);
    let exchange_id = ack.order.exchange_order_id.unwrap();
    let by_client = client
        .query_order(&btc(), &OrderRef::Client(id(2)))
        .await
        .unwrap();
    let by_exchange = client
        .query_order(&btc(), &OrderRef::Exchange(exchange_id))
        .await
        .unwrap();
    assert_eq!(by_client, by_exchange);
    assert_eq!(by_client.price.unwrap().value(), dec!(90));
    let open = client.open_orders(Some(&btc())).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(client.open_orders(None).await.unwrap(), open);
    let cancelled = client
        .cancel_order(&btc(), &OrderRef::Client(id(2)))
        .await
        .unwrap();
    assert_eq!(cancelled.status, OrderStatus::Canceled);
    assert_eq!(cancelled.client_order_id, id(2));
    assert!(client.open_orders(Some(&btc())).await.unwrap().is_empty());
    let again = client
        .cancel_order(&btc(), &OrderRef::Client(id(2)))
        .await
        .unwrap_err();
    assert_eq!(
        again,
        ExchangeError::UnknownOrder {
            msg: "Unknown order sent.".into()
        }
    );
}

#[tokio::test]
async fn partial_fills_are_reported_by_query_and_trades() {
    let mut config = fake_config();
    config.matching.partial_fill = Some(hybrid_exchange::PartialFillConfig {
        max_fill_ratio: dec!(0.25),
    });
    let fake = spawn(config).await;
    let client = client(&fake).await;
    client
        .place_order(&limit(3, Side::Buy, dec!(95), dec!(2)))
        .await
        .unwrap();
    fake.set_price(&btc(), price(dec!(94)));
    let order = client
        .query_order(&btc(), &OrderRef::Client(id(3)))
        .await
        .unwrap();
    assert_eq!(order.status, OrderStatus::PartiallyFilled);
    assert_eq!(order.filled_quantity.value(), dec!(0.5));
    fake.set_price(&btc(), price(dec!(93)));
    let trades = client
        .my_trades(&btc(), TradesFrom::TradeId(1))
        .await
        .unwrap();
    assert_eq!(trades.len(), 2);
    assert!(trades
        .iter()
        .all(|t| t.client_order_id == id(3) && t.is_maker));
    let cancelled = client
        .cancel_order(&btc(), &OrderRef::Client(id(3)))
        .await
        .unwrap();
    assert_eq!(cancelled.status, OrderStatus::Canceled);
    assert_eq!(cancelled.filled_quantity.value(), dec!(1));
}

#[tokio::test]
async fn trades_of_orders_placed_elsewhere_are_attributed_by_lookup() {
    let fake = fake().await;
    let first = client(&fake).await;
    first
        .place_order(&market(4, Side::Sell, dec!(1)))
        .await
        .unwrap();
    let second = client(&fake).await;
    let trades = second.my_trades(&btc(), TradesFrom::Recent).await.unwrap();
    assert_eq!(trades[0].client_order_id, id(4));
    assert_eq!(trades[0].side, Side::Sell);
}
