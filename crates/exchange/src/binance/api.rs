//! [`MarketData`], [`Account`] and [`Venue`] for [`BinanceClient`]: one function per endpoint,
//! each with its documented weight (apis.md §1.6, §1.7).

use std::{collections::HashMap, sync::PoisonError};

use hybrid_core::{Candle, ClientOrderId, Fill, Order, Price, Symbol, SymbolFilters, Timestamp};
use reqwest::Method;

use crate::{
    binance::{
        client::{parse_body, BinanceClient, CallError, Request},
        orders::with_order_ref,
        wire::{
            invalid, WireAccount, WireBalance, WireExchangeInfo, WireKline, WireOrder, WireSymbol,
            WireTicker24h, WireTickerPrice, WireTime, WireTrade,
        },
    },
    trades_since, Account, Balance, ExchangeError, MarketData, MarketEvent, OrderAck, OrderRef,
    OrderRequest, Ticker24h, TickerPrice, TradesFrom, Venue,
};

/// The kline intervals Binance accepts (the one list lives in `hybrid-core`).
pub use hybrid_core::KLINE_INTERVALS;

impl MarketData for BinanceClient {
    async fn server_time(&self) -> Result<Timestamp, ExchangeError> {
        let time: WireTime = self.read(&Request::public("/api/v3/time", 1)).await?;
        Ok(Timestamp::from_millis(time.server_time))
    }

    async fn exchange_info(&self) -> Result<Vec<SymbolFilters>, ExchangeError> {
        let info = self
            .read_exchange_info(Request::public("/api/v3/exchangeInfo", 20))
            .await?;
        info.symbols.iter().map(WireSymbol::to_filters).collect()
    }

    async fn symbol_filters(&self, symbol: &Symbol) -> Result<SymbolFilters, ExchangeError> {
        let request = Request::public("/api/v3/exchangeInfo", 20).param("symbol", symbol);
        let info = self.read_exchange_info(request).await?;
        let wire = info
            .symbols
            .iter()
            .find(|s| s.symbol == symbol.as_str())
            .ok_or_else(|| invalid(format!("exchangeInfo without {symbol}")))?;
        wire.to_filters()
    }

    async fn ticker_price(&self, symbol: &Symbol) -> Result<Price, ExchangeError> {
        let request = Request::public("/api/v3/ticker/price", 2).param("symbol", symbol);
        let ticker: WireTickerPrice = self.read(&request).await?;
        Ok(ticker.to_ticker()?.price)
    }

    async fn ticker_prices(&self) -> Result<Vec<TickerPrice>, ExchangeError> {
        let tickers: Vec<WireTickerPrice> = self
            .read(&Request::public("/api/v3/ticker/price", 4))
            .await?;
        tickers.iter().map(WireTickerPrice::to_ticker).collect()
    }

    async fn ticker_24h(&self, symbol: &Symbol) -> Result<Ticker24h, ExchangeError> {
        let request = Request::public("/api/v3/ticker/24hr", 2).param("symbol", symbol);
        let ticker: WireTicker24h = self.read(&request).await?;
        ticker.to_ticker()
    }

    async fn klines(
        &self,
        symbol: &Symbol,
        interval: &str,
        start: Option<Timestamp>,
        end: Option<Timestamp>,
        limit: Option<u32>,
    ) -> Result<Vec<Candle>, ExchangeError> {
        if !KLINE_INTERVALS.contains(&interval) {
            return Err(ExchangeError::InvalidRequest(format!(
                "unknown kline interval {interval:?}; expected one of {}",
                KLINE_INTERVALS.join(" ")
            )));
        }
        let mut request = Request::public("/api/v3/klines", 2)
            .param("symbol", symbol)
            .param("interval", interval);
        if let Some(start) = start {
            request = request.param("startTime", start.as_millis());
        }
        if let Some(end) = end {
            request = request.param("endTime", end.as_millis());
        }
        if let Some(limit) = limit {
            request = request.param("limit", limit.clamp(1, 1000));
        }
        let rows: Vec<WireKline> = self.read(&request).await?;
        rows.iter().map(WireKline::to_candle).collect()
    }
}

impl Account for BinanceClient {
    async fn balances(&self) -> Result<Vec<Balance>, ExchangeError> {
        let request =
            Request::signed(Method::GET, "/api/v3/account", 20).param("omitZeroBalances", "true");
        let account: WireAccount = self.read(&request).await?;
        account
            .balances
            .iter()
            .map(WireBalance::to_balance)
            .collect()
    }

    async fn place_order(&self, request: &OrderRequest) -> Result<OrderAck, ExchangeError> {
        self.place(request).await
    }

    async fn query_order(&self, symbol: &Symbol, order: &OrderRef) -> Result<Order, ExchangeError> {
        let request = with_order_ref(
            Request::signed(Method::GET, "/api/v3/order", 4).param("symbol", symbol),
            order,
            "origClientOrderId",
        );
        let wire: WireOrder = self.read(&request).await?;
        self.remember(&wire)?.to_order()
    }

    async fn cancel_order(
        &self,
        symbol: &Symbol,
        order: &OrderRef,
    ) -> Result<Order, ExchangeError> {
        let request = with_order_ref(
            Request::signed(Method::DELETE, "/api/v3/order", 1).param("symbol", symbol),
            order,
            "origClientOrderId",
        );
        // A cancel is not retried: a second DELETE of a cancelled order answers -2011 and would
        // hide the first one's success. Unknown outcomes go back to the caller, who queries.
        let body = self
            .call(&request, &mut None)
            .await
            .map_err(CallError::into_error)?;
        let wire: WireOrder = parse_body(&body).map_err(CallError::into_error)?;
        self.remember(&wire)?.to_order()
    }

    async fn open_orders(&self, symbol: Option<&Symbol>) -> Result<Vec<Order>, ExchangeError> {
        let mut request = Request::signed(Method::GET, "/api/v3/openOrders", 80);
        if let Some(symbol) = symbol {
            request = request.param("symbol", symbol);
            request.weight = 6;
        }
        let orders: Vec<WireOrder> = self.read(&request).await?;
        orders
            .iter()
            .map(|wire| self.remember(wire)?.to_order())
            .collect()
    }

    async fn my_trades(
        &self,
        symbol: &Symbol,
        from: TradesFrom,
    ) -> Result<Vec<Fill>, ExchangeError> {
        let mut request =
            Request::signed(Method::GET, "/api/v3/myTrades", 20).param("symbol", symbol);
        request = match from {
            TradesFrom::Recent => request,
            TradesFrom::TradeId(id) => request.param("fromId", id),
            TradesFrom::Time(time) => request.param("startTime", time.as_millis()),
        };
        let trades: Vec<WireTrade> = self.read(&request).await?;
        let ids = self.client_ids_for(symbol, &trades).await?;
        trades
            .iter()
            .map(|trade| {
                let id = ids.get(&trade.order_id).cloned().ok_or_else(|| {
                    invalid(format!(
                        "trade {} of unknown order {}",
                        trade.id, trade.order_id
                    ))
                })?;
                trade.to_fill(id)
            })
            .collect()
    }
}

/// Binance matched our orders on its side: on each candle of a symbol its new trades are read
/// back, from where the last read stopped (or, before any, from the time the run started or
/// the trade the traders booked last), and handed to the traders as fills.
impl Venue for BinanceClient {
    async fn on_market(&self, event: &MarketEvent) -> Result<Vec<Fill>, ExchangeError> {
        let MarketEvent::Candle { symbol, .. } = event else {
            return Ok(Vec::new());
        };
        let from = self
            .trade_cursors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(symbol)
            .copied();
        // Without a cursor nothing was asked for yet: report from now on.
        let from = from.unwrap_or(TradesFrom::Time(self.clock.now()));
        let mut fills = trades_since(self, symbol, from).await?;
        if let TradesFrom::Time(start) = from {
            fills.retain(|f| f.time >= start);
        }
        let next = fills
            .last()
            .map_or(from, |last| TradesFrom::TradeId(last.trade_id + 1));
        self.trade_cursors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(symbol.clone(), next);
        Ok(fills)
    }

    fn resume_trades(&self, symbol: &Symbol, from: TradesFrom) {
        self.trade_cursors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(symbol.clone(), from);
    }
}

impl BinanceClient {
    /// `exchangeInfo`, adopting the announced request-weight limit (limits change; apis.md §1.6
    /// says read them rather than hard-code them).
    async fn read_exchange_info(
        &self,
        request: Request,
    ) -> Result<WireExchangeInfo, ExchangeError> {
        let info: WireExchangeInfo = self.read(&request).await?;
        if let Some(limit) = info.weight_per_minute() {
            self.adopt_weight_limit(limit);
        }
        Ok(info)
    }

    /// Client order ids of the orders behind `trades`; unknown ones are looked up by `orderId`.
    async fn client_ids_for(
        &self,
        symbol: &Symbol,
        trades: &[WireTrade],
    ) -> Result<HashMap<i64, ClientOrderId>, ExchangeError> {
        let mut ids = HashMap::new();
        for trade in trades {
            if ids.contains_key(&trade.order_id) {
                continue;
            }
            let known = self
                .client_ids
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(&trade.order_id)
                .cloned();
            let id = match known {
                Some(id) => id,
                None => {
                    self.query_order(symbol, &OrderRef::Exchange(trade.order_id))
                        .await?
                        .client_order_id
                }
            };
            ids.insert(trade.order_id, id);
        }
        Ok(ids)
    }
}
