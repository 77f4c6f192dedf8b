//! Bayesian signal weights (spec §3.9): a Dirichlet-style posterior per signal from how often
//! its sign matched the realised P&L of the decisions it informed, bounded and normalised;
//! stored per scope (`global`, `regime:BULL`, `cohort:NAME`) with the previous row of the same
//! scope deactivated.
//!
//! Differs from the old system: scopes are kept apart (the old updater overwrote the global
//! weights with the last cohort's), and the weights are one JSON map the signal composite reads
//! (the old columns did not exist).

use std::collections::BTreeMap;

use hybrid_core::Timestamp;
use hybrid_store::{LearningRow, SignalWeightsRecord, Store, StoreError};

use crate::{
    outcomes::pct_f64,
    signals::{SignalName, SignalWeights},
};

/// Prior α per signal.
pub const PRIOR_ALPHA: f64 = 10.0;
/// Samples needed before weights are updated.
pub const MIN_UPDATE_SAMPLES: u64 = 20;
/// Lowest weight.
pub const MIN_WEIGHT: f64 = 0.02;
/// Highest weight.
pub const MAX_WEIGHT: f64 = 0.30;

/// One signal's track record.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalPerformance {
    /// Samples (signal present).
    pub samples: u64,
    /// Share of samples whose sign matched the P&L (a signal of exactly 0 is never correct).
    pub accuracy: f64,
    /// Pearson correlation of signal and P&L (0 with fewer than 3 samples or no variance).
    pub correlation: f64,
}

/// Uniform weights over the nine signals (the Bayesian default).
#[must_use]
pub fn uniform_weights() -> BTreeMap<SignalName, f64> {
    SignalName::ALL.iter().map(|s| (*s, 1.0 / 9.0)).collect()
}

/// Performance per signal from `(signal value, P&L)` samples.
#[must_use]
pub fn performance(
    samples: &BTreeMap<SignalName, Vec<(f64, f64)>>,
) -> BTreeMap<SignalName, SignalPerformance> {
    samples
        .iter()
        .map(|(signal, pairs)| {
            let n = pairs.len();
            let correct = pairs
                .iter()
                .filter(|(s, pnl)| (*s > 0.0 && *pnl > 0.0) || (*s < 0.0 && *pnl <= 0.0))
                .count();
            #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
            let accuracy = if n == 0 {
                0.0
            } else {
                correct as f64 / n as f64
            };
            (
                *signal,
                SignalPerformance {
                    samples: n as u64,
                    accuracy,
                    correlation: pearson(pairs),
                },
            )
        })
        .collect()
}

fn pearson(pairs: &[(f64, f64)]) -> f64 {
    if pairs.len() < 3 {
        return 0.0;
    }
    #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    let n = pairs.len() as f64;
    let mx = pairs.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pairs.iter().map(|p| p.1).sum::<f64>() / n;
    let cov: f64 = pairs.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    let vx: f64 = pairs.iter().map(|(x, _)| (x - mx).powi(2)).sum();
    let vy: f64 = pairs.iter().map(|(_, y)| (y - my).powi(2)).sum();
    if vx <= 0.0 || vy <= 0.0 {
        return 0.0;
    }
    cov / (vx.sqrt() * vy.sqrt())
}

/// Posterior α per signal: `α₀ + (accuracy + 0.5·max(0, corr))·√n`; signals without samples
/// keep α₀.
#[must_use]
pub fn posterior_alphas(
    perf: &BTreeMap<SignalName, SignalPerformance>,
) -> BTreeMap<SignalName, f64> {
    SignalName::ALL
        .iter()
        .map(|s| {
            #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
            let alpha = perf
                .get(s)
                .filter(|p| p.samples > 0)
                .map_or(PRIOR_ALPHA, |p| {
                    PRIOR_ALPHA
                        + (p.accuracy + 0.5 * p.correlation.max(0.0)) * (p.samples as f64).sqrt()
                });
            (*s, alpha)
        })
        .collect()
}

/// Weights `α/Σα`, clamped to [`MIN_WEIGHT`, `MAX_WEIGHT`] and renormalised (repeated until
/// both hold, so renormalising cannot push a weight back out of its bounds).
#[must_use]
pub fn normalise(alphas: &BTreeMap<SignalName, f64>) -> BTreeMap<SignalName, f64> {
    let total: f64 = alphas.values().sum();
    let mut weights: BTreeMap<SignalName, f64> = alphas
        .iter()
        .map(|(s, a)| (*s, if total > 0.0 { a / total } else { 1.0 / 9.0 }))
        .collect();
    for _ in 0..50 {
        for w in weights.values_mut() {
            *w = w.clamp(MIN_WEIGHT, MAX_WEIGHT);
        }
        let sum: f64 = weights.values().sum();
        if (sum - 1.0).abs() < 1e-12 {
            break;
        }
        for w in weights.values_mut() {
            *w /= sum;
        }
    }
    weights
}

/// `Σ w·s` clamped to [−1, 1], and each signal's contribution.
#[must_use]
pub fn combine(
    weights: &BTreeMap<SignalName, f64>,
    signals: &BTreeMap<SignalName, f64>,
) -> (f64, BTreeMap<SignalName, f64>) {
    let contributions: BTreeMap<SignalName, f64> = signals
        .iter()
        .map(|(s, v)| (*s, weights.get(s).copied().unwrap_or(0.0) * v))
        .collect();
    let total = contributions.values().sum::<f64>().clamp(-1.0, 1.0);
    (total, contributions)
}

/// Signals by weight, heaviest first.
#[must_use]
pub fn ranking(weights: &BTreeMap<SignalName, f64>) -> Vec<(SignalName, f64)> {
    let mut out: Vec<(SignalName, f64)> = weights.iter().map(|(s, w)| (*s, *w)).collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out
}

/// The `(signal, pair P&L)` samples of stored entries judged by their pair, filtered by `keep`.
#[must_use]
pub fn samples_from_rows(
    rows: &[LearningRow],
    keep: impl Fn(&LearningRow) -> bool,
) -> BTreeMap<SignalName, Vec<(f64, f64)>> {
    let mut out: BTreeMap<SignalName, Vec<(f64, f64)>> = BTreeMap::new();
    for row in rows.iter().filter(|r| keep(r)) {
        let (Some(signals), Some(pnl)) = (&row.signals, row.decision.pair_net_pnl) else {
            continue;
        };
        for s in SignalName::ALL {
            if let Some(v) = s.value_in(&signals.values) {
                out.entry(s).or_default().push((v, pct_f64(pnl)));
            }
        }
    }
    out
}

/// Updates and stores the weights of `scope` from the rows `keep` selects. Returns the new
/// weights, or `None` (nothing stored) with fewer than [`MIN_UPDATE_SAMPLES`] decisions.
///
/// # Errors
/// [`StoreError`] from the database.
pub fn update_weights(
    store: &Store,
    scope: &str,
    now: Timestamp,
    keep: impl Fn(&LearningRow) -> bool,
) -> Result<Option<SignalWeights>, StoreError> {
    let rows = store.learning_rows()?;
    let decisions = rows
        .iter()
        .filter(|r| keep(r) && r.decision.pair_net_pnl.is_some())
        .count() as u64;
    if decisions < MIN_UPDATE_SAMPLES {
        return Ok(None);
    }
    let samples = samples_from_rows(&rows, keep);
    let perf = performance(&samples);
    let alphas = posterior_alphas(&perf);
    let weights = normalise(&alphas);
    let to_json = |m: &BTreeMap<SignalName, f64>| -> serde_json::Value {
        m.iter()
            .map(|(s, v)| (s.key().to_owned(), serde_json::json!(v)))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    let confidence = (decisions as f64 / 100.0).min(1.0);
    store.save_signal_weights(&SignalWeightsRecord {
        at: now,
        scope: scope.to_owned(),
        weights: to_json(&weights),
        alphas: to_json(&alphas),
        confidence,
        sample_size: i64::try_from(decisions).unwrap_or(i64::MAX),
    })?;
    Ok(Some(SignalWeights(weights)))
}

/// The active weights of `scope`, or the spec's defaults when none are stored.
///
/// # Errors
/// [`StoreError`] from the database.
pub fn active_weights(store: &Store, scope: &str) -> Result<SignalWeights, StoreError> {
    let Some(record) = store.active_signal_weights(scope)? else {
        return Ok(SignalWeights::default());
    };
    let map = record
        .weights
        .as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| Some((SignalName::from_key(k)?, v.as_f64()?)))
                .collect()
        })
        .unwrap_or_default();
    Ok(SignalWeights(map))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// Scenario 64 of spec §11.
    #[test]
    fn scenario_11_64_bayesian_weights() {
        let uniform = uniform_weights();
        assert_eq!(uniform.len(), 9);
        assert!((uniform.values().sum::<f64>() - 1.0).abs() < 0.01);

        #[allow(clippy::cast_precision_loss)]
        let alphas: BTreeMap<SignalName, f64> = SignalName::ALL
            .iter()
            .enumerate()
            .map(|(i, s)| (*s, 10.0 + i as f64))
            .collect();
        let weights = normalise(&alphas);
        assert!((weights.values().sum::<f64>() - 1.0).abs() < 0.001);
        assert!(weights
            .values()
            .all(|w| (MIN_WEIGHT..=MAX_WEIGHT).contains(w)));

        let bullish: BTreeMap<SignalName, f64> = SignalName::ALL
            .iter()
            .enumerate()
            .map(|(i, s)| (*s, 0.5 + 0.05 * f64::from(u8::try_from(i).unwrap())))
            .collect();
        assert!(combine(&uniform, &bullish).0 > 0.5);
        let bearish: BTreeMap<SignalName, f64> = bullish.iter().map(|(s, v)| (*s, -v)).collect();
        assert!(combine(&uniform, &bearish).0 < -0.5);

        let ranked = ranking(&weights);
        assert!(ranked.windows(2).all(|w| w[0].1 >= w[1].1));
    }

    #[test]
    fn accurate_correlated_signals_gain_weight() {
        let good: Vec<(f64, f64)> = (0..40)
            .map(|i| if i % 2 == 0 { (0.5, 1.0) } else { (-0.5, -1.0) })
            .collect();
        let bad: Vec<(f64, f64)> = (0..40)
            .map(|i| if i % 2 == 0 { (0.5, -1.0) } else { (-0.5, 1.0) })
            .collect();
        let samples = [(SignalName::Rsi, good), (SignalName::Macd, bad)]
            .into_iter()
            .collect();
        let perf = performance(&samples);
        assert!((perf[&SignalName::Rsi].accuracy - 1.0).abs() < 1e-12);
        assert!((perf[&SignalName::Rsi].correlation - 1.0).abs() < 1e-12);
        let weights = normalise(&posterior_alphas(&perf));
        assert!(weights[&SignalName::Rsi] > weights[&SignalName::Macd]);
        assert!(weights[&SignalName::Macd] > weights[&SignalName::Whale] - 1e-12);
    }
}
