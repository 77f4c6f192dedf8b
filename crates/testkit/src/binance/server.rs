//! The fake's HTTP layer: one handler that records the request, applies limits, faults,
//! authentication, and dispatches to the endpoint.

use std::{
    collections::HashMap,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use axum::{
    body::{Body, Bytes, HttpBody},
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri},
    response::Response,
    Router,
};
use hmac::{Hmac, Mac as _};
use http_body::Frame;
use hybrid_core::{
    ClientOrderId, Clock as _, CohortId, Fill, Order, OrderKind, Price, Quantity, Symbol,
    SymbolFilters, SystemClock, Timestamp,
};
use hybrid_exchange::{ExchangeError, OrderRef, OrderRequest, TradesFrom};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use sha2::Sha256;

use super::{lock, Fault, RecordedRequest, Route, Shared};

/// Weight accounting and the 429/418 state, in real milliseconds since the epoch.
#[derive(Debug, Default)]
pub(crate) struct LimitState {
    window_start_ms: i64,
    pub(crate) used: u32,
    /// A client sending before this instant (after a 429) is banned.
    backoff_until_ms: i64,
    banned_until_ms: i64,
    /// Orders placed in the current 10-second window and its start.
    orders_10s: (i64, u32),
    /// Orders placed in the current UTC day and its start.
    orders_1d: (i64, u32),
}

impl LimitState {
    /// Counts one successful order; returns the 10-second and daily counts.
    fn count_order(&mut self, now_ms: i64) -> (u32, u32) {
        let bump = |(start, count): (i64, u32), length: i64| {
            let window = now_ms.div_euclid(length) * length;
            if window == start {
                (start, count + 1)
            } else {
                (window, 1)
            }
        };
        self.orders_10s = bump(self.orders_10s, 10_000);
        self.orders_1d = bump(self.orders_1d, Timestamp::DAY_MS);
        (self.orders_10s.1, self.orders_1d.1)
    }
}

/// An answer before it becomes an HTTP response.
struct Reply {
    status: StatusCode,
    body: String,
    retry_after_secs: Option<u64>,
    /// `X-MBX-ORDER-COUNT-10S` and `-1D`, on successful orders.
    order_counts: Option<(u32, u32)>,
}

impl Reply {
    fn ok(value: &Value) -> Self {
        Self {
            status: StatusCode::OK,
            body: value.to_string(),
            retry_after_secs: None,
            order_counts: None,
        }
    }

    fn error(status: u16, code: i64, msg: &str) -> Self {
        Self {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            body: json!({"code": code, "msg": msg}).to_string(),
            retry_after_secs: None,
            order_counts: None,
        }
    }

    fn from_exchange_error(error: &ExchangeError) -> Self {
        let code = error.binance_code().unwrap_or(-1000);
        let msg = error
            .binance_msg()
            .map_or_else(|| error.to_string(), str::to_owned);
        Self::error(400, code, &msg)
    }
}

pub(crate) fn wall_clock() -> Timestamp {
    SystemClock.now()
}

/// `GET /fake/state`: the matching engine's whole state (balances, every order and trade) as
/// JSON, for a crash campaign comparing the books with the bot's database.
pub const STATE_PATH: &str = "/fake/state";

pub(crate) fn app(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    if method == Method::GET && uri.path() == STATE_PATH {
        // The harness's view of the books; not a Binance endpoint, not counted.
        let state = lock(&shared.engine).state();
        return respond(
            &shared,
            Reply::ok(&serde_json::to_value(&state).unwrap_or(Value::Null)),
        );
    }
    let query = uri.query().unwrap_or_default().to_owned();
    record(&shared, &method, &uri, &headers, &query, &body);
    let Some((route, weight, signed)) = route_of(&method, uri.path()) else {
        return respond(&shared, Reply::error(404, -1000, "unknown endpoint"));
    };
    if let Some(reply) = check_limits(&shared, weight) {
        return respond(&shared, reply);
    }
    let fault = next_fault(&shared, route);
    if let Some(reply) = fault.as_ref().and_then(reply_without_handling) {
        return respond(&shared, reply);
    }
    let params = parse_params(&query, &body);
    follow_client_clock(&shared, &params);
    if signed {
        if let Some(reply) = authenticate(&shared, &headers, &query, &body, &params) {
            return respond(&shared, reply);
        }
    }
    if let Some(Fault::DelayBeforeAccept(delay)) = fault {
        tokio::time::sleep(delay).await;
        // Binance repeats the recvWindow check just before forwarding to its engine.
        if let Some(reply) = check_timestamp(&shared, &params) {
            return respond(&shared, reply);
        }
    }
    let reply = dispatch(&shared, route, &params);
    after_handling(&shared, fault, reply, &params).await
}

/// The answer for faults that skip the request entirely.
fn reply_without_handling(fault: &Fault) -> Option<Reply> {
    match *fault {
        Fault::ServerError { status, code } => Some(server_error(status, code)),
        Fault::TooManyRequests { retry_after_secs } => Some(rate_limited(429, retry_after_secs)),
        Fault::Banned { retry_after_secs } => Some(rate_limited(418, retry_after_secs)),
        Fault::Forbidden => Some(Reply {
            status: StatusCode::FORBIDDEN,
            body: "<html><body><h1>403 Forbidden</h1></body></html>".to_owned(),
            retry_after_secs: None,
            order_counts: None,
        }),
        _ => None,
    }
}

/// The answer for a handled request, spoilt by `fault` if it is an "after accept" one.
async fn after_handling(
    shared: &Shared,
    fault: Option<Fault>,
    reply: Reply,
    params: &HashMap<String, String>,
) -> Response {
    match fault {
        Some(Fault::DelayAfterAccept(delay)) => {
            tokio::time::sleep(delay).await;
            respond(shared, reply)
        }
        Some(Fault::DropAfterAccept) => truncated(&reply.body),
        Some(Fault::ServerErrorAfterAccept { status, code }) => {
            respond(shared, server_error(status, code))
        }
        Some(Fault::HiddenAfterAccept { visible_after }) => {
            if let Some(id) = params.get("newClientOrderId") {
                let until = server_now(shared).plus_millis(millis(visible_after));
                lock(&shared.hidden).insert(id.clone(), until);
            }
            respond(shared, server_error(503, Some(-1007)))
        }
        Some(Fault::MalformedJson) => {
            let cut = reply.body.len() / 2;
            let body = reply.body[..cut].to_owned();
            respond(shared, Reply { body, ..reply })
        }
        _ => respond(shared, reply),
    }
}

fn millis(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

fn record(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    query: &str,
    body: &str,
) {
    let headers = headers
        .iter()
        .map(|(k, v)| format!("{k}: {}", v.to_str().unwrap_or("")))
        .collect::<Vec<_>>()
        .join("\n");
    lock(&shared.requests).push(RecordedRequest {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: query.to_owned(),
        body: body.to_owned(),
        headers,
    });
}

/// The route, its documented weight and whether it is SIGNED.
fn route_of(method: &Method, path: &str) -> Option<(Route, u32, bool)> {
    Some(match (method.as_str(), path) {
        ("GET", "/api/v3/ping" | "/api/v3/time") => (Route::Time, 1, false),
        ("GET", "/api/v3/exchangeInfo") => (Route::ExchangeInfo, 20, false),
        ("GET", "/api/v3/ticker/price") => (Route::TickerPrice, 2, false),
        ("GET", "/api/v3/ticker/24hr") => (Route::Ticker24h, 2, false),
        ("GET", "/api/v3/klines") => (Route::Klines, 2, false),
        ("GET", "/api/v3/account") => (Route::Account, 20, true),
        ("POST", "/api/v3/order") => (Route::PlaceOrder, 1, true),
        ("GET", "/api/v3/order") => (Route::QueryOrder, 4, true),
        ("DELETE", "/api/v3/order") => (Route::CancelOrder, 1, true),
        ("GET", "/api/v3/openOrders") => (Route::OpenOrders, 6, true),
        ("GET", "/api/v3/myTrades") => (Route::MyTrades, 20, true),
        ("GET", "/sapi/v1/account/apiRestrictions") => (Route::ApiRestrictions, 1, true),
        _ => return None,
    })
}

/// Counts weight in fixed windows; 429 past the limit, 418 for sending during a back-off.
fn check_limits(shared: &Shared, weight: u32) -> Option<Reply> {
    // A replayed market counts weight per replayed minute: its clock is the clients'.
    let replay_time = lock(&shared.replay).as_ref().map(|r| r.time);
    let now = replay_time.unwrap_or_else(wall_clock).as_millis();
    let window_ms = i64::try_from(shared.config.weight_window.as_millis())
        .unwrap_or(60_000)
        .max(1);
    let mut limits = lock(&shared.limits);
    let window = now.div_euclid(window_ms) * window_ms;
    if window != limits.window_start_ms {
        limits.window_start_ms = window;
        limits.used = 0;
    }
    if now < limits.banned_until_ms {
        return Some(rate_limited(418, secs_until(limits.banned_until_ms, now)));
    }
    if now < limits.backoff_until_ms {
        limits.banned_until_ms = now + i64::try_from(shared.config.ban_secs).unwrap_or(120) * 1000;
        return Some(rate_limited(418, shared.config.ban_secs));
    }
    limits.used += weight;
    if limits.used > shared.config.weight_limit {
        limits.backoff_until_ms = window + window_ms;
        return Some(rate_limited(429, secs_until(window + window_ms, now)));
    }
    None
}

fn secs_until(until_ms: i64, now_ms: i64) -> u64 {
    u64::try_from((until_ms - now_ms + 999) / 1000)
        .unwrap_or(1)
        .max(1)
}

fn rate_limited(status: u16, retry_after_secs: u64) -> Reply {
    let msg = if status == 418 {
        "Way too much request weight used; IP banned until later. Please use WebSocket Streams for live updates to avoid bans."
    } else {
        "Too much request weight used; current limit is 6000 request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API."
    };
    Reply {
        retry_after_secs: Some(retry_after_secs),
        ..Reply::error(status, -1003, msg)
    }
}

fn server_error(status: u16, code: Option<i64>) -> Reply {
    match code {
        Some(code) => Reply::error(
            status,
            code,
            "Internal error; unable to process your request. Please try again.",
        ),
        None => Reply {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
            body: "<html><body><h1>502 Bad Gateway</h1></body></html>".to_owned(),
            retry_after_secs: None,
            order_counts: None,
        },
    }
}

fn next_fault(shared: &Shared, route: Route) -> Option<Fault> {
    let queued = lock(&shared.faults)
        .get_mut(&route)
        .and_then(std::collections::VecDeque::pop_front);
    queued.or_else(|| {
        lock(&shared.fault_fn)
            .as_mut()
            .and_then(|decide| decide(route))
    })
}

/// Query-string and form-body parameters; the query wins when a name is in both.
fn parse_params(query: &str, body: &str) -> HashMap<String, String> {
    let mut params: HashMap<String, String> =
        serde_urlencoded::from_str::<Vec<(String, String)>>(body)
            .unwrap_or_default()
            .into_iter()
            .collect();
    params.extend(serde_urlencoded::from_str::<Vec<(String, String)>>(query).unwrap_or_default());
    params
}

fn authenticate(
    shared: &Shared,
    headers: &HeaderMap,
    query: &str,
    body: &str,
    params: &HashMap<String, String>,
) -> Option<Reply> {
    let key = headers.get("x-mbx-apikey").and_then(|v| v.to_str().ok());
    if key != Some(shared.config.api_key.as_str()) {
        return Some(Reply::error(
            401,
            -2015,
            "Invalid API-key, IP, or permissions for action.",
        ));
    }
    let unsigned: Vec<&str> = query
        .split('&')
        .filter(|p| !p.starts_with("signature="))
        .collect();
    let payload = format!("{}{body}", unsigned.join("&"));
    let Some(signature) = params.get("signature") else {
        return Some(Reply::error(
            400,
            -1102,
            "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
        ));
    };
    let valid = match &shared.config.ed25519_public_key {
        Some(public_key) => ed25519_matches(public_key, &payload, signature),
        None => hmac_matches(&shared.config.secret, &payload, signature),
    };
    if !valid {
        return Some(Reply::error(
            400,
            -1022,
            "Signature for this request is not valid.",
        ));
    }
    check_timestamp(shared, params)
}

fn hmac_matches(secret: &str, payload: &str, signature: &str) -> bool {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(payload.as_bytes());
    hex::decode(signature.to_ascii_lowercase()).is_ok_and(|bytes| mac.verify_slice(&bytes).is_ok())
}

/// `signature` is the (already percent-decoded) base64 Ed25519 signature of `payload`.
fn ed25519_matches(public_key: &[u8; 32], payload: &str, signature: &str) -> bool {
    use base64::Engine as _;
    use ed25519_dalek::Verifier as _;
    let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(public_key) else {
        return false;
    };
    base64::engine::general_purpose::STANDARD
        .decode(signature)
        .ok()
        .and_then(|bytes| ed25519_dalek::Signature::from_slice(&bytes).ok())
        .is_some_and(|signature| key.verify(payload.as_bytes(), &signature).is_ok())
}

/// In a replayed market, trades the candles up to the request's `timestamp` first.
fn follow_client_clock(shared: &Shared, params: &HashMap<String, String>) {
    let Some(timestamp) = params.get("timestamp").and_then(|t| t.parse::<i64>().ok()) else {
        return;
    };
    let mut replay = lock(&shared.replay);
    if let Some(replay) = replay.as_mut() {
        replay.advance(&mut lock(&shared.engine), Timestamp::from_millis(timestamp));
    }
}

/// `timestamp < serverTime + 1000` and `serverTime − timestamp ≤ recvWindow` (apis.md §1.4);
/// not checked in a replayed market, whose clock is the clients'.
fn check_timestamp(shared: &Shared, params: &HashMap<String, String>) -> Option<Reply> {
    if lock(&shared.replay).is_some() {
        return None;
    }
    let server_now = server_now(shared).as_millis();
    let Some(timestamp) = params.get("timestamp").and_then(|t| t.parse::<i64>().ok()) else {
        return Some(Reply::error(
            400,
            -1102,
            "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
        ));
    };
    let recv_window = params
        .get("recvWindow")
        .and_then(|r| r.parse::<i64>().ok())
        .unwrap_or(5000);
    if recv_window > 60_000 {
        return Some(Reply::error(
            400,
            -1131,
            "recvWindow must be less than 60000",
        ));
    }
    if timestamp >= server_now + 1000 {
        return Some(Reply::error(
            400,
            -1021,
            "Timestamp for this request was 1000ms ahead of the server's time.",
        ));
    }
    if server_now - timestamp > recv_window {
        return Some(Reply::error(
            400,
            -1021,
            "Timestamp for this request is outside of the recvWindow.",
        ));
    }
    None
}

fn server_now(shared: &Shared) -> Timestamp {
    if let Some(replay) = lock(&shared.replay).as_ref() {
        return replay.time;
    }
    wall_clock().plus_millis(shared.skew_ms.load(std::sync::atomic::Ordering::SeqCst))
}

fn respond(shared: &Shared, reply: Reply) -> Response {
    let used = lock(&shared.limits).used;
    let mut builder = Response::builder()
        .status(reply.status)
        .header("content-type", "application/json;charset=UTF-8")
        .header("x-mbx-used-weight-1m", used.to_string());
    if let Some(secs) = reply.retry_after_secs {
        builder = builder.header("retry-after", secs.to_string());
    }
    if let Some((ten_seconds, day)) = reply.order_counts {
        builder = builder
            .header("x-mbx-order-count-10s", ten_seconds.to_string())
            .header("x-mbx-order-count-1d", day.to_string());
    }
    builder
        .body(Body::from(reply.body))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// A response that breaks the connection after the first half of the body: the client has
/// the status line but never a complete answer.
fn truncated(body: &str) -> Response {
    let half = Bytes::copy_from_slice(&body.as_bytes()[..body.len() / 2]);
    Response::builder()
        .status(StatusCode::OK)
        .body(Body::new(BrokenBody(Some(half))))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// A body that yields one chunk and then fails, which makes hyper abort the connection.
struct BrokenBody(Option<Bytes>);

impl HttpBody for BrokenBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        Poll::Ready(Some(match self.0.take() {
            Some(chunk) => Ok(Frame::data(chunk)),
            None => Err(std::io::Error::other(
                "connection dropped by fault injection",
            )),
        }))
    }
}

fn dispatch(shared: &Shared, route: Route, params: &HashMap<String, String>) -> Reply {
    let result = match route {
        Route::Time => Ok(json!({"serverTime": server_now(shared).as_millis()})),
        Route::ExchangeInfo => exchange_info(shared, params),
        Route::TickerPrice => ticker_price(shared, params),
        Route::Ticker24h => ticker_24h(shared, params),
        Route::Klines => klines(shared, params),
        Route::Account => Ok(account(shared)),
        Route::PlaceOrder => place_order(shared, params),
        Route::QueryOrder => query_order(shared, params),
        Route::CancelOrder => cancel_order(shared, params),
        Route::OpenOrders => open_orders(shared, params),
        Route::MyTrades => my_trades(shared, params),
        Route::ApiRestrictions => Ok(super::restrictions::api_restrictions(&shared.config)),
    };
    match result {
        Ok(value) if route == Route::PlaceOrder => Reply {
            order_counts: Some(lock(&shared.limits).count_order(wall_clock().as_millis())),
            ..Reply::ok(&value)
        },
        Ok(value) => Reply::ok(&value),
        Err(reply) => reply,
    }
}

fn bad_symbol() -> Reply {
    Reply::error(400, -1121, "Invalid symbol.")
}

fn param_symbol(params: &HashMap<String, String>) -> Result<Symbol, Reply> {
    let text = params.get("symbol").ok_or_else(|| {
        Reply::error(
            400,
            -1102,
            "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
        )
    })?;
    Symbol::new(text).map_err(|_| bad_symbol())
}

fn exchange_info(shared: &Shared, params: &HashMap<String, String>) -> Result<Value, Reply> {
    let engine = lock(&shared.engine);
    let filters = match params.get("symbol") {
        Some(_) => {
            let symbol = param_symbol(params)?;
            vec![engine.filters(&symbol).cloned().ok_or_else(bad_symbol)?]
        }
        None => engine.all_filters(),
    };
    Ok(json!({
        "timezone": "UTC",
        "serverTime": server_now(shared).as_millis(),
        "rateLimits": [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": shared.config.weight_limit}],
        "exchangeFilters": [],
        "symbols": filters.iter().map(symbol_json).collect::<Vec<_>>(),
    }))
}

fn symbol_json(filters: &SymbolFilters) -> Value {
    let symbol = &filters.symbol;
    json!({
        "symbol": symbol.as_str(), "status": "TRADING",
        "baseAsset": symbol.base().as_str(), "quoteAsset": symbol.quote().as_str(),
        "baseAssetPrecision": 8, "quotePrecision": 8, "quoteAssetPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": s(filters.min_price), "maxPrice": s(filters.max_price), "tickSize": s(filters.tick_size)},
            {"filterType": "LOT_SIZE", "minQty": s(filters.min_qty), "maxQty": s(filters.max_qty), "stepSize": s(filters.step_size)},
            {"filterType": "NOTIONAL", "minNotional": s(filters.min_notional), "applyMinToMarket": true, "maxNotional": s(filters.max_notional), "applyMaxToMarket": false, "avgPriceMins": 5},
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": filters.max_num_orders},
        ],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
    })
}

/// Binance's string form of a number: at least eight decimals, more when the value needs
/// them. Cutting to eight (as this fake once did) turned PEPE's 10⁻¹¹ tick into 0 and its
/// prices into other prices, and 174 of 340 PEPE orders were refused (issue 15).
pub(crate) fn s(value: Decimal) -> String {
    let mut value = value.normalize();
    if value.scale() < 8 {
        value.rescale(8);
    }
    value.to_string()
}

fn last_price(shared: &Shared, symbol: &Symbol) -> Result<Price, Reply> {
    lock(&shared.engine)
        .last_price(symbol)
        .ok_or_else(bad_symbol)
}

fn ticker_price(shared: &Shared, params: &HashMap<String, String>) -> Result<Value, Reply> {
    if params.contains_key("symbol") {
        let symbol = param_symbol(params)?;
        let price = last_price(shared, &symbol)?;
        return Ok(json!({"symbol": symbol.as_str(), "price": s(price.value())}));
    }
    let engine = lock(&shared.engine);
    let all: Vec<Value> = engine
        .all_filters()
        .iter()
        .filter_map(|f| {
            engine
                .last_price(&f.symbol)
                .map(|p| json!({"symbol": f.symbol.as_str(), "price": s(p.value())}))
        })
        .collect();
    Ok(Value::Array(all))
}

fn ticker_24h(shared: &Shared, params: &HashMap<String, String>) -> Result<Value, Reply> {
    let symbol = param_symbol(params)?;
    let price = s(last_price(shared, &symbol)?.value());
    let now = server_now(shared).as_millis();
    Ok(json!({
        "symbol": symbol.as_str(), "priceChange": "0.00000000", "priceChangePercent": "0.000",
        "weightedAvgPrice": price, "prevClosePrice": price, "lastPrice": price, "lastQty": "0.00000000",
        "bidPrice": price, "bidQty": "1.00000000", "askPrice": price, "askQty": "1.00000000",
        "openPrice": price, "highPrice": price, "lowPrice": price,
        "volume": "0.00000000", "quoteVolume": "0.00000000",
        "openTime": now - 86_400_000, "closeTime": now, "firstId": -1, "lastId": -1, "count": 0
    }))
}

fn klines(shared: &Shared, params: &HashMap<String, String>) -> Result<Value, Reply> {
    let symbol = param_symbol(params)?;
    let interval = params.get("interval").cloned().unwrap_or_default();
    let length_ms = hybrid_core::kline_interval_ms(&interval).unwrap_or(60_000);
    let number = |name: &str| params.get(name).and_then(|v| v.parse::<i64>().ok());
    let start = number("startTime").unwrap_or(i64::MIN);
    let end = number("endTime").unwrap_or(i64::MAX);
    let limit = usize::try_from(number("limit").unwrap_or(500).clamp(1, 1000)).unwrap_or(500);
    let all = lock(&shared.klines);
    let candles = all
        .get(&(symbol, interval))
        .ok_or_else(|| Reply::error(400, -1120, "Invalid interval."))?;
    let in_range: Vec<&hybrid_core::Candle> = candles
        .iter()
        .filter(|c| (start..=end).contains(&c.open_time().as_millis()))
        .collect();
    // Binance returns the first `limit` candles from `startTime`, and the most recent `limit`
    // when no `startTime` is sent.
    let skip = if params.contains_key("startTime") {
        0
    } else {
        in_range.len().saturating_sub(limit)
    };
    let rows: Vec<Value> = in_range
        .iter()
        .skip(skip)
        .take(limit)
        .map(|c| {
            let open = c.open_time().as_millis();
            json!([
                open,
                s(c.open().value()),
                s(c.high().value()),
                s(c.low().value()),
                s(c.close().value()),
                s(c.volume().value()),
                open + length_ms - 1,
                "0.00000000",
                0,
                "0.00000000",
                "0.00000000",
                "0"
            ])
        })
        .collect();
    Ok(Value::Array(rows))
}

fn account(shared: &Shared) -> Value {
    let balances: Vec<Value> = lock(&shared.engine)
        .balances()
        .iter()
        .map(|b| json!({"asset": b.asset.as_str(), "free": s(b.free), "locked": s(b.locked)}))
        .collect();
    json!({
        "makerCommission": 10, "takerCommission": 10, "buyerCommission": 0, "sellerCommission": 0,
        "canTrade": true, "canWithdraw": true, "canDeposit": true, "brokered": false,
        "updateTime": server_now(shared).as_millis(), "accountType": "SPOT",
        "balances": balances, "permissions": ["SPOT"], "uid": 1
    })
}

fn place_order(shared: &Shared, params: &HashMap<String, String>) -> Result<Value, Reply> {
    let request = order_request(shared, params)?;
    let now = server_now(shared);
    let ack = lock(&shared.engine)
        .place(&request, now)
        .map_err(|e| Reply::from_exchange_error(&e))?;
    let mut value = order_json(&ack.order);
    value["transactTime"] = json!(now.as_millis());
    value["fills"] = Value::Array(ack.fills.iter().map(fill_json).collect());
    Ok(value)
}

fn order_request(shared: &Shared, params: &HashMap<String, String>) -> Result<OrderRequest, Reply> {
    let symbol = param_symbol(params)?;
    let malformed = |name: &str| {
        Reply::error(
            400,
            -1102,
            &format!("Mandatory parameter '{name}' was not sent, was empty/null, or malformed."),
        )
    };
    let text = |name: &str| params.get(name).cloned().ok_or_else(|| malformed(name));
    let decimal =
        |name: &str| -> Result<Decimal, Reply> { text(name)?.parse().map_err(|_| malformed(name)) };
    let client_order_id = match params.get("newClientOrderId") {
        Some(id) => ClientOrderId::parse(id).map_err(|_| Reply::error(400, -1100, "Illegal characters found in parameter 'newClientOrderId'; legal range is '^[a-zA-Z0-9-_]{1,36}$'."))?,
        None => {
            let n = shared.next_cancel_id.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            ClientOrderId::parse(&format!("fake-{n}")).map_err(|_| malformed("newClientOrderId"))?
        }
    };
    let kind: OrderKind = text("type")?.parse().map_err(|_| malformed("type"))?;
    let price = match kind {
        OrderKind::Market => None,
        _ => Some(Price::new(decimal("price")?).map_err(|_| malformed("price"))?),
    };
    let time_in_force = match kind {
        OrderKind::Limit => Some(
            text("timeInForce")?
                .parse()
                .map_err(|_| malformed("timeInForce"))?,
        ),
        _ => None,
    };
    Ok(OrderRequest {
        cohort: client_order_id
            .decode()
            .map_or(CohortId::new(0), |(c, _, _)| c),
        client_order_id,
        symbol,
        side: text("side")?.parse().map_err(|_| malformed("side"))?,
        kind,
        time_in_force,
        price,
        quantity: Quantity::new(decimal("quantity")?).map_err(|_| malformed("quantity"))?,
    })
}

fn order_ref(params: &HashMap<String, String>) -> Result<OrderRef, Reply> {
    if let Some(id) = params.get("orderId").and_then(|id| id.parse().ok()) {
        return Ok(OrderRef::Exchange(id));
    }
    params
        .get("origClientOrderId")
        .and_then(|id| ClientOrderId::parse(id).ok())
        .map(OrderRef::Client)
        .ok_or_else(|| {
            Reply::error(
                400,
                -1102,
                "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
            )
        })
}

fn query_order(shared: &Shared, params: &HashMap<String, String>) -> Result<Value, Reply> {
    let symbol = param_symbol(params)?;
    let order = lock(&shared.engine)
        .query(&symbol, &order_ref(params)?)
        .map_err(|e| Reply::from_exchange_error(&e))?;
    let hidden_until = lock(&shared.hidden)
        .get(order.client_order_id.as_str())
        .copied();
    if hidden_until.is_some_and(|until| server_now(shared) < until) {
        return Err(Reply::error(400, -2013, "Order does not exist."));
    }
    Ok(order_json(&order))
}

fn cancel_order(shared: &Shared, params: &HashMap<String, String>) -> Result<Value, Reply> {
    let symbol = param_symbol(params)?;
    let now = server_now(shared);
    let order = lock(&shared.engine)
        .cancel(&symbol, &order_ref(params)?, now)
        .map_err(|e| Reply::from_exchange_error(&e))?;
    let cancel_id = shared
        .next_cancel_id
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let mut value = order_json(&order);
    value["origClientOrderId"] = json!(order.client_order_id.as_str());
    value["clientOrderId"] = json!(format!("cxl-{cancel_id}"));
    value["transactTime"] = json!(now.as_millis());
    Ok(value)
}

fn open_orders(shared: &Shared, params: &HashMap<String, String>) -> Result<Value, Reply> {
    let symbol = match params.get("symbol") {
        Some(_) => Some(param_symbol(params)?),
        None => None,
    };
    let orders = lock(&shared.engine).open_orders(symbol.as_ref());
    Ok(Value::Array(orders.iter().map(order_json).collect()))
}

fn my_trades(shared: &Shared, params: &HashMap<String, String>) -> Result<Value, Reply> {
    let symbol = param_symbol(params)?;
    let number = |name: &str| params.get(name).and_then(|v| v.parse::<i64>().ok());
    let from = match (number("fromId"), number("startTime")) {
        (Some(id), _) => TradesFrom::TradeId(id),
        (None, Some(time)) => TradesFrom::Time(Timestamp::from_millis(time)),
        (None, None) => TradesFrom::Recent,
    };
    let trades = lock(&shared.engine).trades(&symbol, from);
    Ok(Value::Array(trades.iter().map(trade_json).collect()))
}

fn order_json(order: &Order) -> Value {
    json!({
        "symbol": order.symbol.as_str(),
        "orderId": order.exchange_order_id.unwrap_or_default(),
        "orderListId": -1,
        "clientOrderId": order.client_order_id.as_str(),
        "price": s(order.price.map_or(Decimal::ZERO, Price::value)),
        "origQty": s(order.quantity.value()),
        "executedQty": s(order.filled_quantity.value()),
        "origQuoteOrderQty": "0.00000000",
        "cummulativeQuoteQty": s(order.filled_quote.value()),
        "status": order.status.code(),
        "timeInForce": order.time_in_force.map_or("GTC", |t| t.code()),
        "type": order.kind.code(),
        "side": order.side.code(),
        "stopPrice": "0.00000000",
        "icebergQty": "0.00000000",
        "time": order.created_at.as_millis(),
        "updateTime": order.updated_at.as_millis(),
        "isWorking": true,
        "workingTime": order.created_at.as_millis(),
        "selfTradePreventionMode": "EXPIRE_MAKER",
    })
}

fn fill_json(fill: &Fill) -> Value {
    json!({
        "price": s(fill.price.value()), "qty": s(fill.quantity.value()),
        "commission": s(fill.commission), "commissionAsset": fill.commission_asset.as_str(),
        "tradeId": fill.trade_id,
    })
}

fn trade_json(fill: &Fill) -> Value {
    json!({
        "symbol": fill.symbol.as_str(), "id": fill.trade_id, "orderId": fill.exchange_order_id,
        "orderListId": -1, "price": s(fill.price.value()), "qty": s(fill.quantity.value()),
        "quoteQty": s(fill.notional().value()), "commission": s(fill.commission),
        "commissionAsset": fill.commission_asset.as_str(), "time": fill.time.as_millis(),
        "isBuyer": fill.side == hybrid_core::Side::Buy, "isMaker": fill.is_maker, "isBestMatch": true,
    })
}
