//! The daily features of regime detection: one function used for training **and** prediction.
//!
//! The Python system trained its HMM on one feature set and predicted on another (spec §4.2);
//! here both paths call [`daily_features`], so a model only ever sees the kind of rows it was
//! fitted on.

use hybrid_core::{Candle, Timestamp};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    convert::{to_decimal_or_zero, to_f64},
    hmm::Observation,
};

/// Days in the return and volatility windows (spec §4.2).
pub(crate) const FEATURE_WINDOW_DAYS: usize = 7;

/// The features of one day, as statistics (`f64`), all in percent except the volume ratio.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DailyFeatures {
    /// Open time of the day these features describe (00:00 UTC).
    pub day: Timestamp,
    /// `ln(close_i / close_{i−7}) × 100`: the 7-day log return in percent.
    pub return_7d_pct: f64,
    /// Sample standard deviation of the last 7 daily log returns × 100 (percent per day).
    pub volatility_7d_pct: f64,
    /// `volume_i / mean(volume_{i−7..i−1}) − 1`, or 0 when the earlier volume is zero.
    /// Reported, not fed to the HMM: it is heavy-tailed and says little about direction.
    pub volume_change: f64,
}

impl DailyFeatures {
    /// The HMM's observation: return and volatility.
    #[must_use]
    pub const fn observation(&self) -> Observation {
        [self.return_7d_pct, self.volatility_7d_pct]
    }
}

/// The same features at the `Decimal` boundary, for reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegimeFeatures {
    /// 7-day log return in percent.
    pub return_7d_pct: Decimal,
    /// Daily log-return volatility over 7 days, in percent.
    pub volatility_7d_pct: Decimal,
    /// Volume relative to the previous 7 days' mean, minus one.
    pub volume_change: Decimal,
}

impl From<&DailyFeatures> for RegimeFeatures {
    fn from(f: &DailyFeatures) -> Self {
        Self {
            return_7d_pct: to_decimal_or_zero(f.return_7d_pct),
            volatility_7d_pct: to_decimal_or_zero(f.volatility_7d_pct),
            volume_change: to_decimal_or_zero(f.volume_change),
        }
    }
}

/// Features for every daily candle from the 8th on (index i ≥ 7): one row per day, oldest first.
/// Candles are taken as consecutive days; fewer than 8 give no rows.
#[must_use]
pub fn daily_features(daily: &[Candle]) -> Vec<DailyFeatures> {
    let closes: Vec<f64> = daily.iter().map(|c| to_f64(c.close().value())).collect();
    let volumes: Vec<f64> = daily.iter().map(|c| to_f64(c.volume().value())).collect();
    (FEATURE_WINDOW_DAYS..daily.len())
        .map(|i| DailyFeatures {
            day: daily[i].open_time(),
            return_7d_pct: (closes[i] / closes[i - FEATURE_WINDOW_DAYS]).ln() * 100.0,
            volatility_7d_pct: log_return_std(&closes[i - FEATURE_WINDOW_DAYS..=i]) * 100.0,
            volume_change: volume_change(&volumes[i - FEATURE_WINDOW_DAYS..=i]),
        })
        .collect()
}

/// Sample standard deviation of the log returns between consecutive closes.
fn log_return_std(closes: &[f64]) -> f64 {
    let returns: Vec<f64> = closes.windows(2).map(|w| (w[1] / w[0]).ln()).collect();
    sample_std(&returns)
}

/// Sample (n − 1) standard deviation; 0 for fewer than two values.
pub(crate) fn sample_std(values: &[f64]) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let ss: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
    (ss / (n - 1.0)).sqrt()
}

/// Last volume against the mean of the ones before it, minus one; 0 without a usable base.
fn volume_change(volumes: &[f64]) -> f64 {
    let Some((last, earlier)) = volumes.split_last() else {
        return 0.0;
    };
    let base = earlier.iter().sum::<f64>() / earlier.len().max(1) as f64;
    if base > 0.0 {
        last / base - 1.0
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daily::test_support::daily_closes;

    #[test]
    fn rows_start_at_the_eighth_day() {
        assert!(daily_features(&daily_closes(&[1.0; 7])).is_empty());
        assert_eq!(daily_features(&daily_closes(&[1.0; 10])).len(), 3);
    }

    #[test]
    fn return_and_volatility_match_hand_values() {
        // Closes double over 7 days at a constant daily rate: return ln 2 × 100, volatility 0.
        let closes: Vec<f64> = (0..8).map(|i| 2f64.powf(f64::from(i) / 7.0)).collect();
        let rows = daily_features(&daily_closes(&closes));
        assert!((rows[0].return_7d_pct - 2f64.ln() * 100.0).abs() < 1e-9);
        assert!(rows[0].volatility_7d_pct.abs() < 1e-9);
        assert_eq!(rows[0].day.as_millis(), 7 * Timestamp::DAY_MS);
    }

    #[test]
    fn sample_std_uses_n_minus_one() {
        assert!((sample_std(&[1.0, 2.0, 3.0, 4.0]) - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(sample_std(&[4.0]), 0.0);
    }

    #[test]
    fn volume_change_compares_with_the_previous_week() {
        assert!((volume_change(&[1.0, 1.0, 1.0, 3.0]) - 2.0).abs() < 1e-12);
        assert_eq!(volume_change(&[0.0, 0.0, 5.0]), 0.0);
    }
}
