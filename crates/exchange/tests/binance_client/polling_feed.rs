//! `PollingFeed` over the real client: prices every round, each closed candle exactly once.

use std::{sync::Arc, time::Duration};

use hybrid_core::{Clock, SystemClock};
use hybrid_exchange::{MarketEvent, MarketFeed, PollingFeed};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::{
    market_and_account::candle,
    support::{btc, client, fake, price},
};

const MINUTE: i64 = 60_000;

#[tokio::test]
async fn emits_prices_each_round_and_every_closed_candle_once() {
    let fake = fake().await;
    let start = 1_700_000_000_000 / MINUTE * MINUTE;
    let series: Vec<_> = (0..10)
        .map(|i| candle(start + i * MINUTE, dec!(100) + Decimal::from(i)))
        .collect();
    fake.set_klines(&btc(), "1m", series[..5].to_vec());
    let client = client(&fake).await;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let mut feed =
        PollingFeed::new(client, vec![btc()], "1m", Duration::from_millis(10), clock).unwrap();

    // First round, one batch: the price, then only the latest closed candle (no history
    // replay).
    let first = feed.next_batch().await.unwrap().unwrap();
    assert_eq!(first.len(), 2, "{first:?}");
    assert!(
        matches!(first[0], MarketEvent::Price { ref symbol, price: p, .. } if *symbol == btc() && p == price(dec!(100))),
        "{first:?}"
    );
    assert_eq!(
        first[1],
        MarketEvent::Candle {
            symbol: btc(),
            candle: series[4]
        }
    );

    // Five more candles close: the next round emits exactly those, in order, once each.
    fake.set_klines(&btc(), "1m", series.clone());
    let batch = feed.next_batch().await.unwrap().unwrap();
    let candles: Vec<_> = batch
        .iter()
        .filter_map(|event| match event {
            MarketEvent::Candle { candle, .. } => Some(*candle),
            MarketEvent::Price { .. } => None,
        })
        .collect();
    assert_eq!(candles, series[5..].to_vec());
    // Another round brings a price but no candle again.
    let next = feed.next_batch().await.unwrap().unwrap();
    assert!(
        next.iter().all(|e| matches!(e, MarketEvent::Price { .. })),
        "{next:?}"
    );
}

#[tokio::test]
async fn a_resumed_feed_delivers_the_candles_closed_since_the_last_traded_one() {
    let fake = fake().await;
    let start = 1_700_000_000_000 / MINUTE * MINUTE;
    let series: Vec<_> = (0..10)
        .map(|i| candle(start + i * MINUTE, dec!(100) + Decimal::from(i)))
        .collect();
    fake.set_klines(&btc(), "1m", series.clone());
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let mut feed = PollingFeed::new(
        client(&fake).await,
        vec![btc()],
        "1m",
        Duration::from_millis(10),
        clock,
    )
    .unwrap();
    feed.resume_after(series[6].open_time());
    let batch = feed.next_batch().await.unwrap().unwrap();
    let candles: Vec<_> = batch
        .iter()
        .filter_map(|event| match event {
            MarketEvent::Candle { candle, .. } => Some(*candle),
            MarketEvent::Price { .. } => None,
        })
        .collect();
    assert_eq!(candles, series[7..].to_vec());
}

#[tokio::test]
async fn refuses_an_unknown_interval_or_no_symbols() {
    let fake = fake().await;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let err = PollingFeed::new(
        client(&fake).await,
        vec![btc()],
        "7m",
        Duration::from_secs(1),
        clock.clone(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("unknown kline interval"), "{err}");
    assert!(PollingFeed::new(
        client(&fake).await,
        vec![],
        "1m",
        Duration::from_secs(1),
        clock
    )
    .is_err());
}
