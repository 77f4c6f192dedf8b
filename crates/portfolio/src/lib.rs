//! The three-tier portfolio: cash reserve, index holdings and the trading tier (the cohorts),
//! profit redistribution between them, and the production-readiness gate.
//!
//! - [`TierTargets`], [`TierValues`], [`TierBreakdown`]: the tiers, their targets
//!   (10 / 65 / 25 %) and the split of the total value (spec §1.2–1.3).
//! - [`CashReserve`], [`cash_status`]: the cash tier and its under/over-funded thresholds
//!   (§1.4).
//! - [`index_composition`], [`index_rebalance_orders`], [`IndexTier`]: the index tier, its
//!   water-filled 30 % cap, quarterly rebalance and 15 % trailing stops (§1.5);
//!   [`CoinGeckoClient`] and [`StaticMarketCaps`] are its market-cap sources.
//! - [`TradingTier`], [`scale_cohorts`]: the trading tier and cohort scaling (§1.6);
//!   [`CohortTradingTier`] is the tier over the cohorts.
//! - [`needs_redistribution`], [`transfer_plan`]: weekly profit redistribution (§1.7).
//! - [`validate`]: the nine production criteria (§2.1); [`DeploymentPhase`],
//!   [`go_live_checklist`], [`phase_capital`], [`check_live_key`]: the phases (§2.2).
//! - [`PortfolioManager`]: the tiers together, moving money with real orders.
//! - [`run_portfolio_backtest`]: the portfolio over candle files, written into a database.

mod backtest;
mod cash;
mod cohort_tier;
mod coingecko;
mod error;
mod index;
mod keycheck;
mod manager;
mod phases;
mod redistribution;
#[cfg(test)]
mod test_support;
mod tiers;
mod trading;
mod validator;

pub use crate::{
    backtest::{
        run_portfolio_backtest, OrchestratorTier, PortfolioBacktestConfig, PortfolioBacktestReport,
        PortfolioTrader, TierPoint,
    },
    cash::{cash_status, CashReserve, CashStatus, CASH_OVERFUNDED_PP, CASH_UNDERFUNDED_PP},
    cohort_tier::CohortTradingTier,
    coingecko::{CoinGeckoClient, MarketCapSource, StaticMarketCaps},
    error::PortfolioError,
    index::{
        index_composition, index_rebalance_due, index_rebalance_orders, IndexAction, IndexHolding,
        IndexOrder, IndexTier, IndexWeight, MarketCap, INDEX_EXCLUDED_BASES, INDEX_MAX_WEIGHT_PCT,
        INDEX_MIN_POSITION_USD, INDEX_REBALANCE_INTERVAL_MS, INDEX_TOP_N, INDEX_TRAILING_STOP_PCT,
    },
    keycheck::check_live_api_key,
    manager::{
        index_cohort, load_targets, max_drawdown_pct, PortfolioJournal, PortfolioManager,
        INDEX_COHORT_NAME,
    },
    phases::{
        check_live_key, detect_phase, enforce_phase_limits, go_live_checklist, phase_capital,
        require_ready_for, CheckItem, Checklist, DeploymentPhase, GoLiveInputs, KeyPermissions,
        PhaseLimits,
    },
    redistribution::{
        needs_redistribution, transfer_plan, Transfer, DRIFT_THRESHOLD_PP, MIN_TRANSFER_USD,
        REDISTRIBUTION_INTERVAL_MS,
    },
    tiers::{pct_of, TierBreakdown, TierKind, TierShare, TierTarget, TierTargets, TierValues},
    trading::{scale_cohorts, CohortScaling, TradingTier},
    validator::{
        validate, validate_store, Criteria, CriterionResult, ValidationFacts, ValidationReport,
    },
};
