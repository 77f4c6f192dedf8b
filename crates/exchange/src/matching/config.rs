//! How the simulated venue charges and fills.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Fees, slippage and fill policy of a [`super::MatchingEngine`].
///
/// Rates are fractions, not percent: `0.001` is 0.1 %.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchingConfig {
    /// Fee rate on fills of resting orders (maker); Binance's default is 0.1 %.
    pub maker_fee: Decimal,
    /// Fee rate on fills that take liquidity (market orders, limits that cross at placement).
    pub taker_fee: Decimal,
    /// How much worse than the last price a market order fills: a BUY at
    /// `last × (1 + slippage)`, a SELL at `last × (1 − slippage)`, rounded to the tick against
    /// us. `0.0005` is 5 basis points.
    pub market_slippage: Decimal,
    /// `None`: a crossed order fills completely at once. `Some`: it fills in slices.
    pub partial_fill: Option<PartialFillConfig>,
    /// Whether a resting limit order fills when the market only *touches* its price.
    ///
    /// `false` (the default) is conservative: a BUY fills only when the price trades strictly
    /// below its limit (a SELL strictly above), because at a touch the orders queued ahead of
    /// ours may absorb all the volume. Backtests then under- rather than over-state grid
    /// profits.
    pub fill_on_touch: bool,
}

/// Partial-fill simulation: each market event that crosses an order fills at most a slice of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartialFillConfig {
    /// The largest part of the order's original quantity one event fills, as a fraction in
    /// `(0, 1]`; the slice is truncated to the lot step and is at least one step.
    pub max_fill_ratio: Decimal,
}

impl Default for MatchingConfig {
    /// Binance spot without BNB discount: 0.1 % maker and taker, no slippage, full fills, fills
    /// only when the price trades through.
    fn default() -> Self {
        Self {
            maker_fee: Decimal::new(1, 3),
            taker_fee: Decimal::new(1, 3),
            market_slippage: Decimal::ZERO,
            partial_fill: None,
            fill_on_touch: false,
        }
    }
}
