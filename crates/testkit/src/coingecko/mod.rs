//! A fake CoinGecko-compatible markets API (`GET /api/v3/coins/markets`) on 127.0.0.1, for
//! testing the index tier's market-cap client without the internet.
//!
//! It serves the configured coins sorted by market cap (largest first), honours `per_page`,
//! counts requests (to check a client's cache), and can be told to fail with a status or
//! answer with a body that is not the expected JSON.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc, Mutex, PoisonError,
};

use axum::{
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use serde_json::json;

/// One coin the fake lists: its lower-case ticker, id and market cap in USD (`None` is sent
/// as `null`, as CoinGecko does for coins without one).
#[derive(Debug, Clone, PartialEq)]
pub struct FakeCoin {
    /// CoinGecko id, e.g. `bitcoin`.
    pub id: String,
    /// Ticker as CoinGecko spells it (lower case), e.g. `btc`.
    pub symbol: String,
    /// Market cap in USD.
    pub market_cap: Option<f64>,
}

impl FakeCoin {
    /// A coin with a market cap.
    #[must_use]
    pub fn new(id: &str, symbol: &str, market_cap: f64) -> Self {
        Self {
            id: id.to_owned(),
            symbol: symbol.to_owned(),
            market_cap: Some(market_cap),
        }
    }
}

/// What the next answers are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoinGeckoMode {
    /// The coins, as JSON.
    Normal,
    /// This HTTP status with a JSON error body (e.g. 429).
    Status(u16),
    /// 200 with a body that is not a list of coins.
    Garbage,
}

#[derive(Debug)]
struct Shared {
    coins: Mutex<Vec<FakeCoin>>,
    mode: Mutex<CoinGeckoMode>,
    requests: AtomicUsize,
    api_keys: Mutex<Vec<Option<String>>>,
}

/// A running fake; the server stops when the runtime that spawned it stops.
#[derive(Debug, Clone)]
pub struct FakeCoinGecko {
    base_url: String,
    shared: Arc<Shared>,
}

impl FakeCoinGecko {
    /// The base URL to give the client, e.g. `http://127.0.0.1:PORT/api/v3`.
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// How many `/coins/markets` requests arrived.
    #[must_use]
    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// The `x-cg-demo-api-key` header of each request, in order.
    #[must_use]
    pub fn api_keys(&self) -> Vec<Option<String>> {
        self.shared
            .api_keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Changes how the next requests are answered.
    pub fn set_mode(&self, mode: CoinGeckoMode) {
        *self
            .shared
            .mode
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = mode;
    }

    /// Replaces the listed coins.
    pub fn set_coins(&self, coins: Vec<FakeCoin>) {
        *self
            .shared
            .coins
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = coins;
    }
}

/// Starts the fake on 127.0.0.1 with `coins`.
///
/// # Panics
/// If no local port can be bound (the test cannot run at all).
pub async fn spawn(coins: Vec<FakeCoin>) -> FakeCoinGecko {
    let shared = Arc::new(Shared {
        coins: Mutex::new(coins),
        mode: Mutex::new(CoinGeckoMode::Normal),
        requests: AtomicUsize::new(0),
        api_keys: Mutex::new(Vec::new()),
    });
    let app = Router::new()
        .route("/api/v3/coins/markets", get(markets))
        .with_state(Arc::clone(&shared));
    #[expect(
        clippy::expect_used,
        reason = "a test fixture that cannot bind cannot run"
    )]
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    #[expect(clippy::expect_used, reason = "a bound listener has an address")]
    let address = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    FakeCoinGecko {
        base_url: format!("http://{address}/api/v3"),
        shared,
    }
}

async fn markets(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    shared.requests.fetch_add(1, Ordering::SeqCst);
    shared
        .api_keys
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(
            headers
                .get("x-cg-demo-api-key")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        );
    let mode = shared
        .mode
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    match mode {
        CoinGeckoMode::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return (
                status,
                json!({"status": {"error_code": code, "error_message": "fake failure"}})
                    .to_string(),
            )
                .into_response();
        }
        CoinGeckoMode::Garbage => return (StatusCode::OK, "{\"coins\": ").into_response(),
        CoinGeckoMode::Normal => {}
    }
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if param("vs_currency") != Some("usd") {
        return (
            StatusCode::BAD_REQUEST,
            json!({"error": "missing 'vs_currency' parameter"}).to_string(),
        )
            .into_response();
    }
    let per_page: usize = param("per_page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let mut coins = shared
        .coins
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    coins.sort_by(|a, b| {
        b.market_cap
            .unwrap_or(0.0)
            .total_cmp(&a.market_cap.unwrap_or(0.0))
    });
    let body: Vec<serde_json::Value> = coins
        .iter()
        .take(per_page)
        .enumerate()
        .map(|(rank, c)| {
            json!({
                "id": c.id,
                "symbol": c.symbol,
                "name": c.id,
                "current_price": 1.0,
                "market_cap": c.market_cap,
                "market_cap_rank": rank + 1,
            })
        })
        .collect();
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        serde_json::Value::Array(body).to_string(),
    )
        .into_response()
}
