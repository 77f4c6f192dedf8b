//! Cohorts: several strategy variants, each a `HybridOrchestrator` on its own capital and coins,
//! sharing one exchange client, one market-data cache and one request-weight budget.
//!
//! - [`CohortDefinition`], [`default_cohorts`], [`from_cohort`]: the six cohorts of spec §6.2
//!   and their orchestrator configuration (spec §6.3), stored in the `cohorts` table
//!   ([`load_or_seed`], [`seed`]).
//! - [`select_coins`]: each cohort's coins — its categories, its minimum confidence, unique
//!   coins across cohorts, the allocator's pre-feasibility filter — and the reason a cohort
//!   got none.
//! - [`CohortLedger`], [`CohortExchange`], [`reconcile`]: one account, many owners. Each cohort
//!   sees only its own cash and coins and cannot spend another's; the ledgers add up to the
//!   account.
//! - [`CohortOrchestrator`]: the cohorts driven together; one cohort's failure is its own.
//! - [`run_cohort_backtest`]: every cohort over the same candles in one replay, with
//!   per-cohort and total equity curves and the [`rank`]ing with bootstrap confidence
//!   intervals against the baseline.

mod backtest;
mod definition;
mod exchange;
mod ledger;
mod orchestrator;
mod ranking;
mod selection;
mod trader;

pub use crate::{
    backtest::{
        run_cohort_backtest, CohortBacktestConfig, CohortBacktestReport, CohortCurvePoint,
        CohortRun,
    },
    definition::{
        default_cohorts, from_cohort, load_or_seed, market_category, orchestrator_config, seed,
        CohortConfig, CohortDefinition, RiskTolerance, BASELINE,
    },
    exchange::{CohortExchange, CohortVenue},
    ledger::{reconcile, CapitalRefusal, CohortLedger, Discrepancy, LedgerLine, LedgerRefusal},
    orchestrator::{CohortFailure, CohortOrchestrator, CohortSlot},
    ranking::{
        bootstrap_mean_ci, daily_returns, performance, rank, ranking_from_store,
        ranking_of_cohorts, CohortPerformance, ConfidenceInterval, Ranking, RankingEntry, Verdict,
    },
    selection::{plan_for, select_coins, CohortSelection, MAX_SYMBOLS_PER_COHORT},
    trader::{
        scan_candidates, CohortParts, CohortTrader, CohortTraderConfig, ConfidenceBasis,
        IdleCohort, StoreOpener,
    },
};
/// A cohort's coin categories (`CohortConfig::allowed_categories`), re-exported so that
/// configuration can name them without depending on hybrid-modes.
pub use hybrid_modes::CoinCategory;

/// Why a cohort operation failed.
#[derive(Debug, thiserror::Error)]
pub enum CohortError {
    /// A cohort definition or its stored form is invalid; the message names the cohort and field.
    #[error("{0}")]
    Config(String),
    /// The database failed.
    #[error("store: {0}")]
    Store(#[from] hybrid_store::StoreError),
    /// A cohort's capital cannot be changed as asked (not positive, or more than its free cash).
    #[error("capital: {0}")]
    Capital(#[from] crate::ledger::CapitalRefusal),
    /// The replay could not run.
    #[error("backtest: {0}")]
    Backtest(#[from] hybrid_engine::BacktestError),
}
