//! The CoinGecko markets client against the fake server of `hybrid-testkit`.
#![allow(clippy::unwrap_used)]

use std::{sync::Arc, time::Duration};

use hybrid_core::{SimClock, Timestamp};
use hybrid_portfolio::{
    index_composition, CoinGeckoClient, MarketCapSource, INDEX_MAX_WEIGHT_PCT, INDEX_TOP_N,
};
use hybrid_testkit::coingecko::{spawn, CoinGeckoMode, FakeCoin};

fn coins() -> Vec<FakeCoin> {
    vec![
        FakeCoin::new("ethereum", "eth", 4.0e11),
        FakeCoin::new("bitcoin", "btc", 1.3e12),
        FakeCoin::new("tether", "usdt", 1.2e11),
        FakeCoin {
            id: "nocap".to_owned(),
            symbol: "nocap".to_owned(),
            market_cap: None,
        },
    ]
}

#[tokio::test]
async fn scenario_11_26_market_caps_are_mapped_in_order_and_cached_for_the_ttl() {
    let fake = spawn(coins()).await;
    let clock = Arc::new(SimClock::new(Timestamp::from_millis(0)));
    let client = CoinGeckoClient::new(
        fake.base_url(),
        Some("demo-key".to_owned()),
        Duration::from_secs(3600),
        clock.clone(),
    )
    .unwrap();
    let caps = client.top_market_caps(20).await.unwrap();
    let bases: Vec<&str> = caps.iter().map(|c| c.base.as_str()).collect();
    // Upper-cased, largest first; the coin without a market cap is skipped.
    assert_eq!(bases, ["BTC", "ETH", "USDT"]);
    assert_eq!(fake.requests(), 1);
    assert_eq!(fake.api_keys(), [Some("demo-key".to_owned())]);
    // A second call within the TTL makes no request.
    let again = client.top_market_caps(2).await.unwrap();
    assert_eq!(again.len(), 2);
    assert_eq!(fake.requests(), 1);
    // After the TTL it asks again.
    clock.advance_to(Timestamp::from_millis(3_600_000)).unwrap();
    client.top_market_caps(20).await.unwrap();
    assert_eq!(fake.requests(), 2);
    // The composition drops the stablecoin.
    let index = index_composition(&caps, INDEX_TOP_N, INDEX_MAX_WEIGHT_PCT);
    let names: Vec<&str> = index.iter().map(|w| w.symbol.as_str()).collect();
    assert_eq!(names, ["BTCUSDT", "ETHUSDT"]);
}

#[tokio::test]
async fn failures_and_nonsense_are_named_errors() {
    let fake = spawn(coins()).await;
    let clock = Arc::new(SimClock::new(Timestamp::from_millis(0)));
    let client =
        CoinGeckoClient::new(fake.base_url(), None, Duration::from_secs(0), clock).unwrap();
    fake.set_mode(CoinGeckoMode::Status(429));
    let error = client.top_market_caps(20).await.unwrap_err().to_string();
    assert!(error.contains("HTTP 429"), "{error}");
    fake.set_mode(CoinGeckoMode::Garbage);
    let error = client.top_market_caps(20).await.unwrap_err().to_string();
    assert!(error.contains("not a list of coins"), "{error}");
    assert_eq!(fake.api_keys(), [None, None]);
}
