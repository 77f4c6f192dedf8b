//! Outcome windows (spec §3.3), signal correctness (§3.4) and decision quality (§3.5).
//!
//! [`update_outcomes`] is what the scheduler calls, with the current time, as often or as
//! rarely as it likes: it selects *every* decision older than each window whose outcome is
//! still unknown and prices it at `decision time + window` from candle history.
//!
//! Differs from the old system: the old jobs looked only at trades aged between W and W + 1
//! hours and priced them at the *current* price, so a 4 h job running every 4 h, or any late
//! run, left most decisions without outcomes for ever, and the price used was not the one at
//! the window's end. The old 24 h job also compared the already side-inverted SELL outcome with
//! `< 0`, judging a sell before a rally as good; here `was_good_decision = outcome_24h > 0` for
//! every stance, since the outcome is already side-adjusted.

use std::collections::BTreeMap;

use hybrid_core::{Candle, Price, Symbol, Timestamp};
use hybrid_store::{DecisionKind, OutcomeWindow, Store, StoreError};
use rust_decimal::{prelude::ToPrimitive, Decimal};

use crate::signals::SignalName;

/// Scores with `|score| ≤` this are neutral: not evaluated (spec §3.4).
pub const NEUTRAL_BAND: f64 = 0.1;

/// Where outcome prices come from.
pub trait PriceHistory {
    /// The price of `symbol` at `at`, if known (e.g. the open of the candle starting at `at`).
    fn price_at(&self, symbol: &Symbol, at: Timestamp) -> Option<Price>;
}

/// Candle history per symbol, the price at `t` being the open of the candle containing `t`
/// (the close of the one ending at `t`), or `None` outside the data.
#[derive(Debug, Clone, Default)]
pub struct CandleHistory {
    candles: BTreeMap<Symbol, Vec<Candle>>,
    interval_ms: i64,
}

impl CandleHistory {
    /// History of candles of `interval_ms` length (sorted by open time per symbol).
    #[must_use]
    pub fn new(candles: BTreeMap<Symbol, Vec<Candle>>, interval_ms: i64) -> Self {
        Self {
            candles,
            interval_ms,
        }
    }

    /// The candles of `symbol`.
    #[must_use]
    pub fn candles(&self, symbol: &Symbol) -> &[Candle] {
        self.candles.get(symbol).map_or(&[], Vec::as_slice)
    }

    /// The symbols held.
    pub fn symbols(&self) -> impl Iterator<Item = &Symbol> {
        self.candles.keys()
    }

    /// The candle length in milliseconds.
    #[must_use]
    pub const fn interval_ms(&self) -> i64 {
        self.interval_ms
    }

    /// Index of the last candle opening at or before `at`.
    #[must_use]
    pub fn index_at(&self, symbol: &Symbol, at: Timestamp) -> Option<usize> {
        let candles = self.candles(symbol);
        let n = candles.partition_point(|c| c.open_time() <= at);
        n.checked_sub(1)
    }
}

impl PriceHistory for CandleHistory {
    fn price_at(&self, symbol: &Symbol, at: Timestamp) -> Option<Price> {
        let candles = self.candles(symbol);
        let i = self.index_at(symbol, at)?;
        let candle = candles[i];
        if at.millis_since(candle.open_time()) >= self.interval_ms {
            return None; // a gap or beyond the data
        }
        Some(candle.open())
    }
}

/// How many outcomes a run wrote, per window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutcomeRun {
    /// Outcomes written, by window.
    pub written: BTreeMap<&'static str, u64>,
    /// Decisions whose window has passed but whose price is unknown (retried next run).
    pub unpriced: u64,
    /// Signal rows evaluated (§3.4).
    pub signals_evaluated: u64,
}

/// The raw price move in percent from `from` to `to`.
#[must_use]
pub fn raw_move_pct(from: Price, to: Price) -> Decimal {
    (to.value() - from.value()) / from.value() * Decimal::ONE_HUNDRED
}

/// The side-adjusted outcome: the raw move for a stance of +1 (a buy, a switch towards
/// holding), its negation for −1 (a sell, a switch towards cash). Positive = right.
#[must_use]
pub fn side_adjusted(raw_move: Decimal, stance: i8) -> Decimal {
    if stance < 0 {
        -raw_move
    } else {
        raw_move
    }
}

/// Whether a decision was good by its 24 h outcome: strictly positive side-adjusted move.
///
/// A SELL followed by a fall (a loss avoided) has a positive outcome and is good; a SELL
/// followed by a rise (money left on the table, i.e. the sale lost money against holding) is
/// bad.
#[must_use]
pub fn good_by_outcome(outcome_24h: Decimal) -> bool {
    outcome_24h > Decimal::ZERO
}

/// Spec §3.4 against the *raw* move: bullish score and price up, or bearish score and price
/// down, is correct; a neutral score is not evaluated (`None`); anything else (including a
/// flat price) is wrong.
#[must_use]
pub fn signal_correct(score: f64, raw_move: Decimal) -> Option<bool> {
    if score.abs() <= NEUTRAL_BAND {
        return None;
    }
    Some((score > 0.0 && raw_move > Decimal::ZERO) || (score < 0.0 && raw_move < Decimal::ZERO))
}

/// Writes every missing outcome that can be priced at `now`, then evaluates the signal rows
/// whose 24 h outcome is known. Idempotent: a second call with the same `now` writes nothing.
///
/// # Errors
/// [`StoreError`] from the database.
pub fn update_outcomes(
    store: &Store,
    prices: &dyn PriceHistory,
    now: Timestamp,
) -> Result<OutcomeRun, StoreError> {
    let mut run = OutcomeRun::default();
    for window in OutcomeWindow::ALL {
        let mut written = 0;
        for decision in store.decisions_missing_outcome(window, now)? {
            let end = decision.at.plus_millis(window.millis());
            let Some(price) = prices.price_at(&decision.symbol, end) else {
                run.unpriced += 1;
                continue;
            };
            let raw = raw_move_pct(decision.price, price).round_dp(6);
            let outcome = side_adjusted(raw, decision.stance);
            if store.set_outcome(decision.id, window, outcome, raw)? {
                written += 1;
            }
        }
        run.written.insert(window.label(), written);
    }
    run.signals_evaluated = evaluate_signals(store)?;
    Ok(run)
}

/// Spec §3.4 for every signal row not evaluated yet whose decision has a 24 h move: the final
/// score's verdict and each present component's verdict (missing components stay `null`).
///
/// # Errors
/// [`StoreError`] from the database.
pub fn evaluate_signals(store: &Store) -> Result<u64, StoreError> {
    let mut evaluated = 0;
    for row in store.learning_rows()? {
        let (Some(signals), Some(raw), None) = (
            &row.signals,
            row.decision.raw_move_24h,
            &row.components_correct,
        ) else {
            continue;
        };
        let components: serde_json::Map<String, serde_json::Value> = SignalName::ALL
            .iter()
            .map(|s| {
                let verdict = s
                    .value_in(&signals.values)
                    .and_then(|v| signal_correct(v, raw));
                (s.key().to_owned(), serde_json::json!(verdict))
            })
            .collect();
        let was_correct = signal_correct(signals.final_score, raw);
        if store.set_signal_correctness(row.decision.id, was_correct, &components.into())? {
            evaluated += 1;
        }
    }
    Ok(evaluated)
}

/// Spec §3.5 for entries: every BUY trade closed FIFO by later SELLs of the same symbol and
/// cohort is judged by its pair's net P&L (`(exit − entry) × qty − fees`, fee `fee_rate` per
/// side). Returns the number judged.
///
/// Differs from the old system: the exit is *not* judged by the pair's P&L. A sell that closes
/// a losing position but avoids a further fall was a good decision; it keeps the judgement of
/// its own 24 h outcome. Only the entry inherits the pair's result.
///
/// # Errors
/// [`StoreError`] from the database.
pub fn judge_entries_by_pairs(store: &Store, fee_rate: Decimal) -> Result<u64, StoreError> {
    struct Lot {
        id: i64,
        price: Decimal,
        remaining: Decimal,
        pnl: Decimal,
    }
    let mut open: BTreeMap<(String, Symbol), Vec<Lot>> = BTreeMap::new();
    let mut closed: Vec<(i64, Decimal)> = Vec::new();
    for row in store.learning_rows()? {
        let d = row.decision;
        let (DecisionKind::Trade, true, Some(qty)) = (d.kind, d.taken, d.quantity) else {
            continue;
        };
        let lots = open
            .entry((d.cohort.clone(), d.symbol.clone()))
            .or_default();
        if d.stance > 0 {
            let fee = d.price.value() * qty.value() * fee_rate;
            lots.push(Lot {
                id: d.id,
                price: d.price.value(),
                remaining: qty.value(),
                pnl: -fee,
            });
            continue;
        }
        let mut to_close = qty.value();
        while to_close > Decimal::ZERO && !lots.is_empty() {
            let lot = &mut lots[0];
            let q = lot.remaining.min(to_close);
            lot.pnl += (d.price.value() - lot.price) * q - d.price.value() * q * fee_rate;
            lot.remaining -= q;
            to_close -= q;
            if lot.remaining.is_zero() {
                let done = lots.remove(0);
                closed.push((done.id, done.pnl));
            }
        }
    }
    for (id, pnl) in &closed {
        store.judge_by_pair(*id, pnl.round_dp(8))?;
    }
    Ok(u64::try_from(closed.len()).unwrap_or(u64::MAX))
}

/// A percentage as `f64` for statistics.
pub(crate) fn pct_f64(value: Decimal) -> f64 {
    value.to_f64().unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn correctness_uses_the_raw_move_and_a_neutral_band() {
        assert_eq!(signal_correct(0.5, dec!(2)), Some(true));
        assert_eq!(signal_correct(-0.5, dec!(-2)), Some(true));
        assert_eq!(signal_correct(0.5, dec!(-2)), Some(false));
        assert_eq!(signal_correct(0.5, dec!(0)), Some(false));
        assert_eq!(signal_correct(0.1, dec!(5)), None);
        assert_eq!(signal_correct(-0.05, dec!(5)), None);
    }

    #[test]
    fn side_adjustment_inverts_sells() {
        assert_eq!(side_adjusted(dec!(10), 1), dec!(10));
        assert_eq!(side_adjusted(dec!(10), -1), dec!(-10));
        let p = |v| Price::new(v).unwrap();
        assert_eq!(raw_move_pct(p(dec!(50000)), p(dec!(55000))), dec!(10));
    }
}
