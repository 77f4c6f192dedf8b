//! The HTTP pipeline of [`BinanceClient`]: weight budget, signing, sending, classifying the
//! answer, the `-1021` re-sync, and retries for reads.
//!
//! Reads (GET) are retried with exponential back-off on connectivity errors, 5xx and the
//! "server side" codes; nothing that may change state is ever retried here (order placement has
//! its own protocol in `orders.rs`).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use hybrid_core::{ClientOrderId, Clock, SystemClock, Timestamp};
use reqwest::{header::HeaderMap, Method};
use serde::de::DeserializeOwned;

use crate::{
    binance::{
        config::BinanceConfig,
        sign::encode_query,
        time_sync::ServerClock,
        weight::{Refusal, WeightBudget},
        wire::{WireError, WireTime},
    },
    ExchangeError,
};

/// A Binance spot REST client (mainnet, testnet, demo, market-data host or a fake).
///
/// Cheap to share behind an `Arc`; all state (weight budget, time offset, order-id cache) uses
/// interior mutability. `Debug` never shows the API key or secret.
pub struct BinanceClient {
    pub(crate) config: BinanceConfig,
    http: reqwest::Client,
    pub(crate) clock: Arc<dyn Clock>,
    budget: WeightBudget,
    server_clock: ServerClock,
    /// `orderId → clientOrderId`, learnt from order responses; `myTrades` only gives `orderId`.
    pub(crate) client_ids: Mutex<HashMap<i64, ClientOrderId>>,
    order_counts: Mutex<OrderCounts>,
    /// Per symbol, where the next own-trades read starts (the venue's cursor: see `venue.rs`).
    pub(crate) trade_cursors: Mutex<HashMap<hybrid_core::Symbol, crate::TradesFrom>>,
}

/// The unfilled-order counts Binance reported last (`X-MBX-ORDER-COUNT-10S` / `-1D`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderCounts {
    /// Orders placed in the current 10-second window.
    pub ten_seconds: Option<u32>,
    /// Orders placed in the current day.
    pub day: Option<u32>,
}

impl std::fmt::Debug for BinanceClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BinanceClient")
            .field("config", &self.config)
            .field("offset_ms", &self.server_clock.offset_ms())
            .finish_non_exhaustive()
    }
}

/// One request before signing.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: Method,
    pub(crate) path: &'static str,
    pub(crate) params: Vec<(&'static str, String)>,
    /// Documented request weight, pre-charged against the budget.
    pub(crate) weight: u32,
    /// Whether the request is SIGNED (`timestamp`, `recvWindow`, `signature`, API key header).
    pub(crate) signed: bool,
}

impl Request {
    pub(crate) fn public(path: &'static str, weight: u32) -> Self {
        Self {
            method: Method::GET,
            path,
            params: Vec::new(),
            weight,
            signed: false,
        }
    }

    pub(crate) fn signed(method: Method, path: &'static str, weight: u32) -> Self {
        Self {
            method,
            path,
            params: Vec::new(),
            weight,
            signed: true,
        }
    }

    pub(crate) fn param(mut self, name: &'static str, value: impl ToString) -> Self {
        self.params.push((name, value.to_string()));
        self
    }
}

/// Why one HTTP exchange failed, before it is turned into an [`ExchangeError`].
#[derive(Debug, Clone)]
pub(crate) enum CallError {
    /// Not sent: the local budget or a running `Retry-After` refused it.
    Refused(Refusal),
    /// Never reached the server (connect failure): certainly no effect.
    Connect(String),
    /// Failed after the request may have been written (timeout, reset): outcome unknown.
    Transport(String),
    /// The server answered with a non-2xx status.
    Status {
        status: u16,
        code: Option<i64>,
        msg: String,
        retry_after_ms: Option<u64>,
    },
    /// A 2xx answer whose body is not the expected JSON.
    Malformed(String),
}

impl CallError {
    /// `-1021`: the timestamp is outside `recvWindow`; Binance did not forward the request.
    fn is_timestamp_error(&self) -> bool {
        matches!(
            self,
            Self::Status {
                code: Some(-1021),
                ..
            }
        )
    }

    /// Whether a read may be sent again after a pause.
    fn is_retryable_read(&self) -> bool {
        match self {
            Self::Connect(_) | Self::Transport(_) => true,
            Self::Status { status, code, .. } => {
                *status >= 500 || matches!(code, Some(-1000 | -1001 | -1006 | -1007 | -1008))
            }
            Self::Refused(_) | Self::Malformed(_) => false,
        }
    }

    /// Whether a state-changing request may have taken effect (apis.md §1.12).
    pub(crate) fn is_unknown_outcome(&self) -> bool {
        match self {
            Self::Transport(_) | Self::Malformed(_) => true,
            Self::Status { status, code, .. } => {
                *status >= 500 || matches!(code, Some(-1000 | -1001 | -1006 | -1007 | -1008))
            }
            Self::Refused(_) | Self::Connect(_) => false,
        }
    }

    pub(crate) fn into_error(self) -> ExchangeError {
        match self {
            Self::Refused(refusal) => rate_limited(refusal.retry_after_ms, refusal.banned),
            Self::Connect(detail) => ExchangeError::Connectivity(detail),
            Self::Transport(detail) => ExchangeError::UnknownOutcome {
                client_order_id: None,
                detail,
            },
            Self::Malformed(detail) => ExchangeError::InvalidResponse(detail),
            Self::Status {
                status,
                code,
                msg,
                retry_after_ms,
            } => status_error(status, code, &msg, retry_after_ms),
        }
    }
}

fn rate_limited(retry_after_ms: u64, banned: bool) -> ExchangeError {
    ExchangeError::RateLimited {
        retry_after_ms: i64::try_from(retry_after_ms).unwrap_or(i64::MAX),
        banned,
    }
}

fn status_error(
    status: u16,
    code: Option<i64>,
    msg: &str,
    retry_after_ms: Option<u64>,
) -> ExchangeError {
    match (status, code) {
        (429 | 418, _) => rate_limited(retry_after_ms.unwrap_or(0), status == 418),
        (500.., _) => ExchangeError::UnknownOutcome {
            client_order_id: None,
            detail: format!(
                "http {status}: {}",
                code.map_or_else(|| msg.to_owned(), |c| format!("{c} {msg}"))
            ),
        },
        (_, Some(code)) => ExchangeError::from_binance_code(code, msg),
        (_, None) => ExchangeError::Api {
            code: 0,
            msg: format!("http {status}: {msg}"),
        },
    }
}

impl BinanceClient {
    /// A client with the system clock. Does not contact the server: the time offset is
    /// measured before the first signed request, again every `resync_interval`, and at once on
    /// `-1021` ([`BinanceClient::sync_time`] measures it explicitly).
    ///
    /// # Errors
    /// [`ExchangeError::InvalidRequest`] when the HTTP client cannot be built (e.g. no TLS
    /// backend).
    pub fn new(config: BinanceConfig) -> Result<Self, ExchangeError> {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// A client reading wall-clock time from `clock` (a `SimClock` in tests).
    ///
    /// # Errors
    /// As [`BinanceClient::new`].
    pub fn with_clock(config: BinanceConfig, clock: Arc<dyn Clock>) -> Result<Self, ExchangeError> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .user_agent("hybrid/0.1")
            .build()
            .map_err(|e| ExchangeError::InvalidRequest(format!("cannot build http client: {e}")))?;
        Ok(Self {
            budget: WeightBudget::new(config.weight_limit_per_minute),
            config,
            http,
            clock,
            server_clock: ServerClock::default(),
            client_ids: Mutex::new(HashMap::new()),
            order_counts: Mutex::new(OrderCounts::default()),
            trade_cursors: Mutex::new(HashMap::new()),
        })
    }

    /// Measures the server-time offset (`GET /api/v3/time`, weight 1) and keeps it.
    ///
    /// # Errors
    /// Connectivity, rate-limit or response errors.
    pub async fn sync_time(&self) -> Result<Timestamp, ExchangeError> {
        self.measure_offset().await.map_err(CallError::into_error)
    }

    /// Our current estimate of `server time − local time`, ms.
    #[must_use]
    pub fn server_time_offset_ms(&self) -> i64 {
        self.server_clock.offset_ms()
    }

    /// Request weight used in the current minute, as last reported by the server.
    #[must_use]
    pub fn used_weight(&self) -> u32 {
        self.budget.used(self.clock.now())
    }

    /// The unfilled-order counts from the last successful order response.
    #[must_use]
    pub fn order_counts(&self) -> OrderCounts {
        *self
            .order_counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Adopts the exchange's announced weight limit per minute, never above the configured
    /// one (a process sharing its IP with others is given a smaller share on purpose).
    pub(crate) fn adopt_weight_limit(&self, announced: u32) {
        self.budget
            .set_limit(announced.min(self.config.weight_limit_per_minute));
    }

    /// The server's time now, by our estimate.
    pub(crate) fn server_now(&self) -> Timestamp {
        self.server_clock.server_now(self.clock.now())
    }

    async fn measure_offset(&self) -> Result<Timestamp, CallError> {
        let request = Request::public("/api/v3/time", 1);
        let before = self.clock.now();
        let body = self.send_once(&request, &mut None).await?;
        let after = self.clock.now();
        let time: WireTime = parse_body(&body)?;
        let server = Timestamp::from_millis(time.server_time);
        self.server_clock.record(before, after, server);
        Ok(server)
    }

    /// A read: `-1021` re-sync, then retries with back-off on connectivity errors and 5xx.
    pub(crate) async fn read<T: DeserializeOwned>(
        &self,
        request: &Request,
    ) -> Result<T, ExchangeError> {
        let mut delay = self.config.retry_base_delay;
        let mut attempt = 1;
        loop {
            let result = self.call(request, &mut None).await;
            match result.and_then(|body| parse_body(&body)) {
                Ok(value) => return Ok(value),
                Err(error) if error.is_retryable_read() && attempt < self.config.read_attempts => {
                    tracing::debug!(path = request.path, attempt, ?error, "retrying read");
                    tokio::time::sleep(delay).await;
                    delay = delay.saturating_mul(2);
                    attempt += 1;
                }
                Err(error) => return Err(error.into_error()),
            }
        }
    }

    /// Sends once; on `-1021` re-measures the time offset and sends once more (safe even for
    /// orders: Binance rejects a bad timestamp before forwarding). `signed_at` receives the
    /// latest `timestamp` signed, in server time.
    pub(crate) async fn call(
        &self,
        request: &Request,
        signed_at: &mut Option<Timestamp>,
    ) -> Result<String, CallError> {
        let max_age_ms = i64::try_from(self.config.resync_interval.as_millis()).unwrap_or(i64::MAX);
        let has_key = self.config.credentials.is_some();
        if request.signed && has_key && self.server_clock.is_stale(self.clock.now(), max_age_ms) {
            self.measure_offset().await?;
        }
        match self.send_once(request, signed_at).await {
            Err(error) if request.signed && error.is_timestamp_error() => {
                tracing::warn!(
                    path = request.path,
                    "timestamp outside recvWindow; re-syncing"
                );
                self.server_clock.reset();
                self.measure_offset().await?;
                self.send_once(request, signed_at).await
            }
            other => other,
        }
    }

    async fn send_once(
        &self,
        request: &Request,
        signed_at: &mut Option<Timestamp>,
    ) -> Result<String, CallError> {
        self.budget
            .try_acquire(self.clock.now(), request.weight)
            .map_err(CallError::Refused)?;
        let (query, api_key) = self.build_query(request, signed_at)?;
        let url = if query.is_empty() {
            format!("{}{}", self.config.base_url, request.path)
        } else {
            format!("{}{}?{query}", self.config.base_url, request.path)
        };
        let mut builder = self.http.request(request.method.clone(), url);
        if let Some(key) = api_key {
            builder = builder.header("X-MBX-APIKEY", key);
        }
        let response = builder.send().await.map_err(transport_error)?;
        let status = response.status().as_u16();
        self.observe_headers(response.headers(), status);
        let body = response.text().await.map_err(transport_error)?;
        if (200..300).contains(&status) {
            Ok(body)
        } else {
            Err(self.status_failure(status, &body))
        }
    }

    /// The encoded query, signed when needed, and the API key to send with it.
    fn build_query(
        &self,
        request: &Request,
        signed_at: &mut Option<Timestamp>,
    ) -> Result<(String, Option<&str>), CallError> {
        if !request.signed {
            return Ok((encode_query(&request.params), None));
        }
        let Some(credentials) = &self.config.credentials else {
            return Err(CallError::Status {
                status: 401,
                code: Some(-2015),
                msg: "no api key configured for a signed request".to_owned(),
                retry_after_ms: None,
            });
        };
        let timestamp = self
            .server_now()
            .plus_millis(-self.config.timestamp_margin_ms);
        *signed_at = Some(signed_at.map_or(timestamp, |earlier| earlier.max(timestamp)));
        let mut params = request.params.clone();
        params.push(("recvWindow", self.config.recv_window_ms.to_string()));
        params.push(("timestamp", timestamp.as_millis().to_string()));
        let query = encode_query(&params);
        let signature = credentials.signer.sign(&query);
        Ok((
            format!("{query}&signature={signature}"),
            Some(&credentials.api_key),
        ))
    }

    fn observe_headers(&self, headers: &HeaderMap, status: u16) {
        let number =
            |name: &str| -> Option<u32> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
        let now = self.clock.now();
        if let Some(used) = number("x-mbx-used-weight-1m") {
            self.budget.observe_used(now, used);
        }
        if status == 429 || status == 418 {
            let retry_after_ms = u64::from(number("retry-after").unwrap_or(60)) * 1000;
            self.budget.block(now, retry_after_ms, status == 418);
        }
        let ten_seconds = number("x-mbx-order-count-10s");
        let day = number("x-mbx-order-count-1d");
        if ten_seconds.is_some() || day.is_some() {
            *self
                .order_counts
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = OrderCounts { ten_seconds, day };
        }
    }

    fn status_failure(&self, status: u16, body: &str) -> CallError {
        let (code, msg) = match serde_json::from_str::<WireError>(body) {
            Ok(error) => (Some(error.code), error.msg),
            Err(_) => (None, body.chars().take(200).collect()),
        };
        let retry_after_ms = (status == 429 || status == 418).then(|| {
            let refusal = self.budget.try_acquire(self.clock.now(), 0);
            refusal.err().map_or(0, |r| r.retry_after_ms)
        });
        CallError::Status {
            status,
            code,
            msg,
            retry_after_ms,
        }
    }
}

fn transport_error(error: reqwest::Error) -> CallError {
    // Never include the URL: it carries the signature.
    let error = error.without_url();
    if error.is_connect() {
        CallError::Connect(format!("cannot connect: {error}"))
    } else if error.is_timeout() {
        CallError::Transport(format!("timed out: {error}"))
    } else {
        CallError::Transport(format!("transport failure: {error}"))
    }
}

pub(crate) fn parse_body<T: DeserializeOwned>(body: &str) -> Result<T, CallError> {
    serde_json::from_str(body).map_err(|e| {
        let start: String = body.chars().take(80).collect();
        CallError::Malformed(format!("{e} in {start:?}"))
    })
}

/// The pause before the next attempt to resolve an order: doubles, capped at `max`.
pub(crate) fn next_delay(delay: Duration, max: Duration) -> Duration {
    delay.saturating_mul(2).min(max)
}
