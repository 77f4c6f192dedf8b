//! The 6-hourly rebalance (spec §5.6, with its gap fixed: the old system only notified).
//!
//! Every [`crate::REBALANCE_INTERVAL_MS`] (6 h) of market time, each trading symbol's target is an equal
//! share of the equity (the orchestrator's allocation rule); a symbol in CASH is not targeted
//! and left alone. When the largest drift exceeds 5 % ([`needs_rebalance`]):
//! - a HOLD symbol trades back to its target: a market buy of the shortfall, or a market sell
//!   of the excess (closing trade pairs with the reason `rebalance`);
//! - a GRID symbol gets its new budget as its allocation (the risk guard's cap and the capital
//!   of its next build); its resting orders are not torn down for a few percent.
//!
//! Deliberate difference from the old system: it trades, and every rebalance is an audit event
//! with its reason.

use hybrid_core::{Notional, Quantity, Side, Symbol, Timestamp, TradingMode};
use hybrid_exchange::Account;
use hybrid_store::ExitReason;
use rust_decimal::Decimal;

use super::{state::OrderOwner, HybridOrchestrator, OrchestratorError};
use crate::rebalance::{
    needs_rebalance, rebalance_due, rebalance_orders, DEFAULT_DRIFT_THRESHOLD_PCT,
};

/// Trades smaller than this are not worth their fees (USDT).
const MIN_REBALANCE_TRADE: Decimal = Decimal::from_parts(10, 0, 0, false, 0);

impl<E: Account> HybridOrchestrator<E> {
    /// Runs the rebalance when it is due; returns whether it traded or re-budgeted anything.
    pub(super) async fn maybe_rebalance(
        &mut self,
        now: Timestamp,
    ) -> Result<bool, OrchestratorError> {
        if !rebalance_due(self.last_rebalance, now) {
            return Ok(false);
        }
        self.last_rebalance = Some(now);
        let (current, target) = self.positions_and_targets(now).await?;
        if target.is_empty() {
            return Ok(false);
        }
        let Some(reason) = needs_rebalance(&current, &target, DEFAULT_DRIFT_THRESHOLD_PCT) else {
            return Ok(false);
        };
        let orders = rebalance_orders(&current, &target, Notional::new(MIN_REBALANCE_TRADE));
        self.record_event(
            now,
            None,
            "rebalance",
            &format!("{reason:?}: {} adjustments", orders.len()),
        )?;
        for order in orders {
            let goal = target
                .iter()
                .find(|(symbol, _)| *symbol == order.symbol)
                .map_or(Notional::ZERO, |(_, goal)| *goal);
            self.rebalance_symbol(&order.symbol, goal, order.delta, now)
                .await?;
        }
        Ok(true)
    }

    /// Value per symbol (HOLD: coins at the last price; GRID: the grid's cash and inventory)
    /// and the equal-share targets of the symbols that trade (HOLD or GRID).
    async fn positions_and_targets(
        &self,
        now: Timestamp,
    ) -> Result<(Vec<(Symbol, Notional)>, Vec<(Symbol, Notional)>), OrchestratorError> {
        let equity = self.equity(now).await?.equity.value();
        let share = Notional::new((equity / Decimal::from(self.symbols.len().max(1))).round_dp(2));
        let mut current = Vec::new();
        let mut target = Vec::new();
        for (symbol, state) in &self.symbols {
            let price = state
                .last_price
                .map_or(Decimal::ZERO, hybrid_core::Price::value);
            let value = match state.mode {
                TradingMode::Hold => {
                    let (_, held) = self.base_balance(symbol).await?;
                    held * price
                }
                TradingMode::Grid => state.grid.as_ref().map_or(Decimal::ZERO, |grid| {
                    let ledger = grid.ledger();
                    ledger.cash + ledger.inventory * price
                }),
                TradingMode::Cash => continue,
            };
            current.push((symbol.clone(), Notional::new(value)));
            target.push((symbol.clone(), share));
        }
        Ok((current, target))
    }

    async fn rebalance_symbol(
        &mut self,
        symbol: &Symbol,
        goal: Notional,
        delta: Notional,
        now: Timestamp,
    ) -> Result<(), OrchestratorError> {
        let state = self.state_mut(symbol)?;
        state.allocation = goal;
        let mode = state.mode;
        let message = format!("{symbol}: {mode} budget {goal} USDT (change {delta})");
        self.record_event(now, Some(symbol), "rebalance", &message)?;
        if mode != TradingMode::Hold {
            return Ok(());
        }
        if delta.value() > Decimal::ZERO {
            self.buy_for_hold(symbol, delta, now).await?;
            return Ok(());
        }
        let state = self.state(symbol)?;
        let Some(price) = state.last_price else {
            return Ok(());
        };
        let excess = -delta.value() / price.value();
        let Ok(quantity) = state.filters.round_quantity(excess) else {
            return Ok(());
        };
        if quantity.is_zero() || state.filters.check(Side::Sell, price, quantity).is_err() {
            return Ok(());
        }
        self.rebalance_sell(symbol, quantity, now).await
    }

    async fn rebalance_sell(
        &mut self,
        symbol: &Symbol,
        quantity: Quantity,
        now: Timestamp,
    ) -> Result<(), OrchestratorError> {
        self.market_order(
            symbol,
            Side::Sell,
            quantity,
            OrderOwner::Exit(ExitReason::Rebalance),
            now,
        )
        .await?;
        Ok(())
    }
}
