//! Public market data and account reads.

use hybrid_core::{Candle, Price, Quantity, Timestamp};
use hybrid_exchange::{Account, ExchangeError, MarketData};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::support::{btc, client, fake, filters};

pub(crate) fn candle(open_time_ms: i64, close: Decimal) -> Candle {
    let p = |v: Decimal| Price::new(v).unwrap();
    Candle::new(
        Timestamp::from_millis(open_time_ms),
        p(close),
        p(close + dec!(1)),
        p(close - dec!(1)),
        p(close),
        Quantity::new(dec!(2.5)).unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn server_time_and_offset_follow_the_fake_clock() {
    let fake = fake().await;
    fake.set_clock_skew_ms(30_000);
    let client = client(&fake).await;
    let offset = client.server_time_offset_ms();
    assert!((29_000..=31_000).contains(&offset), "offset {offset}");
    let server = client.server_time().await.unwrap();
    let local = hybrid_core::Clock::now(&hybrid_core::SystemClock);
    assert!(server.millis_since(local) > 29_000);
}

#[tokio::test]
async fn exchange_info_and_symbol_filters_round_trip() {
    let fake = fake().await;
    let client = client(&fake).await;
    assert_eq!(client.exchange_info().await.unwrap(), vec![filters()]);
    assert_eq!(client.symbol_filters(&btc()).await.unwrap(), filters());
    let unknown = hybrid_core::Symbol::new("DOGEUSDT").unwrap();
    let err = client.symbol_filters(&unknown).await.unwrap_err();
    assert_eq!(
        err,
        ExchangeError::Api {
            code: -1121,
            msg: "Invalid symbol.".into()
        }
    );
}

#[tokio::test]
async fn tickers() {
    let fake = fake().await;
    let client = client(&fake).await;
    assert_eq!(
        client.ticker_price(&btc()).await.unwrap().value(),
        dec!(100)
    );
    let all = client.ticker_prices().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].symbol, btc());
    let day = client.ticker_24h(&btc()).await.unwrap();
    assert_eq!(day.last_price.value(), dec!(100));
    assert_eq!(day.symbol, btc());
}

#[tokio::test]
async fn klines_are_filtered_by_time_and_limit() {
    let fake = fake().await;
    let candles: Vec<Candle> = (0..10)
        .map(|i| candle(i * 60_000, dec!(100) + Decimal::from(i)))
        .collect();
    fake.set_klines(&btc(), "1m", candles.clone());
    let client = client(&fake).await;
    let got = client
        .klines(
            &btc(),
            "1m",
            Some(Timestamp::from_millis(120_000)),
            Some(Timestamp::from_millis(400_000)),
            Some(2),
        )
        .await
        .unwrap();
    assert_eq!(got, candles[2..4].to_vec());
    let err = client
        .klines(&btc(), "7m", None, None, None)
        .await
        .unwrap_err();
    assert!(matches!(err, ExchangeError::InvalidRequest(_)), "{err}");
}

#[tokio::test]
async fn balances_are_signed_reads() {
    let fake = fake().await;
    let client = client(&fake).await;
    let mut balances = client.balances().await.unwrap();
    balances.sort_by(|a, b| a.asset.cmp(&b.asset));
    assert_eq!(balances.len(), 2);
    assert_eq!(balances[0].asset.as_str(), "BTC");
    assert_eq!(balances[0].free, dec!(100));
    assert_eq!(balances[1].free, dec!(1000000));
    let request = fake
        .requests()
        .into_iter()
        .find(|r| r.path == "/api/v3/account")
        .unwrap();
    assert!(
        request.query.contains("recvWindow=400&timestamp="),
        "{}",
        request.query
    );
    assert!(request.query.contains("&signature="), "{}", request.query);
}
