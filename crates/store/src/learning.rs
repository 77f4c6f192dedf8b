//! The learning loop's records: decisions with their nine-signal breakdown and outcomes,
//! playbook versions, LLM conversations, Bayesian weights, coin discoveries, and the market
//! data the signals are built from (technical indicators, economic events, outside signals).
//!
//! A decision is anything the system chose, including what it chose *not* to do (a declined
//! mode switch, a grid not built), so the quality of staying put is measured too. Outcomes are
//! percentages of the price move, side-adjusted by the decision's stance (+1 expects a rise,
//! −1 a fall): positive means the decision was right. `NULL` means "not known yet" or "source
//! unavailable", never zero.

use diesel::prelude::*;
use hybrid_core::{Price, Quantity, Regime, Symbol, Timestamp};
use rust_decimal::Decimal;

use crate::{
    codec::{col, money_text, timestamp},
    error::StoreError,
    schema_learning::{
        ai_conversations, coin_discoveries, learning_decisions, signal_components,
        technical_indicators,
    },
    store::{dispatch, Store},
};

/// What kind of decision a row records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DecisionKind {
    /// A fill (BUY or SELL).
    Trade,
    /// A mode switch that happened.
    ModeSwitch,
    /// A mode switch the regime suggested but the mode manager declined (hysteresis, cooldown).
    DeclinedSwitch,
    /// A grid that was wanted but not built (e.g. refused by the risk guard).
    GridNotBuilt,
}

impl DecisionKind {
    /// The stored text.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Trade => "TRADE",
            Self::ModeSwitch => "MODE_SWITCH",
            Self::DeclinedSwitch => "DECLINED_SWITCH",
            Self::GridNotBuilt => "GRID_NOT_BUILT",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [
            Self::Trade,
            Self::ModeSwitch,
            Self::DeclinedSwitch,
            Self::GridNotBuilt,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

/// An outcome window of spec §3.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OutcomeWindow {
    /// One hour after the decision.
    H1,
    /// Four hours.
    H4,
    /// 24 hours; this one also judges the decision and its signals.
    H24,
    /// Seven days.
    D7,
}

impl OutcomeWindow {
    /// All four, shortest first.
    pub const ALL: [Self; 4] = [Self::H1, Self::H4, Self::H24, Self::D7];

    /// The window's length in hours.
    #[must_use]
    pub const fn hours(self) -> i64 {
        match self {
            Self::H1 => 1,
            Self::H4 => 4,
            Self::H24 => 24,
            Self::D7 => 168,
        }
    }

    /// The window's length in milliseconds.
    #[must_use]
    pub const fn millis(self) -> i64 {
        self.hours() * 3_600_000
    }

    /// Its name, e.g. `"24h"`.
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            Self::H1 => "1h",
            Self::H4 => "4h",
            Self::H24 => "24h",
            Self::D7 => "7d",
        }
    }
}

/// The nine signals of spec §3.2, each in [−1, +1] (+ = bullish); `None` = source unavailable.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SignalValues {
    /// Fear & Greed, contrarian.
    pub fear_greed: Option<f64>,
    /// RSI(14).
    pub rsi: Option<f64>,
    /// MACD(12, 26, 9).
    pub macd: Option<f64>,
    /// Price against SMA 20/50/200.
    pub trend: Option<f64>,
    /// Volume against its average.
    pub volume: Option<f64>,
    /// Whale flows.
    pub whale: Option<f64>,
    /// Social and news sentiment.
    pub sentiment: Option<f64>,
    /// Macro: ETF flows, Fed tone, high-impact events.
    pub macro_signal: Option<f64>,
    /// The LLM's direction × confidence.
    pub ai: Option<f64>,
}

/// A decision's signal breakdown as stored (spec §3.2 composite).
#[derive(Debug, Clone, PartialEq)]
pub struct SignalRecord {
    /// The nine values.
    pub values: SignalValues,
    /// The LLM's confidence in [0, 1], if it was asked.
    pub ai_confidence: Option<f64>,
    /// The LLM's risk level (LOW/MEDIUM/HIGH), if it was asked.
    pub ai_risk_level: Option<String>,
    /// Agreement with the playbook in [0, 1], if known.
    pub playbook_alignment: Option<f64>,
    /// The weights applied, as a JSON map signal → weight.
    pub weights: serde_json::Value,
    /// Σ weight × signal over the eight non-AI signals that are present.
    pub math_composite: f64,
    /// weight(ai) × ai.
    pub ai_composite: f64,
    /// `math_composite + ai_composite`.
    pub final_score: f64,
    /// `math_ai_divergence` or `internal_divergence`, if flagged.
    pub divergence_type: Option<String>,
    /// The divergence's strength.
    pub divergence_strength: Option<f64>,
}

/// A decision to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDecision {
    /// A key unique to the decision's origin (e.g. `backtest/main/BTCUSDT/fill/17`), so
    /// recording the same decision twice is a no-op.
    pub source_key: String,
    /// When it was made.
    pub at: Timestamp,
    /// The cohort that made it.
    pub cohort: String,
    /// The symbol.
    pub symbol: Symbol,
    /// Its kind.
    pub kind: DecisionKind,
    /// BUY / SELL for trades; `GRID→CASH` style for mode decisions.
    pub action: String,
    /// +1 if the decision bets on a rise, −1 on a fall.
    pub stance: i8,
    /// Whether it was carried out (false for declined switches and grids not built).
    pub taken: bool,
    /// The price at the decision.
    pub price: Price,
    /// Traded quantity, for trades.
    pub quantity: Option<Quantity>,
    /// The regime detected at the time (not a default).
    pub regime: Regime,
    /// The detector's probability, if known.
    pub regime_probability: Option<Decimal>,
    /// Why.
    pub reason: String,
    /// The nine-signal breakdown.
    pub signals: SignalRecord,
}

/// A stored decision with what is known of its outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionRecord {
    /// Row id.
    pub id: i64,
    /// Origin key.
    pub source_key: String,
    /// When.
    pub at: Timestamp,
    /// Cohort.
    pub cohort: String,
    /// Symbol.
    pub symbol: Symbol,
    /// Kind.
    pub kind: DecisionKind,
    /// Action text.
    pub action: String,
    /// +1 or −1.
    pub stance: i8,
    /// Carried out or not.
    pub taken: bool,
    /// Price at the decision.
    pub price: Price,
    /// Traded quantity.
    pub quantity: Option<Quantity>,
    /// Regime detected.
    pub regime: Regime,
    /// Regime probability.
    pub regime_probability: Option<Decimal>,
    /// Reason.
    pub reason: String,
    /// Side-adjusted outcomes in percent, `[1h, 4h, 24h, 7d]`.
    pub outcomes: [Option<Decimal>; 4],
    /// The raw (un-adjusted) 24 h price move in percent.
    pub raw_move_24h: Option<Decimal>,
    /// Whether it was a good decision, once judged.
    pub was_good_decision: Option<bool>,
    /// What judged it: `outcome_24h` or `pair_pnl`.
    pub judged_by: Option<String>,
    /// The closed pair's net P&L (quote), for entries judged by it.
    pub pair_net_pnl: Option<Decimal>,
}

impl DecisionRecord {
    /// The outcome in `window`.
    #[must_use]
    pub fn outcome(&self, window: OutcomeWindow) -> Option<Decimal> {
        self.outcomes[window as usize]
    }
}

/// A decision with its signal row and the signal row's evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct LearningRow {
    /// The decision.
    pub decision: DecisionRecord,
    /// Its signals (absent only for rows written by another tool).
    pub signals: Option<SignalRecord>,
    /// Whether the final score called the 24 h move (None = neutral or not yet evaluated).
    pub was_correct: Option<bool>,
    /// Per-signal correctness, a JSON map signal → true/false/null; `None` = not evaluated yet.
    pub components_correct: Option<serde_json::Value>,
}

/// One LLM exchange to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConversation {
    /// When.
    pub at: Timestamp,
    /// The call site, e.g. `trading_signal`, `portfolio_optimizer`, `coin_discovery`.
    pub purpose: String,
    /// The model asked.
    pub model: String,
    /// A digest of (purpose, model, prompt): the replay looks answers up by it.
    pub request_key: String,
    /// The full prompt (JSON of the messages).
    pub prompt: String,
    /// The raw answer content, if one came.
    pub response: Option<String>,
    /// The transport error, if the call failed.
    pub error: Option<String>,
    /// `accepted`, `refused` (answer invalid) or `failed` (no answer).
    pub verdict: String,
    /// Why it was refused or failed.
    pub reason: Option<String>,
    /// Tokens reported by the API.
    pub tokens_used: Option<i64>,
    /// Round-trip time in milliseconds.
    pub latency_ms: i64,
}

/// A recorded LLM exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationRecord {
    /// Row id.
    pub id: i64,
    /// What was recorded.
    pub conversation: NewConversation,
}

/// A playbook version.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaybookVersion {
    /// Version number, from 1.
    pub version: i64,
    /// When generated.
    pub generated_at: Timestamp,
    /// The markdown document.
    pub content: String,
    /// Decisions with a 24 h outcome it was built from.
    pub trade_count: i64,
    /// Share of good decisions in percent.
    pub success_rate: Option<f64>,
    /// What changed, one item per line.
    pub changes_summary: String,
    /// The analysis figures as JSON.
    pub metrics: serde_json::Value,
}

/// A set of Bayesian signal weights for one scope.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalWeightsRecord {
    /// When computed.
    pub at: Timestamp,
    /// `global`, `regime:BULL`, `cohort:NAME`.
    pub scope: String,
    /// Signal → weight (JSON map).
    pub weights: serde_json::Value,
    /// Signal → posterior α (JSON map).
    pub alphas: serde_json::Value,
    /// `min(1, n/100)`.
    pub confidence: f64,
    /// Samples used.
    pub sample_size: i64,
}

/// A coin-discovery decision.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDiscovery {
    /// The coin.
    pub symbol: Symbol,
    /// When the LLM was asked.
    pub discovered_at: Timestamp,
    /// Its verdict.
    pub ai_approved: bool,
    /// Category (validated enum text).
    pub ai_category: Option<String>,
    /// Tier 1–3.
    pub ai_tier: Option<i64>,
    /// Risk low/medium/high.
    pub ai_risk: Option<String>,
    /// Its reason.
    pub ai_reason: String,
    /// 24 h quote volume at discovery.
    pub volume_24h: Option<Decimal>,
}

/// A stored discovery with its evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscoveryRecord {
    /// Row id.
    pub id: i64,
    /// The decision.
    pub discovery: NewDiscovery,
    /// Added to the watchlist.
    pub was_added: bool,
    /// Later deactivated.
    pub was_deactivated: bool,
    /// Why deactivated.
    pub deactivated_reason: Option<String>,
    /// Trades in the 7 days after.
    pub trades_after_7d: Option<i64>,
    /// Win rate in percent over those trades.
    pub win_rate_after_7d: Option<f64>,
    /// Mean return in percent over those trades.
    pub avg_return_after_7d: Option<f64>,
    /// The verdict, `None` until judged.
    pub was_good_discovery: Option<bool>,
}

/// Indicator values of one symbol at one run (spec §3.13); `None` while an indicator warms up.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorSnapshot {
    /// Run time.
    pub at: Timestamp,
    /// Symbol.
    pub symbol: Symbol,
    /// Last close.
    pub price: Price,
    /// `[sma20, sma50, sma200, ema12, ema26, rsi14, macd line, macd signal, macd histogram,
    /// bollinger upper, middle, lower, atr14]`.
    pub values: [Option<f64>; 13],
    /// UP / DOWN / SIDEWAYS.
    pub trend: String,
    /// BULLISH / BEARISH / NEUTRAL.
    pub momentum: String,
    /// HIGH / NORMAL / LOW.
    pub volatility: String,
}

/// An economic calendar event (spec §8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EconomicEvent {
    /// When it happens.
    pub event_date: Timestamp,
    /// Title.
    pub name: String,
    /// Country code.
    pub country: String,
    /// LOW / MEDIUM / HIGH.
    pub impact: String,
    /// FOMC / CPI / NFP / GDP / ECB / CRYPTO / OTHER.
    pub category: String,
    /// Previous value as published.
    pub previous_value: Option<String>,
    /// Forecast.
    pub forecast_value: Option<String>,
    /// Actual, once published.
    pub actual_value: Option<String>,
}

/// A derived signal from an outside source (funding rate, social sentiment).
#[derive(Debug, Clone, PartialEq)]
pub struct MarketSignal {
    /// When observed.
    pub at: Timestamp,
    /// `funding_rate`, `social_sentiment`, …
    pub source: String,
    /// Symbol.
    pub symbol: Symbol,
    /// The signal in [−1, 1]; `None` when the source was unavailable.
    pub value: Option<f64>,
    /// A label such as BULLISH / BEARISH / NEUTRAL / UNAVAILABLE.
    pub label: String,
    /// Inputs as JSON.
    pub detail: serde_json::Value,
}

/// An accepted AI portfolio recommendation (spec §1.8).
#[derive(Debug, Clone, PartialEq)]
pub struct PortfolioRecommendation {
    /// When.
    pub at: Timestamp,
    /// Tier → percent, as JSON.
    pub recommended: serde_json::Value,
    /// Current targets, as JSON.
    pub current: serde_json::Value,
    /// The LLM's reasoning.
    pub reasoning: String,
    /// Confidence in [0, 1].
    pub confidence: f64,
    /// Regime at the time.
    pub regime: Option<Regime>,
    /// Applied automatically.
    pub was_applied: bool,
}

impl Store {
    /// Records a decision and its signal row in one transaction; a decision whose
    /// `source_key` is already stored is left as it is. Returns the row id and whether it was
    /// inserted now.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn record_decision(
        &self,
        decision: &NewDecision,
        created_at: Timestamp,
    ) -> Result<(i64, bool), StoreError> {
        let row = NewDecisionRow::new(decision, created_at);
        let signals = NewSignalRow::new(&decision.signals);
        dispatch!(self, record_decision(&row, &signals))
    }

    /// Decisions made at or before `now − window` whose `window` outcome is still unknown,
    /// oldest first (no look-back limit: a late or missed run catches up).
    ///
    /// # Errors
    /// [`StoreError::Query`]; [`StoreError::Corrupt`] for an unreadable row.
    pub fn decisions_missing_outcome(
        &self,
        window: OutcomeWindow,
        now: Timestamp,
    ) -> Result<Vec<DecisionRecord>, StoreError> {
        let cutoff = now.as_millis() - window.millis();
        let rows = dispatch!(self, decisions_missing_outcome(window, cutoff))?;
        rows.into_iter().map(DecisionRow::into_record).collect()
    }

    /// Stores the side-adjusted outcome of `window`. For the 24 h window also the raw move and,
    /// if the decision is not judged yet, `was_good_decision = outcome > 0`. Only writes a
    /// NULL column, so running twice changes nothing.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn set_outcome(
        &self,
        id: i64,
        window: OutcomeWindow,
        outcome_pct: Decimal,
        raw_move_pct: Decimal,
    ) -> Result<bool, StoreError> {
        let outcome = money_text(outcome_pct);
        let raw = money_text(raw_move_pct);
        let good = outcome_pct > Decimal::ZERO;
        dispatch!(self, set_outcome(id, window, &outcome, &raw, good))
    }

    /// Judges an entry by its closed pair's net P&L (spec §3.5), overwriting the 24 h
    /// approximation.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn judge_by_pair(&self, id: i64, net_pnl: Decimal) -> Result<(), StoreError> {
        let text = money_text(net_pnl);
        dispatch!(self, judge_by_pair(id, &text, net_pnl > Decimal::ZERO))
    }

    /// Every decision with its signal row, oldest first.
    ///
    /// # Errors
    /// [`StoreError::Query`]; [`StoreError::Corrupt`] for an unreadable row.
    pub fn learning_rows(&self) -> Result<Vec<LearningRow>, StoreError> {
        let rows = dispatch!(self, learning_rows())?;
        rows.into_iter()
            .map(|(decision, signals)| {
                let decision = decision.into_record()?;
                let (signals, was_correct, components) = match signals {
                    Some(s) => {
                        let (record, correct, components) = s.into_record()?;
                        (Some(record), correct, components)
                    }
                    None => (None, None, None),
                };
                Ok(LearningRow {
                    decision,
                    signals,
                    was_correct,
                    components_correct: components,
                })
            })
            .collect()
    }

    /// Stores a signal row's evaluation (spec §3.4): the final score's verdict and the
    /// per-signal map. Only rows not yet evaluated are written.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn set_signal_correctness(
        &self,
        decision_id: i64,
        was_correct: Option<bool>,
        components: &serde_json::Value,
    ) -> Result<bool, StoreError> {
        let text = components.to_string();
        dispatch!(
            self,
            set_signal_correctness(decision_id, was_correct, &text)
        )
    }

    /// Stores a playbook version.
    ///
    /// # Errors
    /// [`StoreError::Query`], e.g. when the version exists.
    pub fn insert_playbook_version(&self, version: &PlaybookVersion) -> Result<(), StoreError> {
        let metrics = version.metrics.to_string();
        dispatch!(self, insert_playbook_version(version, &metrics))
    }

    /// The newest playbook version, if any.
    ///
    /// # Errors
    /// [`StoreError::Query`]; [`StoreError::Corrupt`] for unreadable metrics.
    pub fn latest_playbook(&self) -> Result<Option<PlaybookVersion>, StoreError> {
        dispatch!(self, latest_playbook())?
            .map(
                |(version, generated_at, content, trade_count, success_rate, changes, metrics)| {
                    Ok(PlaybookVersion {
                        version,
                        generated_at: timestamp(generated_at),
                        content,
                        trade_count,
                        success_rate,
                        changes_summary: changes,
                        metrics: col("playbook_versions", "metrics").json(&metrics)?,
                    })
                },
            )
            .transpose()
    }

    /// Records an LLM exchange and returns its id.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn record_conversation(&self, conversation: &NewConversation) -> Result<i64, StoreError> {
        dispatch!(self, record_conversation(conversation))
    }

    /// The first recorded exchange with `request_key` that got an answer (accepted or
    /// refused), for replay.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn recorded_conversation(
        &self,
        request_key: &str,
    ) -> Result<Option<ConversationRecord>, StoreError> {
        dispatch!(self, recorded_conversation(request_key))
    }

    /// Every recorded exchange, oldest first.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn conversations(&self) -> Result<Vec<ConversationRecord>, StoreError> {
        dispatch!(self, conversations())
    }

    /// Stores weights for a scope and deactivates that scope's previous rows.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn save_signal_weights(&self, weights: &SignalWeightsRecord) -> Result<(), StoreError> {
        let w = weights.weights.to_string();
        let a = weights.alphas.to_string();
        dispatch!(self, save_signal_weights(weights, &w, &a))
    }

    /// The active weights of `scope`, if any.
    ///
    /// # Errors
    /// [`StoreError::Query`]; [`StoreError::Corrupt`] for unreadable JSON.
    pub fn active_signal_weights(
        &self,
        scope: &str,
    ) -> Result<Option<SignalWeightsRecord>, StoreError> {
        let c = |column| col("signal_weights", column);
        dispatch!(self, active_signal_weights(scope))?
            .map(|(at, weights, alphas, confidence, sample_size)| {
                Ok(SignalWeightsRecord {
                    at: timestamp(at),
                    scope: scope.to_owned(),
                    weights: c("weights").json(&weights)?,
                    alphas: c("alphas").json(&alphas)?,
                    confidence,
                    sample_size,
                })
            })
            .transpose()
    }

    /// Logs a discovery decision and returns its id.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn insert_discovery(&self, discovery: &NewDiscovery) -> Result<i64, StoreError> {
        dispatch!(self, insert_discovery(&DiscoveryRow::new(discovery)))
    }

    /// The newest `limit` discoveries, newest first.
    ///
    /// # Errors
    /// [`StoreError::Query`]; [`StoreError::Corrupt`] for an unreadable row.
    pub fn discoveries(&self, limit: u32) -> Result<Vec<DiscoveryRecord>, StoreError> {
        dispatch!(self, discoveries(i64::from(limit)))?
            .into_iter()
            .map(DiscoveryRow::into_record)
            .collect()
    }

    /// Marks a discovery as added to the watchlist.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn mark_discovery_added(&self, id: i64) -> Result<(), StoreError> {
        dispatch!(self, mark_discovery_added(id))
    }

    /// Stores a discovery's 7-day evaluation.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn evaluate_discovery(
        &self,
        id: i64,
        trades: i64,
        win_rate: Option<f64>,
        avg_return: Option<f64>,
        good: bool,
    ) -> Result<(), StoreError> {
        dispatch!(
            self,
            evaluate_discovery(id, trades, win_rate, avg_return, good)
        )
    }

    /// Marks a discovery deactivated (a stale tier-3 coin) with its reason.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn deactivate_discovery(
        &self,
        id: i64,
        at: Timestamp,
        reason: &str,
    ) -> Result<(), StoreError> {
        dispatch!(self, deactivate_discovery(id, at.as_millis(), reason))
    }

    /// Stores an indicator snapshot; a duplicate (same time and symbol) is ignored. Returns
    /// whether a row was written.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn insert_indicators(&self, snapshot: &IndicatorSnapshot) -> Result<bool, StoreError> {
        dispatch!(self, insert_indicators(&IndicatorRow::new(snapshot)))
    }

    /// The newest indicator snapshot of `symbol`.
    ///
    /// # Errors
    /// [`StoreError::Query`]; [`StoreError::Corrupt`] for an unreadable row.
    pub fn latest_indicators(
        &self,
        symbol: &Symbol,
    ) -> Result<Option<IndicatorSnapshot>, StoreError> {
        dispatch!(self, latest_indicators(symbol.as_str()))?
            .map(IndicatorRow::into_record)
            .transpose()
    }

    /// Inserts or updates an economic event; an existing actual value is kept unless the new
    /// event has one.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn upsert_economic_event(&self, event: &EconomicEvent) -> Result<(), StoreError> {
        dispatch!(self, upsert_economic_event(event))
    }

    /// Economic events with `from ≤ date < to`, by date.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn economic_events(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<EconomicEvent>, StoreError> {
        dispatch!(self, economic_events(from.as_millis(), to.as_millis()))
    }

    /// Stores an outside signal; a duplicate (same time, source, symbol) is ignored.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn insert_market_signal(&self, signal: &MarketSignal) -> Result<bool, StoreError> {
        let detail = signal.detail.to_string();
        dispatch!(self, insert_market_signal(signal, &detail))
    }

    /// The newest signal of `source` for `symbol` at or before `at`.
    ///
    /// # Errors
    /// [`StoreError::Query`]; [`StoreError::Corrupt`] for an unreadable row.
    pub fn latest_market_signal(
        &self,
        source: &str,
        symbol: &Symbol,
        at: Timestamp,
    ) -> Result<Option<MarketSignal>, StoreError> {
        dispatch!(
            self,
            latest_market_signal(source, symbol.as_str(), at.as_millis())
        )?
        .map(|(at, value, label, detail)| {
            Ok(MarketSignal {
                at: timestamp(at),
                source: source.to_owned(),
                symbol: symbol.clone(),
                value,
                label,
                detail: col("market_signals", "detail").json(&detail)?,
            })
        })
        .transpose()
    }

    /// How many portfolio recommendations are stored.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn portfolio_recommendation_count(&self) -> Result<i64, StoreError> {
        dispatch!(self, portfolio_recommendation_count())
    }

    /// Stores an accepted portfolio recommendation and returns how many are stored now.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn insert_portfolio_recommendation(
        &self,
        recommendation: &PortfolioRecommendation,
    ) -> Result<i64, StoreError> {
        let recommended = recommendation.recommended.to_string();
        let current = recommendation.current.to_string();
        let regime = recommendation.regime.map(|r| r.as_str().to_owned());
        dispatch!(
            self,
            insert_portfolio_recommendation(recommendation, &recommended, &current, regime)
        )
    }
}

/// A `learning_decisions` row.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = learning_decisions)]
pub(crate) struct DecisionRow {
    id: i64,
    source_key: String,
    at: i64,
    cohort: String,
    symbol: String,
    kind: String,
    action: String,
    stance: i64,
    taken: bool,
    price: String,
    quantity: Option<String>,
    regime: String,
    regime_probability: Option<String>,
    reason: String,
    outcome_1h: Option<String>,
    outcome_4h: Option<String>,
    outcome_24h: Option<String>,
    outcome_7d: Option<String>,
    raw_move_24h: Option<String>,
    was_good_decision: Option<bool>,
    judged_by: Option<String>,
    pair_net_pnl: Option<String>,
}

impl DecisionRow {
    fn into_record(self) -> Result<DecisionRecord, StoreError> {
        let c = |column| col("learning_decisions", column);
        let dec = |column, text: Option<String>| -> Result<Option<Decimal>, StoreError> {
            text.map(|t| c(column).decimal(&t)).transpose()
        };
        let kind = DecisionKind::parse(&self.kind)
            .ok_or_else(|| c("kind").corrupt(&self.kind, "unknown decision kind"))?;
        let stance = match self.stance {
            1 => 1,
            -1 => -1,
            other => return Err(c("stance").corrupt(other, "expected +1 or -1")),
        };
        Ok(DecisionRecord {
            id: self.id,
            source_key: self.source_key,
            at: timestamp(self.at),
            cohort: self.cohort,
            symbol: c("symbol").parse(&self.symbol)?,
            kind,
            action: self.action,
            stance,
            taken: self.taken,
            price: c("price").price(&self.price)?,
            quantity: self
                .quantity
                .map(|q| c("quantity").quantity(&q))
                .transpose()?,
            regime: c("regime").parse(&self.regime)?,
            regime_probability: dec("regime_probability", self.regime_probability)?,
            reason: self.reason,
            outcomes: [
                dec("outcome_1h", self.outcome_1h)?,
                dec("outcome_4h", self.outcome_4h)?,
                dec("outcome_24h", self.outcome_24h)?,
                dec("outcome_7d", self.outcome_7d)?,
            ],
            raw_move_24h: dec("raw_move_24h", self.raw_move_24h)?,
            was_good_decision: self.was_good_decision,
            judged_by: self.judged_by,
            pair_net_pnl: dec("pair_net_pnl", self.pair_net_pnl)?,
        })
    }
}

/// A new `learning_decisions` row.
#[derive(Debug, Insertable)]
#[diesel(table_name = learning_decisions)]
pub(crate) struct NewDecisionRow<'a> {
    source_key: &'a str,
    at: i64,
    cohort: &'a str,
    symbol: &'a str,
    kind: &'static str,
    action: &'a str,
    stance: i64,
    taken: bool,
    price: String,
    quantity: Option<String>,
    regime: &'static str,
    regime_probability: Option<String>,
    reason: &'a str,
    created_at: i64,
}

impl<'a> NewDecisionRow<'a> {
    fn new(d: &'a NewDecision, created_at: Timestamp) -> Self {
        Self {
            source_key: &d.source_key,
            at: d.at.as_millis(),
            cohort: &d.cohort,
            symbol: d.symbol.as_str(),
            kind: d.kind.as_str(),
            action: &d.action,
            stance: if d.stance < 0 { -1 } else { 1 },
            taken: d.taken,
            price: money_text(d.price.value()),
            quantity: d.quantity.map(|q| money_text(q.value())),
            regime: d.regime.as_str(),
            regime_probability: d.regime_probability.map(money_text),
            reason: &d.reason,
            created_at: created_at.as_millis(),
        }
    }

    /// The origin key.
    pub(crate) const fn source_key(&self) -> &str {
        self.source_key
    }
}

/// A `signal_components` row (read).
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = signal_components)]
pub(crate) struct SignalRow {
    fear_greed: Option<f64>,
    rsi: Option<f64>,
    macd: Option<f64>,
    trend: Option<f64>,
    volume: Option<f64>,
    whale: Option<f64>,
    sentiment: Option<f64>,
    macro_signal: Option<f64>,
    ai: Option<f64>,
    ai_confidence: Option<f64>,
    ai_risk_level: Option<String>,
    playbook_alignment: Option<f64>,
    weights: String,
    math_composite: f64,
    ai_composite: f64,
    final_score: f64,
    divergence_type: Option<String>,
    divergence_strength: Option<f64>,
    was_correct: Option<bool>,
    components_correct: Option<String>,
}

impl SignalRow {
    #[allow(clippy::type_complexity)]
    fn into_record(
        self,
    ) -> Result<(SignalRecord, Option<bool>, Option<serde_json::Value>), StoreError> {
        let c = |column| col("signal_components", column);
        let components = self
            .components_correct
            .map(|t| c("components_correct").json(&t))
            .transpose()?;
        Ok((
            SignalRecord {
                values: SignalValues {
                    fear_greed: self.fear_greed,
                    rsi: self.rsi,
                    macd: self.macd,
                    trend: self.trend,
                    volume: self.volume,
                    whale: self.whale,
                    sentiment: self.sentiment,
                    macro_signal: self.macro_signal,
                    ai: self.ai,
                },
                ai_confidence: self.ai_confidence,
                ai_risk_level: self.ai_risk_level,
                playbook_alignment: self.playbook_alignment,
                weights: c("weights").json(&self.weights)?,
                math_composite: self.math_composite,
                ai_composite: self.ai_composite,
                final_score: self.final_score,
                divergence_type: self.divergence_type,
                divergence_strength: self.divergence_strength,
            },
            self.was_correct,
            components,
        ))
    }
}

/// A new `signal_components` row; `decision_id` is filled in after the decision insert.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = signal_components)]
pub(crate) struct NewSignalRow {
    pub(crate) decision_id: i64,
    fear_greed: Option<f64>,
    rsi: Option<f64>,
    macd: Option<f64>,
    trend: Option<f64>,
    volume: Option<f64>,
    whale: Option<f64>,
    sentiment: Option<f64>,
    macro_signal: Option<f64>,
    ai: Option<f64>,
    ai_confidence: Option<f64>,
    ai_risk_level: Option<String>,
    playbook_alignment: Option<f64>,
    weights: String,
    math_composite: f64,
    ai_composite: f64,
    final_score: f64,
    divergence_type: Option<String>,
    divergence_strength: Option<f64>,
}

impl NewSignalRow {
    fn new(s: &SignalRecord) -> Self {
        let v = s.values;
        Self {
            decision_id: 0,
            fear_greed: v.fear_greed,
            rsi: v.rsi,
            macd: v.macd,
            trend: v.trend,
            volume: v.volume,
            whale: v.whale,
            sentiment: v.sentiment,
            macro_signal: v.macro_signal,
            ai: v.ai,
            ai_confidence: s.ai_confidence,
            ai_risk_level: s.ai_risk_level.clone(),
            playbook_alignment: s.playbook_alignment,
            weights: s.weights.to_string(),
            math_composite: s.math_composite,
            ai_composite: s.ai_composite,
            final_score: s.final_score,
            divergence_type: s.divergence_type.clone(),
            divergence_strength: s.divergence_strength,
        }
    }
}

/// A `coin_discoveries` row.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = coin_discoveries)]
pub(crate) struct DiscoveryRow {
    #[diesel(skip_insertion)]
    id: i64,
    symbol: String,
    discovered_at: i64,
    ai_approved: bool,
    ai_category: Option<String>,
    ai_tier: Option<i64>,
    ai_risk: Option<String>,
    ai_reason: String,
    volume_24h: Option<String>,
    was_added: bool,
    was_deactivated: bool,
    deactivated_reason: Option<String>,
    trades_after_7d: Option<i64>,
    win_rate_after_7d: Option<f64>,
    avg_return_after_7d: Option<f64>,
    was_good_discovery: Option<bool>,
}

impl DiscoveryRow {
    fn new(d: &NewDiscovery) -> Self {
        Self {
            id: 0,
            symbol: d.symbol.as_str().to_owned(),
            discovered_at: d.discovered_at.as_millis(),
            ai_approved: d.ai_approved,
            ai_category: d.ai_category.clone(),
            ai_tier: d.ai_tier,
            ai_risk: d.ai_risk.clone(),
            ai_reason: d.ai_reason.clone(),
            volume_24h: d.volume_24h.map(money_text),
            was_added: false,
            was_deactivated: false,
            deactivated_reason: None,
            trades_after_7d: None,
            win_rate_after_7d: None,
            avg_return_after_7d: None,
            was_good_discovery: None,
        }
    }

    fn into_record(self) -> Result<DiscoveryRecord, StoreError> {
        let c = |column| col("coin_discoveries", column);
        Ok(DiscoveryRecord {
            id: self.id,
            discovery: NewDiscovery {
                symbol: c("symbol").parse(&self.symbol)?,
                discovered_at: timestamp(self.discovered_at),
                ai_approved: self.ai_approved,
                ai_category: self.ai_category,
                ai_tier: self.ai_tier,
                ai_risk: self.ai_risk,
                ai_reason: self.ai_reason,
                volume_24h: self
                    .volume_24h
                    .map(|v| c("volume_24h").decimal(&v))
                    .transpose()?,
            },
            was_added: self.was_added,
            was_deactivated: self.was_deactivated,
            deactivated_reason: self.deactivated_reason,
            trades_after_7d: self.trades_after_7d,
            win_rate_after_7d: self.win_rate_after_7d,
            avg_return_after_7d: self.avg_return_after_7d,
            was_good_discovery: self.was_good_discovery,
        })
    }
}

/// A `technical_indicators` row.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = technical_indicators)]
pub(crate) struct IndicatorRow {
    timestamp: i64,
    symbol: String,
    price: String,
    sma_20: Option<f64>,
    sma_50: Option<f64>,
    sma_200: Option<f64>,
    ema_12: Option<f64>,
    ema_26: Option<f64>,
    rsi_14: Option<f64>,
    macd_line: Option<f64>,
    macd_signal: Option<f64>,
    macd_histogram: Option<f64>,
    bollinger_upper: Option<f64>,
    bollinger_middle: Option<f64>,
    bollinger_lower: Option<f64>,
    atr_14: Option<f64>,
    trend: String,
    momentum: String,
    volatility: String,
}

impl IndicatorRow {
    fn new(s: &IndicatorSnapshot) -> Self {
        let v = s.values;
        Self {
            timestamp: s.at.as_millis(),
            symbol: s.symbol.as_str().to_owned(),
            price: money_text(s.price.value()),
            sma_20: v[0],
            sma_50: v[1],
            sma_200: v[2],
            ema_12: v[3],
            ema_26: v[4],
            rsi_14: v[5],
            macd_line: v[6],
            macd_signal: v[7],
            macd_histogram: v[8],
            bollinger_upper: v[9],
            bollinger_middle: v[10],
            bollinger_lower: v[11],
            atr_14: v[12],
            trend: s.trend.clone(),
            momentum: s.momentum.clone(),
            volatility: s.volatility.clone(),
        }
    }

    fn into_record(self) -> Result<IndicatorSnapshot, StoreError> {
        let c = |column| col("technical_indicators", column);
        Ok(IndicatorSnapshot {
            at: timestamp(self.timestamp),
            symbol: c("symbol").parse(&self.symbol)?,
            price: c("price").price(&self.price)?,
            values: [
                self.sma_20,
                self.sma_50,
                self.sma_200,
                self.ema_12,
                self.ema_26,
                self.rsi_14,
                self.macd_line,
                self.macd_signal,
                self.macd_histogram,
                self.bollinger_upper,
                self.bollinger_middle,
                self.bollinger_lower,
                self.atr_14,
            ],
            trend: self.trend,
            momentum: self.momentum,
            volatility: self.volatility,
        })
    }
}

/// The text of a conversation's fields, shared by the backends' row mapping.
pub(crate) type ConversationTuple = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    Option<i64>,
    i64,
);

/// A conversation from its selected columns.
pub(crate) fn conversation_from_tuple(t: ConversationTuple) -> ConversationRecord {
    let (id, at, purpose, model, request_key, prompt, response, error, verdict, reason, tokens, ms) =
        t;
    ConversationRecord {
        id,
        conversation: NewConversation {
            at: timestamp(at),
            purpose,
            model,
            request_key,
            prompt,
            response,
            error,
            verdict,
            reason,
            tokens_used: tokens,
            latency_ms: ms,
        },
    }
}

/// The columns of a conversation tuple.
pub(crate) type ConversationColumns = (
    ai_conversations::id,
    ai_conversations::at,
    ai_conversations::purpose,
    ai_conversations::model,
    ai_conversations::request_key,
    ai_conversations::prompt,
    ai_conversations::response,
    ai_conversations::error,
    ai_conversations::verdict,
    ai_conversations::reason,
    ai_conversations::tokens_used,
    ai_conversations::latency_ms,
);

/// The selection of a conversation tuple.
pub(crate) const CONVERSATION_COLUMNS: ConversationColumns = (
    ai_conversations::id,
    ai_conversations::at,
    ai_conversations::purpose,
    ai_conversations::model,
    ai_conversations::request_key,
    ai_conversations::prompt,
    ai_conversations::response,
    ai_conversations::error,
    ai_conversations::verdict,
    ai_conversations::reason,
    ai_conversations::tokens_used,
    ai_conversations::latency_ms,
);
