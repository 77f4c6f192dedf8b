//! Placing orders without ever placing one twice (apis.md §1.12).
//!
//! 1. Send `POST /api/v3/order` once, always with our `newClientOrderId`.
//! 2. A definitive answer (2xx, or a 4xx with a Binance code) is returned as it is.
//! 3. An unknown outcome (timeout or reset after sending, 5xx, `-1000/-1001/-1006/-1007/-1008`,
//!    an unreadable 2xx body) or `-2010 "Duplicate order sent."` is resolved by querying
//!    `GET /api/v3/order?origClientOrderId=` until the order is found, or until a `-2013` is
//!    observed after `timestamp + recvWindow + engine timeout + margin`: by then Binance can no
//!    longer forward nor hold the request, so the order is provably absent.
//! 4. Only a provably absent order is sent again, with the **same** client order id, at most
//!    `placement_attempts` times in all.
//!
//! If resolution itself cannot reach a verdict within `resolve_timeout`, the caller gets
//! `UnknownOutcome` naming the order, and the engine's reconciliation continues from there.

use std::time::Duration;

use hybrid_core::{ClientOrderId, Order, OrderKind, Symbol, Timestamp};
use reqwest::Method;

use crate::{
    binance::{
        client::{next_delay, parse_body, BinanceClient, CallError, Request},
        wire::WireOrder,
    },
    ExchangeError, OrderAck, OrderRef, OrderRequest,
};

/// The verdict on an order whose placement outcome was unknown.
enum Resolution {
    /// The exchange knows the order.
    Found(Order),
    /// The order was provably never placed.
    Absent,
}

impl BinanceClient {
    /// Places `request` following the protocol in the module docs.
    pub(crate) async fn place(&self, request: &OrderRequest) -> Result<OrderAck, ExchangeError> {
        request.validate()?;
        let wire = order_request(request);
        let id = &request.client_order_id;
        let mut last_failure = String::new();
        for attempt in 1..=self.config.placement_attempts.max(1) {
            let mut signed_at = None;
            let outcome = self.call(&wire, &mut signed_at).await;
            let detail = match outcome {
                Ok(body) => match parse_body::<WireOrder>(&body) {
                    Ok(order) => return self.ack(&order),
                    Err(malformed) => format!("{malformed:?}"),
                },
                Err(error) if error.is_unknown_outcome() || is_duplicate(&error) => {
                    format!("{error:?}")
                }
                Err(error) => return Err(error.into_error()),
            };
            tracing::warn!(client_order_id = %id, attempt, %detail, "order outcome unknown; resolving");
            let sent_at = signed_at.unwrap_or_else(|| self.server_now());
            match self.resolve(&request.symbol, id, sent_at).await {
                Ok(Resolution::Found(order)) => {
                    return Ok(OrderAck {
                        order,
                        fills: Vec::new(),
                    })
                }
                Ok(Resolution::Absent) => last_failure = detail,
                Err(error) => return Err(error.for_order(id)),
            }
        }
        Err(ExchangeError::Connectivity(format!(
            "order {id} was provably not placed after {} attempts; last failure: {last_failure}",
            self.config.placement_attempts
        )))
    }

    /// Queries the order by client id until found or provably absent (see module docs).
    async fn resolve(
        &self,
        symbol: &Symbol,
        id: &ClientOrderId,
        signed_at: Timestamp,
    ) -> Result<Resolution, ExchangeError> {
        let absent_after = self.absence_deadline(signed_at);
        let started = tokio::time::Instant::now();
        let max_delay = self.config.retry_base_delay.saturating_mul(8);
        let mut delay = self.config.retry_base_delay;
        loop {
            let queried_at = self.server_now();
            let error = match self
                .fetch_order(symbol, &OrderRef::Client(id.clone()))
                .await
            {
                Ok(order) => return Ok(Resolution::Found(order)),
                Err(ExchangeError::UnknownOrder { .. }) if queried_at > absent_after => {
                    return Ok(Resolution::Absent)
                }
                Err(error) => error,
            };
            tracing::debug!(client_order_id = %id, %error, "order not resolved yet");
            delay = pause_after(&error, delay, absent_after.millis_since(queried_at));
            if started.elapsed() + delay > self.config.resolve_timeout {
                return Err(ExchangeError::UnknownOutcome {
                    client_order_id: Some(id.clone()),
                    detail: format!(
                        "still unresolved after {} ms of queries; last: {error}",
                        started.elapsed().as_millis()
                    ),
                });
            }
            tokio::time::sleep(delay).await;
            delay = next_delay(delay, max_delay);
        }
    }

    /// After this server time a request signed at `signed_at` can neither be forwarded to the
    /// engine (recvWindow) nor still be pending in it (engine timeout), plus a safety margin.
    fn absence_deadline(&self, signed_at: Timestamp) -> Timestamp {
        signed_at.plus_millis(
            i64::from(self.config.recv_window_ms)
                + self.config.engine_timeout_ms
                + self.config.absence_margin_ms,
        )
    }

    /// `GET /api/v3/order` (weight 4), one attempt plus the `-1021` re-sync; no read retries
    /// here because [`Self::resolve`] has its own loop.
    async fn fetch_order(&self, symbol: &Symbol, order: &OrderRef) -> Result<Order, ExchangeError> {
        let request = with_order_ref(
            Request::signed(Method::GET, "/api/v3/order", 4).param("symbol", symbol),
            order,
            "origClientOrderId",
        );
        let body = self
            .call(&request, &mut None)
            .await
            .map_err(CallError::into_error)?;
        let wire: WireOrder = parse_body(&body).map_err(CallError::into_error)?;
        self.remember(&wire)?.to_order()
    }

    /// The order and its fills from a placement response.
    fn ack(&self, wire: &WireOrder) -> Result<OrderAck, ExchangeError> {
        let order = self.remember(wire)?.to_order()?;
        let fills = wire.to_fills(&order)?;
        Ok(OrderAck { order, fills })
    }

    /// Remembers `orderId → clientOrderId` (trades only carry the former).
    pub(crate) fn remember<'a>(&self, wire: &'a WireOrder) -> Result<&'a WireOrder, ExchangeError> {
        let id = wire.own_client_order_id()?;
        self.client_ids
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(wire.order_id, id);
        Ok(wire)
    }
}

/// The pause before the next query: `-2013` waits no longer than needed to pass the absence
/// deadline (`to_deadline_ms` away); a rate limit waits at least its `Retry-After`.
fn pause_after(error: &ExchangeError, delay: Duration, to_deadline_ms: i64) -> Duration {
    match error {
        ExchangeError::UnknownOrder { .. } => {
            let to_deadline = u64::try_from(to_deadline_ms + 1).unwrap_or(1);
            delay.min(Duration::from_millis(to_deadline))
        }
        ExchangeError::RateLimited { retry_after_ms, .. } => delay.max(Duration::from_millis(
            u64::try_from(*retry_after_ms).unwrap_or(0),
        )),
        _ => delay,
    }
}

fn is_duplicate(error: &CallError) -> bool {
    matches!(error, CallError::Status { code: Some(-2010), msg, .. } if msg.contains("Duplicate order"))
}

/// The `POST /api/v3/order` request (weight 1; 0 when successful since 2026-04-02).
fn order_request(request: &OrderRequest) -> Request {
    let mut wire = Request::signed(Method::POST, "/api/v3/order", 1)
        .param("symbol", &request.symbol)
        .param("side", request.side.code())
        .param("type", request.kind.code());
    if let Some(tif) = request.time_in_force {
        wire = wire.param("timeInForce", tif.code());
    } else if request.kind == OrderKind::Limit {
        wire = wire.param("timeInForce", "GTC");
    }
    wire = wire.param("quantity", request.quantity.value().normalize());
    if let Some(price) = request.price {
        wire = wire.param("price", price.value().normalize());
    }
    wire.param("newClientOrderId", &request.client_order_id)
        .param("newOrderRespType", "FULL")
}

/// Adds `orderId` or the client-id parameter (`origClientOrderId`) to `request`.
pub(crate) fn with_order_ref(
    request: Request,
    order: &OrderRef,
    client_param: &'static str,
) -> Request {
    match order {
        OrderRef::Exchange(id) => request.param("orderId", id),
        OrderRef::Client(id) => request.param(client_param, id),
    }
}

#[cfg(test)]
mod tests {
    use hybrid_core::{CohortId, Price, Quantity, Side, TimeInForce};
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn order_parameters_use_binance_spellings_and_plain_decimals() {
        let symbol = Symbol::new("BTCUSDT").unwrap();
        let request = OrderRequest {
            client_order_id: ClientOrderId::new(CohortId::new(1), &symbol, 7).unwrap(),
            cohort: CohortId::new(1),
            symbol,
            side: Side::Buy,
            kind: OrderKind::Limit,
            time_in_force: Some(TimeInForce::GoodTillCancel),
            price: Some(Price::new(dec!(97000.10)).unwrap()),
            quantity: Quantity::new(dec!(0.00100)).unwrap(),
        };
        let params: Vec<(&str, String)> = order_request(&request).params;
        let text: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(
            text.join("&"),
            "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=97000.1&newClientOrderId=hy1-BTCUSDT-7&newOrderRespType=FULL"
        );
    }

    #[test]
    fn pauses_stop_at_the_deadline_and_respect_retry_after() {
        let not_found = ExchangeError::UnknownOrder {
            msg: "Order does not exist.".into(),
        };
        let delay = Duration::from_millis(400);
        assert_eq!(
            pause_after(&not_found, delay, 99),
            Duration::from_millis(100)
        );
        assert_eq!(pause_after(&not_found, delay, 10_000), delay);
        let limited = ExchangeError::RateLimited {
            retry_after_ms: 2_000,
            banned: false,
        };
        assert_eq!(pause_after(&limited, delay, 0), Duration::from_secs(2));
        let unknown = ExchangeError::UnknownOutcome {
            client_order_id: None,
            detail: "x".into(),
        };
        assert_eq!(pause_after(&unknown, delay, 0), delay);
    }
}
