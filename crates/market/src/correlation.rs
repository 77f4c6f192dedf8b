//! Pearson correlation of daily returns, for the allocator's correlation penalty
//! (spec §7.3 step 8: 60 daily returns, at least 10 overlapping points, |ρ| ≥ 0.7).

use hybrid_core::{Candle, Symbol, Timestamp};
use rust_decimal::Decimal;

use crate::convert::{to_decimal, to_f64};

/// How much history a correlation uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CorrelationConfig {
    /// Most recent daily returns per coin (61 closes give 60); default 60.
    pub lookback_returns: usize,
    /// Fewest returns on common days for a coefficient; fewer give no value. Default 10.
    pub min_overlap: usize,
}

impl Default for CorrelationConfig {
    fn default() -> Self {
        Self {
            lookback_returns: 60,
            min_overlap: 10,
        }
    }
}

/// Two coins whose returns move together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrelatedPair {
    /// The coin listed first in the matrix.
    pub first: Symbol,
    /// The coin listed later.
    pub second: Symbol,
    /// Pearson's ρ in [−1, 1], six decimals.
    pub correlation: Decimal,
}

/// Pairwise correlations of a set of coins; `None` where the overlap is too short or a series
/// is flat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrelationMatrix {
    symbols: Vec<Symbol>,
    values: Vec<Vec<Option<Decimal>>>,
}

impl CorrelationMatrix {
    /// Correlations of every pair from daily candles (oldest first per coin). Returns are
    /// aligned by day, so coins listed on different dates or with missing days still compare
    /// on the days they share.
    #[must_use]
    pub fn from_daily(series: &[(Symbol, &[Candle])], config: &CorrelationConfig) -> Self {
        let returns: Vec<Vec<(Timestamp, f64)>> = series
            .iter()
            .map(|(_, candles)| {
                let all = daily_returns(candles);
                all[all.len().saturating_sub(config.lookback_returns)..].to_vec()
            })
            .collect();
        let n = series.len();
        let mut values = vec![vec![None; n]; n];
        for i in 0..n {
            values[i][i] = Some(Decimal::ONE);
            for j in i + 1..n {
                let rho = aligned_pearson(&returns[i], &returns[j], config.min_overlap);
                values[i][j] = rho;
                values[j][i] = rho;
            }
        }
        Self {
            symbols: series.iter().map(|(s, _)| s.clone()).collect(),
            values,
        }
    }

    /// ρ of two coins, `None` if either is unknown or the pair has no value.
    #[must_use]
    pub fn get(&self, a: &Symbol, b: &Symbol) -> Option<Decimal> {
        let i = self.symbols.iter().position(|s| s == a)?;
        let j = self.symbols.iter().position(|s| s == b)?;
        self.values[i][j]
    }

    /// Pairs with |ρ| ≥ `threshold`, strongest first (ties keep matrix order).
    #[must_use]
    pub fn pairs_at_least(&self, threshold: Decimal) -> Vec<CorrelatedPair> {
        let mut pairs = Vec::new();
        for (i, row) in self.values.iter().enumerate() {
            for (j, value) in row.iter().enumerate().skip(i + 1) {
                if let Some(rho) = value.filter(|rho| rho.abs() >= threshold) {
                    pairs.push(CorrelatedPair {
                        first: self.symbols[i].clone(),
                        second: self.symbols[j].clone(),
                        correlation: rho,
                    });
                }
            }
        }
        pairs.sort_by_key(|p| std::cmp::Reverse(p.correlation.abs()));
        pairs
    }
}

/// Simple daily returns `close_t/close_{t−1} − 1`, keyed by the later day; only between
/// candles exactly one day apart, so a gap never passes off a multi-day move as one day's.
#[must_use]
pub fn daily_returns(daily: &[Candle]) -> Vec<(Timestamp, f64)> {
    daily
        .windows(2)
        .filter(|w| w[1].open_time().millis_since(w[0].open_time()) == Timestamp::DAY_MS)
        .map(|w| {
            let r = to_f64(w[1].close().value()) / to_f64(w[0].close().value()) - 1.0;
            (w[1].open_time(), r)
        })
        .collect()
}

/// Pearson's correlation coefficient; `None` for unequal lengths, fewer than two points or a
/// series with no variance.
#[must_use]
pub fn pearson(a: &[f64], b: &[f64]) -> Option<f64> {
    if a.len() != b.len() || a.len() < 2 {
        return None;
    }
    let n = a.len() as f64;
    let (mean_a, mean_b) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut cov, mut var_a, mut var_b) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (x - mean_a, y - mean_b);
        cov += dx * dy;
        var_a += dx * dx;
        var_b += dy * dy;
    }
    let denominator = (var_a * var_b).sqrt();
    (denominator > 0.0).then(|| (cov / denominator).clamp(-1.0, 1.0))
}

/// ρ over the days both series have, if there are at least `min_overlap`.
fn aligned_pearson(
    a: &[(Timestamp, f64)],
    b: &[(Timestamp, f64)],
    min_overlap: usize,
) -> Option<Decimal> {
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                xs.push(a[i].1);
                ys.push(b[j].1);
                i += 1;
                j += 1;
            }
        }
    }
    if xs.len() < min_overlap.max(2) {
        return None;
    }
    pearson(&xs, &ys).and_then(to_decimal)
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::daily::test_support::daily_closes;

    fn sym(s: &str) -> Symbol {
        Symbol::new(s).unwrap()
    }

    #[test]
    fn pearson_matches_hand_values() {
        assert!((pearson(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]).unwrap() - 1.0).abs() < 1e-12);
        assert!((pearson(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]).unwrap() + 1.0).abs() < 1e-12);
        // x = 1,2,3,4; y = 1,3,2,4: Σdxdy 4, Σdx² 5, Σdy² 5 → 0.8.
        let rho = pearson(&[1.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 4.0]).unwrap();
        assert!((rho - 0.8).abs() < 1e-12);
        assert_eq!(pearson(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]), None);
        assert_eq!(pearson(&[1.0], &[1.0]), None);
    }

    #[test]
    fn matrix_aligns_days_and_needs_the_overlap() {
        let zigzag: Vec<f64> = (0..30)
            .map(|i| {
                if i % 3 == 0 {
                    100.0
                } else {
                    103.0 + f64::from(i % 2)
                }
            })
            .collect();
        let doubled: Vec<f64> = zigzag.iter().map(|c| c * 2.0).collect();
        let inverse: Vec<f64> = zigzag.iter().map(|c| 10_000.0 / c).collect();
        let (a, b, c) = (
            daily_closes(&zigzag),
            daily_closes(&doubled),
            daily_closes(&inverse),
        );
        let short = daily_closes(&zigzag[..5]);
        let series = [
            (sym("AUSDT"), a.as_slice()),
            (sym("BUSDT"), b.as_slice()),
            (sym("CUSDT"), c.as_slice()),
            (sym("DUSDT"), short.as_slice()),
        ];
        let m = CorrelationMatrix::from_daily(&series, &CorrelationConfig::default());
        assert_eq!(m.get(&sym("AUSDT"), &sym("BUSDT")), Some(dec!(1)));
        assert!(m.get(&sym("AUSDT"), &sym("CUSDT")).unwrap() < dec!(-0.9));
        assert_eq!(m.get(&sym("AUSDT"), &sym("DUSDT")), None, "4 returns < 10");
        let pairs = m.pairs_at_least(dec!(0.7));
        assert_eq!(pairs.len(), 3);
        assert_eq!(
            (pairs[0].first.as_str(), pairs[0].second.as_str()),
            ("AUSDT", "BUSDT")
        );
    }

    #[test]
    fn returns_skip_gaps() {
        let mut daily = daily_closes(&[1.0, 2.0, 4.0]);
        daily.remove(1);
        assert!(daily_returns(&daily).is_empty());
        assert_eq!(daily_returns(&daily_closes(&[1.0, 2.0]))[0].1, 1.0);
    }
}

#[cfg(test)]
mod property_tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn prop_pearson_is_bounded_and_symmetric(
            pairs in proptest::collection::vec((-100.0f64..100.0, -100.0f64..100.0), 2..50),
        ) {
            let (a, b): (Vec<f64>, Vec<f64>) = pairs.into_iter().unzip();
            if let Some(rho) = pearson(&a, &b) {
                prop_assert!((-1.0..=1.0).contains(&rho));
                prop_assert!((rho - pearson(&b, &a).unwrap()).abs() < 1e-12);
            }
        }
    }
}
