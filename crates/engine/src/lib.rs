//! The Hybrid engine: the pure, deterministic parts the orchestrator calls, and the adapters
//! that join the exchange layer to the store.
//!
//! - [`allocate`] / [`allocate_with_policy`]: spec §7.3. Turns scanned coins into an
//!   [`AllocationPlan`]: score weights × risk multiplier, the per-coin, per-position,
//!   per-category and exposure caps of [`hybrid_modes::AllocationConstraints`], the half-Kelly
//!   factor of [`hybrid_risk::kelly_fraction`] and the correlation penalty. Every coin that
//!   gets nothing is listed with a [`SkipReason`]; amounts are exact USDT, rounded down to
//!   the cent, and never sum to more than the capital.
//! - [`needs_rebalance`], [`rebalance_orders`], [`rebalance_due`]: spec §5.6 and the
//!   rebalance half of §7.3, as quote-amount deltas per symbol. Nothing is traded here.
//! - [`performance_report`] and its parts: backtest and live metrics from an equity curve,
//!   closed trades and a mode timeline (spec §9, with the old backtester's bugs fixed).
//! - [`StorePaperState`]: the paper exchange's balances, orders and trades kept in the
//!   database, so a restarted paper run continues where it stopped.
//! - [`HybridOrchestrator`]: spec §5. Per-symbol HOLD / GRID / CASH driven by candles: fills,
//!   stops, regime evaluation and switches, every order through the risk guard and recorded
//!   in the store first; its state is saved and restored as one document.
//! - [`Driver`]: the one loop of every run (feed → market clock and its [`Timer`]s → venue →
//!   [`Trader`] → timers → [`Hooks`]), with its [`Checkpoint`] saved beside the trader's state.
//! - [`run_backtest`]: the driver over candle files on a SimClock and a SimExchange, trading
//!   one orchestrator, and its deterministic [`BacktestReport`]; [`equity_chart_png`] draws its
//!   equity curve.
//! - [`run_live`]: the driver as `main_hybrid run` uses it (a market feed, a venue, a trader,
//!   the [`LiveHooks`]: pause flag, heartbeat, status; a shutdown signal).
//!
//! - [`Schedule`] and [`TaskRunner`]: the scheduler of spec §6, its cadences on the caller's
//!   clock, and task locks (in-process, plus PostgreSQL advisory locks across processes) with
//!   every run recorded.
//!
//! The allocation, rebalance and metrics modules use no async runtime, HTTP client, database
//! or wall clock; time arrives as [`hybrid_core::Timestamp`] arguments.
//!
//! ```
//! use hybrid_core::{Notional, Price, Symbol};
//! use hybrid_engine::{allocate, AllocationCandidate};
//! use hybrid_market::{Category, RiskLevel, Tier};
//! use hybrid_modes::ConstraintPreset;
//! use rust_decimal::Decimal;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let btc = AllocationCandidate::scored(
//!     Symbol::new("BTCUSDT")?,
//!     Category::LargeCap,
//!     Decimal::new(8, 1), // score 0.8
//!     Decimal::new(7, 1), // confidence 0.7
//!     RiskLevel::Low,
//!     Price::new(Decimal::from(50_000))?,
//! );
//! let constraints = ConstraintPreset::Balanced.constraints();
//! let plan = allocate(&[btc], Notional::new(Decimal::from(1000)), &constraints, None);
//! // Capped at 10 % of 1000, then × (0.5 + 0.5 × half-Kelly 0.2429): 62.14 USDT.
//! assert_eq!(plan.allocations[0].amount, Notional::new(Decimal::new(6214, 2)));
//! assert_eq!(plan.cash_reserve, Notional::new(Decimal::new(93786, 2)));
//! # Ok(())
//! # }
//! ```

mod allocation;
mod backtest;
mod chart;
mod driver;
mod error;
mod live;
mod metrics;
mod orchestrator;
mod paper_state;
mod rebalance;
mod record;
mod scheduler;

pub use crate::{
    allocation::{
        allocate, allocate_with_policy, risk_multiplier, Allocation, AllocationBasis,
        AllocationCandidate, AllocationPlan, AllocationPolicy, BindingCap, Edge, SkipReason,
        CORRELATION_PENALTY_FACTOR,
    },
    backtest::{
        interval_ms, replay_filters, replay_filters_of, run_backtest, run_backtest_from, sim_venue,
        BacktestConfig, BacktestError, BacktestOutcome, BacktestReport,
    },
    chart::{backtest_chart, equity_chart_png},
    driver::{
        block_on, simulate, Chain, Checkpoint, Closes, Driver, DriverConfig, DriverError, Hooks,
        Persistence, ReplayWindow, RunSummary, Timer, Trader, RECONCILE_INTERVAL_MS,
    },
    error::EngineError,
    live::{paused_by_operator, run_live, LiveConfig, LiveHooks, StatusLine, CONTROL_DOCUMENT},
    metrics::{
        annualised_return_pct, buy_and_hold_return_pct, max_drawdown, mode_times,
        performance_report, periods_per_year, sharpe_ratio, sortino_ratio, total_return_pct,
        trade_stats, ClosedTrade, Drawdown, EquityPoint, MetricsInput, ModeTimes,
        PerformanceReport, TradeStats, YEAR_MS,
    },
    orchestrator::{
        EquitySnapshot, HybridOrchestrator, Journal, ModeSwitch, OrchestratorConfig,
        OrchestratorError, ReconcileReport,
    },
    paper_state::StorePaperState,
    rebalance::{
        needs_rebalance, rebalance_due, rebalance_orders, RebalanceOrder, RebalanceReason,
        DEFAULT_DRIFT_THRESHOLD_PCT, REBALANCE_INTERVAL_MS,
    },
    record::{Progress, Recorder, Sampler},
    scheduler::{Cadence, Schedule, TaskOutcome, TaskRunner, TaskSpec, TASKS},
};
