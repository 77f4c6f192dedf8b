//! The live-start check of the Binance API key: Binance reports whether the key can withdraw
//! and whether it is IP-restricted; a live start refuses a key that can withdraw or works
//! from any IP (new in the Rust system; the old one never looked).

use hybrid_exchange::binance::{restrictions::ApiRestrictions, BinanceClient};

use crate::{
    phases::{check_live_key, KeyPermissions},
    PortfolioError,
};

impl From<ApiRestrictions> for KeyPermissions {
    fn from(r: ApiRestrictions) -> Self {
        Self {
            can_withdraw: r.enable_withdrawals,
            ip_restricted: r.ip_restrict,
        }
    }
}

/// Asks Binance for the key's permissions and refuses an unsafe key. Call it before a live
/// (not testnet: the testnet has no `/sapi` endpoints) start.
///
/// # Errors
/// [`PortfolioError::UnsafeApiKey`] for a key that can withdraw or is not IP-restricted;
/// [`PortfolioError::Exchange`] when Binance cannot be asked (a live start must then not go on
/// either: the key's safety is unknown).
pub async fn check_live_api_key(client: &BinanceClient) -> Result<KeyPermissions, PortfolioError> {
    let permissions = KeyPermissions::from(client.api_restrictions().await?);
    check_live_key(permissions)?;
    Ok(permissions)
}
