//! `GET /sapi/v1/account/apiRestrictions` of the fake: the API key's permissions, from
//! [`FakeBinanceConfig::can_withdraw`] and [`FakeBinanceConfig::ip_restrict`], in Binance's
//! shape (signed like every USER_DATA endpoint).

use serde_json::{json, Value};

use super::FakeBinanceConfig;

/// The answer for the configured key.
pub(super) fn api_restrictions(config: &FakeBinanceConfig) -> Value {
    json!({
        "ipRestrict": config.ip_restrict,
        "createTime": 1_698_645_219_000_i64,
        "enableReading": true,
        "enableWithdrawals": config.can_withdraw,
        "enableInternalTransfer": false,
        "enableMargin": false,
        "enableFutures": false,
        "permitsUniversalTransfer": false,
        "enableVanillaOptions": false,
        "enableFixApiTrade": false,
        "enableFixReadOnly": false,
        "enableSpotAndMarginTrading": true,
        "enablePortfolioMarginTrading": false
    })
}
