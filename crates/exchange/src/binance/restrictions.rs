//! `GET /sapi/v1/account/apiRestrictions` (USER_DATA, weight 1): what the API key in use may
//! do, so that a live start can refuse a key that could withdraw funds or works from any IP.
//!
//! Binance answers, e.g.:
//! `{"ipRestrict": false, "createTime": 1698645219000, "enableReading": true,
//!   "enableWithdrawals": false, "enableInternalTransfer": true, "enableMargin": false,
//!   "enableFutures": false, "permitsUniversalTransfer": true, "enableVanillaOptions": false,
//!   "enableSpotAndMarginTrading": true}`.
//! The spot testnet has no `/sapi` endpoints: the check applies to live keys only.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::{
    binance::client::{BinanceClient, Request},
    ExchangeError,
};

/// The permissions Binance reports for the API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiRestrictions {
    /// The key only works from the IP addresses listed in Binance's API management.
    pub ip_restrict: bool,
    /// The key may withdraw funds.
    pub enable_withdrawals: bool,
    /// The key may read account data.
    #[serde(default)]
    pub enable_reading: bool,
    /// The key may trade spot (and margin).
    #[serde(default)]
    pub enable_spot_and_margin_trading: bool,
    /// The key may move funds between the user's own accounts.
    #[serde(default)]
    pub enable_internal_transfer: bool,
    /// When the key was created (UTC ms).
    #[serde(default)]
    pub create_time: i64,
}

impl BinanceClient {
    /// The API key's permissions (`GET /sapi/v1/account/apiRestrictions`, signed, weight 1).
    ///
    /// # Errors
    /// [`ExchangeError::Api`] for a rejected key or signature (e.g. `-2015`); connectivity,
    /// rate-limit or response errors ([`ExchangeError::InvalidResponse`] when the answer lacks
    /// `ipRestrict` or `enableWithdrawals`).
    pub async fn api_restrictions(&self) -> Result<ApiRestrictions, ExchangeError> {
        self.read(&Request::signed(
            Method::GET,
            "/sapi/v1/account/apiRestrictions",
            1,
        ))
        .await
    }
}
