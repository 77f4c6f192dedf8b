//! Orders (recorded before sending), their status history, client order id sequences and fills.

use hybrid_core::{ClientOrderId, CohortId, Fill, Order, OrderStatus, Symbol, Timestamp};

use crate::{
    error::StoreError,
    store::{dispatch, Store},
};

/// One change of an order's status, from `order_status_history`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    /// The status before; `None` for the row written when the order was recorded.
    pub from: Option<OrderStatus>,
    /// The status after.
    pub to: OrderStatus,
    /// When the change was recorded.
    pub at: Timestamp,
    /// Why, e.g. `"placed"` or `"fill 12345"`.
    pub note: Option<String>,
}

impl Store {
    /// The next client order id of `cohort` on `symbol`: takes the stored sequence number and
    /// advances it in one transaction, so a restart (or a second process) never reuses an id.
    /// Sequences start at 1.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown cohort; [`StoreError::Refused`] if the id would
    /// not fit Binance's 36 characters; [`StoreError::Query`] on a database failure.
    pub fn next_client_order_id(
        &self,
        cohort: CohortId,
        symbol: &Symbol,
    ) -> Result<ClientOrderId, StoreError> {
        dispatch!(self, next_client_order_id(cohort, symbol))
    }

    /// Records an order before it is sent (normally with status `PENDING_NEW`), together with
    /// the first status-history row.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] if the client order id is already recorded (nothing is
    /// written); [`StoreError::NotFound`] if its cohort does not exist; [`StoreError::Query`]
    /// on a database failure.
    pub fn insert_order(&self, order: &Order) -> Result<(), StoreError> {
        dispatch!(self, insert_order(order))
    }

    /// The order with this client order id, if recorded.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure; [`StoreError::Corrupt`] for a bad row.
    pub fn get_order(&self, id: &ClientOrderId) -> Result<Option<Order>, StoreError> {
        dispatch!(self, get_order(id))
    }

    /// Moves the order to `next` through [`OrderStatus::transition`], sets its exchange order id
    /// when given (it never changes once known) and appends a status-history row when the
    /// status changed. Returns the updated order.
    ///
    /// # Errors
    /// [`StoreError::Refused`] for an illegal transition and [`StoreError::Conflict`] for a
    /// different exchange order id than the stored one (nothing is written in either case);
    /// [`StoreError::NotFound`] for an unknown order; [`StoreError::Query`] on a database
    /// failure.
    pub fn update_order_status(
        &self,
        id: &ClientOrderId,
        next: OrderStatus,
        exchange_order_id: Option<i64>,
        at: Timestamp,
        note: Option<&str>,
    ) -> Result<Order, StoreError> {
        dispatch!(
            self,
            update_order_status(id, next, exchange_order_id, at, note)
        )
    }

    /// Orders that are (or may be) on the exchange's book: every non-terminal status,
    /// including `PENDING_NEW` (placement outcome unknown). All cohorts when `cohort` is `None`.
    /// Oldest first.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure; [`StoreError::Corrupt`] for a bad row.
    pub fn open_orders(&self, cohort: Option<CohortId>) -> Result<Vec<Order>, StoreError> {
        dispatch!(self, open_orders(cohort))
    }

    /// Every order of every cohort, open and terminal, oldest first (audits and the crash
    /// campaign's comparison of two runs).
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure; [`StoreError::Corrupt`] for a bad row.
    pub fn all_orders(&self) -> Result<Vec<Order>, StoreError> {
        dispatch!(self, orders_of(None))
    }

    /// The order's status changes, oldest first.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure; [`StoreError::Corrupt`] for a bad row.
    pub fn order_status_history(
        &self,
        id: &ClientOrderId,
    ) -> Result<Vec<StatusChange>, StoreError> {
        dispatch!(self, order_status_history(id))
    }

    /// Books a fill of one of `cohort`'s orders: stores it and, in the same transaction,
    /// applies it to the order with [`Order::apply_fill`] (filled quantity, filled quote,
    /// status). Returns `true` if the fill is new and `false` if this trade (symbol, trade id)
    /// was already booked, in which case nothing changes: reporting a trade twice is normal
    /// during reconciliation.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown order; [`StoreError::Conflict`] when the order
    /// belongs to another cohort; [`StoreError::Refused`] when the fill overfills the order or
    /// the order can no longer fill. Nothing is written on error.
    pub fn record_fill(&self, cohort: CohortId, fill: &Fill) -> Result<bool, StoreError> {
        dispatch!(self, record_fill(cohort, fill))
    }

    /// The order's fills, in execution order.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure; [`StoreError::Corrupt`] for a bad row.
    pub fn fills_for_order(&self, id: &ClientOrderId) -> Result<Vec<Fill>, StoreError> {
        dispatch!(self, fills_for_order(id))
    }

    /// Every order of `cohort`, open and closed, oldest first (audits compare runs with it).
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure; [`StoreError::Corrupt`] for a bad row.
    pub fn cohort_orders(&self, cohort: CohortId) -> Result<Vec<Order>, StoreError> {
        dispatch!(self, orders_of(Some(cohort)))
    }

    /// Every fill of `cohort`'s orders, in execution order (a restarted cohort rebuilds its
    /// ledger from them).
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure; [`StoreError::Corrupt`] for a bad row.
    pub fn cohort_fills(&self, cohort: CohortId) -> Result<Vec<Fill>, StoreError> {
        dispatch!(self, cohort_fills(cohort))
    }

    /// The latest `limit` fills, newest first, of one cohort or all and one symbol or all
    /// (the cockpit's "recent fills").
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure; [`StoreError::Corrupt`] for a bad row.
    pub fn recent_fills(
        &self,
        cohort: Option<CohortId>,
        symbol: Option<&Symbol>,
        limit: u32,
    ) -> Result<Vec<Fill>, StoreError> {
        dispatch!(self, recent_fills(cohort, symbol, limit))
    }
}
