//! A fake Binance spot REST server on 127.0.0.1, backed by the shared
//! [`hybrid_exchange::MatchingEngine`], for testing the real `BinanceClient` (apis.md §1.15).
//!
//! It speaks Binance's JSON shapes and checks what Binance checks: the API key (`-2015`), the
//! HMAC-SHA256 signature over the query string plus body exactly as received (`-1022`), the
//! `timestamp`/`recvWindow` window against its own clock with a scriptable skew (`-1021`),
//! filters (`-1013`) and balances (`-2010`) through the matching engine. It counts request
//! weight per fixed window and answers 429 (`-1003`, `Retry-After`) when it is exceeded, then 418
//! when a client keeps sending during the back-off.
//!
//! Faults are scripted per route ([`FakeBinance::inject`]) or by a function deciding for every
//! request ([`FakeBinance::set_fault_fn`]); see [`Fault`]. Faults "after accept" apply the
//! request to the engine first, which is how an order exists while the client saw a failure.

mod restrictions;
mod server;

pub use server::STATE_PATH;

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use hybrid_core::{Candle, Order, Price, Symbol, SymbolFilters};
use hybrid_exchange::{Balance, MatchingConfig, MatchingEngine};

/// What the fake server starts with.
#[derive(Debug, Clone)]
pub struct FakeBinanceConfig {
    /// The API key clients must send in `X-MBX-APIKEY`.
    pub api_key: String,
    /// The HMAC secret signatures are checked with.
    pub secret: String,
    /// When set, signatures are checked as Ed25519 (base64) with this public key instead of
    /// HMAC.
    pub ed25519_public_key: Option<[u8; 32]>,
    /// Listed symbols and their filters.
    pub symbols: Vec<SymbolFilters>,
    /// The account's starting (free) balances.
    pub balances: Vec<Balance>,
    /// Starting last prices.
    pub prices: Vec<(Symbol, Price)>,
    /// Fees, slippage and partial-fill policy of the matching engine.
    pub matching: MatchingConfig,
    /// Request weight allowed per window before 429.
    pub weight_limit: u32,
    /// Length of the weight window (Binance: one minute).
    pub weight_window: Duration,
    /// How long a 418 ban lasts, in whole seconds.
    pub ban_secs: u64,
    /// `apiRestrictions`: whether the API key may withdraw (default false).
    pub can_withdraw: bool,
    /// `apiRestrictions`: whether the API key is restricted to trusted IPs (default true).
    pub ip_restrict: bool,
}

impl FakeBinanceConfig {
    /// A fake with Binance's default limits and no symbols or money.
    #[must_use]
    pub fn new(api_key: &str, secret: &str) -> Self {
        Self {
            api_key: api_key.to_owned(),
            secret: secret.to_owned(),
            symbols: Vec::new(),
            balances: Vec::new(),
            prices: Vec::new(),
            matching: MatchingConfig::default(),
            weight_limit: 6000,
            weight_window: Duration::from_secs(60),
            ban_secs: 120,
            ed25519_public_key: None,
            can_withdraw: false,
            ip_restrict: true,
        }
    }
}

/// The endpoint a request is for, to aim faults at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    /// `GET /api/v3/ping`, `GET /api/v3/time`.
    Time,
    /// `GET /api/v3/exchangeInfo`.
    ExchangeInfo,
    /// `GET /api/v3/ticker/price`.
    TickerPrice,
    /// `GET /api/v3/ticker/24hr`.
    Ticker24h,
    /// `GET /api/v3/klines`.
    Klines,
    /// `GET /api/v3/account`.
    Account,
    /// `POST /api/v3/order`.
    PlaceOrder,
    /// `GET /api/v3/order`.
    QueryOrder,
    /// `DELETE /api/v3/order`.
    CancelOrder,
    /// `GET /api/v3/openOrders`.
    OpenOrders,
    /// `GET /api/v3/myTrades`.
    MyTrades,
    /// `GET /sapi/v1/account/apiRestrictions`.
    ApiRestrictions,
}

/// A scripted misbehaviour for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Wait before handling; the `recvWindow` check is repeated after the wait (as Binance
    /// does before forwarding to its engine), so a late order is rejected, not applied.
    DelayBeforeAccept(Duration),
    /// Handle the request, then wait before answering (the client times out while the order
    /// exists).
    DelayAfterAccept(Duration),
    /// Handle the request, then break the connection in the middle of the answer.
    DropAfterAccept,
    /// Answer with this 5xx status without handling; `code` adds a JSON body
    /// `{"code": code, "msg": ..}`, `None` sends an HTML page.
    ServerError {
        /// HTTP status, e.g. 502.
        status: u16,
        /// Binance code in the body, e.g. -1001.
        code: Option<i64>,
    },
    /// Handle the request, then answer with this 5xx status (e.g. 503 with `-1007`).
    ServerErrorAfterAccept {
        /// HTTP status.
        status: u16,
        /// Binance code in the body.
        code: Option<i64>,
    },
    /// Handle the request, then answer 200 with truncated JSON.
    MalformedJson,
    /// Handle the order, answer 503 `-1007`, and answer `-2013` to queries of it for
    /// `visible_after` (Binance reads "Memory ⇒ Database": a new order may not be visible yet).
    HiddenAfterAccept {
        /// How long queries do not see the order.
        visible_after: Duration,
    },
    /// Answer 403 with an HTML page (a WAF block), without handling.
    Forbidden,
    /// Answer 429 `-1003` with `Retry-After`, without handling.
    TooManyRequests {
        /// Seconds in `Retry-After`.
        retry_after_secs: u64,
    },
    /// Answer 418 (IP banned) with `Retry-After`, without handling.
    Banned {
        /// Seconds in `Retry-After`.
        retry_after_secs: u64,
    },
}

/// A request as the fake received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Path, e.g. `/api/v3/order`.
    pub path: String,
    /// The raw query string.
    pub query: String,
    /// The raw body.
    pub body: String,
    /// All header values, joined (to check that no secret is sent).
    pub headers: String,
}

type FaultFn = Box<dyn FnMut(Route) -> Option<Fault> + Send>;

/// The fake's shared state.
pub(crate) struct Shared {
    pub(crate) config: FakeBinanceConfig,
    pub(crate) engine: Mutex<MatchingEngine>,
    pub(crate) klines: Mutex<HashMap<(Symbol, String), Vec<Candle>>>,
    pub(crate) skew_ms: std::sync::atomic::AtomicI64,
    pub(crate) faults: Mutex<HashMap<Route, VecDeque<Fault>>>,
    pub(crate) fault_fn: Mutex<Option<FaultFn>>,
    pub(crate) limits: Mutex<server::LimitState>,
    pub(crate) requests: Mutex<Vec<RecordedRequest>>,
    pub(crate) next_cancel_id: std::sync::atomic::AtomicU64,
    /// Client order ids that queries do not see until the given server time.
    pub(crate) hidden: Mutex<HashMap<String, hybrid_core::Timestamp>>,
    /// When set, the market follows the clients' clocks through these candles.
    pub(crate) replay: Mutex<Option<MarketReplay>>,
}

/// A market driven by candles at the time signed requests carry (see
/// [`FakeBinance::replay_market`]).
pub(crate) struct MarketReplay {
    /// Length of one candle, in milliseconds.
    interval_ms: i64,
    /// The candles not yet traded, oldest first, per symbol.
    pending: HashMap<Symbol, VecDeque<Candle>>,
    /// The latest time a request carried: the fake's "now".
    pub(crate) time: hybrid_core::Timestamp,
}

impl MarketReplay {
    /// Trades every candle that closed at or before `time` through the matching engine.
    pub(crate) fn advance(&mut self, engine: &mut MatchingEngine, time: hybrid_core::Timestamp) {
        if time > self.time {
            self.time = time;
        }
        for (symbol, candles) in &mut self.pending {
            while let Some(candle) = candles.front() {
                if candle.open_time().plus_millis(self.interval_ms) > self.time {
                    break;
                }
                engine.on_candle(symbol, candle);
                candles.pop_front();
            }
        }
    }
}

/// A running fake Binance server; it stops when dropped.
pub struct FakeBinance {
    base_url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for FakeBinance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeBinance")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// Starts a fake Binance on `127.0.0.1:0`.
///
/// # Panics
/// If no local port can be bound (the test cannot run at all then).
pub async fn spawn(config: FakeBinanceConfig) -> FakeBinance {
    spawn_on(config, 0)
        .await
        .unwrap_or_else(|e| panic!("cannot bind 127.0.0.1:0: {e}"))
}

/// Starts a fake Binance on `127.0.0.1:port` (0: any free port), for the `fake_binance`
/// binary, which may be asked for a fixed port.
///
/// # Errors
/// The I/O error when the port cannot be bound.
pub async fn spawn_on(config: FakeBinanceConfig, port: u16) -> std::io::Result<FakeBinance> {
    let mut engine = MatchingEngine::new(
        config.matching.clone(),
        config.symbols.clone(),
        &config.balances,
    );
    let now = server::wall_clock();
    for (symbol, price) in &config.prices {
        engine.on_price(symbol, *price, now);
    }
    let shared = Arc::new(Shared {
        engine: Mutex::new(engine),
        klines: Mutex::new(HashMap::new()),
        skew_ms: std::sync::atomic::AtomicI64::new(0),
        faults: Mutex::new(HashMap::new()),
        fault_fn: Mutex::new(None),
        limits: Mutex::new(server::LimitState::default()),
        requests: Mutex::new(Vec::new()),
        next_cancel_id: std::sync::atomic::AtomicU64::new(1),
        hidden: Mutex::new(HashMap::new()),
        replay: Mutex::new(None),
        config,
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let address = listener.local_addr()?;
    let app = server::app(Arc::clone(&shared));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(FakeBinance {
        base_url: format!("http://{address}"),
        shared,
        task,
    })
}

impl FakeBinance {
    /// `http://127.0.0.1:PORT`, to put into `BinanceConfig::base_url`.
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Runs `f` on the matching engine (inspect books, feed prices, deposit).
    pub fn with_engine<R>(&self, f: impl FnOnce(&mut MatchingEngine) -> R) -> R {
        f(&mut lock(&self.shared.engine))
    }

    /// Every order the fake has accepted, open and terminal, by exchange id.
    #[must_use]
    pub fn orders(&self) -> Vec<Order> {
        self.with_engine(|engine| engine.state().orders)
    }

    /// Feeds a new last price; resting orders it trades through fill (possibly partially).
    pub fn set_price(&self, symbol: &Symbol, price: Price) {
        let now = server::wall_clock();
        self.with_engine(|engine| engine.on_price(symbol, price, now));
    }

    /// Serves `candles` (oldest first) for `symbol` and `interval` on `/api/v3/klines`.
    pub fn set_klines(&self, symbol: &Symbol, interval: &str, candles: Vec<Candle>) {
        lock(&self.shared.klines).insert((symbol.clone(), interval.to_owned()), candles);
    }

    /// Makes the market a replay of `series` (per symbol, oldest first) whose clock is the
    /// clients': every signed request first trades, through the matching engine, the candles
    /// that closed at or before its `timestamp`, and the `recvWindow` check is off (a replayed
    /// client's clock is the candles' time). This is how a bot replaying the same candles
    /// (`main_hybrid run --market replay:DIR --exchange testnet`) trades on this fake as if
    /// it were live: its orders fill when the replayed price reaches them, and they keep
    /// their state when the bot is killed and restarted.
    pub fn replay_market(&self, interval_ms: i64, series: Vec<(Symbol, Vec<Candle>)>) {
        let start = series
            .iter()
            .filter_map(|(_, candles)| candles.first().map(Candle::open_time))
            .min()
            .unwrap_or(hybrid_core::Timestamp::from_millis(0));
        self.with_engine(|engine| {
            for (symbol, candles) in &series {
                if let Some(first) = candles.first() {
                    engine.on_price(symbol, first.open(), first.open_time());
                }
            }
        });
        *lock(&self.shared.replay) = Some(MarketReplay {
            interval_ms,
            pending: series
                .into_iter()
                .map(|(symbol, candles)| (symbol, candles.into()))
                .collect(),
            time: start,
        });
    }

    /// Moves the fake's clock by `skew_ms` relative to the real one (forces `-1021`).
    pub fn set_clock_skew_ms(&self, skew_ms: i64) {
        self.shared
            .skew_ms
            .store(skew_ms, std::sync::atomic::Ordering::SeqCst);
    }

    /// Queues `fault` for the next request on `route` (faults on a route apply in order).
    pub fn inject(&self, route: Route, fault: Fault) {
        lock(&self.shared.faults)
            .entry(route)
            .or_default()
            .push_back(fault);
    }

    /// Lets `decide` choose a fault for every request without a queued one (soak tests).
    pub fn set_fault_fn(&self, decide: impl FnMut(Route) -> Option<Fault> + Send + 'static) {
        *lock(&self.shared.fault_fn) = Some(Box::new(decide));
    }

    /// Removes the fault function and every queued fault.
    pub fn clear_faults(&self) {
        *lock(&self.shared.fault_fn) = None;
        lock(&self.shared.faults).clear();
    }

    /// Every request received so far, oldest first.
    #[must_use]
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// Weight used in the current window, as the fake counts it.
    #[must_use]
    pub fn used_weight(&self) -> u32 {
        lock(&self.shared.limits).used
    }
}

impl Drop for FakeBinance {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
