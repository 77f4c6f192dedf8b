//! Mode changes: [`plan_transition`]'s steps executed for one symbol, the grid's start and
//! rebuild, the HOLD stop and its sale.

use hybrid_core::{Notional, Price, Quantity, Symbol, Timestamp, TradingMode};
use hybrid_exchange::Account;
use hybrid_grid::{GridBot, GridConfig, GridParams};
use hybrid_modes::{plan_transition, SymbolPosition, TransitionStep};
use hybrid_risk::{StopDistance, StopKind, StopRequest};
use hybrid_store::ExitReason;
use rust_decimal::Decimal;

use super::{
    persist::GRID_SEQUENCE_SPAN, state::HoldPosition, HybridOrchestrator, OrchestratorError,
};

impl<E: Account> HybridOrchestrator<E> {
    /// Enters `mode` from nothing (start-up): GRID builds a grid with the allocation, HOLD buys
    /// it, CASH waits.
    pub(super) async fn enter_mode(
        &mut self,
        symbol: &Symbol,
        mode: TradingMode,
        now: Timestamp,
    ) -> Result<(), OrchestratorError> {
        let allocation = self.equal_share(now).await?;
        let state = self.state_mut(symbol)?;
        state.allocation = allocation;
        state.mode = mode;
        match mode {
            TradingMode::Grid => {
                self.start_grid(symbol, allocation, Quantity::ZERO, now)
                    .await
            }
            TradingMode::Hold => {
                let pct = self.config.hybrid.hold_trailing_stop_pct;
                self.buy_and_stop(symbol, allocation, pct, now).await
            }
            TradingMode::Cash => Ok(()),
        }
    }

    /// Runs the plan from `from` to `to` and sets the symbol's mode.
    pub(super) async fn switch_mode(
        &mut self,
        symbol: &Symbol,
        from: TradingMode,
        to: TradingMode,
        now: Timestamp,
    ) -> Result<(), OrchestratorError> {
        let allocation = self.equal_share(now).await?;
        let (_, held) = self.base_balance(symbol).await?;
        let state = self.state_mut(symbol)?;
        state.allocation = allocation;
        let Some(price) = state.last_price else {
            state.mode = to;
            return Ok(());
        };
        let position = SymbolPosition {
            symbol: symbol.clone(),
            price,
            base_qty_held: Quantity::new(held)?,
            open_order_ids: state
                .grid
                .as_ref()
                .map(|grid| grid.live_orders().keys().cloned().collect())
                .unwrap_or_default(),
            avg_entry_price: state.hold.map(|hold| hold.entry),
            allocation,
            has_stop: self.stops.get(self.cohort, symbol).is_some(),
        };
        let steps = plan_transition(from, to, &position, &self.config.hybrid)?;
        self.state_mut(symbol)?.mode = to;
        for step in steps {
            self.run_step(symbol, step, price, now).await?;
        }
        Ok(())
    }

    async fn run_step(
        &mut self,
        symbol: &Symbol,
        step: TransitionStep,
        price: Price,
        now: Timestamp,
    ) -> Result<(), OrchestratorError> {
        match step {
            TransitionStep::CancelGridOrders { order_ids } => {
                for id in &order_ids {
                    self.cancel_order(symbol, id, now).await?;
                }
                self.state_mut(symbol)?.grid = None;
            }
            TransitionStep::CancelStop => self.cancel_stop(symbol),
            TransitionStep::CancelCashExit => self.state_mut(symbol)?.cash_exit_deadline = None,
            TransitionStep::KeepInventoryAsHold {
                quantity,
                entry_price,
                trailing_stop_pct,
            } => {
                self.state_mut(symbol)?.hold = Some(HoldPosition { entry: entry_price });
                self.replace_stop(symbol, quantity, entry_price, trailing_stop_pct, now);
            }
            TransitionStep::TightenStop {
                quantity,
                trailing_stop_pct,
            } => {
                if self
                    .stops
                    .tighten_for_cash(self.cohort, symbol, price)
                    .is_err()
                {
                    self.replace_stop(symbol, quantity, price, trailing_stop_pct, now);
                }
            }
            TransitionStep::SellAfterTimeout { hours, .. } => {
                let ms = (hours * Decimal::from(Timestamp::HOUR_MS))
                    .trunc()
                    .try_into()
                    .unwrap_or(0_i64);
                self.state_mut(symbol)?.cash_exit_deadline = Some(now.plus_millis(ms));
            }
            TransitionStep::SellAtMarket { .. } => {
                self.sell_all(symbol, ExitReason::CashExit, now).await?;
                self.cancel_stop(symbol);
            }
            TransitionStep::BuyAllocation {
                quote,
                trailing_stop_pct,
            } => {
                self.buy_and_stop(symbol, quote, trailing_stop_pct, now)
                    .await?;
            }
            TransitionStep::StartGrid {
                quote_budget,
                initial_base,
            } => {
                self.start_grid(symbol, quote_budget, initial_base, now)
                    .await?;
            }
        }
        Ok(())
    }

    /// Buys `quote` for HOLD and puts everything held under one trailing stop.
    async fn buy_and_stop(
        &mut self,
        symbol: &Symbol,
        quote: Notional,
        trailing_stop_pct: Decimal,
        now: Timestamp,
    ) -> Result<(), OrchestratorError> {
        self.buy_for_hold(symbol, quote, now).await?;
        let (_, held) = self.base_balance(symbol).await?;
        let state = self.state(symbol)?;
        if let (Some(hold), false) = (state.hold, held.is_zero()) {
            let quantity = Quantity::new(held)?;
            self.replace_stop(symbol, quantity, hold.entry, trailing_stop_pct, now);
        }
        Ok(())
    }

    /// A new trailing stop over `quantity`, replacing any stop of the symbol. A quantity that
    /// truncates to nothing gets no stop (dust).
    fn replace_stop(
        &mut self,
        symbol: &Symbol,
        quantity: Quantity,
        entry: Price,
        trailing_stop_pct: Decimal,
        now: Timestamp,
    ) {
        self.cancel_stop(symbol);
        let Some(state) = self.symbols.get(symbol) else {
            return;
        };
        let request = StopRequest {
            cohort: self.cohort,
            symbol: symbol.clone(),
            kind: StopKind::Trailing,
            distance: StopDistance::Percent(trailing_stop_pct),
            entry,
            bought: quantity,
        };
        if self.stops.create(request, &state.filters, now).is_err() {
            self.journal.n_alerts += 1;
        }
    }

    /// Withdraws the symbol's stop, if any.
    pub(super) fn cancel_stop(&mut self, symbol: &Symbol) {
        // No stop, or one whose sale is pending: nothing to withdraw.
        let _ = self.stops.cancel(self.cohort, symbol);
    }

    /// A stop fired: sell the symbol's coins, confirm (or re-arm) the stop.
    pub(super) async fn stop_sell(
        &mut self,
        symbol: &Symbol,
        trigger: Price,
        now: Timestamp,
    ) -> Result<(), OrchestratorError> {
        let sold = self.sell_all(symbol, ExitReason::StopLoss, now).await?;
        if sold {
            self.journal.n_stop_sales += 1;
            let _ = self.stops.confirm_sold(self.cohort, symbol);
            let state = self.state_mut(symbol)?;
            state.stopped_out_at = Some(now);
            state.cash_exit_deadline = None;
            let message = format!("stop-loss sold {symbol} at {trigger}");
            self.record_event(now, Some(symbol), "stop_loss", &message)?;
            self.notify(now, hybrid_store::Severity::Critical, "stop_loss", &message)?;
        } else {
            let _ = self.stops.sell_failed(self.cohort, symbol);
            let message = format!("stop-loss of {symbol} at {trigger} could not sell; retrying");
            self.notify(
                now,
                hybrid_store::Severity::Critical,
                "stop_loss_failed",
                &message,
            )?;
        }
        Ok(())
    }

    /// In HOLD without a position: if a stop sold it, buy back once a day has closed since and
    /// the regime still reads BULL; if the entry never happened (refused, e.g. during a daily
    /// drawdown halt), try again.
    pub(super) async fn maybe_buy_back(
        &mut self,
        symbol: &Symbol,
        now: Timestamp,
    ) -> Result<(), OrchestratorError> {
        let state = self.state(symbol)?;
        if state.hold.is_some() {
            return Ok(());
        }
        let allowed = match state.stopped_out_at {
            None => true,
            Some(stopped) => state.report.is_some_and(|report| {
                report.regime == hybrid_core::Regime::Bull
                    && report.as_of.plus_millis(Timestamp::DAY_MS) > stopped
            }),
        };
        if !allowed {
            return Ok(());
        }
        let allocation = self.equal_share(now).await?;
        let state = self.state_mut(symbol)?;
        state.allocation = allocation;
        state.stopped_out_at = None;
        let pct = self.config.hybrid.hold_trailing_stop_pct;
        self.buy_and_stop(symbol, allocation, pct, now).await
    }

    /// A grid with `quote_budget` cash and `initial_base` coins around the current price; a
    /// grid the filters refuse leaves the symbol in GRID without orders (recorded).
    pub(super) async fn start_grid(
        &mut self,
        symbol: &Symbol,
        quote_budget: Notional,
        initial_base: Quantity,
        now: Timestamp,
    ) -> Result<(), OrchestratorError> {
        let hybrid = &self.config.hybrid;
        let (range, n_grids, fee_rate) = (
            hybrid.grid_range_percent,
            hybrid.num_grids,
            self.config.fee_rate,
        );
        let cohort = self.cohort;
        let state = self.state_mut(symbol)?;
        let Some(price) = state.last_price else {
            return Ok(());
        };
        let mut params = GridParams::around(price, range, n_grids, quote_budget.value());
        params.initial_base = initial_base.value();
        params.sizing_capital = quote_budget.value() + initial_base.value() * price.value();
        params.fee_rate = fee_rate;
        state.allocation = Notional::new(params.sizing_capital);
        match GridConfig::new(params, state.filters.clone()) {
            Ok(config) => {
                state.grid_generation += 1;
                let first = state.grid_generation * GRID_SEQUENCE_SPAN;
                let mut grid = GridBot::new(config, cohort, first, now);
                let intents = grid.on_price(price, now);
                state.grid = Some(grid);
                Box::pin(self.run_grid_intents(symbol, intents, now)).await
            }
            Err(error) => {
                state.grid = None;
                self.journal.n_alerts += 1;
                let message = format!("grid refused: {error}");
                self.record_event(now, Some(symbol), "grid_refused", &message)
            }
        }
    }

    /// The grid asked to be rebuilt: cancel its orders and start a new one around the price
    /// with the cash and coins it owns.
    pub(super) async fn rebuild_grid(
        &mut self,
        symbol: &Symbol,
        now: Timestamp,
    ) -> Result<(), OrchestratorError> {
        let Some(grid) = self.state_mut(symbol)?.grid.take() else {
            return Ok(());
        };
        for id in grid.live_orders().keys() {
            self.cancel_order(symbol, id, now).await?;
        }
        let ledger = grid.ledger();
        let cash = Notional::new(ledger.cash.max(Decimal::ZERO));
        let (free_base, _) = self.base_balance(symbol).await?;
        let base = Quantity::new(ledger.inventory.max(Decimal::ZERO).min(free_base))?;
        self.start_grid(symbol, cash, base, now).await
    }

    /// The equity divided equally among the symbols.
    async fn equal_share(&self, now: Timestamp) -> Result<Notional, OrchestratorError> {
        let equity = self.equity(now).await?.equity.value();
        let n = Decimal::from(self.symbols.len().max(1));
        Ok(Notional::new((equity / n).round_dp(2)))
    }
}
