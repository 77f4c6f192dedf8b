//! Binance JSON shapes (apis.md §1.7) and their conversion into `hybrid-core` types.
//!
//! Numbers arrive as strings and are parsed straight into `Decimal`. Unknown fields are ignored
//! and conditional fields are optional, so new Binance fields never break parsing; an unknown
//! enum value (a new order status, say) becomes an `InvalidResponse` error, never a panic.

use std::str::FromStr;

use hybrid_core::{
    Asset, Candle, ClientOrderId, CohortId, Fill, Notional, Order, OrderKind, Price, Quantity,
    Side, Symbol, SymbolFilters, TimeInForce, Timestamp,
};
use rust_decimal::Decimal;
use serde::{de::IgnoredAny, Deserialize};

use crate::{Balance, ExchangeError, Ticker24h, TickerPrice};

/// `{"code": -1121, "msg": "Invalid symbol."}`.
#[derive(Debug, Deserialize)]
pub(crate) struct WireError {
    pub(crate) code: i64,
    pub(crate) msg: String,
}

/// `GET /api/v3/time`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireTime {
    pub(crate) server_time: i64,
}

/// `GET /api/v3/exchangeInfo`.
#[derive(Debug, Deserialize)]
pub(crate) struct WireExchangeInfo {
    #[serde(default, rename = "rateLimits")]
    pub(crate) rate_limits: Vec<WireRateLimit>,
    pub(crate) symbols: Vec<WireSymbol>,
}

/// One entry of `exchangeInfo.rateLimits`, e.g. `REQUEST_WEIGHT` 6000 per 1 `MINUTE`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireRateLimit {
    pub(crate) rate_limit_type: String,
    pub(crate) interval: String,
    pub(crate) interval_num: u32,
    pub(crate) limit: u32,
}

impl WireExchangeInfo {
    /// The `REQUEST_WEIGHT` limit per one minute, when announced.
    pub(crate) fn weight_per_minute(&self) -> Option<u32> {
        self.rate_limits
            .iter()
            .find(|l| {
                l.rate_limit_type == "REQUEST_WEIGHT"
                    && l.interval == "MINUTE"
                    && l.interval_num == 1
            })
            .map(|l| l.limit)
    }
}

/// One symbol of `exchangeInfo`.
#[derive(Debug, Deserialize)]
pub(crate) struct WireSymbol {
    pub(crate) symbol: String,
    #[serde(default)]
    pub(crate) filters: Vec<serde_json::Value>,
}

/// `GET /api/v3/ticker/price`.
#[derive(Debug, Deserialize)]
pub(crate) struct WireTickerPrice {
    pub(crate) symbol: String,
    pub(crate) price: Decimal,
}

/// `GET /api/v3/ticker/24hr` (FULL).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireTicker24h {
    pub(crate) symbol: String,
    pub(crate) price_change: Decimal,
    pub(crate) price_change_percent: Decimal,
    pub(crate) last_price: Decimal,
    pub(crate) high_price: Decimal,
    pub(crate) low_price: Decimal,
    pub(crate) volume: Decimal,
    pub(crate) quote_volume: Decimal,
}

/// One row of `GET /api/v3/klines`: 12 mixed-type elements, of which we use the first six
/// (open time, open, high, low, close, base volume).
#[derive(Debug, Deserialize)]
pub(crate) struct WireKline(KlineRow);

type KlineRow = (
    i64,
    Decimal,
    Decimal,
    Decimal,
    Decimal,
    Decimal,
    IgnoredAny,
    IgnoredAny,
    IgnoredAny,
    IgnoredAny,
    IgnoredAny,
    IgnoredAny,
);

/// `GET /api/v3/account`.
#[derive(Debug, Deserialize)]
pub(crate) struct WireAccount {
    pub(crate) balances: Vec<WireBalance>,
}

/// One balance of the account.
#[derive(Debug, Deserialize)]
pub(crate) struct WireBalance {
    pub(crate) asset: String,
    pub(crate) free: Decimal,
    pub(crate) locked: Decimal,
}

/// An order as `POST`, `GET` and `DELETE /api/v3/order` and `openOrders` return it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireOrder {
    pub(crate) symbol: String,
    pub(crate) order_id: i64,
    /// On DELETE this is the id of the cancel request; the order's own id is
    /// `origClientOrderId`.
    pub(crate) client_order_id: String,
    #[serde(default)]
    pub(crate) orig_client_order_id: Option<String>,
    #[serde(default)]
    pub(crate) price: Option<Decimal>,
    #[serde(default)]
    pub(crate) orig_qty: Option<Decimal>,
    #[serde(default)]
    pub(crate) executed_qty: Option<Decimal>,
    #[serde(default)]
    pub(crate) cummulative_quote_qty: Option<Decimal>,
    #[serde(default)]
    pub(crate) status: Option<String>,
    #[serde(default)]
    pub(crate) time_in_force: Option<String>,
    #[serde(rename = "type", default)]
    pub(crate) kind: Option<String>,
    #[serde(default)]
    pub(crate) side: Option<String>,
    #[serde(default)]
    pub(crate) time: Option<i64>,
    #[serde(default)]
    pub(crate) transact_time: Option<i64>,
    #[serde(default)]
    pub(crate) update_time: Option<i64>,
    #[serde(default)]
    pub(crate) fills: Vec<WireFill>,
}

/// One fill in a FULL order response.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireFill {
    pub(crate) price: Decimal,
    pub(crate) qty: Decimal,
    pub(crate) commission: Decimal,
    pub(crate) commission_asset: String,
    pub(crate) trade_id: i64,
}

/// One row of `GET /api/v3/myTrades`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireTrade {
    pub(crate) symbol: String,
    pub(crate) id: i64,
    pub(crate) order_id: i64,
    pub(crate) price: Decimal,
    pub(crate) qty: Decimal,
    pub(crate) commission: Decimal,
    pub(crate) commission_asset: String,
    pub(crate) time: i64,
    pub(crate) is_buyer: bool,
    pub(crate) is_maker: bool,
}

pub(crate) fn invalid(what: impl std::fmt::Display) -> ExchangeError {
    ExchangeError::InvalidResponse(what.to_string())
}

pub(crate) fn symbol(code: &str) -> Result<Symbol, ExchangeError> {
    Symbol::new(code).map_err(invalid)
}

fn parse_enum<T: FromStr>(text: Option<&str>, field: &str) -> Result<T, ExchangeError>
where
    T::Err: std::fmt::Display,
{
    let text = text.ok_or_else(|| invalid(format!("order without {field}")))?;
    text.parse().map_err(invalid)
}

fn price(value: Decimal) -> Result<Price, ExchangeError> {
    Price::new(value).map_err(invalid)
}

fn quantity(value: Decimal) -> Result<Quantity, ExchangeError> {
    Quantity::new(value).map_err(invalid)
}

impl WireOrder {
    /// Our client order id: `origClientOrderId` on a cancel response, else `clientOrderId`.
    pub(crate) fn own_client_order_id(&self) -> Result<ClientOrderId, ExchangeError> {
        let text = self
            .orig_client_order_id
            .as_deref()
            .unwrap_or(&self.client_order_id);
        ClientOrderId::parse(text).map_err(invalid)
    }

    /// The order in domain terms. The cohort comes from our client order id (0 for orders
    /// that are not ours).
    pub(crate) fn to_order(&self) -> Result<Order, ExchangeError> {
        let client_order_id = self.own_client_order_id()?;
        let cohort = client_order_id
            .decode()
            .map_or(CohortId::new(0), |(cohort, _, _)| cohort);
        let kind: OrderKind = parse_enum(self.kind.as_deref(), "type")?;
        let price = match self.price {
            Some(value) if value > Decimal::ZERO && kind != OrderKind::Market => {
                Some(price(value)?)
            }
            _ => None,
        };
        let time_in_force = match (kind, self.time_in_force.as_deref()) {
            (OrderKind::Limit, Some(text)) => Some(text.parse::<TimeInForce>().map_err(invalid)?),
            _ => None,
        };
        let created = self.time.or(self.transact_time).unwrap_or_default();
        let updated = self.update_time.or(self.transact_time).unwrap_or(created);
        Ok(Order {
            client_order_id,
            exchange_order_id: Some(self.order_id),
            cohort,
            symbol: symbol(&self.symbol)?,
            side: parse_enum(self.side.as_deref(), "side")?,
            kind,
            time_in_force,
            price,
            quantity: quantity(self.orig_qty.unwrap_or_default())?,
            filled_quantity: quantity(self.executed_qty.unwrap_or_default())?,
            // "For some historical orders cummulativeQuoteQty will be < 0": treat as unknown (0).
            filled_quote: Notional::new(
                self.cummulative_quote_qty
                    .unwrap_or_default()
                    .max(Decimal::ZERO),
            ),
            status: parse_enum(self.status.as_deref(), "status")?,
            created_at: Timestamp::from_millis(created),
            updated_at: Timestamp::from_millis(updated),
        })
    }

    /// The fills of a FULL response, attributed to `order`.
    pub(crate) fn to_fills(&self, order: &Order) -> Result<Vec<Fill>, ExchangeError> {
        self.fills
            .iter()
            .map(|fill| {
                Ok(Fill {
                    client_order_id: order.client_order_id.clone(),
                    exchange_order_id: self.order_id,
                    trade_id: fill.trade_id,
                    symbol: order.symbol.clone(),
                    side: order.side,
                    price: price(fill.price)?,
                    quantity: quantity(fill.qty)?,
                    commission: fill.commission,
                    commission_asset: Asset::new(&fill.commission_asset).map_err(invalid)?,
                    // A fill reported in the placement response took liquidity.
                    is_maker: false,
                    time: order.updated_at,
                })
            })
            .collect()
    }
}

impl WireTrade {
    /// The trade as a fill of the order with our id `client_order_id`.
    pub(crate) fn to_fill(&self, client_order_id: ClientOrderId) -> Result<Fill, ExchangeError> {
        Ok(Fill {
            client_order_id,
            exchange_order_id: self.order_id,
            trade_id: self.id,
            symbol: symbol(&self.symbol)?,
            side: if self.is_buyer { Side::Buy } else { Side::Sell },
            price: price(self.price)?,
            quantity: quantity(self.qty)?,
            commission: self.commission,
            commission_asset: Asset::new(&self.commission_asset).map_err(invalid)?,
            is_maker: self.is_maker,
            time: Timestamp::from_millis(self.time),
        })
    }
}

impl WireKline {
    pub(crate) fn to_candle(&self) -> Result<Candle, ExchangeError> {
        let row = &self.0;
        Candle::new(
            Timestamp::from_millis(row.0),
            price(row.1)?,
            price(row.2)?,
            price(row.3)?,
            price(row.4)?,
            quantity(row.5)?,
        )
        .map_err(invalid)
    }
}

impl WireBalance {
    pub(crate) fn to_balance(&self) -> Result<Balance, ExchangeError> {
        Ok(Balance {
            asset: Asset::new(&self.asset).map_err(invalid)?,
            free: self.free,
            locked: self.locked,
        })
    }
}

impl WireTickerPrice {
    pub(crate) fn to_ticker(&self) -> Result<TickerPrice, ExchangeError> {
        Ok(TickerPrice {
            symbol: symbol(&self.symbol)?,
            price: price(self.price)?,
        })
    }
}

impl WireTicker24h {
    pub(crate) fn to_ticker(&self) -> Result<Ticker24h, ExchangeError> {
        Ok(Ticker24h {
            symbol: symbol(&self.symbol)?,
            price_change: self.price_change,
            price_change_percent: self.price_change_percent,
            last_price: price(self.last_price)?,
            high: price(self.high_price)?,
            low: price(self.low_price)?,
            volume: quantity(self.volume)?,
            quote_volume: Notional::new(self.quote_volume),
        })
    }
}

impl WireSymbol {
    /// The symbol's filters; missing filters leave their rules disabled (zero).
    pub(crate) fn to_filters(&self) -> Result<SymbolFilters, ExchangeError> {
        let mut filters =
            SymbolFilters::with_steps(symbol(&self.symbol)?, Decimal::ZERO, Decimal::ZERO);
        for filter in &self.filters {
            apply_filter(&mut filters, filter)?;
        }
        Ok(filters)
    }
}

fn apply_filter(
    filters: &mut SymbolFilters,
    filter: &serde_json::Value,
) -> Result<(), ExchangeError> {
    let field = |name: &str| -> Result<Decimal, ExchangeError> {
        match filter.get(name) {
            Some(serde_json::Value::String(text)) => Decimal::from_str(text).map_err(invalid),
            _ => Ok(Decimal::ZERO),
        }
    };
    match filter.get("filterType").and_then(serde_json::Value::as_str) {
        Some("PRICE_FILTER") => {
            filters.tick_size = field("tickSize")?;
            filters.min_price = field("minPrice")?;
            filters.max_price = field("maxPrice")?;
        }
        Some("LOT_SIZE") => {
            filters.step_size = field("stepSize")?;
            filters.min_qty = field("minQty")?;
            filters.max_qty = field("maxQty")?;
        }
        Some("NOTIONAL") => {
            filters.min_notional = field("minNotional")?;
            filters.max_notional = field("maxNotional")?;
        }
        // The legacy filter only counts when the current one is absent.
        Some("MIN_NOTIONAL") if filters.min_notional.is_zero() => {
            filters.min_notional = field("minNotional")?;
        }
        Some("MAX_NUM_ORDERS") => {
            let max = filter
                .get("maxNumOrders")
                .and_then(serde_json::Value::as_u64);
            filters.max_num_orders = max.and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use hybrid_core::OrderStatus;
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn full_order_response_parses_with_fills() {
        let json = r#"{"symbol": "BTCUSDT", "orderId": 28, "orderListId": -1, "clientOrderId": "hy1-BTCUSDT-2s",
 "transactTime": 1767225600500, "price": "0.00000000", "origQty": "0.01000000",
 "executedQty": "0.01000000", "origQuoteOrderQty": "0.000000", "cummulativeQuoteQty": "971.23450000",
 "status": "FILLED", "timeInForce": "GTC", "type": "MARKET", "side": "BUY",
 "workingTime": 1767225600500, "selfTradePreventionMode": "EXPIRE_MAKER",
 "fills": [
   {"price": "97123.40000000", "qty": "0.00600000", "commission": "0.00000600", "commissionAsset": "BTC", "tradeId": 56},
   {"price": "97123.51000000", "qty": "0.00400000", "commission": "0.00000400", "commissionAsset": "BTC", "tradeId": 57}
 ]}"#;
        let wire: WireOrder = serde_json::from_str(json).unwrap();
        let order = wire.to_order().unwrap();
        assert_eq!(order.status, OrderStatus::Filled);
        assert_eq!(order.kind, OrderKind::Market);
        assert_eq!(order.price, None);
        assert_eq!(order.time_in_force, None);
        assert_eq!(order.cohort, CohortId::new(1));
        assert_eq!(order.filled_quote.value(), dec!(971.2345));
        let fills = wire.to_fills(&order).unwrap();
        assert_eq!(fills.len(), 2);
        assert_eq!(fills[1].trade_id, 57);
        assert_eq!(fills[1].quantity.value(), dec!(0.004));
    }

    #[test]
    fn cancel_response_keeps_the_original_client_id() {
        let json = r#"{"symbol": "BTCUSDT", "origClientOrderId": "hy1-BTCUSDT-2t", "orderId": 31, "orderListId": -1,
 "clientOrderId": "cxl-000043", "transactTime": 1767225700000, "price": "96000.00000000",
 "origQty": "0.00500000", "executedQty": "0.00200000", "origQuoteOrderQty": "0.000000",
 "cummulativeQuoteQty": "192.00000000", "status": "CANCELED", "timeInForce": "GTC",
 "type": "LIMIT", "side": "BUY", "selfTradePreventionMode": "EXPIRE_MAKER"}"#;
        let order = serde_json::from_str::<WireOrder>(json)
            .unwrap()
            .to_order()
            .unwrap();
        assert_eq!(order.client_order_id.as_str(), "hy1-BTCUSDT-2t");
        assert_eq!(order.status, OrderStatus::Canceled);
        assert_eq!(order.price.unwrap().value(), dec!(96000));
        assert_eq!(order.time_in_force, Some(TimeInForce::GoodTillCancel));
    }

    #[test]
    fn unknown_status_is_an_error_not_a_panic() {
        let json = r#"{"symbol":"BTCUSDT","orderId":1,"clientOrderId":"x","status":"PENDING_MOON",
            "type":"LIMIT","side":"BUY","price":"1","origQty":"1","executedQty":"0"}"#;
        let err = serde_json::from_str::<WireOrder>(json)
            .unwrap()
            .to_order()
            .unwrap_err();
        assert!(matches!(err, ExchangeError::InvalidResponse(_)), "{err}");
    }

    #[test]
    fn kline_rows_with_mixed_types_parse() {
        let json = r#"[[1767222000000, "97000.00000000", "97350.00000000", "96880.10000000", "97123.45000000",
  "512.33100000", 1767225599999, "49731234.12000000", 120034, "260.10000000", "25251234.00000000", "0"]]"#;
        let rows: Vec<WireKline> = serde_json::from_str(json).unwrap();
        let candle = rows[0].to_candle().unwrap();
        assert_eq!(candle.open_time().as_millis(), 1_767_222_000_000);
        assert_eq!(candle.volume().value(), dec!(512.331));
    }

    #[test]
    fn filters_prefer_notional_over_the_legacy_filter() {
        let json = r#"{"symbol":"ETHUSDT","status":"TRADING","filters":[
      {"filterType": "PRICE_FILTER", "minPrice": "0.01000000", "maxPrice": "1000000.00000000", "tickSize": "0.01000000"},
      {"filterType": "LOT_SIZE", "minQty": "0.00010000", "maxQty": "9000.00000000", "stepSize": "0.00010000"},
      {"filterType": "NOTIONAL", "minNotional": "5.00000000", "applyMinToMarket": true,
       "maxNotional": "9000000.00000000", "applyMaxToMarket": false, "avgPriceMins": 5},
      {"filterType": "MIN_NOTIONAL", "minNotional": "10.0"},
      {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
      {"filterType": "SOMETHING_NEW", "x": 1}]}"#;
        let filters = serde_json::from_str::<WireSymbol>(json)
            .unwrap()
            .to_filters()
            .unwrap();
        assert_eq!(filters.tick_size, dec!(0.01));
        assert_eq!(filters.step_size, dec!(0.0001));
        assert_eq!(filters.min_notional, dec!(5));
        assert_eq!(filters.max_num_orders, 200);
    }
}
