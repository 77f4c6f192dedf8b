//! The learning loop: signals stored per decision, outcomes at 1 h / 4 h / 24 h / 7 d, decision
//! quality, the playbook, and the LLM advisor behind strict output validation.
//!
//! - [`compose`] and [`market_inputs`]: the nine-signal composite of spec §3.2 from
//!   `hybrid_market`'s indicators; a source that is unavailable is recorded as missing.
//! - [`update_outcomes`]: the outcome windows (§3.3), priced at `decision + window` from candle
//!   history and caught up whatever the scheduler's timing; then signal correctness (§3.4).
//!   [`judge_entries_by_pairs`]: decision quality of entries by their pair's P&L (§3.5).
//! - [`accuracy_report`]: per-signal accuracy overall and per regime, with sample sizes.
//! - [`update_playbook`]: the versioned playbook (§3.6).
//! - [`similar_situations`]: memory of similar past decisions (C1 similarity, §3.7).
//! - [`update_weights`]: Bayesian signal weights per scope (§3.9).
//! - [`run_optimizer`]: the monthly AI portfolio optimizer behind guard rails (§1.8).
//! - [`run_discovery`]: coin discovery with validated LLM verdicts and a 7-day evaluation of
//!   past suggestions (§3.8).
//! - Data writers: [`write_indicators`] (F2), [`write_events`] with [`CalendarClient`] (F3),
//!   [`write_funding_signal`] with [`FundingClient`] (D5), [`social_composite`] (C4).
//! - [`record_backtest`]: the learning pass over a backtest's journal (fills, mode switches,
//!   declined switches), composed by the binary since this crate may not depend on the engine.
//!
//! The crate depends only on `hybrid-core`, `hybrid-market` and `hybrid-store`.

mod accuracy;
mod discovery;
mod error;
mod llm;
mod memory;
mod optimizer;
mod outcomes;
mod pass;
mod playbook;
mod signals;
mod sources;
mod weights;

pub use crate::{
    accuracy::{
        accuracy_report, AccuracyReport, AccuracyTable, EvaluatedRow, SignalAccuracy, Tally,
        MIN_SAMPLES,
    },
    discovery::{
        candidates, evaluate_discoveries, format_history, parse_verdicts, run_discovery, Candidate,
        DiscoveryError, DiscoverySummary, DiscoveryVerdict, ListedSymbol, CATEGORIES,
        EVALUATION_DAYS, MAX_ADDED, MAX_CANDIDATES, MIN_VOLUME_USD,
    },
    error::LearningError,
    llm::{
        advisor::{
            record_exchange, trading_signal_request, LlmAdvisor, LlmHealth, RecordingAdvisor,
            ReplayAdvisor, Verdict, UNHEALTHY_AFTER,
        },
        client::{ChatAnswer, ChatMessage, ChatRequest, LlmClient, LlmError, LlmSettings},
        combine::{combine_decision, CombinedDecision},
        validate::{
            extract_object, unit_interval, validate_trading_signal, Action, Direction, Refusal,
            TradingSignal,
        },
    },
    memory::{
        memory_context, pattern_stats, similar_situations, similarity, Memory, PatternStats,
        Situation, POOL_FEAR_GREED_BAND,
    },
    optimizer::{
        guard_rails, max_drawdown_pct, optimizer_request, run_optimizer, should_auto_apply,
        Allocation, OptimizerContext, OptimizerOutcome, Recommendation, AUTO_APPLY_CONFIDENCE,
        AUTO_APPLY_MIN_STORED, MAX_SHIFT_PP, TIERS, TIER_BOUNDS,
    },
    outcomes::{
        evaluate_signals, good_by_outcome, judge_entries_by_pairs, raw_move_pct, side_adjusted,
        signal_correct, update_outcomes, CandleHistory, OutcomeRun, PriceHistory, NEUTRAL_BAND,
    },
    pass::{
        record_backtest, switch_stance, AdvisorContext, BacktestJournal, NoAdvisor, PassSummary,
        RegimeTimeline, SignalAdvisor, SwitchEvent, TradeEvent,
    },
    playbook::{
        analyse, prompt_extract, reliability_label, render, signal_accuracy_section,
        update_playbook, win_rate_pct, JudgedDecision, Pattern, PlaybookAnalysis, PlaybookUpdate,
        MIN_DECISIONS, MIN_RULE_DECISIONS, PROMPT_SECTIONS, REGIME_FILTERS,
    },
    signals::{
        compose, fear_greed_signal, macd_signal, macro_signal, market_inputs, rsi_signal,
        sentiment_signal, signal_values, trend_signal, values_from, volume_signal, whale_signal,
        AiInput, MacdInput, MacroInput, SignalInputs, SignalName, SignalWeights, TrendInput,
        VolumeInput,
    },
    sources::{
        event_category, event_impact, funding_signal, indicator_snapshot, recurring_events,
        social_composite, trade_today, write_events, write_funding_signal, write_indicators,
        CalendarClient, FundingClient, SocialInputs, INDICATOR_CANDLES,
    },
    weights::{
        active_weights, combine, normalise, performance, posterior_alphas, ranking,
        samples_from_rows, uniform_weights, update_weights, SignalPerformance, MAX_WEIGHT,
        MIN_UPDATE_SAMPLES, MIN_WEIGHT, PRIOR_ALPHA,
    },
};
