//! A fake of the outside data sources the learning loop reads, on 127.0.0.1: Binance Futures
//! funding rates (`GET /fapi/v1/fundingRate?symbol=…&limit=1`) and an economic calendar
//! (`GET /calendar/events?from=MS&to=MS`). Rates and events are set by the test; a source can be
//! switched to fail with HTTP 503.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};

/// A calendar event as served: `{"date": ms, "title", "country", "importance", "previous",
/// "forecast", "actual"}`.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeEvent {
    /// Milliseconds since the epoch.
    pub date_ms: i64,
    /// Title.
    pub title: String,
    /// Country code.
    pub country: String,
    /// 1–3.
    pub importance: i64,
    /// Actual value, once published.
    pub actual: Option<String>,
}

#[derive(Debug, Default)]
struct Shared {
    funding: Mutex<HashMap<String, String>>,
    events: Mutex<Vec<FakeEvent>>,
    failing: Mutex<bool>,
    requests: Mutex<u64>,
}

/// A running fake.
#[derive(Debug, Clone)]
pub struct FakeDataSources {
    base_url: String,
    shared: Arc<Shared>,
}

impl FakeDataSources {
    /// Base URL, e.g. `http://127.0.0.1:PORT`.
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Sets a symbol's latest funding rate (decimal text, e.g. `"0.0007"`).
    pub fn set_funding(&self, symbol: &str, rate: &str) {
        self.shared
            .funding
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(symbol.to_owned(), rate.to_owned());
    }

    /// Adds a calendar event.
    pub fn add_event(&self, event: FakeEvent) {
        self.shared
            .events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(event);
    }

    /// Makes every endpoint answer 503 (or not).
    pub fn set_failing(&self, failing: bool) {
        *self
            .shared
            .failing
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = failing;
    }

    /// Requests received.
    #[must_use]
    pub fn requests(&self) -> u64 {
        *self
            .shared
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Starts the fake on a free port of 127.0.0.1 in the current tokio runtime.
pub async fn spawn() -> FakeDataSources {
    let shared = Arc::new(Shared::default());
    let app = Router::new()
        .route("/fapi/v1/fundingRate", get(funding))
        .route("/calendar/events", get(events))
        .with_state(Arc::clone(&shared));
    #[expect(
        clippy::expect_used,
        reason = "a test fixture without a port cannot run"
    )]
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    #[expect(clippy::expect_used, reason = "a bound listener has an address")]
    let address = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    FakeDataSources {
        base_url: format!("http://{address}"),
        shared,
    }
}

fn count_and_check(shared: &Shared) -> Option<Response> {
    *shared
        .requests
        .lock()
        .unwrap_or_else(PoisonError::into_inner) += 1;
    let failing = *shared
        .failing
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    failing.then(|| (StatusCode::SERVICE_UNAVAILABLE, "unavailable").into_response())
}

async fn funding(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(error) = count_and_check(&shared) {
        return error;
    }
    let symbol = query.get("symbol").cloned().unwrap_or_default();
    let rate = shared
        .funding
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&symbol)
        .cloned();
    let body = rate.map_or_else(Vec::new, |rate| {
        vec![serde_json::json!({"symbol": symbol, "fundingRate": rate, "fundingTime": 0})]
    });
    Json(body).into_response()
}

async fn events(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(error) = count_and_check(&shared) {
        return error;
    }
    let bound = |name: &str, default: i64| {
        query
            .get(name)
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(default)
    };
    let (from, to) = (bound("from", i64::MIN), bound("to", i64::MAX));
    let body: Vec<serde_json::Value> = shared
        .events
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .filter(|e| e.date_ms >= from && e.date_ms < to)
        .map(|e| {
            serde_json::json!({
                "date": e.date_ms,
                "title": e.title,
                "country": e.country,
                "importance": e.importance,
                "previous": null,
                "forecast": null,
                "actual": e.actual,
            })
        })
        .collect();
    Json(body).into_response()
}
