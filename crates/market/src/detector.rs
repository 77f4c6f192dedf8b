//! The regime detector: HMM on daily features when there is enough history, rules otherwise.

use hybrid_core::{Candle, Regime, Timestamp};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    convert::to_decimal_or_zero,
    error::MarketError,
    features::{daily_features, DailyFeatures, RegimeFeatures, FEATURE_WINDOW_DAYS},
    hmm::{FitConfig, FitReport, GaussianHmm, Observation, N_STATES},
    rules::{classify_by_rules, RuleInputs},
};

/// When and on how much data the HMM is (re)fitted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegimeConfig {
    /// Refit once the model is this old (ms); default 7 days.
    pub refit_interval_ms: i64,
    /// Feature rows (days) the model is fitted and filtered on; default 365.
    pub training_days: usize,
    /// Fewer feature rows than this and the rules decide; default 60 (two months).
    pub min_training_days: usize,
    /// Baum-Welch limits.
    pub fit: FitConfig,
}

impl Default for RegimeConfig {
    fn default() -> Self {
        Self {
            refit_interval_ms: 7 * Timestamp::DAY_MS,
            training_days: 365,
            min_training_days: 60,
            fit: FitConfig::default(),
        }
    }
}

/// Which detector produced a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum DetectionMethod {
    /// The fitted hidden Markov model.
    Hmm,
    /// The rule table of spec §4.2 (too little history, or the fit failed).
    Rules,
}

/// What the detector concluded, ready for the mode manager.
///
/// The detector never reports [`Regime::Transition`]: its uncertainty is in `probability`,
/// which the mode manager compares against its threshold (0.75).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegimeReport {
    /// The regime.
    pub regime: Regime,
    /// HMM: the filtered posterior of the regime's state on the last day; rules: the table's
    /// confidence. In [0, 1].
    pub probability: Decimal,
    /// Chance of leaving the regime tomorrow: HMM `1 − A[s][s]` of the regime's state; rules
    /// 0.1 (BULL, BEAR) or 0.2 (SIDEWAYS), as in spec §4.2.
    pub transition_probability: Decimal,
    /// Whole days the regime has lasted: 0 if the last day is the first in this regime. For the
    /// HMM this is read from the filtered history under the current model, so it can jump when
    /// a refit re-reads the past.
    pub duration_days: u32,
    /// Which detector decided.
    pub method: DetectionMethod,
    /// When the model in use was fitted (`None` for rules).
    pub fitted_at: Option<Timestamp>,
    /// Open time of the last closed day the report is based on.
    pub as_of: Timestamp,
    /// That day's features.
    pub features: RegimeFeatures,
}

/// Detects the regime from daily candles and keeps the fitted model between calls.
///
/// The model is refitted when it is older than [`RegimeConfig::refit_interval_ms`] at the `now`
/// passed in; between refits the latest days are filtered through the existing model.
#[derive(Debug, Clone, Default)]
pub struct RegimeDetector {
    config: RegimeConfig,
    fitted: Option<FittedModel>,
    features: FeatureCache,
}

/// The candles of the previous call and their feature rows, so that the next call (a day
/// later, the window shifted by one day) computes only the rows of the new days.
///
/// Speed, not meaning: a feature row reads only its own day and the 7 before it
/// ([`FEATURE_WINDOW_DAYS`]), so a row over equal candles is the same row, bit for bit.
/// Candles are compared in full, so any other input is computed afresh.
#[derive(Debug, Clone, Default)]
struct FeatureCache {
    candles: Vec<Candle>,
    rows: Vec<DailyFeatures>,
}

impl FeatureCache {
    /// `daily_features(closed)`, reusing the rows of the previous call where its candles and
    /// these overlap.
    fn features(&mut self, closed: &[Candle]) -> Vec<DailyFeatures> {
        let rows = match self.shift_of(closed) {
            Some(shift) => {
                let overlap = self.candles[shift..]
                    .iter()
                    .zip(closed)
                    .take_while(|(old, new)| old == new)
                    .count();
                if overlap > FEATURE_WINDOW_DAYS {
                    // New candle `i` is old candle `shift + i`, whose row is old row
                    // `shift + i − 7`; rows from `overlap` on are new.
                    let mut rows = self.rows[shift..shift + overlap - FEATURE_WINDOW_DAYS].to_vec();
                    rows.extend(daily_features(&closed[overlap - FEATURE_WINDOW_DAYS..]));
                    rows
                } else {
                    daily_features(closed)
                }
            }
            None => daily_features(closed),
        };
        self.candles.clear();
        self.candles.extend_from_slice(closed);
        self.rows.clone_from(&rows);
        rows
    }

    /// Where `closed[0]` sits among the previous call's candles (by open time).
    fn shift_of(&self, closed: &[Candle]) -> Option<usize> {
        let first = closed.first()?.open_time();
        let shift = self.candles.partition_point(|c| c.open_time() < first);
        (shift < self.candles.len() && self.candles[shift].open_time() == first).then_some(shift)
    }
}

#[derive(Debug, Clone)]
struct FittedModel {
    model: GaussianHmm,
    fitted_at: Timestamp,
    report: FitReport,
}

impl RegimeDetector {
    /// A detector with no model yet.
    #[must_use]
    pub const fn new(config: RegimeConfig) -> Self {
        Self {
            config,
            fitted: None,
            features: FeatureCache {
                candles: Vec::new(),
                rows: Vec::new(),
            },
        }
    }

    /// The current model and how its fit went, if one has been fitted.
    #[must_use]
    pub fn model(&self) -> Option<(&GaussianHmm, Timestamp, FitReport)> {
        self.fitted
            .as_ref()
            .map(|f| (&f.model, f.fitted_at, f.report))
    }

    /// The regime at `now` from daily candles (oldest first). Only days closed by `now`
    /// (open time + 1 day ≤ now) are used, so an incomplete day never leaks in.
    ///
    /// With at least [`RegimeConfig::min_training_days`] feature rows the HMM decides (fitted
    /// on the last [`RegimeConfig::training_days`] rows when due); with fewer, or if the fit is
    /// impossible, the rules of spec §4.2 decide on the last 8 days, without Fear & Greed.
    ///
    /// # Errors
    /// [`MarketError::OutOfOrder`] for unsorted candles; [`MarketError::InsufficientData`] with
    /// fewer than 8 closed days (the rules need a week of returns).
    pub fn detect(
        &mut self,
        daily: &[Candle],
        now: Timestamp,
    ) -> Result<RegimeReport, MarketError> {
        check_sorted(daily)?;
        let closed_count = daily
            .iter()
            .take_while(|c| c.open_time().plus_millis(Timestamp::DAY_MS) <= now)
            .count();
        let closed = &daily[..closed_count];
        let features = self.features.features(closed);
        if features.len() >= self.config.min_training_days {
            let start = features.len().saturating_sub(self.config.training_days);
            if let Some(report) = self.detect_with_hmm(&features[start..], now) {
                return Ok(report);
            }
        }
        detect_with_rules(closed, &features)
    }

    /// `None` when the model cannot be fitted; the caller then uses the rules.
    fn detect_with_hmm(
        &mut self,
        window: &[DailyFeatures],
        now: Timestamp,
    ) -> Option<RegimeReport> {
        let observations: Vec<Observation> =
            window.iter().map(DailyFeatures::observation).collect();
        self.refit_if_due(&observations, now)?;
        let fitted = self.fitted.as_ref()?;
        let posteriors = fitted.model.filter(&observations);
        let states: Vec<usize> = posteriors.iter().map(most_likely_state).collect();
        let (last_posterior, last_state, last_day) =
            (posteriors.last()?, *states.last()?, window.last()?);
        Some(RegimeReport {
            regime: GaussianHmm::regime_of_state(last_state),
            probability: to_decimal_or_zero(last_posterior[last_state]),
            transition_probability: to_decimal_or_zero(
                1.0 - fitted.model.transition()[last_state][last_state],
            ),
            duration_days: trailing_run_days(&states),
            method: DetectionMethod::Hmm,
            fitted_at: Some(fitted.fitted_at),
            as_of: last_day.day,
            features: RegimeFeatures::from(last_day),
        })
    }

    fn refit_if_due(&mut self, observations: &[Observation], now: Timestamp) -> Option<()> {
        let due = self
            .fitted
            .as_ref()
            .is_none_or(|f| now.millis_since(f.fitted_at) >= self.config.refit_interval_ms);
        if due {
            let (model, report) = GaussianHmm::fit(observations, &self.config.fit).ok()?;
            self.fitted = Some(FittedModel {
                model,
                fitted_at: now,
                report,
            });
        }
        Some(())
    }
}

fn detect_with_rules(
    closed: &[Candle],
    features: &[DailyFeatures],
) -> Result<RegimeReport, MarketError> {
    let insufficient = || MarketError::InsufficientData {
        what: "regime detection (closed daily candles)",
        needed: 8,
        have: closed.len(),
    };
    let last_day = features.last().ok_or_else(insufficient)?;
    let regimes: Vec<Regime> = (8..=closed.len())
        .filter_map(|end| RuleInputs::from_daily(&closed[..end]))
        .map(|inputs| classify_by_rules(&inputs).regime)
        .collect();
    let inputs = RuleInputs::from_daily(closed).ok_or_else(insufficient)?;
    let verdict = classify_by_rules(&inputs);
    Ok(RegimeReport {
        regime: verdict.regime,
        probability: verdict.confidence,
        transition_probability: verdict.transition_probability,
        duration_days: trailing_run_days(&regimes),
        method: DetectionMethod::Rules,
        fitted_at: None,
        as_of: last_day.day,
        features: RegimeFeatures::from(last_day),
    })
}

fn check_sorted(daily: &[Candle]) -> Result<(), MarketError> {
    match daily
        .windows(2)
        .find(|w| w[1].open_time() <= w[0].open_time())
    {
        Some(w) => Err(MarketError::OutOfOrder {
            previous: w[0].open_time(),
            got: w[1].open_time(),
        }),
        None => Ok(()),
    }
}

/// Index of the largest probability (the first on a tie).
pub(crate) fn most_likely_state(p: &[f64; N_STATES]) -> usize {
    let mut best = 0;
    for state in 1..N_STATES {
        if p[state] > p[best] {
            best = state;
        }
    }
    best
}

/// Whole days the last value has been repeated: a run of n equal days has lasted n − 1 days.
fn trailing_run_days<T: PartialEq>(values: &[T]) -> u32 {
    let Some(last) = values.last() else {
        return 0;
    };
    let run = values.iter().rev().take_while(|v| *v == last).count();
    u32::try_from(run.saturating_sub(1)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::daily::test_support::daily_closes;

    const D: i64 = Timestamp::DAY_MS;

    /// Up 2 %/day, flat, down 2 %/day, 60 days each, with a small wobble so variances differ.
    #[test]
    fn feature_cache_gives_the_rows_of_a_fresh_computation() {
        let daily = daily_closes(&three_phases());
        let mut cache = FeatureCache::default();
        // Sliding windows (the orchestrator's daily call), a jump back, a growing prefix and
        // a changed candle: every answer equals the fresh computation, bit for bit.
        let mut windows: Vec<(usize, usize)> = (0..40).map(|d| (d, d + 50)).collect();
        windows.extend([(3, 60), (0, 10), (0, 11), (0, 5), (20, 100)]);
        for (from, to) in windows {
            let window = &daily[from..to.min(daily.len())];
            assert_eq!(
                cache.features(window),
                daily_features(window),
                "{from}..{to}"
            );
        }
        let mut changed = daily[10..70].to_vec();
        let _ = cache.features(&changed);
        // Same day (open time), other prices.
        changed[40] = daily_closes(&[1.0; 60])[50];
        changed.truncate(45);
        let fresh = daily_features(&changed);
        assert_eq!(cache.features(&changed), fresh);
    }

    fn three_phases() -> Vec<f64> {
        let mut price = 100.0;
        let mut closes = Vec::new();
        for drift in [0.02, 0.0, -0.02] {
            for i in 0..60 {
                let wobble = if i % 2 == 0 { 0.004 } else { -0.004 };
                price *= 1.0 + drift + wobble;
                closes.push(price);
            }
        }
        closes
    }

    fn now_after(days: usize) -> Timestamp {
        Timestamp::from_millis(i64::try_from(days).unwrap() * D)
    }

    #[test]
    fn short_history_uses_the_rules() {
        let closes = [
            100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 112.0,
        ];
        let mut detector = RegimeDetector::default();
        let report = detector
            .detect(&daily_closes(&closes), now_after(9))
            .unwrap();
        assert_eq!(report.method, DetectionMethod::Rules);
        assert_eq!(report.regime, Regime::Bull);
        assert_eq!(report.probability, dec!(0.9));
        assert_eq!(report.transition_probability, dec!(0.1));
        assert_eq!(report.duration_days, 0);
        assert_eq!(report.fitted_at, None);
    }

    #[test]
    fn too_little_history_is_an_error() {
        let mut detector = RegimeDetector::default();
        let err = detector
            .detect(&daily_closes(&[1.0; 7]), now_after(7))
            .unwrap_err();
        assert!(matches!(err, MarketError::InsufficientData { .. }), "{err}");
    }

    #[test]
    fn incomplete_days_are_ignored() {
        let closes = [100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 50.0];
        let mut detector = RegimeDetector::default();
        // At the start of day 8 (index 8 still open) only 8 days are closed: flat → SIDEWAYS.
        let report = detector
            .detect(&daily_closes(&closes), now_after(8))
            .unwrap();
        assert_eq!(report.regime, Regime::Sideways);
        assert_eq!(report.as_of.as_millis(), 7 * D);
    }

    #[test]
    fn long_history_uses_the_hmm_and_follows_the_phases() {
        let closes = three_phases();
        let daily = daily_closes(&closes);
        let mut detector = RegimeDetector::default();
        let bull = detector.detect(&daily[..55], now_after(55)).unwrap();
        assert_eq!(bull.method, DetectionMethod::Rules);
        let report = detector.detect(&daily, now_after(180)).unwrap();
        assert_eq!(report.method, DetectionMethod::Hmm);
        assert_eq!(report.regime, Regime::Bear);
        assert!(report.probability > dec!(0.5), "{report:?}");
        assert!(report.duration_days > 30, "{report:?}");
        assert!(report.transition_probability < dec!(0.2), "{report:?}");
        assert_eq!(report.fitted_at, Some(now_after(180)));
    }

    #[test]
    fn refits_only_when_the_model_is_old() {
        let daily = daily_closes(&three_phases());
        let mut detector = RegimeDetector::default();
        detector.detect(&daily[..150], now_after(150)).unwrap();
        let later = detector.detect(&daily[..156], now_after(156)).unwrap();
        assert_eq!(later.fitted_at, Some(now_after(150)));
        let refitted = detector.detect(&daily[..157], now_after(157)).unwrap();
        assert_eq!(refitted.fitted_at, Some(now_after(157)));
    }

    #[test]
    fn unsorted_candles_are_refused() {
        let mut daily = daily_closes(&[1.0; 9]);
        daily.swap(3, 4);
        assert!(matches!(
            RegimeDetector::default().detect(&daily, now_after(9)),
            Err(MarketError::OutOfOrder { .. })
        ));
    }

    #[test]
    fn run_length_counts_whole_days() {
        assert_eq!(trailing_run_days::<u8>(&[]), 0);
        assert_eq!(trailing_run_days(&[1, 2, 2, 2]), 2);
        assert_eq!(trailing_run_days(&[1, 2]), 0);
    }
}

#[cfg(test)]
mod property_tests {
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    use super::*;
    use crate::daily::test_support::daily_closes;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]
        #[test]
        fn prop_reports_are_probabilities_from_the_right_detector(
            moves in proptest::collection::vec(-0.08f64..0.08, 8..100),
        ) {
            let mut price = 100.0;
            let closes: Vec<f64> = moves.iter().map(|m| { price *= 1.0 + m; price }).collect();
            let now = Timestamp::from_millis(i64::try_from(closes.len()).unwrap() * Timestamp::DAY_MS);
            let report = RegimeDetector::default().detect(&daily_closes(&closes), now).unwrap();
            prop_assert!(report.probability >= Decimal::ZERO && report.probability <= Decimal::ONE);
            let expected = if closes.len() - 7 >= 60 { DetectionMethod::Hmm } else { DetectionMethod::Rules };
            prop_assert_eq!(report.method, expected);
            prop_assert!(report.regime != Regime::Transition);
            prop_assert!(usize::try_from(report.duration_days).unwrap() < closes.len());
        }
    }
}
