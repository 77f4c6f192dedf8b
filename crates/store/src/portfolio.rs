//! The three-tier portfolio's records: tier targets and values, tier snapshots (the equity
//! curve with Sharpe and drawdown), index holdings, profit redistributions, regime history,
//! and the counts the production validator reads.

use hybrid_core::{Symbol, Timestamp};
use rust_decimal::Decimal;

use crate::{
    error::StoreError,
    store::{dispatch, Store},
};

/// One `portfolio_tiers` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierRecord {
    /// `cash_reserve`, `index_holdings` or `trading`.
    pub tier_name: String,
    /// Target share, percent.
    pub target_pct: Decimal,
    /// Lowest target allowed, percent.
    pub min_pct: Decimal,
    /// Highest target allowed, percent.
    pub max_pct: Decimal,
    /// Share at the last snapshot, percent (`None` before the first one).
    pub current_pct: Option<Decimal>,
    /// Value at the last snapshot, USDT.
    pub current_value_usd: Decimal,
    /// Whether the tier is in use (an inactive row keeps the built-in default target).
    pub is_active: bool,
    /// When the row last changed.
    pub updated_at: Timestamp,
}

/// A tier's value at a snapshot, for [`Store::write_tier_values`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierValueUpdate {
    /// The tier's name.
    pub tier_name: String,
    /// Share of the total, percent.
    pub current_pct: Decimal,
    /// Value, USDT.
    pub current_value_usd: Decimal,
}

/// One point of the portfolio's equity curve, split into tiers.
#[derive(Debug, Clone, PartialEq)]
pub struct PortfolioSnapshot {
    /// When.
    pub at: Timestamp,
    /// `cash + index + trading`, USDT.
    pub total_value_usd: Decimal,
    /// Cash reserve, USDT.
    pub cash_usd: Decimal,
    /// Index holdings, USDT.
    pub index_usd: Decimal,
    /// Trading tier, USDT.
    pub trading_usd: Decimal,
    /// Change of the total over the last day, USDT (`None` without a day of history).
    pub daily_pnl: Option<Decimal>,
    /// The same in percent.
    pub daily_pnl_pct: Option<Decimal>,
    /// Drawdown from the running peak, negative percent (0 at a peak).
    pub max_drawdown: Option<Decimal>,
    /// Annualised Sharpe ratio of daily returns so far (`None` with too few days).
    pub sharpe_ratio: Option<f64>,
}

/// One `index_holdings` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexHoldingRecord {
    /// The coin.
    pub symbol: Symbol,
    /// Target weight, percent.
    pub target_weight_pct: Decimal,
    /// Base quantity held.
    pub quantity: Decimal,
    /// Average entry price.
    pub avg_entry_price: Decimal,
    /// Last price.
    pub current_price: Decimal,
    /// Trailing stop distance, percent.
    pub trailing_stop_pct: Decimal,
    /// Trailing stop price.
    pub trailing_stop_price: Decimal,
    /// Highest price since bought.
    pub highest_price: Decimal,
    /// False once the coin was sold out of the index.
    pub is_active: bool,
    /// The last rebalance of the index.
    pub last_rebalance_at: Option<Timestamp>,
    /// When the row last changed.
    pub updated_at: Timestamp,
}

/// A redistribution between tiers.
#[derive(Debug, Clone, PartialEq)]
pub struct RedistributionRecord {
    /// When.
    pub at: Timestamp,
    /// Total portfolio value before, USDT.
    pub total_portfolio_value: Decimal,
    /// Σ transfers, USDT.
    pub total_moved: Decimal,
    /// Tier values and shares before (JSON).
    pub pre_allocation: serde_json::Value,
    /// Tier values and shares after (JSON).
    pub post_allocation: serde_json::Value,
    /// `[{from, to, amount, reason}]` (JSON).
    pub transfers: serde_json::Value,
    /// `weekly_schedule`, `drift_threshold` or `manual`.
    pub trigger_reason: String,
}

/// A detected regime, for `regime_history`.
#[derive(Debug, Clone, PartialEq)]
pub struct RegimeRecord {
    /// When it was detected.
    pub at: Timestamp,
    /// The symbol whose candles it was detected on (`None` = the market).
    pub symbol: Option<Symbol>,
    /// `BULL`, `BEAR` or `SIDEWAYS`.
    pub regime: String,
    /// The detector's probability, 0–1.
    pub probability: Option<f64>,
    /// The regime before (`None` for the first detection).
    pub previous_regime: Option<String>,
}

/// What the production validator reads from the database.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ValidationCounts {
    /// Closed trade pairs.
    pub closed_trades: u64,
    /// The latest non-null snapshot Sharpe ratio.
    pub latest_sharpe: Option<f64>,
    /// The highest playbook version (0 without one).
    pub playbook_version: u64,
    /// Signal rows whose correctness was evaluated.
    pub signal_evaluations: u64,
    /// Regime rows whose previous regime is set and differs.
    pub regime_changes: u64,
    /// The lowest snapshot drawdown of the 60 days before `now` (negative percent).
    pub worst_drawdown_pct: Option<Decimal>,
    /// Closed pairs with a positive net P&L.
    pub winning_trades: u64,
    /// Closed pairs with a net P&L.
    pub trades_with_pnl: u64,
    /// The active `index_holdings` tier: (current %, target %), when its current % is set.
    pub index_tier: Option<(Decimal, Decimal)>,
    /// Stored AI portfolio recommendations.
    pub ai_recommendations: u64,
}

impl Store {
    /// Every tier row.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure; [`StoreError::Corrupt`] for a bad row.
    pub fn portfolio_tiers(&self) -> Result<Vec<TierRecord>, StoreError> {
        dispatch!(self, portfolio_tiers())
    }

    /// Sets one tier's target percentage.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown tier; [`StoreError::Query`] on a database failure.
    pub fn set_tier_target(
        &self,
        tier_name: &str,
        target_pct: Decimal,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        dispatch!(self, set_tier_target(tier_name, target_pct, at))
    }

    /// Writes each tier's current share and value (every snapshot), in one transaction.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn write_tier_values(
        &self,
        updates: &[TierValueUpdate],
        at: Timestamp,
    ) -> Result<(), StoreError> {
        dispatch!(self, write_tier_values(updates, at))
    }

    /// Appends a snapshot.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn insert_portfolio_snapshot(
        &self,
        snapshot: &PortfolioSnapshot,
    ) -> Result<(), StoreError> {
        dispatch!(self, insert_portfolio_snapshot(snapshot))
    }

    /// Snapshots at or after `since`, oldest first.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure; [`StoreError::Corrupt`] for a bad row.
    pub fn portfolio_snapshots(
        &self,
        since: Timestamp,
    ) -> Result<Vec<PortfolioSnapshot>, StoreError> {
        dispatch!(self, portfolio_snapshots(since))
    }

    /// Inserts or replaces the holding of its symbol.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn upsert_index_holding(&self, holding: &IndexHoldingRecord) -> Result<(), StoreError> {
        dispatch!(self, upsert_index_holding(holding))
    }

    /// Every index holding row (active or not), by symbol.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure; [`StoreError::Corrupt`] for a bad row.
    pub fn index_holdings(&self) -> Result<Vec<IndexHoldingRecord>, StoreError> {
        dispatch!(self, index_holdings())
    }

    /// Records a redistribution.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn insert_redistribution(&self, record: &RedistributionRecord) -> Result<(), StoreError> {
        dispatch!(self, insert_redistribution(record))
    }

    /// Every redistribution, oldest first.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure; [`StoreError::Corrupt`] for a bad row.
    pub fn redistributions(&self) -> Result<Vec<RedistributionRecord>, StoreError> {
        dispatch!(self, redistributions())
    }

    /// Records a detected regime.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn record_regime(&self, record: &RegimeRecord) -> Result<(), StoreError> {
        dispatch!(self, record_regime(record))
    }

    /// The production validator's inputs; the drawdown window is the 60 days before `now`.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure; [`StoreError::Corrupt`] for a bad value.
    pub fn validation_counts(&self, now: Timestamp) -> Result<ValidationCounts, StoreError> {
        dispatch!(self, validation_counts(now))
    }
}
