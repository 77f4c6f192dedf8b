//! A scored trading opportunity (spec §7.4): five sub-scores, their weighted total, a direction
//! from the signal texts and a risk level.

use hybrid_core::{Symbol, Timestamp};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::watchlist::Category;

/// The five parts of a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScoreComponent {
    /// RSI, MACD and Bollinger on 4 h candles.
    Technical,
    /// 24 h quote volume against the coin's minimum.
    Volume,
    /// Fear & Greed and social sentiment.
    Sentiment,
    /// Exchange in- and outflows of large holders.
    Whale,
    /// 24 h price change.
    Momentum,
}

impl ScoreComponent {
    /// All five, in the order of [`SubScores`].
    pub const ALL: [Self; 5] = [
        Self::Technical,
        Self::Volume,
        Self::Sentiment,
        Self::Whale,
        Self::Momentum,
    ];

    const fn index(self) -> usize {
        match self {
            Self::Technical => 0,
            Self::Volume => 1,
            Self::Sentiment => 2,
            Self::Whale => 3,
            Self::Momentum => 4,
        }
    }
}

/// Sub-scores, each in [0, 1]; 0.5 is neutral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubScores {
    /// Technical score.
    pub technical: Decimal,
    /// Volume score.
    pub volume: Decimal,
    /// Sentiment score.
    pub sentiment: Decimal,
    /// Whale score.
    pub whale: Decimal,
    /// Momentum score.
    pub momentum: Decimal,
}

impl SubScores {
    /// The score of one component.
    #[must_use]
    pub const fn get(&self, component: ScoreComponent) -> Decimal {
        match component {
            ScoreComponent::Technical => self.technical,
            ScoreComponent::Volume => self.volume,
            ScoreComponent::Sentiment => self.sentiment,
            ScoreComponent::Whale => self.whale,
            ScoreComponent::Momentum => self.momentum,
        }
    }
}

/// Component weights; the defaults are spec §7.4's (0.30, 0.20, 0.15, 0.15, 0.20).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreWeights([Decimal; 5]);

impl Default for ScoreWeights {
    fn default() -> Self {
        Self([
            Decimal::new(30, 2),
            Decimal::new(20, 2),
            Decimal::new(15, 2),
            Decimal::new(15, 2),
            Decimal::new(20, 2),
        ])
    }
}

/// Weight of a component a custom map leaves out (spec §7.4).
const UNLISTED_WEIGHT: Decimal = Decimal::from_parts(2, 0, 0, false, 1);

impl ScoreWeights {
    /// A custom map as given, not renormalised; unlisted components weigh 0.20 (spec §7.4).
    #[must_use]
    pub fn custom(weights: &[(ScoreComponent, Decimal)]) -> Self {
        let mut all = [UNLISTED_WEIGHT; 5];
        for &(component, weight) in weights {
            all[component.index()] = weight;
        }
        Self(all)
    }

    /// These weights with `overrides` merged in and all renormalised to sum to 1 (the
    /// scanner's `set_weights`). Negative weights count as 0; if everything is 0 the weights
    /// stay as they were.
    #[must_use]
    pub fn merged(&self, overrides: &[(ScoreComponent, Decimal)]) -> Self {
        let mut all = self.0;
        for &(component, weight) in overrides {
            all[component.index()] = weight.max(Decimal::ZERO);
        }
        let sum: Decimal = all.iter().sum();
        if sum <= Decimal::ZERO {
            return *self;
        }
        Self(all.map(|w| w / sum))
    }

    /// The weight of one component.
    #[must_use]
    pub const fn get(&self, component: ScoreComponent) -> Decimal {
        self.0[component.index()]
    }

    /// Σ weight × sub-score, clamped to [0, 1].
    #[must_use]
    pub fn total(&self, scores: &SubScores) -> Decimal {
        let total: Decimal = ScoreComponent::ALL
            .iter()
            .map(|&c| self.get(c) * scores.get(c))
            .sum();
        total.clamp(Decimal::ZERO, Decimal::ONE)
    }
}

/// Which way the signals lean.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Direction {
    /// More buy-ish signals and a total above 0.5.
    Long,
    /// More sell-ish signals and a total above 0.5.
    Short,
    /// Otherwise.
    #[default]
    Neutral,
}

/// How risky acting on the opportunity looks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RiskLevel {
    /// Confidence ≥ 0.7 and total ≥ 0.6.
    Low,
    /// Otherwise.
    #[default]
    Medium,
    /// Confidence < 0.4 or total < 0.3.
    High,
}

/// A scored coin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opportunity {
    /// The coin.
    pub symbol: Symbol,
    /// Its category ([`Category::Unknown`] if not on the watchlist).
    pub category: Category,
    /// When it was scored.
    pub timestamp: Timestamp,
    /// The five sub-scores.
    pub scores: SubScores,
    /// Weighted total in [0, 1].
    pub total_score: Decimal,
    /// Share of the five components computed from real data, in [0, 1].
    pub confidence: Decimal,
    /// Direction from the signals.
    pub direction: Direction,
    /// Human-readable signals, e.g. "RSI Oversold".
    pub signals: Vec<String>,
    /// Risk level.
    pub risk_level: RiskLevel,
    /// Components whose inputs were not available and that were scored as neutral (0.5).
    pub missing: Vec<ScoreComponent>,
}

impl Opportunity {
    /// Scores a coin: total from `weights`, then direction and risk from the result.
    #[must_use]
    pub fn new(
        symbol: Symbol,
        category: Category,
        timestamp: Timestamp,
        scores: SubScores,
        confidence: Decimal,
        signals: Vec<String>,
        weights: &ScoreWeights,
    ) -> Self {
        let total_score = weights.total(&scores);
        Self {
            direction: direction(&signals, total_score),
            risk_level: risk_level(confidence, total_score),
            symbol,
            category,
            timestamp,
            scores,
            total_score,
            confidence,
            signals,
            missing: Vec::new(),
        }
    }
}

const LONG_WORDS: [&str; 5] = ["oversold", "bullish", "accumulation", "buy", "support"];
const SHORT_WORDS: [&str; 5] = [
    "overbought",
    "bearish",
    "distribution",
    "sell",
    "resistance",
];

/// Spec §7.4: count long-ish and short-ish signals; lean only when the total exceeds 0.5.
fn direction(signals: &[String], total: Decimal) -> Direction {
    let count = |words: &[&str]| {
        signals
            .iter()
            .filter(|s| {
                let lower = s.to_lowercase();
                words.iter().any(|w| lower.contains(w))
            })
            .count()
    };
    let (long, short) = (count(&LONG_WORDS), count(&SHORT_WORDS));
    let strong = total > Decimal::new(5, 1);
    match long.cmp(&short) {
        std::cmp::Ordering::Greater if strong => Direction::Long,
        std::cmp::Ordering::Less if strong => Direction::Short,
        _ => Direction::Neutral,
    }
}

/// Spec §7.4 risk levels.
fn risk_level(confidence: Decimal, total: Decimal) -> RiskLevel {
    if confidence >= Decimal::new(7, 1) && total >= Decimal::new(6, 1) {
        RiskLevel::Low
    } else if confidence < Decimal::new(4, 1) || total < Decimal::new(3, 1) {
        RiskLevel::High
    } else {
        RiskLevel::Medium
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn scores(t: Decimal, v: Decimal, s: Decimal, w: Decimal, m: Decimal) -> SubScores {
        SubScores {
            technical: t,
            volume: v,
            sentiment: s,
            whale: w,
            momentum: m,
        }
    }

    fn opp(total_scores: SubScores, confidence: Decimal, signals: &[&str]) -> Opportunity {
        Opportunity::new(
            Symbol::new("BTCUSDT").unwrap(),
            Category::LargeCap,
            Timestamp::from_millis(0),
            total_scores,
            confidence,
            signals.iter().map(|s| (*s).to_owned()).collect(),
            &ScoreWeights::default(),
        )
    }

    #[test]
    fn total_uses_the_spec_weights() {
        let s = scores(dec!(0.8), dec!(0.6), dec!(0.5), dec!(0.4), dec!(0.7));
        assert_eq!(ScoreWeights::default().total(&s), dec!(0.635));
        let weights: Decimal = ScoreComponent::ALL
            .iter()
            .map(|&c| ScoreWeights::default().get(c))
            .sum();
        assert_eq!(weights, Decimal::ONE);
    }

    #[test]
    fn custom_weights_default_unlisted_components_to_a_fifth() {
        let w = ScoreWeights::custom(&[(ScoreComponent::Technical, dec!(1.0))]);
        assert_eq!(w.get(ScoreComponent::Volume), dec!(0.2));
        let only_technical = scores(dec!(1), dec!(0), dec!(0), dec!(0), dec!(0));
        assert_eq!(w.total(&only_technical), dec!(1));
        let all_ones = scores(dec!(1), dec!(1), dec!(1), dec!(1), dec!(1));
        assert_eq!(w.total(&all_ones), dec!(1), "clamped");
    }

    #[test]
    fn merged_weights_are_renormalised() {
        let w = ScoreWeights::default().merged(&[(ScoreComponent::Technical, dec!(0.8))]);
        let sum: Decimal = ScoreComponent::ALL.iter().map(|&c| w.get(c)).sum();
        assert!((sum - Decimal::ONE).abs() < dec!(0.000001));
        // 0.8 / (0.8 + 0.2 + 0.15 + 0.15 + 0.2)
        assert_eq!(w.get(ScoreComponent::Technical), dec!(0.8) / dec!(1.5));
    }

    #[test]
    fn direction_from_signals() {
        let s7 = scores(dec!(0.7), dec!(0.7), dec!(0.7), dec!(0.7), dec!(0.7));
        let long = ["RSI Oversold", "Bullish Divergence", "Support Level"];
        let short = ["RSI Overbought", "Bearish Divergence", "Resistance Level"];
        assert_eq!(opp(s7, dec!(0.8), &long).direction, Direction::Long);
        assert_eq!(opp(s7, dec!(0.8), &short).direction, Direction::Short);
        let s4 = scores(dec!(0.4), dec!(0.4), dec!(0.4), dec!(0.4), dec!(0.4));
        assert_eq!(opp(s4, dec!(0.8), &long).direction, Direction::Neutral);
    }

    #[test]
    fn risk_levels() {
        let s8 = scores(dec!(0.8), dec!(0.8), dec!(0.8), dec!(0.8), dec!(0.8));
        assert_eq!(opp(s8, dec!(0.8), &[]).risk_level, RiskLevel::Low);
        let s2 = scores(dec!(0.2), dec!(0.2), dec!(0.2), dec!(0.2), dec!(0.2));
        assert_eq!(opp(s2, dec!(0.3), &[]).risk_level, RiskLevel::High);
        let s5 = scores(dec!(0.5), dec!(0.5), dec!(0.5), dec!(0.5), dec!(0.5));
        assert_eq!(opp(s5, dec!(0.6), &[]).risk_level, RiskLevel::Medium);
    }
}

#[cfg(test)]
mod property_tests {
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    use super::*;

    fn score() -> impl Strategy<Value = Decimal> {
        (0u32..=100).prop_map(|v| Decimal::new(i64::from(v), 2))
    }

    proptest! {
        #[test]
        fn prop_total_is_within_unit_interval(
            t in score(), v in score(), s in score(), w in score(), m in score(),
            tw in 0u32..300,
        ) {
            let scores = SubScores { technical: t, volume: v, sentiment: s, whale: w, momentum: m };
            let weights = ScoreWeights::default()
                .merged(&[(ScoreComponent::Technical, Decimal::new(i64::from(tw), 2))]);
            let total = weights.total(&scores);
            prop_assert!(total >= Decimal::ZERO && total <= Decimal::ONE);
        }
    }
}
