//! The live-start key check against the fake Binance server: a key that can withdraw, or is
//! not IP-restricted, is refused with a clear message; a safe key passes.
#![allow(clippy::unwrap_used)]

use hybrid_exchange::binance::{BinanceClient, BinanceConfig, Credentials};
use hybrid_portfolio::{check_live_api_key, KeyPermissions, PortfolioError};
use hybrid_testkit::binance::{spawn, FakeBinanceConfig};

const API_KEY: &str = "live-key-0123456789abcdef";
const SECRET: &str = "live-secret-NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP";

async fn check(can_withdraw: bool, ip_restrict: bool) -> Result<KeyPermissions, PortfolioError> {
    let mut config = FakeBinanceConfig::new(API_KEY, SECRET);
    config.can_withdraw = can_withdraw;
    config.ip_restrict = ip_restrict;
    let fake = spawn(config).await;
    let client = BinanceClient::new(
        BinanceConfig::with_base_url(fake.base_url())
            .with_credentials(Credentials::hmac(API_KEY, SECRET)),
    )
    .unwrap();
    check_live_api_key(&client).await
}

#[tokio::test]
async fn a_key_that_can_withdraw_is_refused() {
    let error = check(true, true).await.unwrap_err();
    assert!(
        matches!(error, PortfolioError::UnsafeApiKey(_)),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message
            .starts_with("refusing to trade live with this Binance API key: it can withdraw funds"),
        "{message}"
    );
}

#[tokio::test]
async fn a_key_without_ip_restriction_is_refused() {
    let message = check(false, false).await.unwrap_err().to_string();
    assert!(message.contains("not IP-restricted"), "{message}");
}

#[tokio::test]
async fn a_trade_only_ip_restricted_key_passes() {
    let permissions = check(false, true).await.unwrap();
    assert_eq!(
        permissions,
        KeyPermissions {
            can_withdraw: false,
            ip_restricted: true
        }
    );
}

#[tokio::test]
async fn a_wrong_key_is_an_exchange_error_not_a_pass() {
    let fake = spawn(FakeBinanceConfig::new(API_KEY, SECRET)).await;
    let client = BinanceClient::new(
        BinanceConfig::with_base_url(fake.base_url())
            .with_credentials(Credentials::hmac("someone-else", SECRET)),
    )
    .unwrap();
    let error = check_live_api_key(&client).await.unwrap_err();
    assert!(matches!(error, PortfolioError::Exchange(_)), "{error:?}");
}
