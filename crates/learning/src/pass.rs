//! The learning pass over a backtest: records the orchestrator's journal as decisions with their
//! signals and detected regime, adds the switches the regime suggested but the manager declined,
//! computes the outcomes, judges entries by their pairs and regenerates the playbook.
//!
//! This crate may not depend on the engine (architecture rule), so the journal comes in as
//! plain [`TradeEvent`]s and [`SwitchEvent`]s; the binary converts the engine's fills and mode
//! switches and calls [`record_backtest`].

use std::collections::BTreeMap;

use hybrid_core::{Candle, Price, Quantity, Regime, Side, Symbol, Timestamp, TradingMode};
use hybrid_market::{aggregate_daily, RegimeDetector};
use hybrid_store::{DecisionKind, NewDecision, Store};
use rust_decimal::Decimal;

use crate::{
    accuracy::{accuracy_report, AccuracyReport, EvaluatedRow},
    error::LearningError,
    outcomes::{judge_entries_by_pairs, update_outcomes, CandleHistory, OutcomeRun},
    playbook::{update_playbook, PlaybookUpdate},
    signals::{compose, market_inputs, AiInput, SignalWeights},
    weights::update_weights,
};

/// Candles fed to the indicators before a decision (enough for SMA 200 and MACD to warm up).
const INDICATOR_WINDOW: usize = 300;

/// A fill of the backtest.
#[derive(Debug, Clone, PartialEq)]
pub struct TradeEvent {
    /// When it executed.
    pub time: Timestamp,
    /// Symbol.
    pub symbol: Symbol,
    /// Side.
    pub side: Side,
    /// Execution price.
    pub price: Price,
    /// Quantity.
    pub quantity: Quantity,
    /// The venue's trade id (unique per symbol).
    pub trade_id: i64,
}

/// A mode switch of the backtest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwitchEvent {
    /// When.
    pub time: Timestamp,
    /// Symbol.
    pub symbol: Symbol,
    /// Mode before.
    pub from: TradingMode,
    /// Mode after.
    pub to: TradingMode,
    /// The manager's reason.
    pub reason: String,
}

/// What one cohort did during a backtest.
#[derive(Debug, Clone, PartialEq)]
pub struct BacktestJournal {
    /// A name for this run, part of every decision's key (same run → same keys).
    pub run: String,
    /// The cohort.
    pub cohort: String,
    /// Every symbol's starting mode.
    pub initial_mode: TradingMode,
    /// First traded time.
    pub start: Timestamp,
    /// End of the replay.
    pub end: Timestamp,
    /// Fills, oldest first.
    pub trades: Vec<TradeEvent>,
    /// Mode switches, oldest first.
    pub switches: Vec<SwitchEvent>,
}

/// What the market looked like at a decision, for the advisor.
#[derive(Debug, Clone, PartialEq)]
pub struct AdvisorContext {
    /// Symbol.
    pub symbol: Symbol,
    /// Decision time.
    pub time: Timestamp,
    /// Regime detected.
    pub regime: Regime,
    /// Last close.
    pub price: Price,
    /// RSI, if warmed up.
    pub rsi: Option<f64>,
    /// The math composite of the other signals.
    pub math_composite: f64,
}

/// Something that gives the AI signal of a decision; `None` = unavailable (recorded as missing).
pub trait SignalAdvisor {
    /// The AI view of `context`, or `None` when the advisor is off, down, or its answer was
    /// refused.
    fn advise(&mut self, context: &AdvisorContext) -> Option<AiInput>;
}

/// No advisor: the AI signal is missing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAdvisor;

impl SignalAdvisor for NoAdvisor {
    fn advise(&mut self, _context: &AdvisorContext) -> Option<AiInput> {
        None
    }
}

/// What the pass did.
#[derive(Debug, Clone, PartialEq)]
pub struct PassSummary {
    /// Decisions recorded now, by kind (`TRADE`, `MODE_SWITCH`, `DECLINED_SWITCH`).
    pub recorded: BTreeMap<&'static str, u64>,
    /// Decisions already stored (a re-run).
    pub already_stored: u64,
    /// Outcomes written.
    pub outcomes: OutcomeRun,
    /// Entries judged by their closed pair.
    pub judged_by_pairs: u64,
    /// Per-signal accuracy per regime.
    pub accuracy: AccuracyReport,
    /// The playbook update.
    pub playbook: PlaybookUpdate,
    /// Bayesian weights updated now, by scope (`global`, `regime:BULL`, …); scopes with fewer
    /// than [`crate::MIN_UPDATE_SAMPLES`] judged entries are left as they were.
    pub weights: BTreeMap<String, SignalWeights>,
}

/// Regime per UTC day per symbol, as `hybrid_market`'s detector sees it at the day's start.
#[derive(Debug, Clone, Default)]
pub struct RegimeTimeline {
    days: BTreeMap<Symbol, BTreeMap<i64, (Regime, Decimal)>>,
}

impl RegimeTimeline {
    /// Detects the regime at the start of every day in `[from, to]` from each symbol's candles.
    ///
    /// # Errors
    /// [`LearningError::Market`] when candles are out of order.
    pub fn detect(
        history: &CandleHistory,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Self, LearningError> {
        let mut days = BTreeMap::new();
        for symbol in history.symbols() {
            let daily = aggregate_daily(history.candles(symbol))?;
            let mut detector = RegimeDetector::default();
            let mut per_day = BTreeMap::new();
            let mut day = from.start_of_utc_day();
            while day <= to {
                if let Ok(report) = detector.detect(&daily, day) {
                    per_day.insert(day.as_millis(), (report.regime, report.probability));
                }
                day = day.plus_millis(Timestamp::DAY_MS);
            }
            days.insert(symbol.clone(), per_day);
        }
        Ok(Self { days })
    }

    /// The regime of `symbol` on the day of `at`: `TRANSITION` when the detector had too little
    /// history (never a guessed regime).
    #[must_use]
    pub fn at(&self, symbol: &Symbol, at: Timestamp) -> (Regime, Option<Decimal>) {
        self.days
            .get(symbol)
            .and_then(|d| d.get(&at.start_of_utc_day().as_millis()))
            .map_or((Regime::Transition, None), |(r, p)| (*r, Some(*p)))
    }
}

/// How bullish a mode is: HOLD +1, GRID 0, CASH −1.
const fn exposure(mode: TradingMode) -> i8 {
    match mode {
        TradingMode::Hold => 1,
        TradingMode::Grid => 0,
        TradingMode::Cash => -1,
    }
}

/// The stance of moving from one mode to another: +1 towards more exposure, −1 towards less.
#[must_use]
pub const fn switch_stance(from: TradingMode, to: TradingMode) -> i8 {
    if exposure(to) > exposure(from) {
        1
    } else {
        -1
    }
}

/// Records the journal, computes outcomes up to `journal.end`, judges entries and regenerates
/// the playbook. Running it twice on the same store records nothing new.
///
/// # Errors
/// [`LearningError`] from the store or the market statistics.
pub fn record_backtest(
    store: &Store,
    history: &CandleHistory,
    journal: &BacktestJournal,
    advisor: &mut dyn SignalAdvisor,
    weights: &SignalWeights,
    fee_rate: Decimal,
) -> Result<PassSummary, LearningError> {
    let regimes = RegimeTimeline::detect(history, journal.start, journal.end)?;
    let mut decisions = Vec::new();
    for t in &journal.trades {
        let (action, stance) = match t.side {
            Side::Buy => ("BUY", 1),
            Side::Sell => ("SELL", -1),
        };
        decisions.push(Draft {
            key: format!(
                "{}/{}/{}/fill/{}",
                journal.run, journal.cohort, t.symbol, t.trade_id
            ),
            time: t.time,
            symbol: t.symbol.clone(),
            kind: DecisionKind::Trade,
            action: action.to_owned(),
            stance,
            taken: true,
            price: t.price,
            quantity: Some(t.quantity),
            reason: format!("{action} fill"),
        });
    }
    for s in &journal.switches {
        let Some(price) = close_before(history, &s.symbol, s.time) else {
            continue;
        };
        decisions.push(Draft {
            key: format!(
                "{}/{}/{}/switch/{}",
                journal.run,
                journal.cohort,
                s.symbol,
                s.time.as_millis()
            ),
            time: s.time,
            symbol: s.symbol.clone(),
            kind: DecisionKind::ModeSwitch,
            action: format!("{}→{}", s.from, s.to),
            stance: switch_stance(s.from, s.to),
            taken: true,
            price,
            quantity: None,
            reason: s.reason.clone(),
        });
    }
    decisions.extend(declined_switches(history, journal, &regimes));
    decisions.sort_by(|a, b| a.time.cmp(&b.time).then(a.key.cmp(&b.key)));

    let mut recorded: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut already_stored = 0;
    for draft in decisions {
        let (regime, probability) = regimes.at(&draft.symbol, draft.time);
        let candles = closed_window(history, &draft.symbol, draft.time);
        let mut inputs = market_inputs(candles);
        let math_only = compose(&inputs, weights);
        let context = AdvisorContext {
            symbol: draft.symbol.clone(),
            time: draft.time,
            regime,
            price: draft.price,
            rsi: inputs.rsi,
            math_composite: math_only.math_composite,
        };
        inputs.ai = advisor.advise(&context);
        let signals = compose(&inputs, weights);
        let kind = draft.kind;
        let decision = NewDecision {
            source_key: draft.key,
            at: draft.time,
            cohort: journal.cohort.clone(),
            symbol: draft.symbol,
            kind,
            action: draft.action,
            stance: draft.stance,
            taken: draft.taken,
            price: draft.price,
            quantity: draft.quantity,
            regime,
            regime_probability: probability,
            reason: draft.reason,
            signals,
        };
        let (_, inserted) = store.record_decision(&decision, journal.end)?;
        if inserted {
            *recorded.entry(kind.as_str()).or_default() += 1;
        } else {
            already_stored += 1;
        }
    }
    let outcomes = update_outcomes(store, history, journal.end)?;
    let judged_by_pairs = judge_entries_by_pairs(store, fee_rate)?;
    let mut weights_updated = BTreeMap::new();
    if let Some(w) = update_weights(store, "global", journal.end, |_| true)? {
        weights_updated.insert("global".to_owned(), w);
    }
    for regime in [Regime::Bull, Regime::Bear, Regime::Sideways] {
        let scope = format!("regime:{regime}");
        if let Some(w) =
            update_weights(store, &scope, journal.end, |r| r.decision.regime == regime)?
        {
            weights_updated.insert(scope, w);
        }
    }
    let accuracy = accuracy_report(&EvaluatedRow::from_rows(&store.learning_rows()?));
    let parameters = format!(
        "cohort {}, initial mode {}, fee {}% per side",
        journal.cohort,
        journal.initial_mode,
        fee_rate * Decimal::ONE_HUNDRED
    );
    let playbook = update_playbook(store, journal.end, &parameters)?;
    Ok(PassSummary {
        recorded,
        already_stored,
        outcomes,
        judged_by_pairs,
        accuracy,
        playbook,
        weights: weights_updated,
    })
}

/// A decision before its signals are computed.
struct Draft {
    key: String,
    time: Timestamp,
    symbol: Symbol,
    kind: DecisionKind,
    action: String,
    stance: i8,
    taken: bool,
    price: Price,
    quantity: Option<Quantity>,
    reason: String,
}

/// The candles closed by `at` (no look-ahead), at most [`INDICATOR_WINDOW`] of them.
fn closed_window<'a>(history: &'a CandleHistory, symbol: &Symbol, at: Timestamp) -> &'a [Candle] {
    let candles = history.candles(symbol);
    let interval = history.interval_ms();
    let closed = candles.partition_point(|c| c.open_time().plus_millis(interval) <= at);
    &candles[closed.saturating_sub(INDICATOR_WINDOW)..closed]
}

/// The close of the last candle closed by `at`.
fn close_before(history: &CandleHistory, symbol: &Symbol, at: Timestamp) -> Option<Price> {
    closed_window(history, symbol, at).last().map(Candle::close)
}

/// Once per UTC day per symbol (at 00:00): when the detected regime prefers another mode than
/// the one the symbol is in and the manager does not switch within the hour, the decision to
/// stay is recorded. Its stance is the opposite of the declined switch's.
fn declined_switches(
    history: &CandleHistory,
    journal: &BacktestJournal,
    regimes: &RegimeTimeline,
) -> Vec<Draft> {
    let mut out = Vec::new();
    let mut by_symbol: BTreeMap<&Symbol, Vec<&SwitchEvent>> = BTreeMap::new();
    for s in &journal.switches {
        by_symbol.entry(&s.symbol).or_default().push(s);
    }
    for symbol in history.symbols() {
        let switches = by_symbol.get(symbol).cloned().unwrap_or_default();
        let mut day = journal
            .start
            .start_of_utc_day()
            .plus_millis(Timestamp::DAY_MS);
        while day < journal.end {
            let mode = switches
                .iter()
                .take_while(|s| s.time <= day)
                .last()
                .map_or(journal.initial_mode, |s| s.to);
            let (regime, _) = regimes.at(symbol, day);
            let switched_soon = switches
                .iter()
                .any(|s| s.time > day && s.time.millis_since(day) <= Timestamp::HOUR_MS);
            let preferred = regime.preferred_mode();
            if let (Some(preferred), false) = (preferred, switched_soon) {
                if preferred != mode {
                    if let Some(price) = close_before(history, symbol, day) {
                        out.push(Draft {
                            key: format!(
                                "{}/{}/{}/declined/{}",
                                journal.run,
                                journal.cohort,
                                symbol,
                                day.as_millis()
                            ),
                            time: day,
                            symbol: symbol.clone(),
                            kind: DecisionKind::DeclinedSwitch,
                            action: format!("stay {mode} (not {preferred})"),
                            stance: -switch_stance(mode, preferred),
                            taken: false,
                            price,
                            quantity: None,
                            reason: format!(
                                "{regime} suggests {preferred}; the mode manager kept {mode}"
                            ),
                        });
                    }
                }
            }
            day = day.plus_millis(Timestamp::DAY_MS);
        }
    }
    out
}
