//! The nine-signal composite of spec §3.2: each signal in [−1, +1] (+ = bullish), weighted into
//! a math composite (eight signals), an AI composite and a final score, with divergence flags.
//!
//! Differs from the old system: an input whose source is unavailable gives a *missing* signal
//! (`None`, stored as NULL) instead of a default that looks like data. The old fills passed only
//! Fear & Greed and price, so MACD defaulted to −0.8 and trend to −0.1 on every trade
//! (`final = 0.15·fg − 0.095`); here a missing signal contributes nothing to the composite and
//! is never counted in its accuracy.

use std::{collections::BTreeMap, fmt};

use hybrid_core::Candle;
use hybrid_market::indicators::{Macd, Rsi, Sma};
use hybrid_store::{SignalRecord, SignalValues};
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

/// The nine signals, in the spec's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalName {
    /// Fear & Greed index, read contrarian.
    FearGreed,
    /// RSI(14).
    Rsi,
    /// MACD(12, 26, 9).
    Macd,
    /// Price against SMA 20/50/200.
    Trend,
    /// Volume against its average.
    Volume,
    /// Whale exchange flows.
    Whale,
    /// Social and news sentiment.
    Sentiment,
    /// ETF flows, Fed tone, high-impact events.
    Macro,
    /// The LLM's direction × confidence.
    Ai,
}

impl SignalName {
    /// All nine.
    pub const ALL: [Self; 9] = [
        Self::FearGreed,
        Self::Rsi,
        Self::Macd,
        Self::Trend,
        Self::Volume,
        Self::Whale,
        Self::Sentiment,
        Self::Macro,
        Self::Ai,
    ];

    /// The snake-case key used in JSON and reports.
    #[must_use]
    pub const fn key(self) -> &'static str {
        match self {
            Self::FearGreed => "fear_greed",
            Self::Rsi => "rsi",
            Self::Macd => "macd",
            Self::Trend => "trend",
            Self::Volume => "volume",
            Self::Whale => "whale",
            Self::Sentiment => "sentiment",
            Self::Macro => "macro",
            Self::Ai => "ai",
        }
    }

    /// The human name used in the playbook (e.g. "Fear & Greed").
    #[must_use]
    pub const fn title(self) -> &'static str {
        match self {
            Self::FearGreed => "Fear & Greed",
            Self::Rsi => "RSI",
            Self::Macd => "MACD",
            Self::Trend => "Trend",
            Self::Volume => "Volume",
            Self::Whale => "Whale",
            Self::Sentiment => "Sentiment",
            Self::Macro => "Macro",
            Self::Ai => "AI",
        }
    }

    /// The spec's default weight (the nine sum to 1).
    #[must_use]
    pub const fn default_weight(self) -> f64 {
        match self {
            Self::FearGreed | Self::Rsi | Self::Trend => 0.15,
            Self::Macd | Self::Sentiment => 0.10,
            Self::Volume | Self::Whale | Self::Macro => 0.05,
            Self::Ai => 0.20,
        }
    }

    /// This signal's value in a stored row.
    #[must_use]
    pub const fn value_in(self, values: &SignalValues) -> Option<f64> {
        match self {
            Self::FearGreed => values.fear_greed,
            Self::Rsi => values.rsi,
            Self::Macd => values.macd,
            Self::Trend => values.trend,
            Self::Volume => values.volume,
            Self::Whale => values.whale,
            Self::Sentiment => values.sentiment,
            Self::Macro => values.macro_signal,
            Self::Ai => values.ai,
        }
    }

    fn set_in(self, values: &mut SignalValues, value: Option<f64>) {
        let slot = match self {
            Self::FearGreed => &mut values.fear_greed,
            Self::Rsi => &mut values.rsi,
            Self::Macd => &mut values.macd,
            Self::Trend => &mut values.trend,
            Self::Volume => &mut values.volume,
            Self::Whale => &mut values.whale,
            Self::Sentiment => &mut values.sentiment,
            Self::Macro => &mut values.macro_signal,
            Self::Ai => &mut values.ai,
        };
        *slot = value;
    }

    /// Parses a key such as `"fear_greed"`.
    #[must_use]
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.key() == key)
    }
}

impl fmt::Display for SignalName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// Signal weights by name; a missing name takes its default.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SignalWeights(pub BTreeMap<SignalName, f64>);

impl SignalWeights {
    /// The weight of `signal`.
    #[must_use]
    pub fn get(&self, signal: SignalName) -> f64 {
        self.0
            .get(&signal)
            .copied()
            .unwrap_or_else(|| signal.default_weight())
    }

    /// All nine as a JSON map (for the signal row's `weights`).
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        SignalName::ALL
            .iter()
            .map(|s| (s.key().to_owned(), serde_json::json!(self.get(*s))))
            .collect::<serde_json::Map<_, _>>()
            .into()
    }
}

/// MACD inputs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MacdInput {
    /// MACD line.
    pub line: f64,
    /// Signal line.
    pub signal: f64,
    /// Histogram now.
    pub histogram: f64,
    /// Histogram one bar before, if known.
    pub previous_histogram: Option<f64>,
}

/// Trend inputs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrendInput {
    /// Last close.
    pub price: f64,
    /// SMA 20.
    pub sma20: f64,
    /// SMA 50.
    pub sma50: f64,
    /// SMA 200 if enough history.
    pub sma200: Option<f64>,
}

/// Volume inputs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VolumeInput {
    /// Volume of the last 24 h.
    pub volume: f64,
    /// Average 24 h volume.
    pub average: f64,
    /// Price change over 24 h in percent.
    pub change_24h_pct: f64,
}

/// Macro inputs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MacroInput {
    /// 7-day ETF net flow in USD.
    pub etf_flow_7d_usd: f64,
    /// Fed tone: +1 dovish, −1 hawkish, 0 neutral.
    pub fed_tone: i8,
    /// Whether a HIGH-impact event is near.
    pub high_impact_event: bool,
}

/// The LLM's structured view (already validated, see [`crate::validate_trading_signal`]).
#[derive(Debug, Clone, PartialEq)]
pub struct AiInput {
    /// BULLISH / BEARISH / NEUTRAL as +1 / −1 / 0.
    pub direction: i8,
    /// Confidence in [0, 1].
    pub confidence: f64,
    /// LOW / MEDIUM / HIGH.
    pub risk: String,
}

/// Everything the nine signals are computed from; `None` = the source is unavailable.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SignalInputs {
    /// Fear & Greed 0–100.
    pub fear_greed: Option<f64>,
    /// RSI 0–100.
    pub rsi: Option<f64>,
    /// MACD.
    pub macd: Option<MacdInput>,
    /// Trend.
    pub trend: Option<TrendInput>,
    /// Volume.
    pub volume: Option<VolumeInput>,
    /// Whale buys and sells in USD.
    pub whale: Option<(f64, f64)>,
    /// Social score 0–100 and optional news sentiment in [−1, 1].
    pub sentiment: Option<(f64, Option<f64>)>,
    /// Macro.
    pub macro_input: Option<MacroInput>,
    /// LLM.
    pub ai: Option<AiInput>,
    /// Agreement with the playbook in [0, 1].
    pub playbook_alignment: Option<f64>,
}

/// Fear & Greed, contrarian: ≤24 → +1, ≤44 → +0.5, ≤55 → 0, ≤74 → −0.5, else −1.
#[must_use]
pub fn fear_greed_signal(index: f64) -> f64 {
    match index {
        i if i <= 24.0 => 1.0,
        i if i <= 44.0 => 0.5,
        i if i <= 55.0 => 0.0,
        i if i <= 74.0 => -0.5,
        _ => -1.0,
    }
}

/// RSI: <20 +1, <30 +0.7, <40 +0.3, <60 0, <70 −0.3, <80 −0.7, else −1.
#[must_use]
pub fn rsi_signal(rsi: f64) -> f64 {
    match rsi {
        r if r < 20.0 => 1.0,
        r if r < 30.0 => 0.7,
        r if r < 40.0 => 0.3,
        r if r < 60.0 => 0.0,
        r if r < 70.0 => -0.3,
        r if r < 80.0 => -0.7,
        _ => -1.0,
    }
}

fn sign_score(condition: bool, score: f64) -> f64 {
    if condition {
        score
    } else {
        -score
    }
}

/// MACD: line vs signal ±0.3; histogram rising ±0.4 (or above zero ±0.2 without a previous
/// value); line above zero ±0.3; clamped.
#[must_use]
pub fn macd_signal(m: &MacdInput) -> f64 {
    let mut s = sign_score(m.line > m.signal, 0.3);
    s += match m.previous_histogram {
        Some(prev) => sign_score(m.histogram > prev, 0.4),
        None => sign_score(m.histogram > 0.0, 0.2),
    };
    s += sign_score(m.line > 0.0, 0.3);
    s.clamp(-1.0, 1.0)
}

/// Trend: price > SMA20 ±0.3; SMA20 > SMA50 ±0.4; SMA50 > SMA200 ±0.3 when known; clamped.
#[must_use]
pub fn trend_signal(t: &TrendInput) -> f64 {
    let mut s = sign_score(t.price > t.sma20, 0.3) + sign_score(t.sma20 > t.sma50, 0.4);
    if let Some(sma200) = t.sma200.filter(|v| *v != 0.0) {
        s += sign_score(t.sma50 > sma200, 0.3);
    }
    s.clamp(-1.0, 1.0)
}

/// Volume: ratio r = vol/avg; r > 1.5 confirms the day's direction by `min(1, r−1)`; r < 0.5
/// says nothing; otherwise change/10.
///
/// Differs from the old system: the last branch is clamped to [−1, 1] (it was not).
#[must_use]
pub fn volume_signal(v: &VolumeInput) -> f64 {
    if v.average == 0.0 {
        return 0.0;
    }
    let r = v.volume / v.average;
    if r > 1.5 {
        if v.change_24h_pct > 0.0 {
            (r - 1.0).min(1.0)
        } else {
            (-(r - 1.0)).max(-1.0)
        }
    } else if r < 0.5 {
        0.0
    } else {
        (v.change_24h_pct / 10.0).clamp(-1.0, 1.0)
    }
}

/// Whale: (buys − sells)/(buys + sells), 0 when both are 0.
#[must_use]
pub fn whale_signal(buys_usd: f64, sells_usd: f64) -> f64 {
    let total = buys_usd + sells_usd;
    if total == 0.0 {
        0.0
    } else {
        (buys_usd - sells_usd) / total
    }
}

/// Sentiment: s = (score − 50)/50, blended 0.6/0.4 with news when given.
#[must_use]
pub fn sentiment_signal(score: f64, news: Option<f64>) -> f64 {
    let s = (score - 50.0) / 50.0;
    news.map_or(s, |n| 0.6 * s + 0.4 * n)
}

/// Macro: ETF flow ±0.5 beyond $500 M, ±0.2 otherwise; Fed tone ±0.3; a HIGH-impact event
/// halves it; clamped.
#[must_use]
pub fn macro_signal(m: &MacroInput) -> f64 {
    let flow = m.etf_flow_7d_usd;
    let mut s = if flow > 5e8 {
        0.5
    } else if flow > 0.0 {
        0.2
    } else if flow < -5e8 {
        -0.5
    } else if flow < 0.0 {
        -0.2
    } else {
        0.0
    };
    s += 0.3 * f64::from(m.fed_tone.signum());
    if m.high_impact_event {
        s *= 0.5;
    }
    s.clamp(-1.0, 1.0)
}

/// The nine values from their inputs; unavailable inputs stay `None`.
#[must_use]
pub fn signal_values(inputs: &SignalInputs) -> SignalValues {
    SignalValues {
        fear_greed: inputs.fear_greed.map(fear_greed_signal),
        rsi: inputs.rsi.map(rsi_signal),
        macd: inputs.macd.as_ref().map(macd_signal),
        trend: inputs.trend.as_ref().map(trend_signal),
        volume: inputs.volume.as_ref().map(volume_signal),
        whale: inputs.whale.map(|(b, s)| whale_signal(b, s)),
        sentiment: inputs.sentiment.map(|(s, n)| sentiment_signal(s, n)),
        macro_signal: inputs.macro_input.as_ref().map(macro_signal),
        ai: inputs
            .ai
            .as_ref()
            .map(|a| f64::from(a.direction.signum()) * a.confidence.clamp(0.0, 1.0)),
    }
}

/// The composite of spec §3.2 over the signals that are present, with divergence flags.
#[must_use]
pub fn compose(inputs: &SignalInputs, weights: &SignalWeights) -> SignalRecord {
    let values = signal_values(inputs);
    let math: Vec<(SignalName, f64)> = SignalName::ALL
        .into_iter()
        .filter(|s| *s != SignalName::Ai)
        .filter_map(|s| s.value_in(&values).map(|v| (s, v)))
        .collect();
    let math_composite: f64 = math.iter().map(|(s, v)| weights.get(*s) * v).sum();
    let ai = values.ai;
    let ai_composite = ai.map_or(0.0, |a| weights.get(SignalName::Ai) * a);
    let (divergence_type, divergence_strength) = divergence(&math, ai);
    SignalRecord {
        values,
        ai_confidence: inputs.ai.as_ref().map(|a| a.confidence.clamp(0.0, 1.0)),
        ai_risk_level: inputs.ai.as_ref().map(|a| a.risk.clone()),
        playbook_alignment: inputs.playbook_alignment,
        weights: weights.to_json(),
        math_composite,
        ai_composite,
        final_score: math_composite + ai_composite,
        divergence_type,
        divergence_strength,
    }
}

/// Divergence: math sum vs AI in opposite strong directions, else ≥ 3 bullish and ≥ 3 bearish
/// math signals.
fn divergence(math: &[(SignalName, f64)], ai: Option<f64>) -> (Option<String>, Option<f64>) {
    let m: f64 = math.iter().map(|(_, v)| v).sum();
    if let Some(ai) = ai {
        if (m > 0.5 && ai < -0.3) || (m < -0.5 && ai > 0.3) {
            return (
                Some("math_ai_divergence".to_owned()),
                Some((m - ai).abs() / 2.0),
            );
        }
    }
    let bull = math.iter().filter(|(_, v)| *v > 0.3).count();
    let bear = math.iter().filter(|(_, v)| *v < -0.3).count();
    if bull >= 3 && bear >= 3 {
        #[expect(clippy::cast_precision_loss, reason = "at most 8 signals")]
        let strength = bull.min(bear) as f64 / 8.0;
        return (Some("internal_divergence".to_owned()), Some(strength));
    }
    (None, None)
}

/// Builds a stored value set from `(signal, value)` pairs (for tests and imports).
#[must_use]
pub fn values_from(pairs: &[(SignalName, f64)]) -> SignalValues {
    let mut values = SignalValues::default();
    for (s, v) in pairs {
        s.set_in(&mut values, Some(*v));
    }
    values
}

/// The technical inputs (RSI, MACD, trend, volume) at the end of `candles` (hourly, oldest
/// first), computed with `hybrid_market`'s indicators. Each is `None` until it has warmed up.
#[must_use]
pub fn market_inputs(candles: &[Candle]) -> SignalInputs {
    let closes: Vec<f64> = candles
        .iter()
        .map(|c| c.close().value().to_f64().unwrap_or(0.0))
        .collect();
    let volumes: Vec<f64> = candles
        .iter()
        .map(|c| c.volume().value().to_f64().unwrap_or(0.0))
        .collect();
    SignalInputs {
        rsi: last_rsi(&closes),
        macd: last_macd(&closes),
        trend: last_trend(&closes),
        volume: last_volume(&closes, &volumes),
        ..SignalInputs::default()
    }
}

fn last_rsi(closes: &[f64]) -> Option<f64> {
    let mut rsi = Rsi::new(14).ok()?;
    closes.iter().fold(None, |_, c| rsi.update(*c))
}

fn last_macd(closes: &[f64]) -> Option<MacdInput> {
    let mut macd = Macd::new(12, 26, 9).ok()?;
    let mut previous = None;
    let mut last = None;
    for c in closes {
        if let Some(v) = macd.update(*c) {
            previous = last.map(|l: hybrid_market::indicators::MacdValue| l.histogram);
            last = Some(v);
        }
    }
    last.map(|v| MacdInput {
        line: v.macd,
        signal: v.signal,
        histogram: v.histogram,
        previous_histogram: previous,
    })
}

fn last_sma(closes: &[f64], period: usize) -> Option<f64> {
    let mut sma = Sma::new(period).ok()?;
    closes.iter().fold(None, |_, c| sma.update(*c))
}

fn last_trend(closes: &[f64]) -> Option<TrendInput> {
    Some(TrendInput {
        price: *closes.last()?,
        sma20: last_sma(closes, 20)?,
        sma50: last_sma(closes, 50)?,
        sma200: last_sma(closes, 200),
    })
}

/// 24 h volume against the mean 24 h volume of the previous seven days, and the 24 h change.
fn last_volume(closes: &[f64], volumes: &[f64]) -> Option<VolumeInput> {
    const DAY: usize = 24;
    if volumes.len() < DAY * 8 || closes.len() <= DAY {
        return None;
    }
    let n = volumes.len();
    let volume: f64 = volumes[n - DAY..].iter().sum();
    let average = volumes[n - DAY * 8..n - DAY].iter().sum::<f64>() / 7.0;
    let before = closes[closes.len() - 1 - DAY];
    let last = *closes.last()?;
    let change = if before > 0.0 {
        (last - before) / before * 100.0
    } else {
        0.0
    };
    Some(VolumeInput {
        volume,
        average,
        change_24h_pct: change,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::float_cmp)]

    use super::*;

    #[test]
    fn mappings_follow_the_spec_tables() {
        assert_eq!(fear_greed_signal(24.0), 1.0);
        assert_eq!(fear_greed_signal(44.0), 0.5);
        assert_eq!(fear_greed_signal(55.0), 0.0);
        assert_eq!(fear_greed_signal(74.0), -0.5);
        assert_eq!(fear_greed_signal(75.0), -1.0);
        assert_eq!(rsi_signal(19.9), 1.0);
        assert_eq!(rsi_signal(35.0), 0.3);
        assert_eq!(rsi_signal(65.0), -0.3);
        assert_eq!(rsi_signal(85.0), -1.0);
        let bullish = MacdInput {
            line: 1.0,
            signal: 0.5,
            histogram: 0.5,
            previous_histogram: Some(0.2),
        };
        assert_eq!(macd_signal(&bullish), 1.0);
        let no_prev = MacdInput {
            previous_histogram: None,
            ..bullish
        };
        assert!((macd_signal(&no_prev) - 0.8).abs() < 1e-12);
        let t = TrendInput {
            price: 10.0,
            sma20: 9.0,
            sma50: 8.0,
            sma200: Some(9.0),
        };
        assert!((trend_signal(&t) - 0.4).abs() < 1e-12);
        assert_eq!(whale_signal(0.0, 0.0), 0.0);
        assert_eq!(whale_signal(3.0, 1.0), 0.5);
        assert!((sentiment_signal(75.0, Some(-1.0)) - (-0.1)).abs() < 1e-12);
        let m = MacroInput {
            etf_flow_7d_usd: 6e8,
            fed_tone: 1,
            high_impact_event: true,
        };
        assert!((macro_signal(&m) - 0.4).abs() < 1e-12);
        let v = VolumeInput {
            volume: 300.0,
            average: 100.0,
            change_24h_pct: -2.0,
        };
        assert_eq!(volume_signal(&v), -1.0);
    }

    #[test]
    fn default_weights_sum_to_one() {
        let sum: f64 = SignalName::ALL.iter().map(|s| s.default_weight()).sum();
        assert!((sum - 1.0).abs() < 1e-12);
    }

    #[test]
    fn missing_sources_stay_missing_and_add_nothing() {
        let inputs = SignalInputs {
            fear_greed: Some(20.0),
            ..SignalInputs::default()
        };
        let record = compose(&inputs, &SignalWeights::default());
        assert_eq!(record.values.fear_greed, Some(1.0));
        assert_eq!(record.values.macd, None);
        assert_eq!(record.values.trend, None);
        assert_eq!(record.values.ai, None);
        // Only F&G counts: 0.15 × 1.0 (the old system added −0.095 of invented MACD/trend).
        assert!((record.final_score - 0.15).abs() < 1e-12);
    }

    #[test]
    fn divergence_flags_math_against_ai() {
        let inputs = SignalInputs {
            fear_greed: Some(10.0),
            rsi: Some(10.0),
            ai: Some(AiInput {
                direction: -1,
                confidence: 0.9,
                risk: "HIGH".to_owned(),
            }),
            ..SignalInputs::default()
        };
        let record = compose(&inputs, &SignalWeights::default());
        assert_eq!(
            record.divergence_type.as_deref(),
            Some("math_ai_divergence")
        );
        assert!((record.divergence_strength.unwrap() - (2.0 + 0.9) / 2.0).abs() < 1e-12);
        assert!((record.ai_composite - 0.2 * -0.9).abs() < 1e-12);
    }
}
