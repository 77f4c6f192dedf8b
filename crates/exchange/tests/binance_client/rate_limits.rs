//! Weight budget, 429 and 418 handling. Wall-clock time comes from a `SimClock`, so the
//! `Retry-After` periods pass instantly. (`start_paused` tokio time cannot be used here: the
//! fake and the client talk over real sockets, and a paused runtime would fire the HTTP
//! timeouts while it waits for I/O.)

use std::sync::Arc;

use hybrid_core::{Clock, SimClock, SystemClock};
use hybrid_exchange::{binance::BinanceClient, Account, ExchangeError, MarketData};
use hybrid_testkit::binance::{spawn, Fault, Route};

use crate::support::{btc, client_config, fake, fake_config};

async fn sim_client(
    fake: &hybrid_testkit::binance::FakeBinance,
    weight_limit: u32,
) -> (BinanceClient, Arc<SimClock>) {
    let clock = Arc::new(SimClock::new(SystemClock.now()));
    let mut config = client_config(fake);
    config.weight_limit_per_minute = weight_limit;
    config.recv_window_ms = 60_000;
    let client = BinanceClient::with_clock(config, Arc::clone(&clock) as Arc<dyn Clock>).unwrap();
    client.sync_time().await.unwrap();
    (client, clock)
}

fn count(fake: &hybrid_testkit::binance::FakeBinance, path: &str) -> usize {
    fake.requests().iter().filter(|r| r.path == path).count()
}

#[tokio::test]
async fn after_429_nothing_is_sent_until_retry_after() {
    let fake = fake().await;
    let (client, clock) = sim_client(&fake, 6000).await;
    fake.inject(
        Route::TickerPrice,
        Fault::TooManyRequests {
            retry_after_secs: 30,
        },
    );
    let err = client.ticker_price(&btc()).await.unwrap_err();
    assert_eq!(
        err,
        ExchangeError::RateLimited {
            retry_after_ms: 30_000,
            banned: false
        }
    );
    let sent = fake.requests().len();
    clock.advance_by(29_000).unwrap();
    let err = client.balances().await.unwrap_err();
    assert_eq!(
        err,
        ExchangeError::RateLimited {
            retry_after_ms: 1_000,
            banned: false
        }
    );
    assert_eq!(fake.requests().len(), sent, "refused locally, not sent");
    clock.advance_by(1_000).unwrap();
    client.ticker_price(&btc()).await.unwrap();
}

#[tokio::test]
async fn a_418_ban_halts_everything_until_it_ends() {
    let fake = fake().await;
    let (client, clock) = sim_client(&fake, 6000).await;
    fake.inject(
        Route::Account,
        Fault::Banned {
            retry_after_secs: 120,
        },
    );
    let err = client.balances().await.unwrap_err();
    assert_eq!(
        err,
        ExchangeError::RateLimited {
            retry_after_ms: 120_000,
            banned: true
        }
    );
    let sent = fake.requests().len();
    for _ in 0..5 {
        let err = client.ticker_price(&btc()).await.unwrap_err();
        assert!(
            matches!(err, ExchangeError::RateLimited { banned: true, .. }),
            "{err}"
        );
    }
    assert_eq!(fake.requests().len(), sent);
    clock.advance_by(120_000).unwrap();
    client.ticker_price(&btc()).await.unwrap();
}

#[tokio::test]
async fn the_local_budget_refuses_before_the_server_must() {
    let fake = fake().await;
    let (client, clock) = sim_client(&fake, 45).await;
    // sync_time used 1; exchangeInfo weighs 20.
    client.exchange_info().await.unwrap();
    client.exchange_info().await.unwrap();
    let err = client.exchange_info().await.unwrap_err();
    assert!(
        matches!(err, ExchangeError::RateLimited { banned: false, .. }),
        "{err}"
    );
    assert_eq!(count(&fake, "/api/v3/exchangeInfo"), 2);
    clock.advance_by(60_000).unwrap();
    client.exchange_info().await.unwrap();
}

#[tokio::test]
async fn the_weight_header_corrects_the_local_count() {
    let fake = fake().await;
    // Another process on the same IP has used 60 weight.
    let http = reqwest::Client::new();
    for _ in 0..3 {
        http.get(format!("{}/api/v3/exchangeInfo", fake.base_url()))
            .send()
            .await
            .unwrap();
    }
    let (client, _clock) = sim_client(&fake, 70).await;
    assert!(
        client.used_weight() >= 61,
        "header adopted: {}",
        client.used_weight()
    );
    let err = client.exchange_info().await.unwrap_err();
    assert!(matches!(err, ExchangeError::RateLimited { .. }), "{err}");
    assert_eq!(count(&fake, "/api/v3/exchangeInfo"), 3);
}

#[tokio::test]
async fn the_announced_weight_limit_is_adopted_from_exchange_info() {
    let mut config = fake_config();
    config.weight_limit = 30;
    let fake = spawn(config).await;
    let (client, _clock) = sim_client(&fake, 6000).await;
    client.exchange_info().await.unwrap();
    let err = client.exchange_info().await.unwrap_err();
    assert!(
        matches!(err, ExchangeError::RateLimited { banned: false, .. }),
        "{err}"
    );
    assert_eq!(count(&fake, "/api/v3/exchangeInfo"), 1, "refused locally");
}

#[tokio::test]
async fn the_fake_answers_429_past_its_limit_and_418_to_clients_that_ignore_it() {
    let mut config = fake_config();
    config.weight_limit = 30;
    let fake = spawn(config).await;
    let (client, _clock) = sim_client(&fake, 6000).await;
    // sync_time used 1; each ticker weighs 2, so the 15th passes 30.
    for _ in 0..14 {
        client.ticker_price(&btc()).await.unwrap();
    }
    let err = client.ticker_price(&btc()).await.unwrap_err();
    assert!(
        matches!(err, ExchangeError::RateLimited { banned: false, retry_after_ms } if retry_after_ms > 0),
        "{err}"
    );
    // The client keeps quiet; a careless client gets banned.
    let sent = fake.requests().len();
    let err = client.ticker_price(&btc()).await.unwrap_err();
    assert!(
        matches!(err, ExchangeError::RateLimited { banned: false, .. }),
        "{err}"
    );
    assert_eq!(fake.requests().len(), sent);
    let response = reqwest::get(format!("{}/api/v3/time", fake.base_url()))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 418);
    assert!(response.headers().contains_key("retry-after"));
}
