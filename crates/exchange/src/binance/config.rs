//! Where and how the client talks to Binance: base URL, credentials, timing and retry limits.
//!
//! Every value has a documented default (apis.md §1.1–1.6); tests shrink the timings so the
//! unknown-outcome protocol runs in milliseconds.

use std::{fmt, time::Duration};

use crate::binance::sign::{KeyError, RequestSigner};

/// The Binance spot environments (apis.md §1.1). Paths (`/api/v3/...`) are appended to the
/// base URL, so a base URL never ends in `/api`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinanceEnvironment {
    /// Real money: `https://api.binance.com`.
    Mainnet,
    /// Spot testnet (reset about monthly): `https://testnet.binance.vision`.
    Testnet,
    /// Demo mode, real prices and fake money: `https://demo-api.binance.com`.
    Demo,
    /// Public market data only, no key: `https://data-api.binance.vision`.
    MarketData,
}

impl BinanceEnvironment {
    /// The REST base URL of this environment.
    #[must_use]
    pub const fn base_url(self) -> &'static str {
        match self {
            Self::Mainnet => "https://api.binance.com",
            Self::Testnet => "https://testnet.binance.vision",
            Self::Demo => "https://demo-api.binance.com",
            Self::MarketData => "https://data-api.binance.vision",
        }
    }
}

/// An API key and the key that signs requests. `Debug` shows neither.
#[derive(Clone)]
pub struct Credentials {
    pub(crate) api_key: String,
    pub(crate) signer: RequestSigner,
}

impl Credentials {
    /// An API key with its HMAC secret.
    #[must_use]
    pub fn hmac(api_key: impl Into<String>, secret: &str) -> Self {
        Self {
            api_key: api_key.into(),
            signer: RequestSigner::hmac(secret),
        }
    }

    /// An API key with an Ed25519 private key in PKCS#8 PEM.
    ///
    /// # Errors
    /// [`KeyError`] when the PEM does not hold an Ed25519 key.
    pub fn ed25519(api_key: impl Into<String>, private_key_pem: &str) -> Result<Self, KeyError> {
        Ok(Self {
            api_key: api_key.into(),
            signer: RequestSigner::ed25519_pem(private_key_pem)?,
        })
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("api_key", &mask(&self.api_key))
            .field("signer", &self.signer)
            .finish()
    }
}

/// Shows at most the first four characters of a key, so logs can tell keys apart.
fn mask(key: &str) -> String {
    let shown: String = key.chars().take(4).collect();
    if key.chars().count() > 8 {
        format!("{shown}***")
    } else {
        "***".to_owned()
    }
}

/// Everything the client needs. Build with [`BinanceConfig::new`] and adjust fields.
#[derive(Debug, Clone)]
pub struct BinanceConfig {
    /// REST base URL without a trailing slash, e.g. `https://api.binance.com` or a fake's
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// Key and signer; `None` allows public endpoints only.
    pub credentials: Option<Credentials>,
    /// `recvWindow` sent with signed requests, ms (Binance default 5000, max 60000).
    pub recv_window_ms: u32,
    /// How far into the past the signed `timestamp` is biased, ms, so clock jitter never puts
    /// it 1000 ms ahead of the server.
    pub timestamp_margin_ms: i64,
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// Whole-request timeout (Binance itself waits at most 10 s for its engine).
    pub request_timeout: Duration,
    /// `REQUEST_WEIGHT` budget per minute (6000 as of 2026-07). A lower limit announced in
    /// `exchangeInfo.rateLimits` replaces it; a higher one does not (this is our share).
    pub weight_limit_per_minute: u32,
    /// Attempts for a read (GET) that fails with a connectivity error or 5xx.
    pub read_attempts: u32,
    /// First back-off between read attempts; doubles each time.
    pub retry_base_delay: Duration,
    /// How long Binance may hold a request before its engine sees it, ms (10 000 in the docs).
    /// An order is provably absent only after `timestamp + recvWindow + this + margin`.
    pub engine_timeout_ms: i64,
    /// Extra safety before concluding an order was never placed, ms.
    pub absence_margin_ms: i64,
    /// Longest time spent resolving one unknown order outcome before giving up with
    /// `UnknownOutcome` (the engine's reconciliation continues from there).
    pub resolve_timeout: Duration,
    /// Attempts to place one order when earlier attempts were provably not placed.
    pub placement_attempts: u32,
    /// How often the server-time offset is re-measured before a signed request (10 min).
    pub resync_interval: Duration,
}

impl BinanceConfig {
    /// Documented defaults for `environment`, without credentials.
    #[must_use]
    pub fn new(environment: BinanceEnvironment) -> Self {
        Self::with_base_url(environment.base_url())
    }

    /// Documented defaults against any base URL (e.g. a fake server on 127.0.0.1).
    #[must_use]
    pub fn with_base_url(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            credentials: None,
            recv_window_ms: 5_000,
            timestamp_margin_ms: 500,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            weight_limit_per_minute: crate::binance::weight::DEFAULT_WEIGHT_LIMIT,
            read_attempts: 3,
            retry_base_delay: Duration::from_millis(500),
            engine_timeout_ms: 10_000,
            absence_margin_ms: 1_000,
            resolve_timeout: Duration::from_secs(60),
            placement_attempts: 3,
            resync_interval: Duration::from_secs(600),
        }
    }

    /// The same configuration with credentials.
    #[must_use]
    pub fn with_credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_secrets() {
        let config = BinanceConfig::new(BinanceEnvironment::Testnet).with_credentials(
            Credentials::hmac("vmPUZE6mv9SD5VNHk4HlWFsOr", "NhqPtmdSJYdKjVHjA7PZj4Mge3R5"),
        );
        let text = format!("{config:?}");
        assert!(!text.contains("vmPUZE6mv9SD5VNHk4HlWFsOr"), "{text}");
        assert!(!text.contains("NhqPtmdSJYdKjVHjA7PZj4Mge3R5"), "{text}");
        assert!(text.contains("vmPU***"), "{text}");
    }

    #[test]
    fn base_urls_have_no_trailing_slash() {
        assert_eq!(
            BinanceConfig::with_base_url("http://127.0.0.1:9/").base_url,
            "http://127.0.0.1:9"
        );
        assert_eq!(
            BinanceConfig::new(BinanceEnvironment::MarketData).base_url,
            "https://data-api.binance.vision"
        );
    }
}
