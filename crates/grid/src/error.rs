//! The grid crate's error type: configuration problems, found before any order exists.

use rust_decimal::Decimal;

/// Why a grid configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GridError {
    /// A parameter out of range, e.g. `lower` ≥ `upper` or `num_grids` = 1.
    #[error("invalid grid {field} = {value}: {reason}")]
    InvalidField {
        /// The parameter name as in [`crate::GridParams`], e.g. `"num_grids"`.
        field: &'static str,
        /// The value given, as text.
        value: String,
        /// What is allowed.
        reason: String,
    },
    /// Fewer than two levels survived the symbol filters, e.g. 100 USDT over 5 BTC levels with a
    /// min notional of 500.
    #[error("grid has {kept} usable levels, needs at least 2 ({dropped} dropped by symbol filters; raise investment or lower num_grids)")]
    TooFewLevels {
        /// Levels kept.
        kept: usize,
        /// Levels dropped by the filters.
        dropped: usize,
    },
    /// The narrowest step does not beat the round-trip fees plus the margin, e.g. 42000–42100
    /// with 5 grids (0.05 % per step against a 0.3 % minimum).
    #[error("grid step {step_pct}% does not beat round-trip fees plus margin: minimum profitable spacing is {min_pct}% (widen the range or lower num_grids)")]
    Unprofitable {
        /// The narrowest step between two adjacent levels, in percent of the lower one.
        step_pct: Decimal,
        /// `(2 × fee_rate + profit_margin) × 100`, in percent.
        min_pct: Decimal,
    },
}
