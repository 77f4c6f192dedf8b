//! The six transition plans (spec §4.6): what to do with one symbol's orders, coins and stop
//! when the mode changes, as a list of intents for the engine.
//!
//! A plan leaves the symbol in the target mode's steady state, so the next tick of the new
//! mode has nothing to repair. The rule in every plan: **coins the symbol owns are never
//! forgotten**. They become the HOLD position, the grid's starting inventory, or are sold on
//! the way to CASH. The original lost them in three of the six paths.
//!
//! | from → to | steps | why |
//! |---|---|---|
//! | GRID → HOLD | cancel grid orders; keep the coins as the hold position under the hold trailing stop; buy the rest of the allocation | the grid's inventory is already a bull position; the original cleared its order tracking first and left the coins unmanaged (spec §4.6 **Bug**) |
//! | GRID → CASH | cancel grid orders; tighten a stop on the coins to 3 %; sell them after the exit timeout | leave like HOLD → CASH; the original never sold grid inventory (**Gap**) |
//! | HOLD → GRID | cancel the hold stop; start a grid that owns the held coins plus the rest of the allocation in cash | the coins back the grid's sell levels instead of being sold and bought back; the original orphaned them (**Gap**) |
//! | HOLD → CASH | tighten the stop to 3 %; sell after the exit timeout | a short window to catch a bounce while the tight stop caps the loss (as the original) |
//! | CASH → GRID | cancel the pending exit and its stop; start a grid with what is left of the coins plus the cash | an exit still in progress is aborted; its coins serve the grid; the original left the tight stop active |
//! | CASH → HOLD | cancel the pending exit; keep remaining coins as the hold position under the hold stop; buy the rest of the allocation | re-enter with the allocation; coins not yet sold are not sold only to be bought back |
//!
//! A `cash_exit_timeout_hours` of 0 replaces "tight stop, sell after the timeout" by an
//! immediate market sale. Open orders are cancelled first in every plan (in HOLD and CASH there should be none;
//! strays are cancelled rather than left to fill in the wrong mode). A buy smaller than
//! `min_position_usd` is skipped: the exchange would refuse it or it would cost more in fees
//! than it is worth.

use hybrid_core::{ClientOrderId, Notional, Price, Quantity, Symbol, TradingMode};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{config::HybridConfig, error::ModesError};

/// What one symbol owns when its mode changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SymbolPosition {
    /// The symbol.
    pub symbol: Symbol,
    /// The current price, to value the coins held against the allocation.
    pub price: Price,
    /// Base asset the symbol owns: the HOLD position, or the grid's inventory (free and
    /// locked in open sells), or what a CASH exit has not sold yet.
    pub base_qty_held: Quantity,
    /// The symbol's open orders (the grid's, in GRID mode).
    pub open_order_ids: Vec<ClientOrderId>,
    /// Average entry price of `base_qty_held`, if known.
    pub avg_entry_price: Option<Price>,
    /// The quote the allocator gives this symbol: the target value of the position.
    pub allocation: Notional,
    /// Whether the symbol has a stop-loss (hold stop, grid stop or CASH-exit stop).
    pub has_stop: bool,
}

/// One intent of a transition plan, executed by the engine in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum TransitionStep {
    /// Cancel these orders; when leaving GRID, also drop the grid bot (even with no orders).
    CancelGridOrders {
        /// The orders to cancel.
        order_ids: Vec<ClientOrderId>,
    },
    /// Remove the symbol's stop-loss; the coins stay.
    CancelStop,
    /// Abort a CASH exit in progress: the timed sale no longer happens.
    CancelCashExit,
    /// Adopt coins already owned as the HOLD position, with a trailing stop at
    /// `trailing_stop_pct` replacing any stop the symbol has.
    KeepInventoryAsHold {
        /// Coins kept.
        quantity: Quantity,
        /// Their entry price for P&L: the known average, else the current price.
        entry_price: Price,
        /// Trailing distance, percent.
        trailing_stop_pct: Decimal,
    },
    /// Put the coins under a trailing stop `trailing_stop_pct` below the current price,
    /// replacing any stop (a tightened stop never lowers an existing stop price).
    TightenStop {
        /// Coins the stop covers.
        quantity: Quantity,
        /// Trailing distance, percent.
        trailing_stop_pct: Decimal,
    },
    /// Sell what is left of `quantity` at market once `hours` have passed, unless the stop
    /// sold it first; once sold, the symbol's stop is removed.
    SellAfterTimeout {
        /// Coins to sell.
        quantity: Quantity,
        /// Hours to wait.
        hours: Decimal,
    },
    /// Sell at market now (a CASH exit with a timeout of 0); once sold, the symbol's stop is
    /// removed.
    SellAtMarket {
        /// Coins to sell.
        quantity: Quantity,
    },
    /// Market-buy `quote` worth of the coin; what it buys joins the HOLD position and its
    /// trailing stop at `trailing_stop_pct`.
    BuyAllocation {
        /// Quote to spend.
        quote: Notional,
        /// Trailing distance for the bought coins, percent.
        trailing_stop_pct: Decimal,
    },
    /// Start a grid owning `quote_budget` cash and `initial_base` coins (the coins back its
    /// first sell levels); size its levels by `quote_budget + initial_base × price`.
    StartGrid {
        /// Cash for the grid's buys.
        quote_budget: Notional,
        /// Coins the grid starts with.
        initial_base: Quantity,
    },
}

/// The plan that moves one symbol from `from` to `to`.
///
/// # Errors
/// [`ModesError::SameMode`] when `from == to`: there is nothing to plan.
#[rustfmt::skip]
pub fn plan_transition(
    from: TradingMode,
    to: TradingMode,
    position: &SymbolPosition,
    config: &HybridConfig,
) -> Result<Vec<TransitionStep>, ModesError> {
    use TradingMode::{Cash, Grid, Hold};
    let plan = Plan { position, config };
    let steps = match (from, to) {
        (Grid, Hold) => plan.grid_to_hold(),
        (Grid, Cash) => plan.grid_to_cash(),
        (Hold, Grid) => plan.hold_to_grid(),
        (Hold, Cash) => plan.hold_to_cash(),
        (Cash, Grid) => plan.cash_to_grid(),
        (Cash, Hold) => plan.cash_to_hold(),
        (Grid, Grid) | (Hold, Hold) | (Cash, Cash) => return Err(ModesError::SameMode { mode: from }),
    };
    Ok(steps)
}

/// One symbol's plan under construction.
struct Plan<'a> {
    position: &'a SymbolPosition,
    config: &'a HybridConfig,
}

impl Plan<'_> {
    fn grid_to_hold(&self) -> Vec<TransitionStep> {
        let mut steps = vec![self.cancel_grid()];
        steps.extend(self.enter_hold());
        steps
    }

    fn grid_to_cash(&self) -> Vec<TransitionStep> {
        let mut steps = vec![self.cancel_grid()];
        steps.extend(self.exit_to_cash());
        steps
    }

    fn hold_to_grid(&self) -> Vec<TransitionStep> {
        let mut steps = self.cancel_strays();
        steps.extend(self.cancel_stop());
        steps.push(self.start_grid());
        steps
    }

    fn hold_to_cash(&self) -> Vec<TransitionStep> {
        let mut steps = self.cancel_strays();
        steps.extend(self.exit_to_cash());
        steps
    }

    fn cash_to_grid(&self) -> Vec<TransitionStep> {
        let mut steps = self.cancel_strays();
        steps.push(TransitionStep::CancelCashExit);
        steps.extend(self.cancel_stop());
        steps.push(self.start_grid());
        steps
    }

    fn cash_to_hold(&self) -> Vec<TransitionStep> {
        let mut steps = self.cancel_strays();
        steps.push(TransitionStep::CancelCashExit);
        steps.extend(self.enter_hold());
        steps
    }

    /// Leaving GRID: always, so the bot is dropped even without open orders.
    fn cancel_grid(&self) -> TransitionStep {
        TransitionStep::CancelGridOrders {
            order_ids: self.position.open_order_ids.clone(),
        }
    }

    /// Leaving HOLD or CASH: only if stray orders exist.
    fn cancel_strays(&self) -> Vec<TransitionStep> {
        if self.position.open_order_ids.is_empty() {
            Vec::new()
        } else {
            vec![self.cancel_grid()]
        }
    }

    fn cancel_stop(&self) -> Option<TransitionStep> {
        self.position.has_stop.then_some(TransitionStep::CancelStop)
    }

    /// Keep the coins under the hold stop, buy the rest of the allocation.
    fn enter_hold(&self) -> Vec<TransitionStep> {
        let pct = self.config.hold_trailing_stop_pct;
        let mut steps = Vec::new();
        if self.holds_coins() {
            steps.push(TransitionStep::KeepInventoryAsHold {
                quantity: self.position.base_qty_held,
                entry_price: self.position.avg_entry_price.unwrap_or(self.position.price),
                trailing_stop_pct: pct,
            });
        } else {
            steps.extend(self.cancel_stop());
        }
        if let Some(quote) = self.top_up() {
            steps.push(TransitionStep::BuyAllocation {
                quote,
                trailing_stop_pct: pct,
            });
        }
        steps
    }

    /// Tight stop now, market sale after the timeout; a timeout of 0 sells at once.
    fn exit_to_cash(&self) -> Vec<TransitionStep> {
        if !self.holds_coins() {
            return self.cancel_stop().into_iter().collect();
        }
        let quantity = self.position.base_qty_held;
        if self.config.cash_exit_timeout_hours.is_zero() {
            return vec![TransitionStep::SellAtMarket { quantity }];
        }
        vec![
            TransitionStep::TightenStop {
                quantity,
                trailing_stop_pct: self.config.cash_trailing_stop_pct,
            },
            TransitionStep::SellAfterTimeout {
                quantity,
                hours: self.config.cash_exit_timeout_hours,
            },
        ]
    }

    /// A grid owning the coins plus the rest of the allocation in cash.
    fn start_grid(&self) -> TransitionStep {
        TransitionStep::StartGrid {
            quote_budget: Notional::new(self.uncovered().max(Decimal::ZERO)),
            initial_base: self.position.base_qty_held,
        }
    }

    /// The allocation not yet covered by coins, if it is worth a buy.
    fn top_up(&self) -> Option<Notional> {
        let missing = self.uncovered();
        (missing >= self.config.min_position_usd).then(|| Notional::new(missing))
    }

    /// Allocation minus the value of the coins held (negative when they are worth more).
    fn uncovered(&self) -> Decimal {
        let held = self.position.base_qty_held * self.position.price;
        self.position.allocation.value() - held.value()
    }

    fn holds_coins(&self) -> bool {
        !self.position.base_qty_held.is_zero()
    }
}

#[cfg(test)]
mod tests {
    use hybrid_core::CohortId;
    use rust_decimal_macros::dec;

    use super::*;
    use TradingMode::{Cash, Grid, Hold};

    fn position(qty: Decimal, orders: u64, has_stop: bool) -> SymbolPosition {
        let symbol = Symbol::new("BTCUSDT").unwrap();
        let open_order_ids = (1..=orders)
            .map(|n| ClientOrderId::new(CohortId::new(1), &symbol, n).unwrap())
            .collect();
        SymbolPosition {
            symbol,
            price: Price::new(dec!(50000)).unwrap(),
            base_qty_held: Quantity::new(qty).unwrap(),
            open_order_ids,
            avg_entry_price: None,
            allocation: Notional::new(dec!(100)),
            has_stop,
        }
    }

    fn plan(from: TradingMode, to: TradingMode, p: &SymbolPosition) -> Vec<TransitionStep> {
        plan_transition(from, to, p, &HybridConfig::default()).unwrap()
    }

    fn q(value: Decimal) -> Quantity {
        Quantity::new(value).unwrap()
    }

    #[test]
    fn same_mode_is_an_error() {
        let p = position(dec!(0), 0, false);
        for mode in [Grid, Hold, Cash] {
            assert_eq!(
                plan_transition(mode, mode, &p, &HybridConfig::default()),
                Err(ModesError::SameMode { mode })
            );
        }
    }

    #[test]
    fn grid_to_hold_keeps_inventory_and_tops_up() {
        // 0.001 BTC at 50 000 = 50 of the 100 allocation.
        let p = position(dec!(0.001), 2, true);
        let steps = plan(Grid, Hold, &p);
        assert_eq!(steps.len(), 3);
        assert!(
            matches!(&steps[0], TransitionStep::CancelGridOrders { order_ids } if order_ids.len() == 2)
        );
        assert_eq!(
            steps[1],
            TransitionStep::KeepInventoryAsHold {
                quantity: q(dec!(0.001)),
                entry_price: p.price,
                trailing_stop_pct: dec!(7)
            }
        );
        assert_eq!(
            steps[2],
            TransitionStep::BuyAllocation {
                quote: Notional::new(dec!(50)),
                trailing_stop_pct: dec!(7)
            }
        );
    }

    #[test]
    fn grid_to_hold_skips_a_top_up_below_the_minimum() {
        let p = position(dec!(0.0019), 0, false); // 95 of 100: 5 missing < 10
        let steps = plan(Grid, Hold, &p);
        assert_eq!(steps.len(), 2);
        assert!(matches!(
            steps[1],
            TransitionStep::KeepInventoryAsHold { .. }
        ));
    }

    #[test]
    fn grid_to_cash_sells_inventory_after_a_tight_stop() {
        let p = position(dec!(0.002), 1, false);
        let steps = plan(Grid, Cash, &p);
        assert_eq!(
            steps[1..],
            [
                TransitionStep::TightenStop {
                    quantity: q(dec!(0.002)),
                    trailing_stop_pct: dec!(3)
                },
                TransitionStep::SellAfterTimeout {
                    quantity: q(dec!(0.002)),
                    hours: dec!(2)
                },
            ]
        );
    }

    #[test]
    fn grid_without_inventory_to_cash_only_drops_the_grid() {
        let steps = plan(Grid, Cash, &position(dec!(0), 0, false));
        assert_eq!(
            steps,
            [TransitionStep::CancelGridOrders { order_ids: vec![] }]
        );
    }

    #[test]
    fn hold_to_grid_hands_the_coins_to_the_grid() {
        let steps = plan(Hold, Grid, &position(dec!(0.001), 0, true));
        assert_eq!(
            steps,
            [
                TransitionStep::CancelStop,
                TransitionStep::StartGrid {
                    quote_budget: Notional::new(dec!(50)),
                    initial_base: q(dec!(0.001))
                },
            ]
        );
    }

    #[test]
    fn coins_worth_more_than_the_allocation_leave_no_cash_budget() {
        let steps = plan(Hold, Grid, &position(dec!(0.003), 0, true));
        assert!(
            matches!(steps[1], TransitionStep::StartGrid { quote_budget, .. } if quote_budget == Notional::ZERO)
        );
    }

    #[test]
    fn zero_exit_timeout_sells_at_once() {
        let config = HybridConfig {
            cash_exit_timeout_hours: dec!(0),
            ..HybridConfig::default()
        };
        let steps = plan_transition(Hold, Cash, &position(dec!(0.001), 0, true), &config).unwrap();
        assert_eq!(
            steps,
            [TransitionStep::SellAtMarket {
                quantity: q(dec!(0.001))
            }]
        );
    }

    #[test]
    fn hold_to_cash_not_holding_is_empty() {
        assert!(plan(Hold, Cash, &position(dec!(0), 0, false)).is_empty());
    }

    #[test]
    fn cash_to_grid_aborts_the_exit() {
        let steps = plan(Cash, Grid, &position(dec!(0), 0, false));
        assert_eq!(
            steps,
            [
                TransitionStep::CancelCashExit,
                TransitionStep::StartGrid {
                    quote_budget: Notional::new(dec!(100)),
                    initial_base: Quantity::ZERO
                },
            ]
        );
    }

    #[test]
    fn cash_to_hold_reenters_with_the_allocation() {
        let steps = plan(Cash, Hold, &position(dec!(0), 0, false));
        assert_eq!(
            steps,
            [
                TransitionStep::CancelCashExit,
                TransitionStep::BuyAllocation {
                    quote: Notional::new(dec!(100)),
                    trailing_stop_pct: dec!(7)
                },
            ]
        );
    }

    #[test]
    fn stray_orders_are_cancelled_from_hold_and_cash() {
        let steps = plan(Cash, Hold, &position(dec!(0), 1, false));
        assert!(matches!(steps[0], TransitionStep::CancelGridOrders { .. }));
    }

    #[test]
    fn known_entry_price_is_kept() {
        let mut p = position(dec!(0.001), 0, true);
        p.avg_entry_price = Some(Price::new(dec!(48000)).unwrap());
        let steps = plan(Cash, Hold, &p);
        assert!(
            matches!(steps[1], TransitionStep::KeepInventoryAsHold { entry_price, .. } if entry_price.value() == dec!(48000))
        );
    }
}
