//! The one matching engine of Hybrid: pure, synchronous, exact. The backtest venue
//! ([`crate::SimExchange`]), the paper exchange ([`crate::PaperExchange`]) and the fake Binance
//! server of `hybrid-testkit` all wrap it, so a strategy meets the same fills, fees and
//! rejections everywhere (as nautilus's `OrderMatchingEngine` serves backtest and sandbox).
//!
//! The engine has no order book of other traders: the market is a last price, fed by
//! [`MatchingEngine::on_price`] (a live tick) or [`MatchingEngine::on_candle`] (replay).
//!
//! # Rules
//! - **Filters** are enforced as Binance does, with Binance's codes and messages: `-1013
//!   "Filter failure: PRICE_FILTER | LOT_SIZE | NOTIONAL | MAX_NUM_ORDERS"`, `-2010 "Account has
//!   insufficient balance for requested action."`, `-2010 "Duplicate order sent."` for a client
//!   order id used by an *open* order, `-2010 "Order would immediately match and take."` for a
//!   crossing LIMIT_MAKER.
//! - **Reservations**: a BUY locks `limit × quantity` quote, a SELL locks `quantity` base; fills
//!   spend the lock, cancels release it.
//! - **Market orders** fill at once and completely at the last price worsened by
//!   [`MatchingConfig::market_slippage`] (taker). Without a known price they are refused.
//! - **Limit orders** that cross the last price at placement fill at once at that price (taker,
//!   with price improvement, like taking the best ask/bid); otherwise they rest and fill at
//!   their limit price (maker) when the market trades through them. IOC/FOK remainders expire.
//! - **Fees** are charged once, in the asset received (base on a BUY, quote on a SELL), as
//!   Binance does without BNB (the old paper exchange charged twice).
//! - **Intra-candle path**: a candle is replayed as four ticks. A bullish candle (close ≥ open)
//!   goes open → low → high → close; a bearish one open → high → low → close. This is the
//!   pessimistic-for-grids assumption: the move *against* the candle's direction comes first, so
//!   a BUY below and a SELL above both fill in one candle only when the range really covers
//!   both. Combined with fill-on-trade-through (see [`MatchingConfig::fill_on_touch`]) a
//!   backtest does not invent fills.

mod config;
mod ledger;

#[cfg(test)]
mod property_tests;
#[cfg(test)]
pub(crate) mod tests;

use std::collections::HashMap;

use hybrid_core::{
    Candle, ClientOrderId, Fill, Order, OrderKind, OrderStatus, Price, Quantity, Side, Symbol,
    SymbolFilters, TimeInForce, Timestamp,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use self::config::{MatchingConfig, PartialFillConfig};
use self::ledger::Ledger;
use crate::{
    error::ExchangeError,
    exchange::{Balance, OrderAck, OrderRef, OrderRequest, TradesFrom},
};

/// A simulated spot venue: balances, orders and trades of one account over many symbols.
#[derive(Debug, Clone)]
pub struct MatchingEngine {
    config: MatchingConfig,
    filters: HashMap<Symbol, SymbolFilters>,
    ledger: Ledger,
    /// Every order ever accepted, by exchange id (terminal ones stay queryable).
    orders: HashMap<i64, Order>,
    /// Open orders per symbol, oldest first (time priority), with what matching needs, so a
    /// tick scans a small vector instead of looking every order up.
    open_by_symbol: HashMap<Symbol, Vec<Resting>>,
    /// The latest order id per client order id.
    by_client_id: HashMap<ClientOrderId, i64>,
    /// Every fill, in trade-id order.
    trades: Vec<Fill>,
    last_prices: HashMap<Symbol, Price>,
    next_order_id: i64,
    next_trade_id: i64,
}

/// An open order as the matcher sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Resting {
    id: i64,
    side: Side,
    limit: Option<Price>,
}

/// Everything a [`MatchingEngine`] needs to continue after a restart (the paper exchange
/// persists it). Configuration and filters are not part of it: they come from the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchingState {
    /// Free and locked amount per asset.
    pub balances: Vec<Balance>,
    /// Every order, open and terminal, oldest first.
    pub orders: Vec<Order>,
    /// Every fill, oldest first.
    pub trades: Vec<Fill>,
    /// The last price seen per symbol.
    pub last_prices: Vec<(Symbol, Price)>,
    /// The exchange id the next order gets.
    pub next_order_id: i64,
    /// The trade id the next fill gets.
    pub next_trade_id: i64,
}

impl MatchingEngine {
    /// An engine trading the symbols of `filters`, with the account funded by `balances`
    /// (usually only `free` amounts).
    #[must_use]
    pub fn new(config: MatchingConfig, filters: Vec<SymbolFilters>, balances: &[Balance]) -> Self {
        Self {
            config,
            filters: filters.into_iter().map(|f| (f.symbol.clone(), f)).collect(),
            ledger: Ledger::from_balances(balances),
            orders: HashMap::new(),
            open_by_symbol: HashMap::new(),
            by_client_id: HashMap::new(),
            trades: Vec::new(),
            last_prices: HashMap::new(),
            next_order_id: 1,
            next_trade_id: 1,
        }
    }

    /// An engine continuing from a saved state. Open orders keep their reservations, which
    /// the saved balances already contain.
    #[must_use]
    pub fn restore(
        config: MatchingConfig,
        filters: Vec<SymbolFilters>,
        state: MatchingState,
    ) -> Self {
        let mut engine = Self::new(config, filters, &state.balances);
        for order in state.orders {
            let id = order.exchange_order_id.unwrap_or_default();
            engine.index_order(&order, id);
            engine.orders.insert(id, order);
        }
        engine.trades = state.trades;
        engine.last_prices = state.last_prices.into_iter().collect();
        engine.next_order_id = state.next_order_id.max(1);
        engine.next_trade_id = state.next_trade_id.max(1);
        engine
    }

    /// The state to persist for [`MatchingEngine::restore`].
    #[must_use]
    pub fn state(&self) -> MatchingState {
        let mut orders: Vec<Order> = self.orders.values().cloned().collect();
        orders.sort_by_key(|o| o.exchange_order_id);
        let mut last_prices: Vec<(Symbol, Price)> = self
            .last_prices
            .iter()
            .map(|(s, p)| (s.clone(), *p))
            .collect();
        last_prices.sort();
        MatchingState {
            balances: self.ledger.balances(),
            orders,
            trades: self.trades.clone(),
            last_prices,
            next_order_id: self.next_order_id,
            next_trade_id: self.next_trade_id,
        }
    }

    /// Adds or replaces the trading rules of a symbol.
    pub fn set_filters(&mut self, filters: SymbolFilters) {
        self.filters.insert(filters.symbol.clone(), filters);
    }

    /// The trading rules of one symbol, if it is listed.
    #[must_use]
    pub fn filters(&self, symbol: &Symbol) -> Option<&SymbolFilters> {
        self.filters.get(symbol)
    }

    /// The trading rules of every listed symbol, sorted by symbol.
    #[must_use]
    pub fn all_filters(&self) -> Vec<SymbolFilters> {
        let mut all: Vec<SymbolFilters> = self.filters.values().cloned().collect();
        all.sort_by(|a, b| a.symbol.cmp(&b.symbol));
        all
    }

    /// The configuration the engine runs with.
    #[must_use]
    pub const fn config(&self) -> &MatchingConfig {
        &self.config
    }

    /// The last price fed for `symbol`.
    #[must_use]
    pub fn last_price(&self, symbol: &Symbol) -> Option<Price> {
        self.last_prices.get(symbol).copied()
    }

    /// Every asset balance with a non-zero total.
    #[must_use]
    pub fn balances(&self) -> Vec<Balance> {
        self.ledger.balances()
    }

    /// Adds `balance.free` of `balance.asset` to the free balance (funding a test account;
    /// `balance.locked` is ignored).
    pub fn deposit(&mut self, balance: &Balance) {
        self.ledger.credit(&balance.asset, balance.free);
    }

    /// Places an order; returns it with the fills that happened at once.
    ///
    /// # Errors
    /// Binance's rejections (see the module docs): [`ExchangeError::FilterRejected`],
    /// [`ExchangeError::InsufficientBalance`], [`ExchangeError::DuplicateOrder`], `-2010`
    /// would-take for LIMIT_MAKER, `-1121` for an unknown symbol,
    /// [`ExchangeError::InvalidRequest`] for a malformed request or a market order before any
    /// price is known. A rejected order changes nothing.
    pub fn place(
        &mut self,
        request: &OrderRequest,
        now: Timestamp,
    ) -> Result<OrderAck, ExchangeError> {
        request.validate()?;
        let filters = self
            .filters
            .get(&request.symbol)
            .ok_or_else(ExchangeError::invalid_symbol)?;
        if self.open_order_id(&request.client_order_id).is_some() {
            return Err(ExchangeError::duplicate_order());
        }
        match request.kind {
            OrderKind::Market => self.place_market(request, now),
            OrderKind::Limit | OrderKind::LimitMaker => {
                let open = self.open_count(&request.symbol);
                filters
                    .check_open_orders(open)
                    .map_err(|v| ExchangeError::filter_failure(v.binance_filter()))?;
                self.place_limit(request, now)
            }
        }
    }

    /// Cancels an open order, releasing what it still reserves; returns it as CANCELED with any
    /// executed part.
    ///
    /// # Errors
    /// `-2011 "Unknown order sent."` when the order is not open on `symbol`.
    pub fn cancel(
        &mut self,
        symbol: &Symbol,
        order: &OrderRef,
        now: Timestamp,
    ) -> Result<Order, ExchangeError> {
        let id = self
            .resolve(order)
            .filter(|id| self.is_open_on(*id, symbol))
            .ok_or_else(ExchangeError::unknown_order_sent)?;
        self.close(id, OrderStatus::Canceled, now);
        self.orders
            .get(&id)
            .cloned()
            .ok_or_else(ExchangeError::unknown_order_sent)
    }

    /// One order, open or terminal.
    ///
    /// # Errors
    /// `-2013 "Order does not exist."` when no order of `symbol` has this id.
    pub fn query(&self, symbol: &Symbol, order: &OrderRef) -> Result<Order, ExchangeError> {
        self.resolve(order)
            .and_then(|id| self.orders.get(&id))
            .filter(|o| &o.symbol == symbol)
            .cloned()
            .ok_or_else(ExchangeError::order_does_not_exist)
    }

    /// Open orders of one symbol (or all), oldest first per symbol.
    #[must_use]
    pub fn open_orders(&self, symbol: Option<&Symbol>) -> Vec<Order> {
        let mut symbols: Vec<&Symbol> = match symbol {
            Some(symbol) => vec![symbol],
            None => self.open_by_symbol.keys().collect(),
        };
        symbols.sort();
        symbols
            .into_iter()
            .flat_map(|s| self.open_by_symbol.get(s).into_iter().flatten())
            .filter_map(|resting| self.orders.get(&resting.id).cloned())
            .collect()
    }

    /// Fills of one symbol from `from` on, oldest first (at most 1000, like Binance).
    #[must_use]
    pub fn trades(&self, symbol: &Symbol, from: TradesFrom) -> Vec<Fill> {
        const LIMIT: usize = 1000;
        let of_symbol = self.trades.iter().filter(|f| &f.symbol == symbol);
        let selected: Vec<&Fill> = match from {
            TradesFrom::Recent => {
                let all: Vec<&Fill> = of_symbol.collect();
                let skip = all.len().saturating_sub(500);
                all.into_iter().skip(skip).collect()
            }
            TradesFrom::TradeId(id) => of_symbol.filter(|f| f.trade_id >= id).take(LIMIT).collect(),
            TradesFrom::Time(t) => of_symbol.filter(|f| f.time >= t).take(LIMIT).collect(),
        };
        selected.into_iter().cloned().collect()
    }

    /// A live tick: sets the last price and fills every resting order of `symbol` it trades
    /// through (maker, at the order's limit price). Returns the fills in time priority.
    pub fn on_price(&mut self, symbol: &Symbol, price: Price, now: Timestamp) -> Vec<Fill> {
        self.set_last_price(symbol, price);
        let Some(open) = self.open_by_symbol.get(symbol) else {
            return Vec::new();
        };
        let touch = self.config.fill_on_touch;
        let crossed: Vec<i64> = open
            .iter()
            .filter(|resting| resting.crossed_by(price, touch))
            .map(|resting| resting.id)
            .collect();
        crossed
            .into_iter()
            .filter_map(|id| self.fill_resting(id, now))
            .collect()
    }

    /// Replays one candle as the four-tick path of the module docs; fills are stamped with the
    /// candle's open time.
    pub fn on_candle(&mut self, symbol: &Symbol, candle: &Candle) -> Vec<Fill> {
        let now = candle.open_time();
        if !self.range_crosses_any(symbol, candle.low(), candle.high()) {
            // Fast path: nothing rests inside the candle's range.
            self.set_last_price(symbol, candle.close());
            return Vec::new();
        }
        let mut fills = Vec::new();
        for price in candle_path(candle) {
            fills.extend(self.on_price(symbol, price, now));
        }
        fills
    }
}

/// The four ticks a candle is replayed as (see the module docs).
#[must_use]
pub fn candle_path(candle: &Candle) -> [Price; 4] {
    if candle.close() >= candle.open() {
        [candle.open(), candle.low(), candle.high(), candle.close()]
    } else {
        [candle.open(), candle.high(), candle.low(), candle.close()]
    }
}

// Placement.
impl MatchingEngine {
    fn place_market(
        &mut self,
        request: &OrderRequest,
        now: Timestamp,
    ) -> Result<OrderAck, ExchangeError> {
        let filters = self.filters_of(&request.symbol)?;
        let last = self.last_price(&request.symbol).ok_or_else(|| {
            ExchangeError::InvalidRequest(format!("no price known for {} yet", request.symbol))
        })?;
        filters
            .check_market(request.side, last, request.quantity)
            .map_err(|v| ExchangeError::filter_failure(v.binance_filter()))?;
        let fill_price = self.slipped(&filters, request.side, last);
        self.lock_for(request, fill_price)?;
        let id = self.accept(request, now);
        let fill = self.execute(id, fill_price, request.quantity, false, fill_price, now);
        self.ack(id, fill.into_iter().collect())
    }

    fn place_limit(
        &mut self,
        request: &OrderRequest,
        now: Timestamp,
    ) -> Result<OrderAck, ExchangeError> {
        let filters = self.filters_of(&request.symbol)?;
        let limit = request
            .price
            .ok_or_else(|| ExchangeError::InvalidRequest("a limit order needs a price".into()))?;
        filters
            .check(request.side, limit, request.quantity)
            .map_err(|v| ExchangeError::filter_failure(v.binance_filter()))?;
        let marketable = self
            .last_price(&request.symbol)
            .filter(|last| marketable(request.side, limit, *last));
        if request.kind == OrderKind::LimitMaker && marketable.is_some() {
            return Err(ExchangeError::would_take());
        }
        let time_in_force = request.time_in_force.unwrap_or(TimeInForce::GoodTillCancel);
        // A FOK that the partial-fill policy cannot fill whole at once is killed untouched.
        let killed = time_in_force == TimeInForce::FillOrKill
            && !self.fills_whole(&filters, request.quantity);
        self.lock_for(request, limit)?;
        let id = self.accept(request, now);
        let mut fills = Vec::new();
        if let (Some(last), false) = (marketable, killed) {
            let quantity = self.slice(&filters, request.quantity, request.quantity);
            fills.extend(self.execute(id, last, quantity, false, limit, now));
        }
        if time_in_force != TimeInForce::GoodTillCancel && self.is_open(id) {
            self.close(id, OrderStatus::Expired, now);
        }
        self.ack(id, fills)
    }

    fn filters_of(&self, symbol: &Symbol) -> Result<SymbolFilters, ExchangeError> {
        self.filters
            .get(symbol)
            .cloned()
            .ok_or_else(ExchangeError::invalid_symbol)
    }

    /// Locks what the order may spend: `reserve_price × quantity` quote for a BUY, `quantity`
    /// base for a SELL.
    fn lock_for(
        &mut self,
        request: &OrderRequest,
        reserve_price: Price,
    ) -> Result<(), ExchangeError> {
        match request.side {
            Side::Buy => self.ledger.lock(
                &request.symbol.quote(),
                (reserve_price * request.quantity).value(),
            ),
            Side::Sell => self
                .ledger
                .lock(&request.symbol.base(), request.quantity.value()),
        }
    }

    /// Records a new order as NEW and open; returns its exchange id.
    fn accept(&mut self, request: &OrderRequest, now: Timestamp) -> i64 {
        let id = self.next_order_id;
        self.next_order_id += 1;
        let order = request.to_new_order(id, now);
        self.index_order(&order, id);
        self.orders.insert(id, order);
        id
    }

    fn index_order(&mut self, order: &Order, id: i64) {
        self.by_client_id.insert(order.client_order_id.clone(), id);
        if order.status.is_open() {
            let resting = Resting {
                id,
                side: order.side,
                limit: order.price,
            };
            self.open_by_symbol
                .entry(order.symbol.clone())
                .or_default()
                .push(resting);
        }
    }

    fn ack(&self, id: i64, fills: Vec<Fill>) -> Result<OrderAck, ExchangeError> {
        let order = self.orders.get(&id).cloned();
        debug_assert!(order.is_some(), "Invariant: an accepted order is recorded");
        let order = order.ok_or_else(ExchangeError::order_does_not_exist)?;
        Ok(OrderAck { order, fills })
    }

    /// The market price worsened by the slippage and rounded to the tick against the taker.
    fn slipped(&self, filters: &SymbolFilters, side: Side, last: Price) -> Price {
        let slippage = self.config.market_slippage;
        let (raw, round_as) = match side {
            Side::Buy => (last.value() * (Decimal::ONE + slippage), Side::Sell),
            Side::Sell => (last.value() * (Decimal::ONE - slippage), Side::Buy),
        };
        filters.round_price(round_as, raw).unwrap_or(last)
    }

    /// Whether a FOK order of `quantity` can fill whole in one event under the partial-fill
    /// policy.
    fn fills_whole(&self, filters: &SymbolFilters, quantity: Quantity) -> bool {
        self.slice(filters, quantity, quantity) == quantity
    }
}

// Fills and bookkeeping.
impl MatchingEngine {
    /// How much of `remaining` (of an order of `quantity`) one event fills.
    fn slice(&self, filters: &SymbolFilters, quantity: Quantity, remaining: Quantity) -> Quantity {
        let Some(partial) = &self.config.partial_fill else {
            return remaining;
        };
        let step = filters.step_size;
        let raw = quantity.value() * partial.max_fill_ratio;
        let slice = filters
            .round_quantity(raw)
            .map_or(Decimal::ZERO, Quantity::value)
            .max(step);
        if slice.is_zero() || slice >= remaining.value() {
            remaining
        } else {
            Quantity::new(slice).unwrap_or(remaining)
        }
    }

    /// Fills a crossed resting order (maker, at its limit price).
    fn fill_resting(&mut self, id: i64, now: Timestamp) -> Option<Fill> {
        let order = self.orders.get(&id)?;
        let limit = order.price?;
        let filters = self.filters.get(&order.symbol)?;
        let quantity = self.slice(filters, order.quantity, order.remaining());
        self.execute(id, limit, quantity, true, limit, now)
    }

    /// Books one fill of `quantity` at `price` on order `id`: spends the reservation (made at
    /// `reserve_price` for a BUY), refunds any price improvement, credits the received asset
    /// net of the fee, and closes the order when it is complete.
    fn execute(
        &mut self,
        id: i64,
        price: Price,
        quantity: Quantity,
        is_maker: bool,
        reserve_price: Price,
        now: Timestamp,
    ) -> Option<Fill> {
        let trade_id = self.next_trade_id;
        let order = self.orders.get(&id)?;
        let quantity = quantity.min(order.remaining());
        if quantity.is_zero() {
            return None;
        }
        let rate = if is_maker {
            self.config.maker_fee
        } else {
            self.config.taker_fee
        };
        let fill = make_fill(order, trade_id, price, quantity, (rate, is_maker), now);
        self.next_trade_id += 1;
        let (side, symbol) = (order.side, order.symbol.clone());
        self.settle(side, &symbol, &fill, reserve_price);
        let order = self.orders.get_mut(&id)?;
        if let Err(error) = order.apply_fill(&fill) {
            debug_assert!(false, "Invariant: engine fills are valid: {error}");
            tracing::error!(%error, "matching engine produced an invalid fill");
        }
        if order.status.is_terminal() {
            self.remove_open(&symbol, id);
        }
        self.trades.push(fill.clone());
        Some(fill)
    }

    /// Moves the money of one fill between the ledger's accounts.
    fn settle(&mut self, side: Side, symbol: &Symbol, fill: &Fill, reserve_price: Price) {
        let (base, quote) = (symbol.base(), symbol.quote());
        let quantity = fill.quantity.value();
        let notional = fill.notional().value();
        match side {
            Side::Buy => {
                let reserved = (reserve_price * fill.quantity).value();
                self.ledger.spend_locked(&quote, reserved);
                self.ledger.credit(&quote, reserved - notional);
                self.ledger.credit(&base, quantity - fill.commission);
            }
            Side::Sell => {
                self.ledger.spend_locked(&base, quantity);
                self.ledger.credit(&quote, notional - fill.commission);
            }
        }
    }

    /// Ends an open order (cancel or expiry) and releases what it still reserves.
    fn close(&mut self, id: i64, status: OrderStatus, now: Timestamp) {
        let Some(order) = self.orders.get_mut(&id) else {
            return;
        };
        if let Err(error) = order.set_status(status, now) {
            debug_assert!(false, "Invariant: only open orders are closed: {error}");
            return;
        }
        let remaining = order.remaining();
        let (side, symbol, price) = (order.side, order.symbol.clone(), order.price);
        match side {
            Side::Buy => {
                let reserved = price.map_or(Decimal::ZERO, |p| (p * remaining).value());
                self.ledger.unlock(&symbol.quote(), reserved);
            }
            Side::Sell => self.ledger.unlock(&symbol.base(), remaining.value()),
        }
        self.remove_open(&symbol, id);
    }

    fn remove_open(&mut self, symbol: &Symbol, id: i64) {
        if let Some(open) = self.open_by_symbol.get_mut(symbol) {
            open.retain(|resting| resting.id != id);
        }
    }

    fn set_last_price(&mut self, symbol: &Symbol, price: Price) {
        match self.last_prices.get_mut(symbol) {
            Some(last) => *last = price,
            None => {
                self.last_prices.insert(symbol.clone(), price);
            }
        }
    }

    /// Whether any resting order of `symbol` is crossed somewhere in `[low, high]`.
    fn range_crosses_any(&self, symbol: &Symbol, low: Price, high: Price) -> bool {
        let touch = self.config.fill_on_touch;
        self.open_by_symbol.get(symbol).is_some_and(|open| {
            open.iter().any(|resting| match resting.side {
                Side::Buy => resting.crossed_by(low, touch),
                Side::Sell => resting.crossed_by(high, touch),
            })
        })
    }

    fn resolve(&self, order: &OrderRef) -> Option<i64> {
        match order {
            OrderRef::Exchange(id) => self.orders.contains_key(id).then_some(*id),
            OrderRef::Client(client_id) => self.by_client_id.get(client_id).copied(),
        }
    }

    fn open_order_id(&self, client_id: &ClientOrderId) -> Option<i64> {
        self.by_client_id
            .get(client_id)
            .copied()
            .filter(|id| self.is_open(*id))
    }

    fn is_open(&self, id: i64) -> bool {
        self.orders.get(&id).is_some_and(|o| o.status.is_open())
    }

    fn is_open_on(&self, id: i64, symbol: &Symbol) -> bool {
        self.orders
            .get(&id)
            .is_some_and(|o| o.status.is_open() && &o.symbol == symbol)
    }

    fn open_count(&self, symbol: &Symbol) -> u32 {
        let count = self.open_by_symbol.get(symbol).map_or(0, Vec::len);
        u32::try_from(count).unwrap_or(u32::MAX)
    }
}

impl Resting {
    /// Whether a market price of `price` fills this resting order: strictly through its limit,
    /// or also at the limit with `touch`.
    fn crossed_by(&self, price: Price, touch: bool) -> bool {
        let Some(limit) = self.limit else {
            return false;
        };
        match (self.side, touch) {
            (Side::Buy, false) => price < limit,
            (Side::Buy, true) => price <= limit,
            (Side::Sell, false) => price > limit,
            (Side::Sell, true) => price >= limit,
        }
    }
}

/// Whether a new limit order would trade at once against the last price (a BUY at or above it,
/// a SELL at or below it): at placement, equality is marketable, as on a real book where the
/// last price is the best ask or bid.
fn marketable(side: Side, limit: Price, last: Price) -> bool {
    match side {
        Side::Buy => limit >= last,
        Side::Sell => limit <= last,
    }
}

/// The fill of `quantity` at `price` on `order`; the fee (`rate`, a fraction) is charged in the
/// asset received.
fn make_fill(
    order: &Order,
    trade_id: i64,
    price: Price,
    quantity: Quantity,
    (rate, is_maker): (Decimal, bool),
    now: Timestamp,
) -> Fill {
    let (commission, commission_asset) = match order.side {
        Side::Buy => (quantity.value() * rate, order.symbol.base()),
        Side::Sell => ((price * quantity).value() * rate, order.symbol.quote()),
    };
    Fill {
        client_order_id: order.client_order_id.clone(),
        exchange_order_id: order.exchange_order_id.unwrap_or_default(),
        trade_id,
        symbol: order.symbol.clone(),
        side: order.side,
        price,
        quantity,
        commission: commission.normalize(),
        commission_asset,
        is_maker,
        time: now,
    }
}
