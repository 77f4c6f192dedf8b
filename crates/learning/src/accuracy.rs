//! Per-signal accuracy, overall and per regime (spec §3.6 "signal accuracy"), from evaluated
//! signal rows, with the sample size of every figure.

use std::collections::BTreeMap;

use hybrid_core::Regime;
use hybrid_store::LearningRow;
use serde::Serialize;

use crate::signals::SignalName;

/// Fewer evaluated samples than this and a figure is shown but not trusted (spec: 5).
pub const MIN_SAMPLES: u64 = 5;

/// One evaluated signal row, reduced to what accuracy needs.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluatedRow {
    /// The regime detected at the decision.
    pub regime: Regime,
    /// The final score's verdict (`None` = neutral).
    pub was_correct: Option<bool>,
    /// Each present signal's value and verdict (`None` = neutral).
    pub components: BTreeMap<SignalName, (f64, Option<bool>)>,
}

impl EvaluatedRow {
    /// The evaluated rows among stored learning rows (rows not evaluated yet are skipped).
    #[must_use]
    pub fn from_rows(rows: &[LearningRow]) -> Vec<Self> {
        rows.iter().filter_map(Self::from_row).collect()
    }

    fn from_row(row: &LearningRow) -> Option<Self> {
        let signals = row.signals.as_ref()?;
        let map = row.components_correct.as_ref()?.as_object()?;
        let components = SignalName::ALL
            .iter()
            .filter_map(|s| {
                let value = s.value_in(&signals.values)?;
                let verdict = map.get(s.key()).and_then(serde_json::Value::as_bool);
                Some((*s, (value, verdict)))
            })
            .collect();
        Some(Self {
            regime: row.decision.regime,
            was_correct: row.was_correct,
            components,
        })
    }
}

/// Correct out of total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Evaluated samples.
    pub total: u64,
    /// Correct ones.
    pub correct: u64,
}

impl Tally {
    /// Accuracy in percent, `None` without samples.
    #[must_use]
    pub fn pct(self) -> Option<f64> {
        #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
        (self.total > 0).then(|| self.correct as f64 / self.total as f64 * 100.0)
    }

    fn add(&mut self, correct: bool) {
        self.total += 1;
        self.correct += u64::from(correct);
    }
}

/// One signal's accuracy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignalAccuracy {
    /// The signal.
    pub signal: SignalName,
    /// Its tally (rows with a verdict, i.e. `|signal| > 0.1`).
    pub tally: Tally,
    /// Mean `|signal|` over those rows.
    pub mean_abs: f64,
}

impl SignalAccuracy {
    /// Accuracy in percent (0 without samples).
    #[must_use]
    pub fn pct(&self) -> f64 {
        self.tally.pct().unwrap_or(0.0)
    }

    /// Enough samples to be trusted.
    #[must_use]
    pub const fn is_kept(&self) -> bool {
        self.tally.total >= MIN_SAMPLES
    }
}

/// Accuracy of one population (all rows, or one regime's).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AccuracyTable {
    /// Final-score verdicts.
    pub overall: Tally,
    /// Every signal with at least one sample, best accuracy first (ties: more samples first).
    pub signals: Vec<SignalAccuracy>,
}

impl AccuracyTable {
    /// The signals with at least [`MIN_SAMPLES`] samples, best first.
    pub fn kept(&self) -> impl Iterator<Item = &SignalAccuracy> {
        self.signals.iter().filter(|s| s.is_kept())
    }
}

/// Accuracy overall and per regime.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AccuracyReport {
    /// All rows.
    pub all: AccuracyTable,
    /// Per detected regime (`BULL`, `BEAR`, …).
    pub by_regime: BTreeMap<String, AccuracyTable>,
}

/// Computes the accuracy report.
#[must_use]
pub fn accuracy_report(rows: &[EvaluatedRow]) -> AccuracyReport {
    let mut by_regime: BTreeMap<String, Vec<&EvaluatedRow>> = BTreeMap::new();
    for row in rows {
        by_regime
            .entry(row.regime.as_str().to_owned())
            .or_default()
            .push(row);
    }
    AccuracyReport {
        all: table(rows.iter()),
        by_regime: by_regime
            .into_iter()
            .map(|(regime, rows)| (regime, table(rows.into_iter())))
            .collect(),
    }
}

fn table<'a>(rows: impl Iterator<Item = &'a EvaluatedRow>) -> AccuracyTable {
    let mut overall = Tally::default();
    let mut per: BTreeMap<SignalName, (Tally, f64)> = BTreeMap::new();
    for row in rows {
        if let Some(correct) = row.was_correct {
            overall.add(correct);
        }
        for (signal, (value, verdict)) in &row.components {
            if let Some(correct) = verdict {
                let entry = per.entry(*signal).or_default();
                entry.0.add(*correct);
                entry.1 += value.abs();
            }
        }
    }
    let mut signals: Vec<SignalAccuracy> = per
        .into_iter()
        .map(|(signal, (tally, sum_abs))| {
            #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
            let mean_abs = sum_abs / tally.total.max(1) as f64;
            SignalAccuracy {
                signal,
                tally,
                mean_abs,
            }
        })
        .collect();
    signals.sort_by(|a, b| {
        b.pct()
            .total_cmp(&a.pct())
            .then(b.tally.total.cmp(&a.tally.total))
            .then(a.signal.cmp(&b.signal))
    });
    AccuracyTable { overall, signals }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// `n` rows of one signal with `correct` of them right, in `regime`.
    pub(crate) fn rows(
        signal: SignalName,
        n: u64,
        correct: u64,
        regime: Regime,
    ) -> Vec<EvaluatedRow> {
        (0..n)
            .map(|i| EvaluatedRow {
                regime,
                was_correct: None,
                components: [(signal, (0.5, Some(i < correct)))].into_iter().collect(),
            })
            .collect()
    }

    /// Scenario 48 of spec §11.
    #[test]
    fn scenario_11_48_signal_accuracy_keeps_signals_with_enough_samples() {
        let mut all = rows(SignalName::FearGreed, 100, 68, Regime::Bull);
        all.extend(rows(SignalName::Rsi, 90, 55, Regime::Bear));
        for s in [
            SignalName::Macd,
            SignalName::Trend,
            SignalName::Volume,
            SignalName::Whale,
            SignalName::Sentiment,
            SignalName::Macro,
            SignalName::Ai,
        ] {
            all.extend(rows(s, 3, 2, Regime::Sideways));
        }
        // Overall verdicts: 200 rows, 120 correct.
        for (i, row) in all.iter_mut().enumerate().take(200) {
            row.was_correct = Some(i % 5 < 3);
        }
        let report = accuracy_report(&all);
        assert_eq!(report.all.overall.total, 200);
        assert!((report.all.overall.pct().unwrap() - 60.0).abs() < 1e-9);
        let kept: Vec<_> = report.all.kept().collect();
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0].signal.title(), "Fear & Greed");
        assert!((kept[0].pct() - 68.0).abs() < 1e-9);
        // Per regime, with sample sizes.
        assert_eq!(report.by_regime["BEAR"].signals[0].tally.total, 90);
    }

    /// Scenario 49 of spec §11.
    #[test]
    fn scenario_11_49_no_evaluated_rows_give_no_signals() {
        let report = accuracy_report(&[]);
        assert_eq!(report.all.overall.total, 0);
        assert!(report.all.signals.is_empty());
    }
}
