//! The exchange traits, split by what callers need: [`MarketData`] (public prices, rules and
//! candles) and [`Account`] (balances, orders, own trades); [`Exchange`] is both. Implemented by
//! Binance live/testnet, the paper exchange and the backtest exchange, in `hybrid-core` types.
//!
//! The trait uses native `async fn` in traits, written as `fn .. -> impl Future<..> + Send` so
//! the futures can be spawned on a multi-threaded runtime. It is therefore not object safe:
//! callers are generic over `E: Exchange` (one backend per process, chosen at start-up), which
//! also lets the compiler inline the simulated backends in backtests.
//!
//! Every order carries **our** client order id ([`OrderRequest::client_order_id`]); it is the
//! key that makes an unknown outcome resolvable (`apis.md` §1.12) and a retry safe.

use std::{future::Future, sync::Arc};

use hybrid_core::{
    Asset, Candle, ClientOrderId, CohortId, Fill, Notional, Order, OrderKind, OrderStatus, Price,
    Quantity, Side, Symbol, SymbolFilters, TimeInForce, Timestamp,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::ExchangeError;

/// A new order as we send it. Prices and quantities must already be rounded by the symbol's
/// [`SymbolFilters`]; the exchange re-checks them and answers `-1013` if they are not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRequest {
    /// Our id for the order, always sent (`newClientOrderId`); unique among open orders.
    pub client_order_id: ClientOrderId,
    /// The cohort that owns the order (kept locally, not sent to the exchange).
    pub cohort: CohortId,
    /// The market.
    pub symbol: Symbol,
    /// Buy or sell.
    pub side: Side,
    /// LIMIT, MARKET or LIMIT_MAKER.
    pub kind: OrderKind,
    /// For LIMIT only (`None` is sent as GTC); must be `None` for MARKET and LIMIT_MAKER.
    pub time_in_force: Option<TimeInForce>,
    /// Limit price in quote per base; required for LIMIT and LIMIT_MAKER, `None` for MARKET.
    pub price: Option<Price>,
    /// Amount of the base asset to buy or sell (market orders too: a quote budget is turned
    /// into a base quantity with [`SymbolFilters::order_for_budget`] before sending).
    pub quantity: Quantity,
}

/// The exchange's answer to a placed order: the order as it stands after the placement and the
/// fills that happened at once (a market order, or a limit order that crossed the book).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderAck {
    /// The order with its exchange id, status and executed amounts.
    pub order: Order,
    /// Fills that happened during placement (Binance `fills` in a FULL response); later fills
    /// are reported by [`Account::my_trades`].
    pub fills: Vec<Fill>,
}

/// Which order to query or cancel: by the exchange's id or by our client order id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OrderRef {
    /// The exchange's `orderId`.
    Exchange(i64),
    /// Our `clientOrderId` (`origClientOrderId` on Binance); the only key after an unknown
    /// outcome, when we never learnt the exchange id.
    Client(ClientOrderId),
}

/// Where [`Exchange::my_trades`] starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TradesFrom {
    /// The most recent trades (Binance returns up to 500).
    Recent,
    /// Trades with an id ≥ this one (`fromId`), for catching up from the last stored trade.
    TradeId(i64),
    /// Trades at or after this time (`startTime`).
    Time(Timestamp),
}

/// One asset's balance on the account, in units of that asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    /// The asset, e.g. `USDT`.
    pub asset: Asset,
    /// Available for new orders.
    pub free: Decimal,
    /// Reserved by open orders.
    pub locked: Decimal,
}

impl Balance {
    /// `free + locked`.
    #[must_use]
    pub fn total(&self) -> Decimal {
        self.free + self.locked
    }
}

/// The last traded price of a symbol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TickerPrice {
    /// The market.
    pub symbol: Symbol,
    /// Last price in quote per base.
    pub price: Price,
}

/// Rolling 24-hour statistics of a symbol (`GET /api/v3/ticker/24hr`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticker24h {
    /// The market.
    pub symbol: Symbol,
    /// Last price minus the price 24 h ago, in quote per base (may be negative).
    pub price_change: Decimal,
    /// The same change in percent of the old price (e.g. `-1.25` for −1.25 %).
    pub price_change_percent: Decimal,
    /// Last price.
    pub last_price: Price,
    /// Highest price in the window.
    pub high: Price,
    /// Lowest price in the window.
    pub low: Price,
    /// Volume traded in the window, in the base asset.
    pub volume: Quantity,
    /// Volume traded in the window, in the quote asset.
    pub quote_volume: Notional,
}

/// Public market data: the exchange's clock, its trading rules, prices and candles. Needs no
/// account; the polling feed, the scanners and the start-up filter lookup use it.
///
/// All methods are `&self`: implementations use interior mutability, so one client can be
/// shared (through an `Arc`) by every part of the process that needs it.
pub trait MarketData: Send + Sync {
    /// The exchange's clock (UTC ms), for the `-1021` time re-sync.
    ///
    /// # Errors
    /// Connectivity, rate-limit or response errors.
    fn server_time(&self) -> impl Future<Output = Result<Timestamp, ExchangeError>> + Send;

    /// The trading rules of every symbol the exchange lists.
    ///
    /// # Errors
    /// Connectivity, rate-limit or response errors.
    fn exchange_info(
        &self,
    ) -> impl Future<Output = Result<Vec<SymbolFilters>, ExchangeError>> + Send;

    /// The trading rules of one symbol.
    ///
    /// # Errors
    /// [`ExchangeError::Api`] `-1121 "Invalid symbol."` for an unknown symbol; connectivity,
    /// rate-limit or response errors.
    fn symbol_filters(
        &self,
        symbol: &Symbol,
    ) -> impl Future<Output = Result<SymbolFilters, ExchangeError>> + Send;

    /// The last price of one symbol.
    ///
    /// # Errors
    /// `-1121` for an unknown symbol (or one without a price yet); connectivity, rate-limit
    /// or response errors.
    fn ticker_price(
        &self,
        symbol: &Symbol,
    ) -> impl Future<Output = Result<Price, ExchangeError>> + Send;

    /// The last price of every symbol.
    ///
    /// # Errors
    /// Connectivity, rate-limit or response errors.
    fn ticker_prices(&self)
        -> impl Future<Output = Result<Vec<TickerPrice>, ExchangeError>> + Send;

    /// The rolling 24-hour statistics of one symbol.
    ///
    /// # Errors
    /// `-1121` for an unknown symbol; connectivity, rate-limit or response errors.
    fn ticker_24h(
        &self,
        symbol: &Symbol,
    ) -> impl Future<Output = Result<Ticker24h, ExchangeError>> + Send;

    /// Candles of `interval` (Binance spelling: `1m`, `5m`, `1h`, `4h`, `1d`, …) whose open time
    /// lies in `[start, end]`, oldest first, at most `limit` (Binance: default 500, max 1000).
    ///
    /// # Errors
    /// [`ExchangeError::InvalidRequest`] for an unknown interval; `-1121`; connectivity,
    /// rate-limit or response errors.
    fn klines(
        &self,
        symbol: &Symbol,
        interval: &str,
        start: Option<Timestamp>,
        end: Option<Timestamp>,
        limit: Option<u32>,
    ) -> impl Future<Output = Result<Vec<Candle>, ExchangeError>> + Send;
}

/// An account on an exchange: balances, orders and our own trades (`trading-core.md` §1.1,
/// with client order ids everywhere). This is all a strategy's executor needs; prices come to
/// it with the market events, not from here.
pub trait Account: Send + Sync {
    /// Every asset balance of the account (zero balances may be omitted).
    ///
    /// # Errors
    /// Connectivity, rate-limit or response errors.
    fn balances(&self) -> impl Future<Output = Result<Vec<Balance>, ExchangeError>> + Send;

    /// Places an order.
    ///
    /// # Errors
    /// Definitive rejections ([`ExchangeError::FilterRejected`],
    /// [`ExchangeError::InsufficientBalance`], [`ExchangeError::Api`],
    /// [`ExchangeError::RateLimited`]); [`ExchangeError::DuplicateOrder`] when an open order
    /// already has this client id; [`ExchangeError::UnknownOutcome`] when the order may or may
    /// not have been placed (resolve with [`Account::query_order`] by client id).
    fn place_order(
        &self,
        request: &OrderRequest,
    ) -> impl Future<Output = Result<OrderAck, ExchangeError>> + Send;

    /// The current state of one order.
    ///
    /// # Errors
    /// [`ExchangeError::UnknownOrder`] (`-2013`) if the exchange does not know it (yet);
    /// connectivity, rate-limit or response errors.
    fn query_order(
        &self,
        symbol: &Symbol,
        order: &OrderRef,
    ) -> impl Future<Output = Result<Order, ExchangeError>> + Send;

    /// Cancels an open order and returns it as cancelled (with any executed part).
    ///
    /// # Errors
    /// [`ExchangeError::UnknownOrder`] (`-2011`) if the order is not open (filled, cancelled or
    /// never placed: query it); [`ExchangeError::UnknownOutcome`] on a timeout or 5xx.
    fn cancel_order(
        &self,
        symbol: &Symbol,
        order: &OrderRef,
    ) -> impl Future<Output = Result<Order, ExchangeError>> + Send;

    /// Open orders of one symbol, or of every symbol with `None`.
    ///
    /// # Errors
    /// Connectivity, rate-limit or response errors.
    fn open_orders(
        &self,
        symbol: Option<&Symbol>,
    ) -> impl Future<Output = Result<Vec<Order>, ExchangeError>> + Send;

    /// Our trades (fills) on one symbol, oldest first: one page (Binance: at most 1000).
    /// [`trades_since`] reads every page.
    ///
    /// # Errors
    /// Connectivity, rate-limit or response errors.
    fn my_trades(
        &self,
        symbol: &Symbol,
        from: TradesFrom,
    ) -> impl Future<Output = Result<Vec<Fill>, ExchangeError>> + Send;
}

/// Both halves: a full exchange client (Binance, the simulated exchange). Implemented for
/// every type that is both [`MarketData`] and [`Account`].
pub trait Exchange: MarketData + Account {}

impl<T: MarketData + Account> Exchange for T {}

impl<T: MarketData + ?Sized> MarketData for Arc<T> {
    fn server_time(&self) -> impl Future<Output = Result<Timestamp, ExchangeError>> + Send {
        (**self).server_time()
    }

    fn exchange_info(
        &self,
    ) -> impl Future<Output = Result<Vec<SymbolFilters>, ExchangeError>> + Send {
        (**self).exchange_info()
    }

    fn symbol_filters(
        &self,
        symbol: &Symbol,
    ) -> impl Future<Output = Result<SymbolFilters, ExchangeError>> + Send {
        (**self).symbol_filters(symbol)
    }

    fn ticker_price(
        &self,
        symbol: &Symbol,
    ) -> impl Future<Output = Result<Price, ExchangeError>> + Send {
        (**self).ticker_price(symbol)
    }

    fn ticker_prices(
        &self,
    ) -> impl Future<Output = Result<Vec<TickerPrice>, ExchangeError>> + Send {
        (**self).ticker_prices()
    }

    fn ticker_24h(
        &self,
        symbol: &Symbol,
    ) -> impl Future<Output = Result<Ticker24h, ExchangeError>> + Send {
        (**self).ticker_24h(symbol)
    }

    fn klines(
        &self,
        symbol: &Symbol,
        interval: &str,
        start: Option<Timestamp>,
        end: Option<Timestamp>,
        limit: Option<u32>,
    ) -> impl Future<Output = Result<Vec<Candle>, ExchangeError>> + Send {
        (**self).klines(symbol, interval, start, end, limit)
    }
}

impl<T: Account + ?Sized> Account for Arc<T> {
    fn balances(&self) -> impl Future<Output = Result<Vec<Balance>, ExchangeError>> + Send {
        (**self).balances()
    }

    fn place_order(
        &self,
        request: &OrderRequest,
    ) -> impl Future<Output = Result<OrderAck, ExchangeError>> + Send {
        (**self).place_order(request)
    }

    fn query_order(
        &self,
        symbol: &Symbol,
        order: &OrderRef,
    ) -> impl Future<Output = Result<Order, ExchangeError>> + Send {
        (**self).query_order(symbol, order)
    }

    fn cancel_order(
        &self,
        symbol: &Symbol,
        order: &OrderRef,
    ) -> impl Future<Output = Result<Order, ExchangeError>> + Send {
        (**self).cancel_order(symbol, order)
    }

    fn open_orders(
        &self,
        symbol: Option<&Symbol>,
    ) -> impl Future<Output = Result<Vec<Order>, ExchangeError>> + Send {
        (**self).open_orders(symbol)
    }

    fn my_trades(
        &self,
        symbol: &Symbol,
        from: TradesFrom,
    ) -> impl Future<Output = Result<Vec<Fill>, ExchangeError>> + Send {
        (**self).my_trades(symbol, from)
    }
}

/// Pages of own trades [`trades_since`] reads at most in one call (Binance: 1 000 per page).
pub const MAX_TRADE_PAGES: usize = 20;

/// Every own trade of `symbol` from `from` on, oldest first, reading page after page (at most
/// [`MAX_TRADE_PAGES`]): the one way the system catches up with an account's trades, used by
/// the Binance venue on each candle and by reconciliation.
///
/// # Errors
/// The account's errors; pages read before a failure are lost with it (the caller's cursor
/// did not move, so the next call reads them again).
pub async fn trades_since<A: Account + ?Sized>(
    account: &A,
    symbol: &Symbol,
    from: TradesFrom,
) -> Result<Vec<Fill>, ExchangeError> {
    let mut all: Vec<Fill> = Vec::new();
    let mut from = from;
    for _ in 0..MAX_TRADE_PAGES {
        let mut page = account.my_trades(symbol, from).await?;
        page.sort_by_key(|f| f.trade_id);
        page.retain(|f| all.last().is_none_or(|last| f.trade_id > last.trade_id));
        let Some(last) = page.last().map(|f| f.trade_id) else {
            break;
        };
        all.extend(page);
        let next = TradesFrom::TradeId(last + 1);
        if next == from {
            break;
        }
        from = next;
    }
    Ok(all)
}

impl OrderRequest {
    /// The order as the exchange would record it on acceptance: status NEW, nothing filled.
    #[must_use]
    pub fn to_new_order(&self, exchange_order_id: i64, now: Timestamp) -> Order {
        Order {
            client_order_id: self.client_order_id.clone(),
            exchange_order_id: Some(exchange_order_id),
            cohort: self.cohort,
            symbol: self.symbol.clone(),
            side: self.side,
            kind: self.kind,
            time_in_force: self.time_in_force,
            price: self.price,
            quantity: self.quantity,
            filled_quantity: Quantity::ZERO,
            filled_quote: Notional::ZERO,
            status: OrderStatus::New,
            created_at: now,
            updated_at: now,
        }
    }

    /// Checks the request's shape: a price exactly for LIMIT/LIMIT_MAKER, a time in force
    /// only for LIMIT, a positive quantity.
    ///
    /// # Errors
    /// [`ExchangeError::InvalidRequest`] naming the missing or superfluous field.
    pub fn validate(&self) -> Result<(), ExchangeError> {
        let needs_price = matches!(self.kind, OrderKind::Limit | OrderKind::LimitMaker);
        let problem = if self.quantity.is_zero() {
            Some("quantity must be positive")
        } else if needs_price && self.price.is_none() {
            Some("a limit order needs a price")
        } else if !needs_price && self.price.is_some() {
            Some("a market order takes no price")
        } else if self.kind != OrderKind::Limit && self.time_in_force.is_some() {
            Some("only LIMIT orders take a time in force")
        } else {
            None
        };
        match problem {
            Some(problem) => Err(ExchangeError::InvalidRequest(format!(
                "order {}: {problem}",
                self.client_order_id
            ))),
            None => Ok(()),
        }
    }
}
