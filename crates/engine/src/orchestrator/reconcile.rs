//! Reconciliation with the exchange, at start-up and every 30 minutes: the exchange is the
//! truth about what traded, the store the truth about what we asked for.
//!
//! In this order (fills first, because an order's status must never run ahead of its fills):
//! 1. **Fills** since the highest trade id booked per symbol (or, with none booked yet, since
//!    the oldest order still open in the store) are read back and booked: fills that happened
//!    while the bot was down get their trade pairs and, through the grid, their follow-ups.
//! 2. **Orders the store holds as open** are looked up by client order id: cancelled or expired
//!    on the exchange (e.g. by hand) → recorded and the grid told; unknown to the exchange and
//!    never acknowledged (`PENDING_NEW`, the process died while sending) → closed as never
//!    placed and the grid retries; unknown but acknowledged → reported and closed as expired;
//!    open but owned by nothing (sent by a state lost in a crash and not asked for again) →
//!    cancelled. Filled statuses are left to the fills of step 1.
//!
//! After a restart the driver reconciles only once the first group of candles has been traded:
//! the restored strategy asks again for the orders it had sent since its snapshot (recognised
//! by their client ids) and gets the fills it missed with that group (the venue was told where
//! its trade cursors stood, [`hybrid_exchange::Venue::resume_trades`]).
//! 3. **Orders the exchange holds that the store does not**: ours (our prefix and cohort) are
//!    cancelled, foreign ones only reported; other cohorts' orders are theirs to reconcile.
//!
//! A failure to read one order is reported and the rest goes on: reconciliation must never be
//! the reason trading stops.

use hybrid_core::{ClientOrderId, Fill, OrderStatus, Symbol, Timestamp};
use hybrid_exchange::{trades_since, Account, ExchangeError, OrderRef, TradesFrom};
use serde::{Deserialize, Serialize};

use super::{HybridOrchestrator, OrchestratorError};

/// What a reconciliation found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcileReport {
    /// Fills read back from the exchange that the store did not have yet.
    pub fills_read_back: u64,
    /// Orders whose status the exchange had moved on (cancelled, expired, acknowledged).
    pub orders_updated: u64,
    /// `PENDING_NEW` orders the exchange never received, closed (the grid places them again).
    pub orders_never_placed: u64,
    /// Our open orders the store did not know, cancelled.
    pub orphans_cancelled: u64,
    /// Open orders on the exchange that are not Hybrid's, by client order id.
    pub foreign_orders: Vec<String>,
    /// Lookups that failed (retried at the next reconciliation).
    pub errors: Vec<String>,
}

impl ReconcileReport {
    /// Whether anything needed repair.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.fills_read_back == 0
            && self.orders_updated == 0
            && self.orders_never_placed == 0
            && self.orphans_cancelled == 0
            && self.foreign_orders.is_empty()
            && self.errors.is_empty()
    }
}

impl ReconcileReport {
    /// Adds `other`'s findings to this report (several cohorts reconciled together).
    pub fn merge(&mut self, other: Self) {
        self.fills_read_back += other.fills_read_back;
        self.orders_updated += other.orders_updated;
        self.orders_never_placed += other.orders_never_placed;
        self.orphans_cancelled += other.orphans_cancelled;
        self.foreign_orders.extend(other.foreign_orders);
        self.errors.extend(other.errors);
    }
}

impl std::fmt::Display for ReconcileReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} fills read back, {} orders updated, {} never placed, {} orphans cancelled, {} foreign orders, {} errors",
            self.fills_read_back,
            self.orders_updated,
            self.orders_never_placed,
            self.orphans_cancelled,
            self.foreign_orders.len(),
            self.errors.len()
        )
    }
}

impl<E: Account> HybridOrchestrator<E> {
    /// Brings the store and the strategy state in line with the exchange (module docs).
    ///
    /// # Errors
    /// Store failures only; exchange failures are listed in the report.
    pub async fn reconcile(
        &mut self,
        now: Timestamp,
    ) -> Result<ReconcileReport, OrchestratorError> {
        let mut report = ReconcileReport::default();
        let symbols: Vec<Symbol> = self.symbols.keys().cloned().collect();
        for symbol in &symbols {
            if let Err(error) = self.read_back_fills(symbol, now, &mut report).await {
                report.errors.push(format!("trades of {symbol}: {error}"));
            }
        }
        self.reconcile_stored_orders(now, &mut report).await?;
        for symbol in &symbols {
            self.reconcile_exchange_orders(symbol, now, &mut report)
                .await?;
        }
        if !report.is_clean() {
            self.record_event(now, None, "reconcile", &report.to_string())?;
        }
        Ok(report)
    }

    async fn read_back_fills(
        &mut self,
        symbol: &Symbol,
        now: Timestamp,
        report: &mut ReconcileReport,
    ) -> Result<(), OrchestratorError> {
        for fill in self.fetch_fills(symbol).await? {
            if self.apply_fill(&fill, now).await? {
                report.fills_read_back += 1;
            }
        }
        Ok(())
    }

    /// The exchange's fills of `symbol` after the cursor (or since the oldest open order).
    async fn fetch_fills(&self, symbol: &Symbol) -> Result<Vec<Fill>, OrchestratorError> {
        let from = match self.fill_cursors.get(symbol) {
            Some(last) => TradesFrom::TradeId(last + 1),
            None => {
                let oldest = self
                    .store
                    .open_orders(Some(self.cohort))?
                    .into_iter()
                    .filter(|o| &o.symbol == symbol)
                    .map(|o| o.created_at)
                    .min();
                match oldest {
                    Some(time) => TradesFrom::Time(time),
                    None => return Ok(Vec::new()),
                }
            }
        };
        Ok(trades_since(&self.exchange, symbol, from).await?)
    }

    async fn reconcile_stored_orders(
        &mut self,
        now: Timestamp,
        report: &mut ReconcileReport,
    ) -> Result<(), OrchestratorError> {
        for stored in self.store.open_orders(Some(self.cohort))? {
            let id = stored.client_order_id.clone();
            let reference = OrderRef::Client(id.clone());
            match self.exchange.query_order(&stored.symbol, &reference).await {
                Ok(on_exchange) => {
                    let closed = matches!(
                        on_exchange.status,
                        OrderStatus::Canceled | OrderStatus::Expired | OrderStatus::Rejected
                    );
                    let acknowledged = stored.status == OrderStatus::PendingNew
                        && on_exchange.status == OrderStatus::New;
                    if closed || acknowledged {
                        self.adopt_status(&stored, &on_exchange, now)?;
                        report.orders_updated += 1;
                    }
                    if closed {
                        self.order_closed(&stored.symbol, &id, now).await?;
                    } else if on_exchange.status.is_open() && !self.owns(&stored.symbol, &id) {
                        // Sent by a state that was lost in a crash and not asked for again:
                        // nobody would manage it.
                        self.cancel_order(&stored.symbol, &id, now).await?;
                        report.orphans_cancelled += 1;
                        let message = format!("{id} had no owner after the restart");
                        self.record_event(now, Some(&stored.symbol), "orphan_cancelled", &message)?;
                    }
                }
                Err(ExchangeError::UnknownOrder { .. }) => {
                    let never_placed = stored.status == OrderStatus::PendingNew;
                    let (status, note) = if never_placed {
                        (OrderStatus::Canceled, "never reached the exchange")
                    } else {
                        (OrderStatus::Expired, "unknown to the exchange")
                    };
                    self.store
                        .update_order_status(&id, status, None, now, Some(note))?;
                    if never_placed {
                        report.orders_never_placed += 1;
                        self.order_failed(&stored.symbol, &id, note, now).await?;
                    } else {
                        report.orders_updated += 1;
                        report.errors.push(format!("{id}: {note}"));
                        self.order_closed(&stored.symbol, &id, now).await?;
                    }
                }
                Err(error) => report.errors.push(format!("{id}: {error}")),
            }
        }
        Ok(())
    }

    async fn reconcile_exchange_orders(
        &mut self,
        symbol: &Symbol,
        now: Timestamp,
        report: &mut ReconcileReport,
    ) -> Result<(), OrchestratorError> {
        let open = match self.exchange.open_orders(Some(symbol)).await {
            Ok(open) => open,
            Err(error) => {
                report
                    .errors
                    .push(format!("open orders of {symbol}: {error}"));
                return Ok(());
            }
        };
        for order in open {
            let id = order.client_order_id;
            if !id.is_ours() {
                report.foreign_orders.push(id.to_string());
                continue;
            }
            let mine = id.decode().map(|(cohort, _, _)| cohort) == Some(self.cohort);
            if !mine || self.store.get_order(&id)?.is_some() {
                continue;
            }
            let reference = OrderRef::Client(id.clone());
            match self.exchange.cancel_order(symbol, &reference).await {
                Ok(_) => {
                    report.orphans_cancelled += 1;
                    let message = format!("{id} was on the exchange but not in the database");
                    self.record_event(now, Some(symbol), "orphan_cancelled", &message)?;
                }
                Err(error) => report.errors.push(format!("cancel orphan {id}: {error}")),
            }
        }
        Ok(())
    }

    /// Whether some part of the orchestrator manages the order (a grid, or a pending HOLD
    /// entry or exit).
    fn owns(&self, symbol: &Symbol, id: &ClientOrderId) -> bool {
        self.owners.contains_key(id)
            || self
                .symbols
                .get(symbol)
                .and_then(|state| state.grid.as_ref())
                .is_some_and(|grid| grid.knows(id))
    }

    /// The grid learns that one of its orders is gone (cancelled or expired elsewhere).
    async fn order_closed(
        &mut self,
        symbol: &Symbol,
        id: &ClientOrderId,
        now: Timestamp,
    ) -> Result<(), OrchestratorError> {
        self.owners.remove(id);
        let intents = match self.state_mut(symbol)?.grid.as_mut() {
            Some(grid) => grid.on_order_closed(id, now),
            None => Vec::new(),
        };
        self.run_grid_intents(symbol, intents, now).await
    }

    /// The grid learns that one of its placements never arrived, and retries it.
    async fn order_failed(
        &mut self,
        symbol: &Symbol,
        id: &ClientOrderId,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), OrchestratorError> {
        self.owners.remove(id);
        let intents = match self.state_mut(symbol)?.grid.as_mut() {
            Some(grid) => grid.on_order_failed(id, reason, now),
            None => Vec::new(),
        };
        self.run_grid_intents(symbol, intents, now).await
    }
}
