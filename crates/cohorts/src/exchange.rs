//! [`CohortExchange`]: one cohort's view of the shared account.
//!
//! Every cohort's [`hybrid_engine::HybridOrchestrator`] gets its own view; all views hold the
//! same `Arc` of the real account (the run's venue), so there is one connection and one
//! request-weight budget for the whole process. A view is an [`Account`] only (market data
//! never goes through it), and it adds what a cohort needs:
//! - answers `balances` from the cohort's [`CohortLedger`], never from the account, so the
//!   orchestrator sizes its orders from its own money;
//! - refuses an order the ledger cannot pay (`InsufficientBalance`) or one carrying another
//!   cohort's id, before it reaches the exchange;
//! - reserves, books and releases on placement, fills and cancels;
//! - shows only the cohort's own open orders and trades (routed by the cohort encoded in the
//!   client order id).

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use hybrid_core::{ClientOrderId, CohortId, Fill, Order, OrderKind, Price, Symbol};
use hybrid_exchange::{
    Account, Balance, ExchangeError, OrderAck, OrderRef, OrderRequest, TradesFrom,
};

use rust_decimal::Decimal;

use crate::ledger::{CapitalRefusal, CohortLedger};

/// What the cohort orchestrator needs from a cohort's venue besides the [`Account`]
/// operations: booking fills that arrive outside an order's placement (the replay's candle
/// fills, a live trade report), the last prices (a market buy is checked against them) and
/// reading the ledger for reconciliation.
pub trait CohortVenue: Account {
    /// The cohort this venue trades for.
    fn cohort(&self) -> CohortId;

    /// Books a fill of one of this cohort's orders reported after its placement (idempotent).
    fn book_fill(&self, fill: &Fill);

    /// The last price of `symbol` (a candle's close), which a market buy is checked against.
    fn mark_price(&self, symbol: &Symbol, price: Price);

    /// A copy of the cohort's ledger now.
    fn ledger(&self) -> CohortLedger;

    /// Adds quote capital to the cohort's ledger ([`CohortLedger::credit`]); returns its quote
    /// total afterwards.
    ///
    /// # Errors
    /// As [`CohortLedger::credit`].
    fn credit(&self, amount: Decimal) -> Result<Decimal, CapitalRefusal>;

    /// Removes free quote capital from the cohort's ledger ([`CohortLedger::debit`]); returns
    /// its quote total afterwards.
    ///
    /// # Errors
    /// As [`CohortLedger::debit`].
    fn debit(&self, amount: Decimal) -> Result<Decimal, CapitalRefusal>;
}

impl<V: CohortVenue + ?Sized> CohortVenue for Arc<V> {
    fn cohort(&self) -> CohortId {
        (**self).cohort()
    }

    fn book_fill(&self, fill: &Fill) {
        (**self).book_fill(fill);
    }

    fn mark_price(&self, symbol: &Symbol, price: Price) {
        (**self).mark_price(symbol, price);
    }

    fn ledger(&self) -> CohortLedger {
        (**self).ledger()
    }

    fn credit(&self, amount: Decimal) -> Result<Decimal, CapitalRefusal> {
        (**self).credit(amount)
    }

    fn debit(&self, amount: Decimal) -> Result<Decimal, CapitalRefusal> {
        (**self).debit(amount)
    }
}

/// One cohort's view of the shared exchange `E`.
#[derive(Debug)]
pub struct CohortExchange<E> {
    shared: Arc<E>,
    cohort: CohortId,
    ledger: Mutex<CohortLedger>,
    prices: Mutex<BTreeMap<Symbol, Price>>,
}

impl<E> CohortExchange<E> {
    /// A view for `ledger`'s cohort on `shared`.
    #[must_use]
    pub fn new(shared: Arc<E>, ledger: CohortLedger) -> Self {
        Self {
            shared,
            cohort: ledger.cohort(),
            ledger: Mutex::new(ledger),
            prices: Mutex::new(BTreeMap::new()),
        }
    }

    /// The shared client.
    #[must_use]
    pub fn shared(&self) -> &Arc<E> {
        &self.shared
    }

    fn lock(&self) -> MutexGuard<'_, CohortLedger> {
        self.ledger.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn owns(&self, id: &ClientOrderId) -> bool {
        id.decode()
            .is_some_and(|(cohort, _, _)| cohort == self.cohort)
    }

    fn owns_ref(&self, order: &OrderRef) -> bool {
        match order {
            OrderRef::Client(id) => self.owns(id),
            // An exchange id carries no cohort: the exchange's answer is checked instead.
            OrderRef::Exchange(_) => true,
        }
    }

    fn foreign(&self, what: &str) -> ExchangeError {
        ExchangeError::InvalidRequest(format!(
            "cohort {} may not {what} another cohort's order",
            self.cohort
        ))
    }
}

impl<E: Account> CohortVenue for CohortExchange<E> {
    fn cohort(&self) -> CohortId {
        self.cohort
    }

    fn book_fill(&self, fill: &Fill) {
        if self.owns(&fill.client_order_id) {
            self.lock().apply_fill(fill);
        }
    }

    fn mark_price(&self, symbol: &Symbol, price: Price) {
        let mut prices = self.prices.lock().unwrap_or_else(PoisonError::into_inner);
        // Speed: the symbol (a `String`) is cloned only for its first candle.
        match prices.get_mut(symbol) {
            Some(last) => *last = price,
            None => {
                prices.insert(symbol.clone(), price);
            }
        }
    }

    fn ledger(&self) -> CohortLedger {
        self.lock().clone()
    }

    fn credit(&self, amount: Decimal) -> Result<Decimal, CapitalRefusal> {
        self.lock().credit(amount)
    }

    fn debit(&self, amount: Decimal) -> Result<Decimal, CapitalRefusal> {
        self.lock().debit(amount)
    }
}

impl<E: Account> Account for CohortExchange<E> {
    /// The cohort's own balances (its ledger), not the account's.
    async fn balances(&self) -> Result<Vec<Balance>, ExchangeError> {
        Ok(self.lock().balances())
    }

    async fn place_order(&self, request: &OrderRequest) -> Result<OrderAck, ExchangeError> {
        if request.cohort != self.cohort || !self.owns(&request.client_order_id) {
            return Err(self.foreign("place"));
        }
        let reference = match (request.kind, request.price) {
            (OrderKind::Market, _) | (_, None) => self
                .prices
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&request.symbol)
                .copied()
                .ok_or_else(|| {
                    ExchangeError::InvalidRequest(format!(
                        "no price of {} known yet for a market order",
                        request.symbol
                    ))
                })?,
            (_, Some(price)) => price,
        };
        self.lock().check(request, reference).map_err(|refusal| {
            ExchangeError::InsufficientBalance {
                msg: refusal.to_string(),
            }
        })?;
        let ack = self.shared.place_order(request).await?;
        let mut ledger = self.lock();
        ledger.on_accepted(request, &ack.order);
        for fill in &ack.fills {
            ledger.apply_fill(fill);
        }
        Ok(ack)
    }

    async fn query_order(&self, symbol: &Symbol, order: &OrderRef) -> Result<Order, ExchangeError> {
        if !self.owns_ref(order) {
            return Err(self.foreign("query"));
        }
        self.shared.query_order(symbol, order).await
    }

    async fn cancel_order(
        &self,
        symbol: &Symbol,
        order: &OrderRef,
    ) -> Result<Order, ExchangeError> {
        if !self.owns_ref(order) {
            return Err(self.foreign("cancel"));
        }
        if let OrderRef::Exchange(_) = order {
            let found = self.shared.query_order(symbol, order).await?;
            if found.cohort != self.cohort && !self.owns(&found.client_order_id) {
                return Err(self.foreign("cancel"));
            }
        }
        let cancelled = self.shared.cancel_order(symbol, order).await?;
        self.lock().on_closed(&cancelled.client_order_id);
        Ok(cancelled)
    }

    async fn open_orders(&self, symbol: Option<&Symbol>) -> Result<Vec<Order>, ExchangeError> {
        let orders = self.shared.open_orders(symbol).await?;
        Ok(orders
            .into_iter()
            .filter(|o| self.owns(&o.client_order_id))
            .collect())
    }

    async fn my_trades(
        &self,
        symbol: &Symbol,
        from: TradesFrom,
    ) -> Result<Vec<Fill>, ExchangeError> {
        let fills = self.shared.my_trades(symbol, from).await?;
        Ok(fills
            .into_iter()
            .filter(|f| self.owns(&f.client_order_id))
            .collect())
    }
}
