//! [`GridBot`]: the grid state machine for one symbol.
//!
//! Events in (`on_price`, `on_candle`, `on_fill`, `on_order_failed`, `on_order_closed`,
//! `on_timer`, `restore`), each with the current time; [`GridIntent`]s out. After every event
//! the "grid doctor" ([`GridBot::check_invariants`]) runs; a breach halts the bot and is
//! reported as intents instead of trading on.
//!
//! State transitions (event → next state), everything else keeps the state:
//!
//! | State | Event | Next |
//! |---|---|---|
//! | Running | price falls ≥ breaker % since the last price | Halted (cancel all) |
//! | Running | hourly check finds the price near/outside an edge | RebuildRequested (cancel all) |
//! | Running | doctor finds a breach | Halted (orders left alone) |
//! | Halted | `resume` | Running (breaker re-seeded) |

use std::collections::{BTreeMap, BTreeSet};

use hybrid_core::{
    Asset, Candle, ClientOrderId, CohortId, Fill, Order, OrderStatus, Price, Quantity,
    RoundedOrder, Side, Symbol, Timestamp,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

mod snapshot;

pub use self::snapshot::GridSnapshot;

use crate::{
    config::{GridConfig, GridParams},
    ledger::Ledger,
    levels::nearest_level,
    retry::{next_retry, MAX_FOLLOW_UP_RETRIES},
};

/// How urgent an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Severity {
    /// For the log and the daily report.
    Info,
    /// Something went wrong and was handled.
    Warning,
    /// A human must look now (abandoned follow-up, halted grid, broken invariant).
    Critical,
}

/// What the grid asks the engine to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GridIntent {
    /// Place a GTC limit order; record it under `client_order_id` before sending.
    Place {
        /// The id the grid will recognise fills and failures by.
        client_order_id: ClientOrderId,
        /// The level the order belongs to.
        level: usize,
        /// Side, price and quantity, already through the symbol filters.
        order: RoundedOrder,
    },
    /// Cancel a live order.
    Cancel {
        /// The order to cancel.
        client_order_id: ClientOrderId,
    },
    /// Tell the operator.
    Alert {
        /// How urgent.
        severity: Severity,
        /// Lower-case text for Telegram and the log.
        message: String,
    },
    /// The grid stopped trading (circuit breaker or broken invariant); the engine should pause
    /// the symbol until an operator or the mode manager resumes it.
    Halt {
        /// Why.
        reason: String,
    },
    /// The price left the useful part of the range; build a new grid (new range from
    /// [`crate::dynamic`]) carrying over this grid's cash and inventory.
    Rebuild {
        /// Why, containing "below" or "above".
        reason: String,
    },
}

/// Whether the grid trades.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BotState {
    /// Placing and reacting.
    Running,
    /// Books fills but places nothing until [`GridBot::resume`].
    Halted,
    /// Waits to be replaced by a rebuilt grid; books fills, places nothing.
    RebuildRequested,
}

/// An order of the grid the exchange holds (or is about to).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveOrder {
    /// Level index.
    pub level: usize,
    /// Buy or sell.
    pub side: Side,
    /// Limit price.
    pub price: Price,
    /// Ordered quantity.
    pub quantity: Quantity,
    /// Filled so far (base, gross).
    pub filled: Decimal,
    /// Base received so far net of base-asset fees (buys only).
    pub received: Decimal,
    /// Failed placements before this one (0 for a first try).
    pub failures: u32,
}

/// The parameters that identify a grid across restarts; if they change, the old orders are
/// orphans and get cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridFingerprint {
    /// Symbol traded.
    pub symbol: Symbol,
    /// Quote capital.
    pub investment: Decimal,
    /// Range bottom.
    pub lower: Decimal,
    /// Range top.
    pub upper: Decimal,
    /// Number of intervals.
    pub num_grids: u32,
}

/// A follow-up waiting to be placed: new (level busy) or after a failed placement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct FollowUp {
    level: usize,
    side: Side,
    quantity: Decimal,
    failures: u32,
    due: Timestamp,
}

impl FollowUp {
    /// A first try, due at once.
    const fn new(level: usize, side: Side, quantity: Decimal, now: Timestamp) -> Self {
        Self {
            level,
            side,
            quantity,
            failures: 0,
            due: now,
        }
    }
}

/// The grid state machine for one symbol. See the module docs for the transition table.
#[derive(Debug, Clone)]
pub struct GridBot {
    config: GridConfig,
    cohort: CohortId,
    next_sequence: u64,
    base: Asset,
    quote: Asset,
    ledger: Ledger,
    start_cash: Decimal,
    start_inventory: Decimal,
    orders: BTreeMap<ClientOrderId, LiveOrder>,
    /// Orders the grid asked to cancel; a fill that races the cancel still gets its follow-up.
    /// Dropped when the engine reports the order closed.
    cancelling: BTreeMap<ClientOrderId, LiveOrder>,
    queue: Vec<FollowUp>,
    /// Quantities too small to place yet, per level: (buy, sell); added to the next follow-up.
    dust: Vec<(Decimal, Decimal)>,
    state: BotState,
    seeded: bool,
    breaker_last: Option<Price>,
    last_rebuild_check: Timestamp,
    seen_trades: BTreeSet<(i64, i64)>,
}

impl GridBot {
    /// A fresh grid with the configured cash and inventory and no orders; the first price
    /// seeds the circuit breaker and places the initial orders.
    ///
    /// Order ids are `ClientOrderId::new(cohort, symbol, n)` for `n = first_sequence, …`; the
    /// engine must give each (cohort, symbol) grid a sequence range no other order uses (on
    /// restart, [`GridBot::restore`] continues after the highest sequence it sees).
    #[must_use]
    pub fn new(config: GridConfig, cohort: CohortId, first_sequence: u64, now: Timestamp) -> Self {
        let symbol = &config.filters().symbol;
        let (base, quote) = (symbol.base(), symbol.quote());
        let (cash, inventory) = (config.params().investment, config.params().initial_base);
        let n_levels = config.levels().len();
        Self {
            cohort,
            next_sequence: first_sequence,
            base,
            quote,
            ledger: Ledger::new(cash, inventory),
            start_cash: cash,
            start_inventory: inventory,
            orders: BTreeMap::new(),
            cancelling: BTreeMap::new(),
            queue: Vec::new(),
            dust: vec![(Decimal::ZERO, Decimal::ZERO); n_levels],
            state: BotState::Running,
            seeded: false,
            breaker_last: None,
            last_rebuild_check: now,
            seen_trades: BTreeSet::new(),
            config,
        }
    }

    /// The validated configuration.
    #[must_use]
    pub fn config(&self) -> &GridConfig {
        &self.config
    }

    /// Running, halted or waiting for a rebuild.
    #[must_use]
    pub fn state(&self) -> BotState {
        self.state
    }

    /// Cash, inventory and fill totals.
    #[must_use]
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The orders the grid believes are on the exchange.
    #[must_use]
    pub fn live_orders(&self) -> &BTreeMap<ClientOrderId, LiveOrder> {
        &self.orders
    }

    /// Whether `id` is one of this grid's orders, live or being cancelled: the only orders
    /// whose fills it books (a fill of another grid's order would corrupt its ledger).
    #[must_use]
    pub fn knows(&self, id: &ClientOrderId) -> bool {
        self.orders.contains_key(id) || self.cancelling.contains_key(id)
    }

    /// Follow-ups waiting for a free level or a retry time.
    #[must_use]
    pub fn pending_follow_ups(&self) -> usize {
        self.queue.len()
    }

    /// Parameters for the grid that replaces this one after a [`GridIntent::Rebuild`]: centred
    /// on `price` with `range_pct` percent each side and `num_grids` intervals (typically from
    /// [`crate::dynamic::dynamic_range`]), starting with this grid's cash and inventory and
    /// sizing its levels by the whole equity (cash + inventory × price), so a grid that ended
    /// up holding only base still gets normal-sized levels; buys are capped by free cash.
    #[must_use]
    pub fn rebuild_params(&self, price: Price, range_pct: Decimal, num_grids: u32) -> GridParams {
        let old = self.config.params();
        let mut params = GridParams::around(price, range_pct, num_grids, self.ledger.cash);
        params.initial_base = self.ledger.inventory;
        params.sizing_capital = self.ledger.cash + self.ledger.inventory * price.value();
        params.spacing = old.spacing;
        params.fee_rate = old.fee_rate;
        params.profit_margin = old.profit_margin;
        params.match_tolerance = old.match_tolerance;
        params.circuit_breaker_pct = old.circuit_breaker_pct;
        params.rebuild_edge = old.rebuild_edge;
        params.rebuild_check_interval_ms = old.rebuild_check_interval_ms;
        params
    }

    /// The parameters to save so a restart can tell whether the grid changed.
    #[must_use]
    pub fn fingerprint(&self) -> GridFingerprint {
        let p = self.config.params();
        GridFingerprint {
            symbol: self.config.filters().symbol.clone(),
            investment: p.investment,
            lower: p.lower,
            upper: p.upper,
            num_grids: p.num_grids,
        }
    }

    /// A new market price: circuit breaker, initial orders (first price), hourly rebuild
    /// check, due follow-ups, then the doctor. A halted or rebuilding grid only records it.
    pub fn on_price(&mut self, price: Price, now: Timestamp) -> Vec<GridIntent> {
        let mut out = Vec::new();
        if self.state == BotState::Running {
            self.react_to_price(price, now, &mut out);
        }
        self.finish(out)
    }

    /// A closed candle, handled as its close price.
    pub fn on_candle(&mut self, candle: &Candle, now: Timestamp) -> Vec<GridIntent> {
        self.on_price(candle.close(), now)
    }

    /// Time passed: places follow-ups whose retry time has come.
    pub fn on_timer(&mut self, now: Timestamp) -> Vec<GridIntent> {
        let mut out = Vec::new();
        if self.state == BotState::Running {
            self.drain_queue(now, &mut out);
        }
        self.finish(out)
    }

    /// Lifts a halt: queued follow-ups go out now; the next price re-seeds the circuit
    /// breaker and, if the halt cancelled every order, lays the initial orders again.
    pub fn resume(&mut self, now: Timestamp) -> Vec<GridIntent> {
        let mut out = Vec::new();
        if self.state == BotState::Halted {
            self.state = BotState::Running;
            self.breaker_last = None;
            self.seeded = !self.orders.is_empty();
            self.drain_queue(now, &mut out);
        }
        self.finish(out)
    }

    /// A (possibly partial) fill. Every fill of this symbol is booked, duplicates (same
    /// exchange order and trade id) are ignored. When the grid's order is complete the
    /// follow-up goes one level up (buy filled) or down (sell filled).
    pub fn on_fill(&mut self, fill: &Fill, now: Timestamp) -> Vec<GridIntent> {
        let mut out = Vec::new();
        if fill.symbol != self.config.filters().symbol {
            out.push(alert(
                Severity::Warning,
                format!(
                    "fill for {} ignored by the {} grid",
                    fill.symbol,
                    self.config.filters().symbol
                ),
            ));
            return self.finish(out);
        }
        if !self
            .seen_trades
            .insert((fill.exchange_order_id, fill.trade_id))
        {
            return self.finish(out);
        }
        let received = self.ledger.apply(fill, &self.base, &self.quote);
        self.track_fill(fill, received, now, &mut out);
        if self.state == BotState::Running {
            self.drain_queue(now, &mut out);
        }
        self.finish(out)
    }

    /// The exchange refused or never confirmed a placement: retry on the back-off schedule
    /// (2, 5, 15, 30, 60 min), then give up with a critical alert.
    pub fn on_order_failed(
        &mut self,
        id: &ClientOrderId,
        reason: &str,
        now: Timestamp,
    ) -> Vec<GridIntent> {
        let mut out = Vec::new();
        if let Some(order) = self.orders.remove(id) {
            self.schedule_retry(&order, reason, now, &mut out);
        }
        self.finish(out)
    }

    /// The exchange cancelled or expired a grid order; what filled of it gets its follow-up
    /// (if it meets the minimums, otherwise it waits as dust for the next one).
    pub fn on_order_closed(&mut self, id: &ClientOrderId, now: Timestamp) -> Vec<GridIntent> {
        let mut out = Vec::new();
        let order = self
            .orders
            .remove(id)
            .or_else(|| self.cancelling.remove(id));
        if let Some(order) = order.filter(|o| o.filled > Decimal::ZERO) {
            self.follow_up(&order, now, &mut out);
        }
        if self.state == BotState::Running {
            self.drain_queue(now, &mut out);
        }
        self.finish(out)
    }
}

/// Event handling internals.
impl GridBot {
    fn react_to_price(&mut self, price: Price, now: Timestamp, out: &mut Vec<GridIntent>) {
        if let Some(drop_pct) = self.breaker_fires(price) {
            let reason = format!(
                "circuit breaker: price fell {}% to {price}",
                drop_pct.round_dp(2).normalize()
            );
            self.stop(BotState::Halted, out);
            out.push(alert(Severity::Critical, reason.clone()));
            out.push(GridIntent::Halt { reason });
            return;
        }
        if !self.seeded {
            self.seed(price, now, out);
        }
        if let Some(reason) = self.rebuild_due(price, now) {
            self.stop(BotState::RebuildRequested, out);
            out.push(GridIntent::Rebuild { reason });
            return;
        }
        self.drain_queue(now, out);
    }

    /// Fires on a fall of at least the threshold since the last accepted price; the first
    /// price only seeds it, rises never fire, and the price that fired is not stored.
    fn breaker_fires(&mut self, price: Price) -> Option<Decimal> {
        let Some(last) = self.breaker_last else {
            self.breaker_last = Some(price);
            return None;
        };
        let drop_pct = (last.value() - price.value()) / last.value() * Decimal::ONE_HUNDRED;
        if drop_pct >= self.config.params().circuit_breaker_pct {
            return Some(drop_pct);
        }
        self.breaker_last = Some(price);
        None
    }

    /// Buys at every level strictly below the price (except the top, which has nowhere to
    /// sell); sells strictly above, lowest first, only while held inventory lasts.
    fn seed(&mut self, price: Price, now: Timestamp, out: &mut Vec<GridIntent>) {
        self.seeded = true;
        let levels = self.config.levels().to_vec();
        let top = levels.len() - 1;
        for level in levels.iter().filter(|l| l.price < price && l.index < top) {
            if !self.level_busy(level.index) {
                let item = FollowUp::new(level.index, Side::Buy, level.quantity.value(), now);
                self.place(item, false, out);
            }
        }
        for level in levels.iter().filter(|l| l.price > price) {
            let free = self.free_inventory();
            if free <= Decimal::ZERO {
                break;
            }
            if !self.level_busy(level.index) {
                let quantity = level.quantity.value().min(free);
                let item = FollowUp::new(level.index, Side::Sell, quantity, now);
                self.place(item, false, out);
            }
        }
    }

    /// Every check interval: the reason to rebuild if the price is outside the range or
    /// within `rebuild_edge` of its width from an edge.
    fn rebuild_due(&mut self, price: Price, now: Timestamp) -> Option<String> {
        let params = self.config.params();
        if now.millis_since(self.last_rebuild_check) < params.rebuild_check_interval_ms {
            return None;
        }
        self.last_rebuild_check = now;
        let levels = self.config.levels();
        let (lower, upper) = (
            levels[0].price.value(),
            levels[levels.len() - 1].price.value(),
        );
        rebuild_reason(lower, upper, params.rebuild_edge, price.value())
    }

    /// Cancels every live order and leaves the state `next`.
    fn stop(&mut self, next: BotState, out: &mut Vec<GridIntent>) {
        self.state = next;
        for (id, order) in std::mem::take(&mut self.orders) {
            out.push(GridIntent::Cancel {
                client_order_id: id.clone(),
            });
            self.cancelling.insert(id, order);
        }
    }

    /// Places queued follow-ups that are due and whose level is free.
    fn drain_queue(&mut self, now: Timestamp, out: &mut Vec<GridIntent>) {
        let queue = std::mem::take(&mut self.queue);
        for item in queue {
            if item.due <= now && !self.level_busy(item.level) {
                self.place(item, true, out);
            } else {
                self.queue.push(item);
            }
        }
    }

    fn level_busy(&self, level: usize) -> bool {
        self.orders.values().any(|o| o.level == level)
    }

    /// Places `item` at its level (capped by free cash or inventory). A busy level queues it;
    /// a quantity below the minimums becomes dust (if `keep_dust`) for the next follow-up.
    fn place(&mut self, item: FollowUp, keep_dust: bool, out: &mut Vec<GridIntent>) {
        if self.level_busy(item.level) {
            self.queue.push(item);
            return;
        }
        let FollowUp {
            level,
            side,
            quantity,
            failures,
            ..
        } = item;
        let dust = if keep_dust {
            self.take_dust(level, side)
        } else {
            Decimal::ZERO
        };
        let wanted = quantity + dust;
        let price = self.config.levels()[level].price;
        let capped = self.cap(side, price, wanted);
        let prepared = self
            .config
            .filters()
            .prepare_limit(side, price.value(), capped);
        match prepared {
            Ok(order) if !order.quantity().is_zero() => {
                if side == Side::Sell {
                    self.add_dust(level, side, wanted - order.quantity().value());
                }
                self.submit(level, order, failures, out);
            }
            _ if keep_dust => self.add_dust(level, side, wanted),
            _ => {}
        }
    }

    /// Limits a buy to the free cash (fee allowance included) and a sell to free inventory.
    fn cap(&self, side: Side, price: Price, quantity: Decimal) -> Decimal {
        match side {
            Side::Buy => {
                let per_unit = price.value() * (Decimal::ONE + self.config.params().fee_rate);
                quantity.min((self.free_cash() / per_unit).max(Decimal::ZERO))
            }
            Side::Sell => quantity.min(self.free_inventory().max(Decimal::ZERO)),
        }
    }

    fn submit(
        &mut self,
        level: usize,
        order: RoundedOrder,
        failures: u32,
        out: &mut Vec<GridIntent>,
    ) {
        let symbol = self.config.filters().symbol.clone();
        let id = match ClientOrderId::new(self.cohort, &symbol, self.next_sequence) {
            Ok(id) => id,
            Err(e) => {
                out.push(alert(
                    Severity::Critical,
                    format!("cannot name a grid order: {e}"),
                ));
                return;
            }
        };
        self.next_sequence += 1;
        let live = LiveOrder {
            level,
            side: order.side(),
            price: order.price(),
            quantity: order.quantity(),
            filled: Decimal::ZERO,
            received: Decimal::ZERO,
            failures,
        };
        self.orders.insert(id.clone(), live);
        out.push(GridIntent::Place {
            client_order_id: id,
            level,
            order,
        });
    }

    fn take_dust(&mut self, level: usize, side: Side) -> Decimal {
        let slot = &mut self.dust[level];
        match side {
            Side::Buy => std::mem::take(&mut slot.0),
            Side::Sell => std::mem::take(&mut slot.1),
        }
    }

    /// Keeps a quantity that could not be placed for the next follow-up at `level`. Sell dust
    /// is base the grid owns and accumulates; buy dust is only a wish, capped at the level's
    /// own quantity so a cash shortage cannot make it grow without bound.
    fn add_dust(&mut self, level: usize, side: Side, quantity: Decimal) {
        if quantity <= Decimal::ZERO {
            return;
        }
        let level_quantity = self.config.levels()[level].quantity.value();
        let slot = &mut self.dust[level];
        match side {
            Side::Buy => slot.0 = (slot.0 + quantity).min(level_quantity),
            Side::Sell => slot.1 += quantity,
        }
    }

    /// Adds a fill to its order; a complete order is retired and gets its follow-up.
    fn track_fill(
        &mut self,
        fill: &Fill,
        received: Decimal,
        now: Timestamp,
        out: &mut Vec<GridIntent>,
    ) {
        let id = &fill.client_order_id;
        let map = if self.orders.contains_key(id) {
            &mut self.orders
        } else {
            &mut self.cancelling
        };
        let Some(order) = map.get_mut(id) else {
            let text = format!(
                "fill of {} booked without follow-up: not a grid order",
                id.as_str()
            );
            out.push(alert(Severity::Info, text));
            return;
        };
        order.filled += fill.quantity.value();
        order.received += received;
        let done = if order.filled >= order.quantity.value() {
            map.remove(id)
        } else {
            None
        };
        if let Some(done) = done {
            self.follow_up(&done, now, out);
        }
    }

    /// Queues the opposite order for what `order` filled: the sell one level up for the base
    /// received (fee taken in base already deducted), or the buy one level down for the
    /// level's quantity scaled by the part that filled.
    fn follow_up(&mut self, order: &LiveOrder, now: Timestamp, out: &mut Vec<GridIntent>) {
        let levels = self.config.levels();
        let target = match order.side {
            Side::Buy => order.level.checked_add(1).filter(|&t| t < levels.len()),
            Side::Sell => order.level.checked_sub(1),
        };
        let Some(target) = target else {
            let edge = if order.side == Side::Buy {
                "top"
            } else {
                "bottom"
            };
            out.push(alert(
                Severity::Info,
                format!("fill at the {edge} level: no follow-up, kept in the books"),
            ));
            return;
        };
        let quantity = match order.side {
            Side::Buy => order.received,
            Side::Sell => {
                let part = order
                    .filled
                    .checked_div(order.quantity.value())
                    .unwrap_or(Decimal::ZERO);
                levels[target].quantity.value() * part.min(Decimal::ONE)
            }
        };
        let item = FollowUp::new(target, opposite(order.side), quantity, now);
        self.queue.push(item);
    }

    fn schedule_retry(
        &mut self,
        order: &LiveOrder,
        reason: &str,
        now: Timestamp,
        out: &mut Vec<GridIntent>,
    ) {
        let failures = order.failures + 1;
        let quantity = order.quantity.value() - order.filled;
        match next_retry(failures, now) {
            Some(due) => {
                self.queue.push(FollowUp { level: order.level, side: order.side, quantity, failures, due });
                out.push(alert(Severity::Warning, format!("grid {} at level {} failed ({reason}); retry {failures} of {MAX_FOLLOW_UP_RETRIES} at {}", side_name(order.side), order.level, due.as_millis())));
            }
            None => out.push(alert(Severity::Critical, format!("follow-up abandoned: grid {} of {quantity} at {} failed {failures} times ({reason})", side_name(order.side), order.price))),
        }
    }
}

/// The grid doctor and the books.
impl GridBot {
    /// Quote not reserved by open buys (each reserved with a fee allowance).
    #[must_use]
    pub fn free_cash(&self) -> Decimal {
        self.ledger.cash - self.reserved_quote()
    }

    /// Base not reserved by open sells.
    #[must_use]
    pub fn free_inventory(&self) -> Decimal {
        self.ledger.inventory - self.reserved_base()
    }

    /// Σ unfilled buy quantity × price × (1 + fee rate): the quote open buys may still spend.
    fn reserved_quote(&self) -> Decimal {
        let allowance = Decimal::ONE + self.config.params().fee_rate;
        self.orders
            .values()
            .filter(|o| o.side == Side::Buy)
            .map(|o| (o.quantity.value() - o.filled) * o.price.value() * allowance)
            .sum()
    }

    /// Σ unfilled sell quantity: the base open sells may still deliver.
    fn reserved_base(&self) -> Decimal {
        self.orders
            .values()
            .filter(|o| o.side == Side::Sell)
            .map(|o| o.quantity.value() - o.filled)
            .sum()
    }

    /// The grid doctor: every invariant the grid must keep, as a list of breaches (empty when
    /// healthy). One live order per level at most, no two live orders at one price, reserved
    /// funds within what the grid owns, and the books equal to start capital plus fills.
    #[must_use]
    pub fn check_invariants(&self) -> Vec<String> {
        let mut breaches = Vec::new();
        let mut per_level = BTreeMap::<usize, usize>::new();
        let mut prices = BTreeSet::new();
        for order in self.orders.values() {
            *per_level.entry(order.level).or_default() += 1;
            if !prices.insert(order.price) {
                breaches.push(format!("two live orders at price {}", order.price));
            }
        }
        if let Some((level, n)) = per_level.iter().find(|(_, &n)| n > 1) {
            breaches.push(format!("level {level} has {n} live orders"));
        }
        if self.reserved_quote() > self.ledger.cash {
            breaches.push(format!(
                "open buys reserve {} quote but the grid owns {}",
                self.reserved_quote(),
                self.ledger.cash
            ));
        }
        if self.reserved_base() > self.ledger.inventory {
            breaches.push(format!(
                "open sells reserve {} base but the grid owns {}",
                self.reserved_base(),
                self.ledger.inventory
            ));
        }
        if !self
            .ledger
            .reconciles(self.start_cash, self.start_inventory)
        {
            breaches.push("cash or inventory does not match the fills".to_owned());
        }
        breaches
    }

    /// Runs the doctor after an event; a breach halts a running grid and is reported.
    fn finish(&mut self, mut out: Vec<GridIntent>) -> Vec<GridIntent> {
        let breaches = self.check_invariants();
        if !breaches.is_empty() && self.state == BotState::Running {
            self.state = BotState::Halted;
            let reason = format!("grid doctor: {}", breaches.join("; "));
            out.push(alert(Severity::Critical, reason.clone()));
            out.push(GridIntent::Halt { reason });
        }
        out
    }
}

/// Restart.
impl GridBot {
    /// Rebuilds the grid after a restart from the orders the exchange reports for this
    /// cohort (open, filled while down, cancelled) and queues the missing follow-ups.
    ///
    /// `config.investment` / `initial_base` must be the grid's cash and inventory *before* the
    /// reported orders' fills; the fills are booked here (fee estimated at `fee_rate`: in base
    /// for buys, in quote for sells, since orders carry no commission). When `previous` (the
    /// saved [`GridFingerprint`]) differs from `config`, the old grid's open orders are
    /// orphans and are cancelled, also those of a previous symbol. Open orders are adopted at
    /// the level their price matches (relative tolerance); an open order on an already
    /// occupied level or on no level is cancelled. If anything was adopted or filled, the grid
    /// counts as seeded and does not lay a fresh initial grid over it (the original did).
    #[must_use]
    pub fn restore(
        config: GridConfig,
        cohort: CohortId,
        first_sequence: u64,
        previous: Option<&GridFingerprint>,
        exchange_orders: &[Order],
        now: Timestamp,
    ) -> (Self, Vec<GridIntent>) {
        let mut bot = Self::new(config, cohort, first_sequence, now);
        let mut out = Vec::new();
        let changed = previous.filter(|p| **p != bot.fingerprint());
        for order in exchange_orders {
            let Some((owner, symbol, sequence)) = order.client_order_id.decode() else {
                continue;
            };
            if owner != cohort {
                continue;
            }
            if symbol == bot.config.filters().symbol {
                bot.next_sequence = bot.next_sequence.max(sequence + 1);
            }
            bot.restore_one(order, &symbol, changed, now, &mut out);
        }
        if changed.is_some() {
            out.push(alert(
                Severity::Warning,
                "grid parameters changed since the last run: old orders cancelled, fresh grid"
                    .to_owned(),
            ));
        }
        bot.drain_queue(now, &mut out);
        let out = bot.finish(out);
        (bot, out)
    }

    fn restore_one(
        &mut self,
        order: &Order,
        symbol: &Symbol,
        changed: Option<&GridFingerprint>,
        now: Timestamp,
        out: &mut Vec<GridIntent>,
    ) {
        let open = matches!(
            order.status,
            OrderStatus::New | OrderStatus::PartiallyFilled | OrderStatus::PendingNew
        );
        let ours_now = *symbol == self.config.filters().symbol;
        let orphan = match changed {
            Some(previous) => ours_now || previous.symbol == *symbol,
            None => false,
        };
        if orphan || !ours_now {
            if orphan && open {
                out.push(GridIntent::Cancel {
                    client_order_id: order.client_order_id.clone(),
                });
            }
            return;
        }
        self.adopt(order, open, now, out);
    }

    /// Takes one of this grid's orders back: books its fills, tracks it if open, queues its
    /// follow-up if it is done.
    fn adopt(&mut self, order: &Order, open: bool, now: Timestamp, out: &mut Vec<GridIntent>) {
        let Some(price) = order.price.or_else(|| order.average_price()) else {
            return;
        };
        let tolerance = self.config.params().match_tolerance;
        let level = nearest_level(self.config.levels(), price.value(), tolerance);
        let received = self.book_restored(order, price);
        let Some(level) = level else {
            out.push(alert(
                Severity::Warning,
                format!(
                    "restored order {} at {price} matches no level",
                    order.client_order_id.as_str()
                ),
            ));
            if open {
                out.push(GridIntent::Cancel {
                    client_order_id: order.client_order_id.clone(),
                });
            }
            return;
        };
        let live = LiveOrder {
            level,
            side: order.side,
            price,
            quantity: order.quantity,
            filled: order.filled_quantity.value(),
            received,
            failures: 0,
        };
        self.take_back(order.client_order_id.clone(), live, open, now, out);
    }

    /// Tracks a restored open order (or cancels it if its level is taken, keeping it so its
    /// fills still get a follow-up when the close is reported); queues the follow-up of a
    /// closed one that filled.
    fn take_back(
        &mut self,
        id: ClientOrderId,
        live: LiveOrder,
        open: bool,
        now: Timestamp,
        out: &mut Vec<GridIntent>,
    ) {
        if open && self.level_busy(live.level) {
            out.push(GridIntent::Cancel {
                client_order_id: id.clone(),
            });
            self.cancelling.insert(id, live);
        } else if open {
            self.seeded = true;
            self.orders.insert(id, live);
        } else if live.filled > Decimal::ZERO {
            self.seeded = true;
            let text = format!(
                "downtime fill: {} {} at {}",
                side_name(live.side),
                live.filled,
                live.price
            );
            out.push(alert(Severity::Info, text));
            self.follow_up(&live, now, out);
        }
    }

    /// Books the executed part of a restored order with an estimated fee; returns the base
    /// received net of fee (buys).
    fn book_restored(&mut self, order: &Order, price: Price) -> Decimal {
        let filled = order.filled_quantity;
        if filled.is_zero() {
            return Decimal::ZERO;
        }
        let fee_rate = self.config.params().fee_rate;
        let (commission, commission_asset) = match order.side {
            Side::Buy => (filled.value() * fee_rate, self.base.clone()),
            Side::Sell => (
                filled.value() * price.value() * fee_rate,
                self.quote.clone(),
            ),
        };
        let fill = Fill {
            client_order_id: order.client_order_id.clone(),
            exchange_order_id: order.exchange_order_id.unwrap_or(0),
            trade_id: -1,
            symbol: order.symbol.clone(),
            side: order.side,
            price: order.average_price().unwrap_or(price),
            quantity: filled,
            commission,
            commission_asset,
            is_maker: true,
            time: order.updated_at,
        };
        self.seen_trades
            .insert((fill.exchange_order_id, fill.trade_id));
        self.ledger.apply(&fill, &self.base, &self.quote)
    }
}

/// Why to rebuild a grid spanning `lower..upper` at `price`: outside the range, or within
/// `edge × (upper − lower)` of either end. A non-positive width always rebuilds.
#[must_use]
pub(crate) fn rebuild_reason(
    lower: Decimal,
    upper: Decimal,
    edge: Decimal,
    price: Decimal,
) -> Option<String> {
    let width = upper - lower;
    if width <= Decimal::ZERO {
        return Some("grid range is empty".to_owned());
    }
    let margin = width * edge;
    if price < lower + margin {
        Some(format!(
            "price {price} below the rebuild edge {} of {lower}-{upper}",
            lower + margin
        ))
    } else if price > upper - margin {
        Some(format!(
            "price {price} above the rebuild edge {} of {lower}-{upper}",
            upper - margin
        ))
    } else {
        None
    }
}

fn alert(severity: Severity, message: String) -> GridIntent {
    GridIntent::Alert { severity, message }
}

const fn opposite(side: Side) -> Side {
    match side {
        Side::Buy => Side::Sell,
        Side::Sell => Side::Buy,
    }
}

const fn side_name(side: Side) -> &'static str {
    match side {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GridParams;
    use hybrid_core::SymbolFilters;
    use rust_decimal_macros::dec;

    fn bot(investment: Decimal) -> GridBot {
        let mut filters =
            SymbolFilters::with_steps(Symbol::new("BTCUSDT").unwrap(), dec!(0.01), dec!(0.00001));
        filters.min_notional = dec!(5);
        let params = GridParams::new(dec!(40000), dec!(50000), 5, investment);
        let config = GridConfig::new(params, filters).unwrap();
        GridBot::new(config, CohortId::new(1), 1, Timestamp::from_millis(0))
    }

    fn buy_fill(bot: &GridBot, id: &ClientOrderId, trade_id: i64) -> Fill {
        let order = &bot.live_orders()[id];
        Fill {
            client_order_id: id.clone(),
            exchange_order_id: 9,
            trade_id,
            symbol: Symbol::new("BTCUSDT").unwrap(),
            side: Side::Buy,
            price: order.price,
            quantity: order.quantity,
            commission: Decimal::ZERO,
            commission_asset: Asset::new("BNB").unwrap(),
            is_maker: true,
            time: Timestamp::from_millis(0),
        }
    }

    fn now() -> Timestamp {
        Timestamp::from_millis(0)
    }

    #[test]
    fn doctor_halts_on_two_orders_at_one_level() {
        let mut bot = bot(dec!(100));
        bot.on_price(Price::new(dec!(45000)).unwrap(), now());
        let (_, first) = bot
            .orders
            .iter()
            .next()
            .map(|(k, v)| (k.clone(), v.clone()))
            .unwrap();
        let twin = ClientOrderId::parse("twin").unwrap();
        bot.orders.insert(twin, first);
        let out = bot.on_timer(now());
        assert!(out
            .iter()
            .any(|i| matches!(i, GridIntent::Halt { reason } if reason.contains("grid doctor"))));
        assert_eq!(bot.state(), BotState::Halted);
        assert!(
            bot.on_timer(now()).is_empty(),
            "reported once, not on every event"
        );
    }

    #[test]
    fn fills_of_another_symbol_are_ignored_and_duplicates_booked_once() {
        let mut bot = bot(dec!(100));
        bot.on_price(Price::new(dec!(41000)).unwrap(), now());
        let id = bot.orders.keys().next().unwrap().clone();
        let mut foreign = buy_fill(&bot, &id, 1);
        foreign.symbol = Symbol::new("ETHUSDT").unwrap();
        bot.on_fill(&foreign, now());
        assert_eq!(bot.ledger().bought_base, Decimal::ZERO);
        let fill = buy_fill(&bot, &id, 1);
        let first = bot.on_fill(&fill, now());
        let again = bot.on_fill(&fill, now());
        assert_eq!(bot.ledger().bought_base, dec!(0.0005));
        assert!(first.iter().any(|i| matches!(i, GridIntent::Place { .. })));
        assert!(again.is_empty());
        assert_eq!(bot.ledger().fees_other, Decimal::ZERO);
    }

    #[test]
    fn halted_grid_books_fills_and_places_follow_ups_after_resume() {
        let mut bot = bot(dec!(100));
        bot.on_price(Price::new(dec!(41000)).unwrap(), now());
        let id = bot.orders.keys().next().unwrap().clone();
        let fill = buy_fill(&bot, &id, 1);
        bot.on_price(Price::new(dec!(36000)).unwrap(), now());
        assert_eq!(bot.state(), BotState::Halted);
        assert!(bot
            .on_fill(&fill, now())
            .iter()
            .all(|i| !matches!(i, GridIntent::Place { .. })));
        assert_eq!(bot.pending_follow_ups(), 1);
        let out = bot.resume(now());
        assert!(out
            .iter()
            .any(|i| matches!(i, GridIntent::Place { level: 1, .. })));
        let out = bot.on_price(Price::new(dec!(43000)).unwrap(), now());
        let levels: Vec<usize> = out
            .iter()
            .filter_map(|i| match i {
                GridIntent::Place { level, .. } => Some(*level),
                _ => None,
            })
            .collect();
        assert_eq!(
            levels,
            vec![0],
            "re-seeded: level 1 is busy with the follow-up sell"
        );
        assert!(bot.check_invariants().is_empty());
    }

    #[test]
    fn buys_are_capped_by_free_cash() {
        let mut bot = bot(dec!(100));
        bot.ledger.cash = dec!(30);
        bot.start_cash = dec!(30);
        let out = bot.on_price(Price::new(dec!(49000)).unwrap(), now());
        let spent: Decimal = out
            .iter()
            .filter_map(|i| match i {
                GridIntent::Place { order, .. } => Some(order.notional().value()),
                _ => None,
            })
            .sum();
        assert!(spent * dec!(1.001) <= dec!(30), "{spent}");
        assert!(bot.check_invariants().is_empty());
    }
}
