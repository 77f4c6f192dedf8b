//! Market-cap sources for the index tier: a CoinGecko-compatible `/coins/markets` client and a
//! static list (the offline default, and what a backtest uses).
//!
//! CoinGecko answers `GET {base}/coins/markets?vs_currency=usd&order=market_cap_desc&per_page=N&page=1`
//! with an array of coins, each with at least `symbol` (lower case) and `market_cap` (a number,
//! or null for a coin without one). Answers are cached for a TTL so the hourly index update
//! does not hit the free tier's rate limit.

use std::{
    future::Future,
    str::FromStr,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use hybrid_core::{Clock, Timestamp};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::{index::MarketCap, PortfolioError};

/// Something that lists coins by market cap, largest first.
pub trait MarketCapSource: Send + Sync {
    /// Up to `limit` coins, largest market cap first.
    ///
    /// # Errors
    /// [`PortfolioError::MarketCaps`] when the source cannot be read or answers nonsense.
    fn top_market_caps(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<MarketCap>, PortfolioError>> + Send;
}

/// A fixed list of coins and market caps (configuration `portfolio.index_coins`), used offline
/// and in backtests.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StaticMarketCaps {
    caps: Vec<MarketCap>,
}

impl StaticMarketCaps {
    /// The list as given.
    #[must_use]
    pub fn new(caps: Vec<MarketCap>) -> Self {
        Self { caps }
    }

    /// Parses `BASE:MARKET_CAP` entries, e.g. `["BTC:1300000000000", "ETH:400000000000"]`.
    ///
    /// # Errors
    /// [`PortfolioError::InvalidInput`] naming the entry that is not `BASE:NUMBER` with a
    /// positive number.
    pub fn parse(entries: &[String]) -> Result<Self, PortfolioError> {
        let caps = entries
            .iter()
            .map(|entry| {
                let (base, cap) = entry.split_once(':').ok_or_else(|| {
                    PortfolioError::InvalidInput(format!(
                        "index coin {entry:?}: expected BASE:MARKET_CAP, e.g. BTC:1300000000000"
                    ))
                })?;
                let cap = Decimal::from_str(cap.trim())
                    .ok()
                    .filter(|c| *c > Decimal::ZERO)
                    .ok_or_else(|| {
                        PortfolioError::InvalidInput(format!(
                            "index coin {entry:?}: the market cap must be a positive number"
                        ))
                    })?;
                let base = base.trim();
                if base.is_empty() || !base.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(PortfolioError::InvalidInput(format!(
                        "index coin {entry:?}: the coin must be a ticker such as BTC"
                    )));
                }
                Ok(MarketCap::new(base, cap))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { caps })
    }

    /// The coins of the bundled candle data with rounded market caps of late 2024, in USD:
    /// a reasonable default index when no markets source is configured.
    #[must_use]
    pub fn default_list() -> Self {
        let caps = [
            ("BTC", 1_300_000_000_000_i64),
            ("ETH", 400_000_000_000),
            ("XRP", 80_000_000_000),
            ("SOL", 100_000_000_000),
            ("BNB", 90_000_000_000),
            ("DOGE", 50_000_000_000),
            ("LINK", 10_000_000_000),
            ("SHIB", 14_000_000_000),
            ("UNI", 8_000_000_000),
            ("AAVE", 4_000_000_000),
            ("PEPE", 8_000_000_000),
        ];
        Self::new(
            caps.iter()
                .map(|(b, c)| MarketCap::new(b, Decimal::from(*c)))
                .collect(),
        )
    }

    /// The entries, largest first.
    #[must_use]
    pub fn caps(&self) -> Vec<MarketCap> {
        let mut caps = self.caps.clone();
        caps.sort_by_key(|c| std::cmp::Reverse(c.market_cap));
        caps
    }
}

impl MarketCapSource for StaticMarketCaps {
    async fn top_market_caps(&self, limit: usize) -> Result<Vec<MarketCap>, PortfolioError> {
        let mut caps = self.caps();
        caps.truncate(limit);
        Ok(caps)
    }
}

/// One coin of `/coins/markets`.
#[derive(Debug, Deserialize)]
struct WireCoin {
    symbol: String,
    #[serde(default)]
    market_cap: Option<serde_json::Number>,
}

/// A JSON number as a decimal (CoinGecko sends plain integers, floats or exponent notation).
fn number_to_decimal(number: &serde_json::Number) -> Option<Decimal> {
    let text = number.to_string();
    Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .ok()
}

/// A cached answer.
#[derive(Debug, Clone)]
struct Cached {
    at: Timestamp,
    limit: usize,
    caps: Vec<MarketCap>,
}

/// A CoinGecko-compatible `/coins/markets` client with a TTL cache.
pub struct CoinGeckoClient {
    http: reqwest::Client,
    base_url: String,
    api_key: Option<String>,
    ttl_ms: i64,
    clock: Arc<dyn Clock>,
    cache: Mutex<Option<Cached>>,
}

impl std::fmt::Debug for CoinGeckoClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoinGeckoClient")
            .field("base_url", &self.base_url)
            .field("ttl_ms", &self.ttl_ms)
            .finish_non_exhaustive()
    }
}

impl CoinGeckoClient {
    /// A client for `base_url` (e.g. `https://api.coingecko.com/api/v3`), caching answers for
    /// `ttl`, with an optional demo API key (sent as `x-cg-demo-api-key`, never logged).
    ///
    /// # Errors
    /// [`PortfolioError::MarketCaps`] when the HTTP client cannot be built.
    pub fn new(
        base_url: &str,
        api_key: Option<String>,
        ttl: Duration,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, PortfolioError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| PortfolioError::MarketCaps(format!("HTTP client: {e}")))?;
        Ok(Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key,
            ttl_ms: i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX),
            clock,
            cache: Mutex::new(None),
        })
    }

    fn cached(&self, limit: usize, now: Timestamp) -> Option<Vec<MarketCap>> {
        let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        cache
            .as_ref()
            .filter(|c| c.limit >= limit && now.as_millis() - c.at.as_millis() < self.ttl_ms)
            .map(|c| c.caps.iter().take(limit).cloned().collect())
    }

    async fn fetch(&self, limit: usize) -> Result<Vec<MarketCap>, PortfolioError> {
        let url = format!("{}/coins/markets", self.base_url);
        let per_page = limit.clamp(1, 250).to_string();
        let mut request = self.http.get(&url).query(&[
            ("vs_currency", "usd"),
            ("order", "market_cap_desc"),
            ("per_page", per_page.as_str()),
            ("page", "1"),
        ]);
        if let Some(key) = &self.api_key {
            request = request.header("x-cg-demo-api-key", key);
        }
        let response = request
            .send()
            .await
            .map_err(|e| PortfolioError::MarketCaps(format!("GET {url}: {e}")))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| PortfolioError::MarketCaps(format!("GET {url}: {e}")))?;
        if !status.is_success() {
            let excerpt: String = body.chars().take(200).collect();
            return Err(PortfolioError::MarketCaps(format!(
                "GET {url}: HTTP {status}: {excerpt}"
            )));
        }
        let coins: Vec<WireCoin> = serde_json::from_str(&body).map_err(|e| {
            PortfolioError::MarketCaps(format!(
                "GET {url}: not a list of coins with symbol and market_cap: {e}"
            ))
        })?;
        Ok(coins
            .into_iter()
            .filter_map(|c| {
                c.market_cap
                    .as_ref()
                    .and_then(number_to_decimal)
                    .map(|cap| MarketCap::new(&c.symbol, cap))
            })
            .collect())
    }
}

impl MarketCapSource for CoinGeckoClient {
    async fn top_market_caps(&self, limit: usize) -> Result<Vec<MarketCap>, PortfolioError> {
        let now = self.clock.now();
        if let Some(caps) = self.cached(limit, now) {
            return Ok(caps);
        }
        let caps = self.fetch(limit).await?;
        *self.cache.lock().unwrap_or_else(PoisonError::into_inner) = Some(Cached {
            at: now,
            limit,
            caps: caps.clone(),
        });
        Ok(caps)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::test_support::settle;
    use rust_decimal_macros::dec;

    #[test]
    fn static_list_parses_and_sorts() {
        let list = StaticMarketCaps::parse(&["eth:400".to_owned(), "BTC:1300".to_owned()]).unwrap();
        let caps = settle(list.top_market_caps(1)).unwrap();
        assert_eq!(caps, [MarketCap::new("BTC", dec!(1300))]);
        for bad in ["BTC", "BTC:-1", "BTC:lots", ":5", "B-C:5"] {
            let error = StaticMarketCaps::parse(&[bad.to_owned()])
                .unwrap_err()
                .to_string();
            assert!(error.contains(&format!("{bad:?}")), "{error}");
        }
    }
}
