//! Memory of similar situations (spec §3.7, item C1): a multi-dimensional similarity of a
//! query situation to past decisions with known outcomes, pattern statistics, and the context
//! text given to the LLM.
//!
//! Differs from the old system: the context header states the pool's real F&G band (±25), not
//! ±10; the "trend" dimension is the regime detected at the decision.

use std::fmt::Write as _;

use hybrid_core::{Regime, Timestamp};
use hybrid_store::{LearningRow, OutcomeWindow};

use crate::outcomes::pct_f64;

/// F&G assumed when a situation does not know it.
const NEUTRAL_FEAR_GREED: f64 = 50.0;
/// The F&G band of the candidate pool, ± points.
pub const POOL_FEAR_GREED_BAND: f64 = 25.0;

/// A market situation.
#[derive(Debug, Clone, PartialEq)]
pub struct Situation {
    /// Fear & Greed 0–100, if known.
    pub fear_greed: Option<f64>,
    /// The regime, if known.
    pub trend: Option<Regime>,
    /// The symbol, if known.
    pub symbol: Option<String>,
    /// When, if known.
    pub time: Option<Timestamp>,
}

/// A past decision that may be similar.
#[derive(Debug, Clone, PartialEq)]
pub struct Memory {
    /// Its situation.
    pub situation: Situation,
    /// BUY, SELL, …
    pub action: String,
    /// Side-adjusted 24 h outcome, percent.
    pub outcome_24h: Option<f64>,
    /// Side-adjusted 7 d outcome, percent.
    pub outcome_7d: Option<f64>,
    /// Judged good.
    pub good: Option<bool>,
}

impl Memory {
    /// Memories from stored decisions that have a 24 h outcome, newest first, at most `limit`.
    #[must_use]
    pub fn from_rows(rows: &[LearningRow], limit: usize) -> Vec<Self> {
        rows.iter()
            .rev()
            .filter(|r| r.decision.outcome(OutcomeWindow::H24).is_some())
            .take(limit)
            .map(|r| Self {
                situation: Situation {
                    fear_greed: None,
                    trend: Some(r.decision.regime),
                    symbol: Some(r.decision.symbol.as_str().to_owned()),
                    time: Some(r.decision.at),
                },
                action: r.decision.action.clone(),
                outcome_24h: r.decision.outcome(OutcomeWindow::H24).map(pct_f64),
                outcome_7d: r.decision.outcome(OutcomeWindow::D7).map(pct_f64),
                good: r.decision.was_good_decision,
            })
            .collect()
    }
}

/// The similarity of `candidate` to `query` at `now`, in [0, 1] (weights 0.30 F&G, 0.25 trend,
/// 0.20 symbol, 0.15 recency with a 30-day half-life, 0.10 outcome known).
#[must_use]
pub fn similarity(query: &Situation, candidate: &Memory, now: Timestamp) -> f64 {
    let q_fg = query.fear_greed.unwrap_or(NEUTRAL_FEAR_GREED);
    let c_fg = candidate.situation.fear_greed.unwrap_or(NEUTRAL_FEAR_GREED);
    let fg = 0.30 * (-(q_fg - c_fg).powi(2) / (2.0 * 15.0 * 15.0)).exp();
    let trend = match (query.trend, candidate.situation.trend) {
        (Some(a), Some(b)) if a == b => 0.25,
        (Some(_), Some(_)) => 0.0,
        _ => 0.125,
    };
    let symbol = match (&query.symbol, &candidate.situation.symbol) {
        (Some(a), Some(b)) if a == b => 0.20,
        (Some(a), Some(b)) if a.get(..3).is_some() && a.get(..3) == b.get(..3) => 0.10,
        (Some(_), Some(_)) => 0.0,
        _ => 0.06,
    };
    #[expect(clippy::cast_precision_loss, reason = "milliseconds of a few years")]
    let recency = candidate.situation.time.map_or(0.0, |t| {
        let age_days = now.millis_since(t).max(0) as f64 / Timestamp::DAY_MS as f64;
        0.15 * (-0.693 * age_days / 30.0).exp()
    });
    let outcome = if candidate.outcome_24h.is_some() {
        0.10
    } else if candidate.outcome_7d.is_some() {
        0.05
    } else {
        0.0
    };
    fg + trend + symbol + recency + outcome
}

/// The `limit` most similar memories, best first (stable for equal scores).
#[must_use]
pub fn similar_situations<'a>(
    query: &Situation,
    memories: &'a [Memory],
    now: Timestamp,
    limit: usize,
) -> Vec<(&'a Memory, f64)> {
    let mut scored: Vec<(&Memory, f64)> = memories
        .iter()
        .map(|m| (m, similarity(query, m, now)))
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
    scored.truncate(limit);
    scored
}

/// Statistics of the memories matching some conditions.
#[derive(Debug, Clone, PartialEq)]
pub struct PatternStats {
    /// Matches.
    pub count: u64,
    /// Share judged good, percent.
    pub success_pct: f64,
    /// Mean 24 h outcome.
    pub avg_24h: f64,
    /// Mean 7 d outcome over those that have one.
    pub avg_7d: Option<f64>,
    /// Standard deviation of the 24 h outcome.
    pub stddev_24h: f64,
}

/// Statistics of `memories` filtered by `keep`; `None` when nothing matches.
#[must_use]
pub fn pattern_stats(memories: &[Memory], keep: impl Fn(&Memory) -> bool) -> Option<PatternStats> {
    let matched: Vec<&Memory> = memories.iter().filter(|m| keep(m)).collect();
    if matched.is_empty() {
        return None;
    }
    #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    let n = matched.len() as f64;
    let good = matched.iter().filter(|m| m.good == Some(true)).count();
    let outcomes: Vec<f64> = matched.iter().filter_map(|m| m.outcome_24h).collect();
    #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    let k = outcomes.len().max(1) as f64;
    let avg_24h = outcomes.iter().sum::<f64>() / k;
    let stddev_24h = (outcomes.iter().map(|o| (o - avg_24h).powi(2)).sum::<f64>() / k).sqrt();
    let sevens: Vec<f64> = matched.iter().filter_map(|m| m.outcome_7d).collect();
    #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    let avg_7d = (!sevens.is_empty()).then(|| sevens.iter().sum::<f64>() / sevens.len() as f64);
    #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    let success_pct = good as f64 / n * 100.0;
    Some(PatternStats {
        count: matched.len() as u64,
        success_pct,
        avg_24h,
        avg_7d,
        stddev_24h,
    })
}

/// The memory section of an LLM prompt: up to 5 similar decisions, their success share, and
/// the proposed action.
#[must_use]
pub fn memory_context(
    query: &Situation,
    memories: &[Memory],
    now: Timestamp,
    proposed_action: &str,
) -> String {
    let similar = similar_situations(query, memories, now, 5);
    if similar.is_empty() {
        return format!(
            "HISTORY: no similar situations in memory yet.\nProposed action: {proposed_action}\n"
        );
    }
    let mut out = format!(
        "HISTORY: similar past situations (F&G within ±{POOL_FEAR_GREED_BAND}, same regime and coin weigh most)\n"
    );
    for (m, score) in &similar {
        let _ = writeln!(
            out,
            "- {} {} {} regime {} F&G {} → {} ({score:.2} similar)",
            match m.good {
                Some(true) => "OK",
                Some(false) => "FAIL",
                None => "?",
            },
            m.action,
            m.situation.symbol.as_deref().unwrap_or("?"),
            m.situation.trend.map_or("?", Regime::as_str),
            m.situation
                .fear_greed
                .map_or_else(|| "n/a".to_owned(), |f| format!("{f:.0}")),
            m.outcome_24h
                .map_or_else(|| "n/a".to_owned(), |o| format!("{o:+.2}%")),
        );
    }
    let good = similar.iter().filter(|(m, _)| m.good == Some(true)).count();
    let _ = writeln!(
        out,
        "Success of similar decisions: {good}/{}\nProposed action: {proposed_action}",
        similar.len()
    );
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn memory(fg: Option<f64>, symbol: &str, good: bool, outcome: f64) -> Memory {
        Memory {
            situation: Situation {
                fear_greed: fg,
                trend: Some(Regime::Bull),
                symbol: Some(symbol.to_owned()),
                time: Some(Timestamp::from_millis(0)),
            },
            action: "BUY".to_owned(),
            outcome_24h: Some(outcome),
            outcome_7d: None,
            good: Some(good),
        }
    }

    #[test]
    fn similarity_of_a_near_twin_is_0_99735() {
        let query = Situation {
            fear_greed: Some(30.0),
            trend: Some(Regime::Bull),
            symbol: Some("BTCUSDT".to_owned()),
            time: None,
        };
        let twin = memory(Some(28.0), "BTCUSDT", true, 1.0);
        let s = similarity(&query, &twin, Timestamp::from_millis(0));
        assert!((s - 0.99735).abs() < 1e-5, "{s}");
        let cousin = memory(Some(28.0), "BTCBUSD", true, 1.0);
        assert!(
            (similarity(&query, &cousin, Timestamp::from_millis(0)) - (s - 0.10)).abs() < 1e-12
        );
        let old = Timestamp::from_millis(30 * Timestamp::DAY_MS);
        let aged = similarity(&query, &twin, old);
        assert!((s - aged - 0.075).abs() < 1e-3, "half-life 30 days: {aged}");
    }

    /// Scenario 62 of spec §11.
    #[test]
    fn scenario_11_62_pattern_stats() {
        let memories: Vec<Memory> = (0..20)
            .map(|i| {
                memory(
                    Some(20.0),
                    "BTCUSDT",
                    i < 14,
                    if i < 14 { 2.0 } else { -1.0 },
                )
            })
            .collect();
        let stats = pattern_stats(&memories, |m| m.action == "BUY").unwrap();
        assert_eq!(stats.count, 20);
        assert!((stats.success_pct - 70.0).abs() < 1e-9);
        assert!(pattern_stats(&memories, |m| m.action == "SELL").is_none());
    }

    /// Scenario 63 of spec §11.
    #[test]
    fn scenario_11_63_similar_situations_and_context() {
        let query = Situation {
            fear_greed: Some(25.0),
            trend: Some(Regime::Bull),
            symbol: Some("ETHUSDT".to_owned()),
            time: None,
        };
        let memories = vec![memory(Some(25.0), "ETHUSDT", true, 3.0)];
        let found = similar_situations(&query, &memories, Timestamp::from_millis(0), 10);
        assert_eq!(found.len(), 1);
        let text = memory_context(&query, &memories, Timestamp::from_millis(0), "BUY");
        assert!(text.starts_with("HISTORY:"), "{text}");
        assert!(text.contains("ETHUSDT"), "{text}");
        let empty = memory_context(&query, &[], Timestamp::from_millis(0), "BUY");
        assert!(empty.contains("no similar situations"), "{empty}");
    }
}
