//! The grid's own books: the quote and base it owns, moved only by fills.

use hybrid_core::{Asset, Fill, Side};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What the grid owns, in exact decimals. Every fill moves it; nothing else does, so at any
/// time `cash` and `inventory` can be recomputed from the starting capital and the fills.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    /// Quote the grid owns (free plus reserved by open buys).
    pub cash: Decimal,
    /// Base the grid owns (free plus reserved by open sells).
    pub inventory: Decimal,
    /// Σ price × quantity of buy fills (quote).
    pub bought_quote: Decimal,
    /// Σ price × quantity of sell fills (quote).
    pub sold_quote: Decimal,
    /// Σ base bought, gross of fees.
    pub bought_base: Decimal,
    /// Σ base sold.
    pub sold_base: Decimal,
    /// Fees paid in the quote asset.
    pub fees_quote: Decimal,
    /// Fees paid in the base asset.
    pub fees_base: Decimal,
    /// Fees paid in a third asset (e.g. BNB); tracked, not part of cash or inventory.
    pub fees_other: Decimal,
}

impl Ledger {
    /// A ledger starting with `cash` quote and `inventory` base.
    #[must_use]
    pub fn new(cash: Decimal, inventory: Decimal) -> Self {
        Self {
            cash,
            inventory,
            bought_quote: Decimal::ZERO,
            sold_quote: Decimal::ZERO,
            bought_base: Decimal::ZERO,
            sold_base: Decimal::ZERO,
            fees_quote: Decimal::ZERO,
            fees_base: Decimal::ZERO,
            fees_other: Decimal::ZERO,
        }
    }

    /// Books one fill; returns the base the grid received net of a base-asset fee (buys) or 0.
    pub(crate) fn apply(&mut self, fill: &Fill, base: &Asset, quote: &Asset) -> Decimal {
        let qty = fill.quantity.value();
        let value = fill.price.value() * qty;
        let fee = fill.commission;
        let (fee_base, fee_quote) = if &fill.commission_asset == base {
            (fee, Decimal::ZERO)
        } else if &fill.commission_asset == quote {
            (Decimal::ZERO, fee)
        } else {
            self.fees_other += fee;
            (Decimal::ZERO, Decimal::ZERO)
        };
        self.fees_base += fee_base;
        self.fees_quote += fee_quote;
        match fill.side {
            Side::Buy => {
                self.bought_quote += value;
                self.bought_base += qty;
                self.cash -= value + fee_quote;
                self.inventory += qty - fee_base;
                qty - fee_base
            }
            Side::Sell => {
                self.sold_quote += value;
                self.sold_base += qty;
                self.cash += value - fee_quote;
                self.inventory -= qty + fee_base;
                Decimal::ZERO
            }
        }
    }

    /// Whether `cash` and `inventory` equal what the start values and the fill totals imply.
    #[must_use]
    pub fn reconciles(&self, start_cash: Decimal, start_inventory: Decimal) -> bool {
        let cash = start_cash - self.bought_quote + self.sold_quote - self.fees_quote;
        let inventory = start_inventory + self.bought_base - self.sold_base - self.fees_base;
        cash == self.cash && inventory == self.inventory
    }
}
