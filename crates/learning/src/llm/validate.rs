//! Validation of the LLM's structured trading signal (spec §4 C3), strict: an answer that is
//! not exactly what was asked for is *refused* with a reason and changes nothing.
//!
//! Differs from the old system: the old parser coerced a wrong enum to NEUTRAL/HOLD/MEDIUM,
//! clamped any confidence, and only dampened a contradiction (BEARISH + BUY → confidence × 0.3),
//! so nonsense still reached the decision. Here a wrong enum, a confidence outside [0, 1]
//! (beyond a rounding tolerance), contradictory fields, an empty content or no JSON object is a
//! refusal. What the old system did that stays: a confidence a hair outside the range is clamped,
//! and a reasoning shorter than 10 characters halves the confidence.

use serde_json::{Map, Value};

use crate::signals::AiInput;

/// How far outside [0, 1] a confidence may be and still be clamped (rounding noise).
const CONFIDENCE_TOLERANCE: f64 = 0.05;

/// The LLM's market direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Up.
    Bullish,
    /// Down.
    Bearish,
    /// No view.
    Neutral,
}

/// What the LLM suggests doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Buy.
    Buy,
    /// Sell.
    Sell,
    /// Do nothing.
    Hold,
    /// Reduce exposure.
    Reduce,
}

/// A validated trading signal.
#[derive(Debug, Clone, PartialEq)]
pub struct TradingSignal {
    /// Direction.
    pub direction: Direction,
    /// Confidence in [0, 1] after clamping and dampening.
    pub confidence: f64,
    /// Suggested action.
    pub action: Action,
    /// LOW / MEDIUM / HIGH.
    pub risk: String,
    /// Why.
    pub reasoning: String,
    /// Assets concerned.
    pub affected_assets: Vec<String>,
    /// Agreement with the playbook in [0, 1], if given.
    pub playbook_alignment: Option<f64>,
}

impl TradingSignal {
    /// As the AI input of the nine-signal composite.
    #[must_use]
    pub fn to_ai_input(&self) -> AiInput {
        AiInput {
            direction: match self.direction {
                Direction::Bullish => 1,
                Direction::Bearish => -1,
                Direction::Neutral => 0,
            },
            confidence: self.confidence,
            risk: self.risk.clone(),
        }
    }
}

/// Why an answer was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

/// The text from the first `{` to the last `}`, parsed as a JSON object.
///
/// # Errors
/// [`Refusal`] for an empty answer, no object, or invalid JSON.
pub fn extract_object(content: &str) -> Result<Map<String, Value>, Refusal> {
    if content.trim().is_empty() {
        return Err(Refusal("empty answer".to_owned()));
    }
    let (Some(start), Some(end)) = (content.find('{'), content.rfind('}')) else {
        return Err(Refusal("no JSON object in the answer".to_owned()));
    };
    if end < start {
        return Err(Refusal("no JSON object in the answer".to_owned()));
    }
    match serde_json::from_str::<Value>(&content[start..=end]) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Refusal("the answer is not a JSON object".to_owned())),
        Err(e) => Err(Refusal(format!("not valid JSON: {e}"))),
    }
}

fn text_field<'a>(map: &'a Map<String, Value>, names: &[&str]) -> Result<&'a str, Refusal> {
    names
        .iter()
        .find_map(|n| map.get(*n))
        .ok_or_else(|| Refusal(format!("missing field {}", names[0])))?
        .as_str()
        .ok_or_else(|| Refusal(format!("field {} is not text", names[0])))
}

fn one_of<T: Copy>(value: &str, field: &str, choices: &[(&str, T)]) -> Result<T, Refusal> {
    let upper = value.trim().to_ascii_uppercase();
    choices
        .iter()
        .find(|(name, _)| *name == upper)
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
            Refusal(format!(
                "{field} {value:?} is not one of {}",
                names.join(", ")
            ))
        })
}

/// A number in [0, 1]: clamped within [`CONFIDENCE_TOLERANCE`], refused beyond.
///
/// # Errors
/// [`Refusal`] when the value is missing, not a number, or out of range.
pub fn unit_interval(map: &Map<String, Value>, field: &str) -> Result<f64, Refusal> {
    let value = map
        .get(field)
        .ok_or_else(|| Refusal(format!("missing field {field}")))?;
    let number = value
        .as_f64()
        .ok_or_else(|| Refusal(format!("{field} {value} is not a number")))?;
    if !number.is_finite()
        || !(-CONFIDENCE_TOLERANCE..=1.0 + CONFIDENCE_TOLERANCE).contains(&number)
    {
        return Err(Refusal(format!("{field} {number} is outside 0..1")));
    }
    Ok(number.clamp(0.0, 1.0))
}

/// Validates a trading-signal answer (spec §4 C3, strict).
///
/// # Errors
/// [`Refusal`] naming what is wrong.
pub fn validate_trading_signal(content: &str) -> Result<TradingSignal, Refusal> {
    let map = extract_object(content)?;
    let direction = one_of(
        text_field(&map, &["direction"])?,
        "direction",
        &[
            ("BULLISH", Direction::Bullish),
            ("BEARISH", Direction::Bearish),
            ("NEUTRAL", Direction::Neutral),
        ],
    )?;
    let action = one_of(
        text_field(&map, &["action"])?,
        "action",
        &[
            ("BUY", Action::Buy),
            ("SELL", Action::Sell),
            ("HOLD", Action::Hold),
            ("REDUCE", Action::Reduce),
        ],
    )?;
    let risk = one_of(
        text_field(&map, &["risk_level", "risk"])?,
        "risk_level",
        &[("LOW", "LOW"), ("MEDIUM", "MEDIUM"), ("HIGH", "HIGH")],
    )?;
    let mut confidence = unit_interval(&map, "confidence")?;
    match (direction, action) {
        (Direction::Bearish, Action::Buy) | (Direction::Bullish, Action::Sell | Action::Reduce) => {
            return Err(Refusal(format!(
                "contradictory fields: direction {direction:?} with action {action:?}"
            )));
        }
        _ => {}
    }
    let reasoning = map
        .get("reasoning")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if reasoning.chars().count() < 10 {
        confidence *= 0.5;
    }
    let playbook_alignment = if map.contains_key("playbook_alignment") {
        Some(unit_interval(&map, "playbook_alignment")?)
    } else {
        None
    };
    let affected_assets = map
        .get("affected_assets")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Ok(TradingSignal {
        direction,
        confidence,
        action,
        risk: risk.to_owned(),
        reasoning,
        affected_assets,
        playbook_alignment,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn answer(direction: &str, confidence: &str, action: &str, reasoning: &str) -> String {
        format!(
            r#"Sure! {{"direction": "{direction}", "confidence": {confidence}, "action": "{action}", "risk_level": "LOW", "reasoning": "{reasoning}"}} done"#
        )
    }

    #[test]
    fn a_valid_answer_is_accepted_even_inside_prose() {
        let s = validate_trading_signal(&answer("bullish", "0.8", "BUY", "trend and RSI agree"))
            .unwrap();
        assert_eq!(s.direction, Direction::Bullish);
        assert_eq!(s.action, Action::Buy);
        assert!((s.confidence - 0.8).abs() < 1e-12);
        assert_eq!(s.to_ai_input().direction, 1);
    }

    #[test]
    fn invalid_answers_are_refused_with_a_reason() {
        let cases = [
            (
                answer("UP", "0.8", "BUY", "long enough text"),
                "direction \"UP\" is not one of",
            ),
            (
                answer("BULLISH", "7", "BUY", "long enough text"),
                "confidence 7 is outside 0..1",
            ),
            (
                answer("BEARISH", "0.8", "BUY", "long enough text"),
                "contradictory fields",
            ),
            (
                answer("BULLISH", "0.8", "YOLO", "long enough text"),
                "action \"YOLO\"",
            ),
            (String::new(), "empty answer"),
            ("I think it goes up".to_owned(), "no JSON object"),
            ("{\"direction\": }".to_owned(), "not valid JSON"),
            (
                "{\"action\": \"BUY\"}".to_owned(),
                "missing field direction",
            ),
        ];
        for (content, reason) in cases {
            let refusal = validate_trading_signal(&content).unwrap_err();
            assert!(refusal.0.contains(reason), "{content:?}: {refusal}");
        }
    }

    #[test]
    fn rounding_noise_is_clamped_and_short_reasoning_halves_confidence() {
        let s = validate_trading_signal(&answer("NEUTRAL", "1.02", "HOLD", "ok")).unwrap();
        assert!((s.confidence - 0.5).abs() < 1e-12);
    }
}
