//! The decision combiner (spec §4): a math decision, optionally enhanced by a validated LLM
//! signal and adjusted for Fear & Greed.
//!
//! Differs from the old system: the adjusted confidence is clamped to 1 (the old × 1.2 could
//! exceed it), and only a *validated* signal can enhance a decision.

use super::validate::{Action, Direction, TradingSignal};

/// A decision after the combiner.
#[derive(Debug, Clone, PartialEq)]
pub struct CombinedDecision {
    /// The final action.
    pub action: Action,
    /// Confidence in [0, 1].
    pub confidence: f64,
    /// Whether an LLM signal took part.
    pub ai_enhanced: bool,
}

/// Combines the math decision with an optional LLM signal and Fear & Greed: a HIGH-risk
/// BEARISH signal turns a BUY into REDUCE and halves the confidence; a BUY at F&G < 25 gets
/// × 1.2, at F&G > 75 × 0.7.
#[must_use]
pub fn combine_decision(
    math_action: Action,
    math_confidence: f64,
    ai: Option<&TradingSignal>,
    fear_greed: Option<f64>,
) -> CombinedDecision {
    let mut action = math_action;
    let mut confidence = math_confidence;
    if let Some(signal) = ai {
        if action == Action::Buy && signal.direction == Direction::Bearish && signal.risk == "HIGH"
        {
            action = Action::Reduce;
            confidence *= 0.5;
        }
    }
    if action == Action::Buy {
        match fear_greed {
            Some(fg) if fg < 25.0 => confidence *= 1.2,
            Some(fg) if fg > 75.0 => confidence *= 0.7,
            _ => {}
        }
    }
    CombinedDecision {
        action,
        confidence: confidence.clamp(0.0, 1.0),
        ai_enhanced: ai.is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(direction: Direction, risk: &str) -> TradingSignal {
        TradingSignal {
            direction,
            confidence: 0.8,
            action: Action::Hold,
            risk: risk.to_owned(),
            reasoning: "news flow".to_owned(),
            affected_assets: vec![],
            playbook_alignment: None,
        }
    }

    /// Scenario 76 of spec §11, with the combiner's rules.
    #[test]
    fn scenario_11_76_the_combiner_keeps_or_enhances_the_math_decision() {
        let plain = combine_decision(Action::Buy, 0.6, None, None);
        assert_eq!((plain.action, plain.ai_enhanced), (Action::Buy, false));
        let bearish = signal(Direction::Bearish, "HIGH");
        let enhanced = combine_decision(Action::Buy, 0.6, Some(&bearish), None);
        assert!(enhanced.ai_enhanced);
        assert_eq!(enhanced.action, Action::Reduce);
        assert!((enhanced.confidence - 0.3).abs() < 1e-12);
        let calm = signal(Direction::Bullish, "LOW");
        let fear = combine_decision(Action::Buy, 0.9, Some(&calm), Some(20.0));
        assert_eq!(fear.action, Action::Buy);
        assert!((fear.confidence - 1.0).abs() < 1e-12, "clamped: {fear:?}");
        let greed = combine_decision(Action::Buy, 0.5, None, Some(80.0));
        assert!((greed.confidence - 0.35).abs() < 1e-12);
    }
}
