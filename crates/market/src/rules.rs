//! The rule-based regime detector of spec §4.2, the fallback when history is too short for the
//! HMM.

use hybrid_core::{Candle, Regime};
use rust_decimal::Decimal;

use crate::{
    convert::{to_decimal_or_zero, to_f64},
    features::{sample_std, FEATURE_WINDOW_DAYS},
};

/// Fear & Greed when no index is available: neutral.
const NEUTRAL_FEAR_GREED: Decimal = Decimal::from_parts(50, 0, 0, false, 0);

/// What the rules look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleInputs {
    /// `(newest − oldest)/oldest × 100` over 8 daily closes, in percent.
    pub return_7d_pct: Decimal,
    /// `stddev(closes)/mean(closes) × 100` over the same closes (the spread of prices, as in the
    /// original; not a return volatility), in percent.
    pub volatility_7d_pct: Decimal,
    /// Mean Fear & Greed index (0-100); `None` when not available offline, read as 50.
    pub fear_greed: Option<Decimal>,
}

impl RuleInputs {
    /// Inputs from the last 8 daily candles, without Fear & Greed; `None` with fewer than 8.
    #[must_use]
    pub fn from_daily(daily: &[Candle]) -> Option<Self> {
        let window = daily.get(daily.len().checked_sub(FEATURE_WINDOW_DAYS + 1)?..)?;
        let closes: Vec<f64> = window.iter().map(|c| to_f64(c.close().value())).collect();
        let (oldest, newest) = (closes[0], closes[closes.len() - 1]);
        let mean = closes.iter().sum::<f64>() / closes.len() as f64;
        Some(Self {
            return_7d_pct: to_decimal_or_zero((newest - oldest) / oldest * 100.0),
            volatility_7d_pct: to_decimal_or_zero(sample_std(&closes) / mean * 100.0),
            fear_greed: None,
        })
    }
}

/// The rules' answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleVerdict {
    /// BULL, BEAR or SIDEWAYS (the rules never say TRANSITION).
    pub regime: Regime,
    /// 0.7, 0.8 or 0.9 as in the table of spec §4.2.
    pub confidence: Decimal,
    /// 0.1 for BULL/BEAR, 0.2 for SIDEWAYS.
    pub transition_probability: Decimal,
}

/// Spec §4.2: BULL if r > 5 or (r > 0 and F&G > 55); BEAR if r < −5 or (r < 0 and F&G < 30);
/// otherwise SIDEWAYS. Confidence 0.9 beyond ±10 %, 0.8 for a quiet sideways market
/// (|r| < 2 and volatility < 2), else 0.7.
#[must_use]
pub fn classify_by_rules(inputs: &RuleInputs) -> RuleVerdict {
    let r = inputs.return_7d_pct;
    let fg = inputs.fear_greed.unwrap_or(NEUTRAL_FEAR_GREED);
    let strong = |strong: bool| {
        if strong {
            Decimal::new(9, 1)
        } else {
            Decimal::new(7, 1)
        }
    };
    if r > Decimal::new(5, 0) || (r > Decimal::ZERO && fg > Decimal::new(55, 0)) {
        return verdict(
            Regime::Bull,
            strong(r > Decimal::new(10, 0)),
            Decimal::new(1, 1),
        );
    }
    if r < Decimal::new(-5, 0) || (r < Decimal::ZERO && fg < Decimal::new(30, 0)) {
        return verdict(
            Regime::Bear,
            strong(r < Decimal::new(-10, 0)),
            Decimal::new(1, 1),
        );
    }
    let quiet = r.abs() < Decimal::new(2, 0) && inputs.volatility_7d_pct < Decimal::new(2, 0);
    let confidence = if quiet {
        Decimal::new(8, 1)
    } else {
        Decimal::new(7, 1)
    };
    verdict(Regime::Sideways, confidence, Decimal::new(2, 1))
}

const fn verdict(regime: Regime, confidence: Decimal, transition: Decimal) -> RuleVerdict {
    RuleVerdict {
        regime,
        confidence,
        transition_probability: transition,
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::daily::test_support::daily_closes;

    fn classify(r: Decimal, vol: Decimal, fg: Option<Decimal>) -> (Regime, Decimal) {
        let v = classify_by_rules(&RuleInputs {
            return_7d_pct: r,
            volatility_7d_pct: vol,
            fear_greed: fg,
        });
        (v.regime, v.confidence)
    }

    #[test]
    fn table_of_spec_4_2() {
        let cases = [
            (dec!(11), dec!(3), None, Regime::Bull, dec!(0.9)),
            (dec!(6), dec!(3), None, Regime::Bull, dec!(0.7)),
            (dec!(1), dec!(3), Some(dec!(60)), Regime::Bull, dec!(0.7)),
            (dec!(1), dec!(3), None, Regime::Sideways, dec!(0.7)),
            (dec!(1), dec!(1), None, Regime::Sideways, dec!(0.8)),
            (dec!(-1), dec!(1), Some(dec!(20)), Regime::Bear, dec!(0.7)),
            (dec!(-6), dec!(1), None, Regime::Bear, dec!(0.7)),
            (dec!(-10.5), dec!(1), None, Regime::Bear, dec!(0.9)),
            (dec!(-10), dec!(1), None, Regime::Bear, dec!(0.7)),
            (dec!(5), dec!(1), None, Regime::Sideways, dec!(0.7)),
        ];
        for (r, vol, fg, regime, confidence) in cases {
            assert_eq!(
                classify(r, vol, fg),
                (regime, confidence),
                "r={r} fg={fg:?}"
            );
        }
    }

    #[test]
    fn inputs_come_from_the_last_eight_closes() {
        assert!(RuleInputs::from_daily(&daily_closes(&[1.0; 7])).is_none());
        let closes = [50.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 110.0];
        let inputs = RuleInputs::from_daily(&daily_closes(&closes)).unwrap();
        assert_eq!(inputs.return_7d_pct, dec!(10));
        assert!(inputs.volatility_7d_pct > dec!(3) && inputs.volatility_7d_pct < dec!(4));
        assert_eq!(inputs.fear_greed, None);
    }
}
