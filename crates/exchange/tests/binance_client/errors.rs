//! Each error class, the -1021 re-sync, read retries, and secrets kept out of every output.

use std::time::Duration;

use hybrid_core::Side;
use hybrid_exchange::{
    binance::{BinanceClient, BinanceConfig, Credentials},
    Account, ExchangeError, MarketData,
};
use hybrid_testkit::binance::{Fault, Route};
use rust_decimal_macros::dec;

use crate::support::{
    btc, client, client_config, client_with, fake, limit, market, API_KEY, SECRET,
};

#[tokio::test]
async fn a_wrong_secret_is_refused_with_1022_and_a_wrong_key_with_2015() {
    let fake = fake().await;
    let mut config = client_config(&fake);
    config.credentials = Some(Credentials::hmac(API_KEY, "not-the-secret"));
    let client = client_with(config.clone()).await;
    let err = client.balances().await.unwrap_err();
    assert_eq!(
        err,
        ExchangeError::Api {
            code: -1022,
            msg: "Signature for this request is not valid.".into()
        }
    );
    config.credentials = Some(Credentials::hmac("other-key", SECRET));
    let client = client_with(config).await;
    let err = client.balances().await.unwrap_err();
    assert!(
        matches!(err, ExchangeError::Api { code: -2015, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn filter_and_balance_rejections_are_definitive() {
    let fake = fake().await;
    let client = client(&fake).await;
    let off_tick = client
        .place_order(&limit(1, Side::Buy, dec!(90.005), dec!(1)))
        .await
        .unwrap_err();
    assert_eq!(
        off_tick,
        ExchangeError::FilterRejected {
            filter: "PRICE_FILTER".into(),
            msg: "Filter failure: PRICE_FILTER".into()
        }
    );
    let too_small = client
        .place_order(&limit(2, Side::Buy, dec!(90), dec!(0.01)))
        .await
        .unwrap_err();
    assert!(
        matches!(&too_small, ExchangeError::FilterRejected { filter, .. } if filter == "NOTIONAL"),
        "{too_small}"
    );
    let too_big = client
        .place_order(&market(3, Side::Sell, dec!(1000)))
        .await
        .unwrap_err();
    assert_eq!(
        too_big,
        ExchangeError::InsufficientBalance {
            msg: "Account has insufficient balance for requested action.".into()
        }
    );
    assert!(fake.orders().is_empty());
}

#[tokio::test]
async fn a_duplicate_open_client_id_resolves_to_the_existing_order() {
    let fake = fake().await;
    let client = client(&fake).await;
    let first = client
        .place_order(&limit(5, Side::Buy, dec!(90), dec!(1)))
        .await
        .unwrap();
    let second = client
        .place_order(&limit(5, Side::Buy, dec!(90), dec!(1)))
        .await
        .unwrap();
    assert_eq!(
        first.order.exchange_order_id,
        second.order.exchange_order_id
    );
    assert_eq!(fake.orders().len(), 1);
}

#[tokio::test]
async fn clock_skew_triggers_one_resync_and_a_retry() {
    let fake = fake().await;
    let client = client(&fake).await;
    let before = client.server_time_offset_ms();
    fake.set_clock_skew_ms(20_000);
    client.balances().await.unwrap();
    let after = client.server_time_offset_ms();
    assert!(after - before > 19_000, "offset {before} -> {after}");
    let account_calls = fake
        .requests()
        .iter()
        .filter(|r| r.path == "/api/v3/account")
        .count();
    assert_eq!(account_calls, 2, "the rejected request and one retry");
    // An order placed under skew is also re-sent once, safely: -1021 means not forwarded.
    fake.set_clock_skew_ms(-20_000);
    client
        .place_order(&market(6, Side::Buy, dec!(0.1)))
        .await
        .unwrap();
    assert_eq!(fake.orders().len(), 1);
}

#[tokio::test]
async fn reads_are_retried_on_5xx_then_give_up_as_unknown_outcome() {
    let fake = fake().await;
    let client = client(&fake).await;
    fake.inject(
        Route::TickerPrice,
        Fault::ServerError {
            status: 502,
            code: None,
        },
    );
    fake.inject(
        Route::TickerPrice,
        Fault::ServerError {
            status: 500,
            code: Some(-1001),
        },
    );
    assert_eq!(
        client.ticker_price(&btc()).await.unwrap().value(),
        dec!(100)
    );
    for _ in 0..3 {
        fake.inject(
            Route::TickerPrice,
            Fault::ServerError {
                status: 503,
                code: None,
            },
        );
    }
    let err = client.ticker_price(&btc()).await.unwrap_err();
    assert!(err.is_unknown_outcome(), "{err}");
    let calls = fake
        .requests()
        .iter()
        .filter(|r| r.path == "/api/v3/ticker/price")
        .count();
    assert_eq!(calls, 6, "2 failures + 1 success, then 3 failures");
}

#[tokio::test]
async fn malformed_json_on_a_read_is_an_invalid_response() {
    let fake = fake().await;
    let client = client(&fake).await;
    fake.inject(Route::Ticker24h, Fault::MalformedJson);
    let err = client.ticker_24h(&btc()).await.unwrap_err();
    assert!(matches!(err, ExchangeError::InvalidResponse(_)), "{err}");
}

#[tokio::test]
async fn a_closed_port_is_a_connectivity_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let mut config = BinanceConfig::with_base_url(format!("http://{address}"));
    config.retry_base_delay = Duration::from_millis(1);
    let client = BinanceClient::new(config).unwrap();
    let err = client.server_time().await.unwrap_err();
    assert!(matches!(err, ExchangeError::Connectivity(_)), "{err}");
}

#[tokio::test]
async fn signed_requests_without_credentials_are_refused_locally() {
    let fake = fake().await;
    let mut config = client_config(&fake);
    config.credentials = None;
    let client = BinanceClient::new(config).unwrap();
    let err = client.balances().await.unwrap_err();
    assert!(
        matches!(err, ExchangeError::Api { code: -2015, .. }),
        "{err}"
    );
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn secrets_never_appear_in_debug_errors_or_on_the_wire() {
    let fake = fake().await;
    let client = client(&fake).await;
    fake.inject(
        Route::PlaceOrder,
        Fault::ServerErrorAfterAccept {
            status: 503,
            code: Some(-1007),
        },
    );
    client
        .place_order(&market(7, Side::Buy, dec!(0.1)))
        .await
        .unwrap();
    let mut texts = vec![format!("{client:?}")];
    let err = client
        .place_order(&limit(8, Side::Buy, dec!(0.001), dec!(1)))
        .await
        .unwrap_err();
    texts.push(format!("{err:?} {err}"));
    for request in fake.requests() {
        texts.push(format!(
            "{} {} {}",
            request.query, request.body, request.headers
        ));
    }
    for text in &texts {
        assert!(!text.contains(SECRET), "secret leaked: {text}");
    }
    assert!(!texts[0].contains(API_KEY), "api key leaked: {}", texts[0]);
    assert!(
        !texts[1].contains("signature"),
        "signature leaked: {}",
        texts[1]
    );
}

#[tokio::test]
async fn the_time_offset_is_measured_lazily_before_the_first_signed_request() {
    let fake = fake().await;
    fake.set_clock_skew_ms(-15_000);
    let client = BinanceClient::new(client_config(&fake)).unwrap();
    client.balances().await.unwrap();
    assert!(client.server_time_offset_ms() < -14_000);
    let paths: Vec<String> = fake.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/api/v3/time", "/api/v3/account"]);
}

/// Tokio's paused clock auto-advances only when every task is idle, and loopback I/O keeps the
/// fake's tasks busy, so the 10 s and 20 s back-offs pass without waiting.
#[tokio::test(start_paused = true)]
async fn read_back_off_doubles_between_attempts() {
    let fake = fake().await;
    let mut config = client_config(&fake);
    config.retry_base_delay = Duration::from_secs(10);
    config.request_timeout = Duration::from_secs(3_600);
    let client = client_with(config).await;
    fake.inject(
        Route::TickerPrice,
        Fault::ServerError {
            status: 503,
            code: None,
        },
    );
    fake.inject(
        Route::TickerPrice,
        Fault::ServerError {
            status: 503,
            code: None,
        },
    );
    let started = tokio::time::Instant::now();
    client.ticker_price(&btc()).await.unwrap();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(30), "{waited:?}");
    assert!(waited < Duration::from_secs(31), "{waited:?}");
}

#[tokio::test]
async fn ed25519_keys_sign_requests_the_fake_accepts() {
    use base64::Engine as _;
    use ed25519_dalek::pkcs8::EncodePrivateKey as _;
    let key = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
    let mut config = crate::support::fake_config();
    config.ed25519_public_key = Some(key.verifying_key().to_bytes());
    let fake = hybrid_testkit::binance::spawn(config).await;
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(key.to_pkcs8_der().unwrap().as_bytes())
    );
    let mut client_config = client_config(&fake);
    client_config.credentials = Some(Credentials::ed25519(API_KEY, &pem).unwrap());
    let client = client_with(client_config.clone()).await;
    client
        .place_order(&market(9, Side::Buy, dec!(0.1)))
        .await
        .unwrap();
    client_config.credentials = Some(Credentials::hmac(API_KEY, SECRET));
    let hmac_client = client_with(client_config).await;
    let err = hmac_client.balances().await.unwrap_err();
    assert!(
        matches!(err, ExchangeError::Api { code: -1022, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn a_waf_block_is_a_definitive_api_error_with_the_status() {
    let fake = fake().await;
    let client = client(&fake).await;
    fake.inject(Route::PlaceOrder, Fault::Forbidden);
    let err = client
        .place_order(&market(10, Side::Buy, dec!(0.1)))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ExchangeError::Api { code: 0, msg } if msg.starts_with("http 403")),
        "{err}"
    );
    assert!(fake.orders().is_empty());
}
