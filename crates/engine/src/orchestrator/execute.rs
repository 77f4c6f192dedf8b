//! Intent execution: every order passes the [`hybrid_risk::RiskGuard`], is recorded in the
//! store under its client order id before it is sent, and its outcome (ack, rejection, fills)
//! is written back. Fills are booked once: store, trade pairs, fees, then the grid.

use std::collections::VecDeque;

use hybrid_core::{
    ClientOrderId, Fill, Notional, OrderKind, OrderStatus, Price, Quantity, Side, Symbol, Timestamp,
};
use hybrid_exchange::{Account, ExchangeError, OrderRef, OrderRequest};
use hybrid_grid::GridIntent;
use hybrid_risk::{OrderIntent, OrderPurpose, PortfolioView};
use hybrid_store::{ExitReason, PairEntry, PairExit, StoreError};
use rust_decimal::Decimal;

use super::{
    state::{HoldPosition, OrderOwner},
    HybridOrchestrator, OrchestratorError,
};
use crate::ClosedTrade;

/// More intents than this from one event means a loop; the rest waits for the next candle.
const MAX_INTENTS_PER_EVENT: usize = 200;

/// What became of an order the orchestrator tried to send.
#[derive(Debug)]
pub(super) enum Sent {
    /// Accepted; the fills that happened at once.
    Accepted(Vec<Fill>),
    /// Refused by the guard or rejected by the exchange, with the reason.
    Refused(String),
}

impl<E: Account> HybridOrchestrator<E> {
    /// Books one fill: store, trade pair, fees, then the owner (grid or hold).
    ///
    /// Idempotent: a fill the store already holds is not booked again, but the grid still
    /// sees it (the grid ignores trades it has booked itself), because after a restart from
    /// a snapshot the grid may not have seen a fill the store recorded just before a crash.
    /// Fills of other cohorts' or foreign orders (the account is shared) are left alone; a
    /// fill the store refuses (e.g. for an order it does not know) is reported as an event,
    /// never a reason to stop trading.
    /// Returns whether the store did not have the fill yet.
    pub(super) async fn apply_fill(
        &mut self,
        fill: &Fill,
        now: Timestamp,
    ) -> Result<bool, OrchestratorError> {
        if fill.client_order_id.decode().map(|(cohort, _, _)| cohort) != Some(self.cohort) {
            return Ok(false);
        }
        let cursor = self.fill_cursors.entry(fill.symbol.clone()).or_insert(0);
        *cursor = (*cursor).max(fill.trade_id);
        let fresh = match self.store.record_fill(self.cohort, fill) {
            Ok(fresh) => fresh,
            Err(
                error @ (StoreError::NotFound { .. }
                | StoreError::Refused(_)
                | StoreError::Conflict { .. }),
            ) => {
                let message = format!("fill {} not booked: {error}", fill.trade_id);
                self.record_event(now, Some(&fill.symbol), "fill_refused", &message)?;
                return Ok(false);
            }
            Err(error) => return Err(error.into()),
        };
        let owner = self
            .owners
            .get(&fill.client_order_id)
            .copied()
            .unwrap_or(OrderOwner::Grid);
        if fresh {
            self.book_pair(fill, owner)?;
            let text = format!(
                "{} {} {} at {}",
                fill.side, fill.quantity, fill.symbol, fill.price
            );
            self.notify(now, hybrid_store::Severity::Routine, "fill", &text)?;
        }
        if owner == OrderOwner::Grid {
            // Only the grid that placed the order books its fill. A fill can arrive before
            // the grid knows its order: after a crash, for an order the restored grid will
            // ask for again; [`Self::resend`] hands it over then, from the store.
            let intents = match self.state_mut(&fill.symbol)?.grid.as_mut() {
                Some(grid) if grid.knows(&fill.client_order_id) => grid.on_fill(fill, now),
                _ => Vec::new(),
            };
            self.run_grid_intents(&fill.symbol, intents, now).await?;
        }
        Ok(fresh)
    }

    /// Trade pairs (spec §8) and the fee total.
    fn book_pair(&mut self, fill: &Fill, owner: OrderOwner) -> Result<(), OrchestratorError> {
        self.journal.n_fills += 1;
        let base = fill.symbol.base();
        let fee_quote = if fill.commission_asset == base {
            fill.commission * fill.price.value()
        } else {
            fill.commission
        };
        self.journal.fees = self.journal.fees + Notional::new(fee_quote);
        match fill.side {
            Side::Buy => {
                let held = fill.quantity.value()
                    - if fill.commission_asset == base {
                        fill.commission
                    } else {
                        Decimal::ZERO
                    };
                let entry = PairEntry {
                    client_order_id: Some(fill.client_order_id.clone()),
                    trade_id: Some(fill.trade_id),
                    time: fill.time,
                    price: fill.price,
                    quantity: Quantity::new(held.max(Decimal::ZERO))?,
                    fee: Notional::new(fee_quote),
                };
                self.store
                    .open_trade_pair(Some(self.cohort), &fill.symbol, &entry)?;
            }
            Side::Sell => {
                let reason = match owner {
                    OrderOwner::Exit(reason) => reason,
                    OrderOwner::Grid | OrderOwner::HoldBuy => ExitReason::GridFill,
                };
                let exit = PairExit {
                    client_order_id: Some(fill.client_order_id.clone()),
                    time: fill.time,
                    price: fill.price,
                    quantity: fill.quantity,
                    fee: Notional::new(fee_quote),
                    reason,
                };
                let closed =
                    self.store
                        .close_trade_pairs_fifo(Some(self.cohort), &fill.symbol, &exit)?;
                for pair in closed.closed {
                    if let Some(close) = pair.close {
                        self.journal.closed_trades.push(ClosedTrade {
                            closed_at: close.time,
                            net_pnl: close.net_pnl,
                            fees: pair.entry_fee + close.fee,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Runs grid intents (and the intents their outcomes produce) until none are left.
    pub(super) async fn run_grid_intents(
        &mut self,
        symbol: &Symbol,
        intents: Vec<GridIntent>,
        now: Timestamp,
    ) -> Result<(), OrchestratorError> {
        let mut queue: VecDeque<GridIntent> = intents.into();
        let mut budget = MAX_INTENTS_PER_EVENT;
        while let Some(intent) = queue.pop_front() {
            if budget == 0 {
                self.journal.n_alerts += 1;
                break;
            }
            budget -= 1;
            let more = self.run_grid_intent(symbol, intent, now).await?;
            queue.extend(more);
        }
        Ok(())
    }

    async fn run_grid_intent(
        &mut self,
        symbol: &Symbol,
        intent: GridIntent,
        now: Timestamp,
    ) -> Result<Vec<GridIntent>, OrchestratorError> {
        match intent {
            GridIntent::Place {
                client_order_id,
                order,
                ..
            } => {
                let request = OrderRequest {
                    client_order_id: client_order_id.clone(),
                    cohort: self.cohort,
                    symbol: symbol.clone(),
                    side: order.side(),
                    kind: OrderKind::Limit,
                    time_in_force: None,
                    price: Some(order.price()),
                    quantity: order.quantity(),
                };
                match self
                    .send(request, OrderOwner::Grid, OrderPurpose::Strategy, now)
                    .await?
                {
                    Sent::Accepted(fills) => {
                        for fill in fills {
                            Box::pin(self.apply_fill(&fill, now)).await?;
                        }
                        Ok(Vec::new())
                    }
                    Sent::Refused(reason) => Ok(self
                        .state_mut(symbol)?
                        .grid
                        .as_mut()
                        .map(|grid| grid.on_order_failed(&client_order_id, &reason, now))
                        .unwrap_or_default()),
                }
            }
            GridIntent::Cancel { client_order_id } => {
                self.cancel_order(symbol, &client_order_id, now).await?;
                Ok(self
                    .state_mut(symbol)?
                    .grid
                    .as_mut()
                    .map(|grid| grid.on_order_closed(&client_order_id, now))
                    .unwrap_or_default())
            }
            GridIntent::Alert { message, .. } => {
                self.journal.n_alerts += 1;
                self.record_event(now, Some(symbol), "grid_alert", &message)?;
                Ok(Vec::new())
            }
            GridIntent::Halt { reason } => {
                self.journal.n_alerts += 1;
                self.record_event(now, Some(symbol), "grid_halt", &reason)?;
                Ok(Vec::new())
            }
            GridIntent::Rebuild { reason } => {
                self.record_event(now, Some(symbol), "grid_rebuild", &reason)?;
                self.rebuild_grid(symbol, now).await?;
                Ok(Vec::new())
            }
        }
    }

    /// Cancels one order on the exchange and records it; an order that is no longer open
    /// (filled meanwhile) is left as the exchange reports it.
    pub(super) async fn cancel_order(
        &mut self,
        symbol: &Symbol,
        id: &ClientOrderId,
        now: Timestamp,
    ) -> Result<(), OrchestratorError> {
        let reference = OrderRef::Client(id.clone());
        if self.exchange.cancel_order(symbol, &reference).await.is_ok() {
            self.store
                .update_order_status(id, OrderStatus::Canceled, None, now, None)?;
        }
        self.owners.remove(id);
        Ok(())
    }

    /// Guard, record, send, record the outcome.
    pub(super) async fn send(
        &mut self,
        request: OrderRequest,
        owner: OrderOwner,
        purpose: OrderPurpose,
        now: Timestamp,
    ) -> Result<Sent, OrchestratorError> {
        if let Some(existing) = self.store.get_order(&request.client_order_id)? {
            return self.resend(request, existing, owner, now).await;
        }
        if self.paused && request.side == Side::Buy {
            return Ok(Sent::Refused(
                "trading is paused by the operator".to_owned(),
            ));
        }
        let Some(price) = request
            .price
            .or_else(|| self.symbols.get(&request.symbol).and_then(|s| s.last_price))
        else {
            return Ok(Sent::Refused("no price yet".to_owned()));
        };
        let intent = OrderIntent {
            cohort: self.cohort,
            symbol: request.symbol.clone(),
            side: request.side,
            quantity: request.quantity,
            price,
            purpose,
        };
        let view = self.portfolio_view().await?;
        if let Err(refused) = self.guard.check(intent, &view, now) {
            self.journal.n_risk_refusals += 1;
            let (_, reason) = refused.into_parts();
            let debug = format!("{reason:?}");
            let kind = debug.split([' ', '{', '(']).next().unwrap_or_default();
            let mode = self.symbols.get(&request.symbol).map(|s| s.mode);
            let kind = match mode {
                Some(mode) => format!("{kind} in {mode}"),
                None => kind.to_owned(),
            };
            *self
                .journal
                .risk_refusals_by_reason
                .entry(kind)
                .or_default() += 1;
            return Ok(Sent::Refused(format!("risk: {reason}")));
        }
        let mut order = request.to_new_order(0, now);
        order.exchange_order_id = None;
        order.status = OrderStatus::PendingNew;
        self.store.insert_order(&order)?;
        self.owners.insert(request.client_order_id.clone(), owner);
        self.place_recorded(&request, now).await
    }

    /// Sends an order already recorded as `PENDING_NEW` and records the answer.
    async fn place_recorded(
        &mut self,
        request: &OrderRequest,
        now: Timestamp,
    ) -> Result<Sent, OrchestratorError> {
        match self.exchange.place_order(request).await {
            Ok(ack) => {
                self.journal.n_orders += 1;
                self.store.update_order_status(
                    &request.client_order_id,
                    OrderStatus::New,
                    ack.order.exchange_order_id,
                    now,
                    None,
                )?;
                Ok(Sent::Accepted(ack.fills))
            }
            Err(error @ ExchangeError::UnknownOutcome { .. }) => {
                // It may be on the book: keep it PENDING_NEW and owned, and let the next
                // reconciliation ask the exchange by its client id. Sending it again now
                // could place it twice.
                let message = format!("{}: {error}", request.client_order_id);
                self.record_event(now, Some(&request.symbol), "order_unknown", &message)?;
                Ok(Sent::Accepted(Vec::new()))
            }
            Err(error) => {
                self.journal.n_rejections += 1;
                let reason = error.to_string();
                self.store.update_order_status(
                    &request.client_order_id,
                    OrderStatus::Rejected,
                    None,
                    now,
                    Some(&reason),
                )?;
                self.owners.remove(&request.client_order_id);
                Ok(Sent::Refused(reason))
            }
        }
    }

    /// An intent whose client order id the store already holds: after a restart from a
    /// snapshot the deterministic grid asks again for what it asked before the crash. Never
    /// sent blindly: the same order (side, price, quantity) is looked up on the exchange by its
    /// client id and adopted if it is there; sent only if it provably never arrived (the
    /// exchange does not know it and the store never saw an answer). Anything else (the id
    /// was used for a different order) is refused, and the grid retries under a new id.
    async fn resend(
        &mut self,
        request: OrderRequest,
        existing: hybrid_core::Order,
        owner: OrderOwner,
        now: Timestamp,
    ) -> Result<Sent, OrchestratorError> {
        let id = request.client_order_id.clone();
        let same = existing.symbol == request.symbol
            && existing.side == request.side
            && existing.kind == request.kind
            && existing.price == request.price
            && existing.quantity == request.quantity;
        if !same {
            let reason = format!("client order id {id} was already used for another order");
            self.record_event(now, Some(&request.symbol), "order_conflict", &reason)?;
            return Ok(Sent::Refused(reason));
        }
        match self
            .exchange
            .query_order(&request.symbol, &OrderRef::Client(id.clone()))
            .await
        {
            Ok(on_exchange) => {
                self.owners.insert(id.clone(), owner);
                self.adopt_status(&existing, &on_exchange, now)?;
                self.record_event(
                    now,
                    Some(&request.symbol),
                    "order_adopted",
                    &format!("{id} was already on the exchange ({})", on_exchange.status),
                )?;
                // Its fills booked so far (the store has them once; the strategy gets them
                // now that it knows the order again).
                Ok(Sent::Accepted(self.store.fills_for_order(&id)?))
            }
            Err(ExchangeError::UnknownOrder { .. })
                if existing.status == OrderStatus::PendingNew =>
            {
                self.owners.insert(id.clone(), owner);
                self.place_recorded(&request, now).await
            }
            Err(ExchangeError::UnknownOrder { .. }) => {
                let reason = format!(
                    "{id} is {} here but unknown to the exchange",
                    existing.status
                );
                self.record_event(now, Some(&request.symbol), "order_conflict", &reason)?;
                Ok(Sent::Refused(reason))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Writes the exchange's status of an order into the store when it moved on.
    pub(super) fn adopt_status(
        &self,
        stored: &hybrid_core::Order,
        on_exchange: &hybrid_core::Order,
        now: Timestamp,
    ) -> Result<(), OrchestratorError> {
        if stored.status == on_exchange.status
            || stored.status.transition(on_exchange.status).is_err()
        {
            return Ok(());
        }
        self.store.update_order_status(
            &stored.client_order_id,
            on_exchange.status,
            on_exchange.exchange_order_id,
            now,
            Some("reconciled with the exchange"),
        )?;
        Ok(())
    }

    /// What the guard needs: free quote, value per symbol (holdings at market plus open
    /// buys), allocation per symbol.
    async fn portfolio_view(&self) -> Result<PortfolioView, OrchestratorError> {
        let balances = self.exchange.balances().await?;
        let mut view = PortfolioView::default();
        for balance in &balances {
            if balance.asset == self.quote {
                view.free_quote = Notional::new(balance.free);
            }
        }
        for (symbol, state) in &self.symbols {
            let held = super::held_total(&balances, symbol);
            let price = state.last_price.map_or(Decimal::ZERO, Price::value);
            let open_buys: Decimal = state.grid.as_ref().map_or(Decimal::ZERO, |grid| {
                grid.live_orders()
                    .values()
                    .filter(|o| o.side == Side::Buy)
                    .map(|o| (o.quantity.value() - o.filled) * o.price.value())
                    .sum()
            });
            view.invested
                .insert(symbol.clone(), Notional::new(held * price + open_buys));
            // A grid never spends more than its own books hold; what it made is its own to
            // reinvest, so its budget is the larger of the allocation and its current value.
            let grid_value = state.grid.as_ref().map_or(Decimal::ZERO, |grid| {
                let ledger = grid.ledger();
                ledger.cash + ledger.inventory * price
            });
            let allocation = state.allocation.value().max(grid_value);
            if !allocation.is_zero() {
                view.allocations
                    .insert(symbol.clone(), Notional::new(allocation));
            }
        }
        Ok(view)
    }

    /// The base balance of `symbol`'s coin: (free, total).
    pub(super) async fn base_balance(
        &self,
        symbol: &Symbol,
    ) -> Result<(Decimal, Decimal), OrchestratorError> {
        let base = symbol.base();
        let balances = self.exchange.balances().await?;
        Ok(balances
            .iter()
            .filter(|b| b.asset == base)
            .fold((Decimal::ZERO, Decimal::ZERO), |(free, total), b| {
                (free + b.free, total + b.total())
            }))
    }

    /// The free quote balance.
    pub(super) async fn free_quote(&self) -> Result<Decimal, OrchestratorError> {
        let balances = self.exchange.balances().await?;
        Ok(balances
            .iter()
            .filter(|b| b.asset == self.quote)
            .map(|b| b.free)
            .sum())
    }

    /// Market-sells every free coin of `symbol` (truncated to the lot step) as a protective
    /// exit. Returns whether a sale happened.
    pub(super) async fn sell_all(
        &mut self,
        symbol: &Symbol,
        reason: ExitReason,
        now: Timestamp,
    ) -> Result<bool, OrchestratorError> {
        let (free, _) = self.base_balance(symbol).await?;
        let state = self.state(symbol)?;
        let Some(price) = state.last_price else {
            return Ok(false);
        };
        let Ok(quantity) = state.filters.round_quantity(free) else {
            return Ok(false);
        };
        if state.filters.check(Side::Sell, price, quantity).is_err() {
            return Ok(false);
        }
        let sold = self
            .market_order(symbol, Side::Sell, quantity, OrderOwner::Exit(reason), now)
            .await?;
        if sold {
            self.state_mut(symbol)?.hold = None;
        }
        Ok(sold)
    }

    /// Market-buys `quote` worth of `symbol` (capped by the free quote) and adds it to the HOLD
    /// position. Returns whether a buy happened.
    pub(super) async fn buy_for_hold(
        &mut self,
        symbol: &Symbol,
        quote: Notional,
        now: Timestamp,
    ) -> Result<bool, OrchestratorError> {
        let free = self.free_quote().await?;
        let (_, held) = self.base_balance(symbol).await?;
        let state = self.state(symbol)?;
        let Some(price) = state.last_price else {
            return Ok(false);
        };
        // Never past the allocation: coins already held (dust included) count against it.
        let room = state.allocation.value() - held * price.value();
        let budget = Notional::new(quote.value().min(free).min(room).max(Decimal::ZERO));
        let Ok(order) = state
            .filters
            .order_for_budget(Side::Buy, price.value(), budget)
        else {
            return Ok(false);
        };
        let bought = self
            .market_order(
                symbol,
                Side::Buy,
                order.quantity(),
                OrderOwner::HoldBuy,
                now,
            )
            .await?;
        if bought {
            let entry = self.state(symbol)?.hold.map_or(price, |hold| hold.entry);
            self.state_mut(symbol)?.hold = Some(HoldPosition { entry });
        }
        Ok(bought)
    }

    pub(super) async fn market_order(
        &mut self,
        symbol: &Symbol,
        side: Side,
        quantity: Quantity,
        owner: OrderOwner,
        now: Timestamp,
    ) -> Result<bool, OrchestratorError> {
        let client_order_id = self.store.next_client_order_id(self.cohort, symbol)?;
        let purpose = match side {
            Side::Buy => OrderPurpose::Strategy,
            Side::Sell => OrderPurpose::ProtectiveExit,
        };
        let request = OrderRequest {
            client_order_id,
            cohort: self.cohort,
            symbol: symbol.clone(),
            side,
            kind: OrderKind::Market,
            time_in_force: None,
            price: None,
            quantity,
        };
        let id = request.client_order_id.clone();
        match self.send(request, owner, purpose, now).await? {
            Sent::Accepted(fills) => {
                for fill in &fills {
                    self.apply_fill(fill, now).await?;
                }
                // A market order is done once placed: no fill will come for it later.
                self.owners.remove(&id);
                Ok(!fills.is_empty())
            }
            Sent::Refused(reason) => {
                self.record_event(now, Some(symbol), "order_refused", &reason)?;
                Ok(false)
            }
        }
    }
}
