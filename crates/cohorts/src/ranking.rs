//! Comparing cohorts honestly (spec §6.5, extended): a ranking by return with Sharpe, max
//! drawdown, win rate and fees, and for each cohort a bootstrap confidence interval of the
//! mean difference between its daily returns and the baseline's, so a lead that chance alone
//! could produce is reported as "not yet distinguishable".
//!
//! Differs from the old system: the old ranking sorted by realised P&L percent and reported
//! the spread between best and worst with no statement of confidence; with a few weeks of
//! trading that spread is mostly noise.
//!
//! The bootstrap resamples days with replacement (paired: the same days for the cohort and
//! the baseline, so a market-wide move cancels out), with a seeded SplitMix64 generator:
//! the same inputs and seed give the same interval. Statistics are `f64` (spec: floats only
//! for statistics); money stays `Decimal`.

use std::{collections::BTreeMap, fmt};

use hybrid_core::{Notional, Timestamp};
use hybrid_engine::{
    max_drawdown, sharpe_ratio, trade_stats, ClosedTrade, EquityPoint, TradeStats,
};
use hybrid_store::Store;
use rust_decimal::{prelude::ToPrimitive, Decimal};
use serde::{Deserialize, Serialize};

use crate::{definition::CohortDefinition, CohortError};

/// What the ranking needs of one cohort.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CohortPerformance {
    /// The cohort's name.
    pub cohort: String,
    /// Capital at the start, USDT.
    pub starting_capital: Decimal,
    /// Equity at the end, USDT (starting capital plus realised P&L when only trades are known).
    pub final_equity: Decimal,
    /// `(final / starting − 1) × 100`.
    pub return_pct: Decimal,
    /// Annualised Sharpe ratio of the equity curve.
    pub sharpe: Option<f64>,
    /// Deepest fall from a peak, percent.
    pub max_drawdown_pct: Option<Decimal>,
    /// Closed trades: count, wins, win rate, P&L, fees.
    pub trades: TradeStats,
    /// Every fee paid, USDT.
    pub fees: Decimal,
    /// Daily returns (fractions) by UTC day number (days since 1970).
    pub daily_returns: BTreeMap<i64, f64>,
    /// Why the cohort did not trade, if it did not.
    pub note: Option<String>,
}

/// A two-sided percentile bootstrap interval of a mean, in percent per day.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ConfidenceInterval {
    /// The observed mean difference, percent per day.
    pub mean_pct: f64,
    /// Lower bound, percent per day.
    pub low_pct: f64,
    /// Upper bound, percent per day.
    pub high_pct: f64,
    /// Coverage, e.g. 0.95.
    pub level: f64,
    /// Days compared.
    pub days: usize,
}

/// What the interval says about a cohort against the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    /// The whole interval is above zero.
    BetterThanBaseline,
    /// The whole interval is below zero.
    WorseThanBaseline,
    /// The interval contains zero.
    NotYetDistinguishable,
    /// Fewer than two common days, or this is the baseline.
    NotEnoughData,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::BetterThanBaseline => "better than baseline",
            Self::WorseThanBaseline => "worse than baseline",
            Self::NotYetDistinguishable => "not yet distinguishable",
            Self::NotEnoughData => "not enough data",
        })
    }
}

/// One line of the ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankingEntry {
    /// 1 = best return.
    pub rank: usize,
    /// The cohort's figures (daily returns left out).
    pub performance: CohortPerformance,
    /// Its daily returns minus the baseline's; `None` for the baseline itself.
    pub vs_baseline: Option<ConfidenceInterval>,
    /// What the interval says.
    pub verdict: Verdict,
}

/// Cohorts ranked by return, each compared with the baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ranking {
    /// Best first.
    pub entries: Vec<RankingEntry>,
    /// The control cohort's name, if present.
    pub baseline: Option<String>,
    /// Best minus worst return, percentage points (spec §6.5); `None` with fewer than 2 cohorts.
    pub spread_pct: Option<Decimal>,
    /// Bootstrap seed.
    pub seed: u64,
    /// Bootstrap resamples.
    pub resamples: usize,
}

/// Ranks `cohorts` by return (ties by name) and compares each with the cohort named
/// `baseline` by a 95 % bootstrap interval of the mean daily return difference.
#[must_use]
pub fn rank(cohorts: &[CohortPerformance], baseline: &str, seed: u64, resamples: usize) -> Ranking {
    let base = cohorts.iter().find(|c| c.cohort == baseline);
    let mut sorted: Vec<&CohortPerformance> = cohorts.iter().collect();
    sorted.sort_by(|a, b| {
        b.return_pct
            .cmp(&a.return_pct)
            .then(a.cohort.cmp(&b.cohort))
    });
    let entries: Vec<RankingEntry> = sorted
        .iter()
        .enumerate()
        .map(|(i, performance)| {
            let vs_baseline = base
                .filter(|b| b.cohort != performance.cohort)
                .and_then(|b| {
                    let diffs: Vec<f64> = performance
                        .daily_returns
                        .iter()
                        .filter_map(|(day, r)| b.daily_returns.get(day).map(|rb| r - rb))
                        .collect();
                    bootstrap_mean_ci(&diffs, 0.95, seed, resamples)
                });
            let verdict = match vs_baseline {
                None => Verdict::NotEnoughData,
                Some(ci) if ci.low_pct > 0.0 => Verdict::BetterThanBaseline,
                Some(ci) if ci.high_pct < 0.0 => Verdict::WorseThanBaseline,
                Some(_) => Verdict::NotYetDistinguishable,
            };
            let mut performance = (*performance).clone();
            performance.daily_returns.clear();
            RankingEntry {
                rank: i + 1,
                performance,
                vs_baseline,
                verdict,
            }
        })
        .collect();
    let spread_pct = (entries.len() >= 2).then(|| {
        entries[0].performance.return_pct - entries[entries.len() - 1].performance.return_pct
    });
    Ranking {
        entries,
        baseline: base.map(|b| b.cohort.clone()),
        spread_pct,
        seed,
        resamples,
    }
}

/// A percentile bootstrap interval of the mean of `samples` (fractions), in percent: `None`
/// with fewer than two samples or no resamples.
#[must_use]
pub fn bootstrap_mean_ci(
    samples: &[f64],
    level: f64,
    seed: u64,
    resamples: usize,
) -> Option<ConfidenceInterval> {
    let n = samples.len();
    if n < 2 || resamples == 0 {
        return None;
    }
    let mut rng = SplitMix64(seed);
    let mut means: Vec<f64> = (0..resamples)
        .map(|_| {
            let sum: f64 = (0..n).map(|_| samples[rng.below(n)]).sum();
            sum / n as f64
        })
        .collect();
    means.sort_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0;
    let index = |q: f64| ((q * (resamples - 1) as f64).round() as usize).min(resamples - 1);
    let mean = samples.iter().sum::<f64>() / n as f64;
    Some(ConfidenceInterval {
        mean_pct: mean * 100.0,
        low_pct: means[index(tail)] * 100.0,
        high_pct: means[index(1.0 - tail)] * 100.0,
        level,
        days: n,
    })
}

/// SplitMix64: a tiny, well-mixed, seedable generator (statistics only, never for keys).
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0); the modulo bias is below 2⁻⁵⁰ for any realistic n.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Daily returns of an equity curve: the last equity of each UTC day against the previous
/// day's, keyed by day number. The first day has no return.
#[must_use]
pub fn daily_returns(curve: &[EquityPoint]) -> BTreeMap<i64, f64> {
    let mut closes: BTreeMap<i64, Decimal> = BTreeMap::new();
    for point in curve {
        // The close at exactly midnight ends the previous day.
        let day = (point.time.as_millis() - 1).div_euclid(Timestamp::DAY_MS);
        closes.insert(day, point.equity.value());
    }
    let mut out = BTreeMap::new();
    let mut previous: Option<Decimal> = None;
    for (day, equity) in closes {
        if let Some(prev) = previous.filter(|p| !p.is_zero()) {
            if let Some(r) = (equity / prev - Decimal::ONE).to_f64() {
                out.insert(day, r);
            }
        }
        previous = Some(equity);
    }
    out
}

/// The figures of one cohort from its equity curve, closed trades and fees.
#[must_use]
pub fn performance(
    cohort: &str,
    starting_capital: Decimal,
    curve: &[EquityPoint],
    trades: &[ClosedTrade],
    fees: Decimal,
    note: Option<String>,
) -> CohortPerformance {
    let final_equity = curve.last().map_or(starting_capital, |p| p.equity.value());
    let return_pct = if starting_capital.is_zero() {
        Decimal::ZERO
    } else {
        ((final_equity / starting_capital - Decimal::ONE) * Decimal::ONE_HUNDRED).round_dp(4)
    };
    CohortPerformance {
        cohort: cohort.to_owned(),
        starting_capital,
        final_equity,
        return_pct,
        sharpe: sharpe_ratio(curve),
        max_drawdown_pct: max_drawdown(curve).map(|d| d.pct.round_dp(4)),
        trades: trade_stats(trades),
        fees,
        daily_returns: daily_returns(curve),
        note,
    }
}

/// The ranking of the active cohorts stored in `store`, from their closed trade pairs (spec
/// §6.5): each cohort's realised equity (starting capital plus the net P&L booked so far) at
/// the end of every UTC day from the first close of any cohort to the last.
///
/// # Errors
/// [`CohortError::Store`] on a database failure; [`CohortError::Config`] for a stored cohort
/// whose config does not parse.
pub fn ranking_from_store(
    store: &Store,
    baseline: &str,
    seed: u64,
    resamples: usize,
) -> Result<Ranking, CohortError> {
    ranking_of_cohorts(store, None, baseline, seed, resamples)
}

/// [`ranking_from_store`] over only the stored cohorts named in `names` (the configured ones),
/// or over every active stored cohort when `names` is `None`.
///
/// # Errors
/// As [`ranking_from_store`].
pub fn ranking_of_cohorts(
    store: &Store,
    names: Option<&[String]>,
    baseline: &str,
    seed: u64,
    resamples: usize,
) -> Result<Ranking, CohortError> {
    let mut by_cohort = Vec::new();
    let (mut first_day, mut last_day) = (i64::MAX, i64::MIN);
    for record in store.list_cohorts()? {
        let chosen = names.is_none_or(|names| names.contains(&record.name));
        if !record.is_active || !record.config.is_object() || !chosen {
            continue;
        }
        let definition = CohortDefinition::from_record(&record)?;
        let pairs = store.closed_trade_pairs(Some(record.id), u32::MAX)?;
        let trades: Vec<ClosedTrade> = pairs
            .iter()
            .filter_map(|p| {
                p.close.as_ref().map(|c| ClosedTrade {
                    closed_at: c.time,
                    net_pnl: c.net_pnl,
                    fees: p.entry_fee + c.fee,
                })
            })
            .collect();
        for trade in &trades {
            let day = trade.closed_at.as_millis().div_euclid(Timestamp::DAY_MS);
            first_day = first_day.min(day);
            last_day = last_day.max(day);
        }
        by_cohort.push((definition, trades));
    }
    let cohorts: Vec<CohortPerformance> = by_cohort
        .into_iter()
        .map(|(definition, trades)| {
            let capital = definition.starting_capital;
            let mut curve = Vec::new();
            if first_day <= last_day {
                // The day before the first close anchors the first return.
                for day in (first_day - 1)..=last_day {
                    let end = (day + 1) * Timestamp::DAY_MS;
                    let realised: Notional = trades
                        .iter()
                        .filter(|t| t.closed_at.as_millis() < end)
                        .map(|t| t.net_pnl)
                        .sum();
                    curve.push(EquityPoint {
                        time: Timestamp::from_millis(end),
                        equity: Notional::new(capital) + realised,
                    });
                }
            }
            let fees: Decimal = trades.iter().map(|t| t.fees.value()).sum();
            let note = trades.is_empty().then(|| "no closed trade yet".to_owned());
            performance(&definition.name, capital, &curve, &trades, fees, note)
        })
        .collect();
    Ok(rank(&cohorts, baseline, seed, resamples))
}

impl fmt::Display for Ranking {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "  {:<4} {:<15} {:>9} {:>7} {:>8} {:>8} {:>7} {:>8}  daily return vs baseline (95 % CI, pp/day)",
            "rank",
            "cohort",
            "return %",
            "sharpe",
            "max dd %",
            "win %",
            "trades",
            "fees",
        )?;
        for entry in &self.entries {
            let p = &entry.performance;
            let sharpe = p.sharpe.map_or("n/a".to_owned(), |s| format!("{s:.2}"));
            let dd = p
                .max_drawdown_pct
                .map_or("n/a".to_owned(), |d| d.round_dp(2).to_string());
            let win = p
                .trades
                .win_rate_pct
                .map_or("n/a".to_owned(), |w| w.round_dp(1).to_string());
            let vs = match (&entry.vs_baseline, &self.baseline) {
                (Some(ci), _) => format!(
                    "{:+.3} [{:+.3}, {:+.3}] {}",
                    ci.mean_pct, ci.low_pct, ci.high_pct, entry.verdict
                ),
                (None, Some(base)) if *base == p.cohort => "(baseline)".to_owned(),
                (None, _) => entry.verdict.to_string(),
            };
            writeln!(
                f,
                "  {:<4} {:<15} {:>9} {:>7} {:>8} {:>8} {:>7} {:>8}  {vs}",
                entry.rank,
                p.cohort,
                p.return_pct.round_dp(2),
                sharpe,
                dd,
                win,
                p.trades.n_trades,
                p.fees.round_dp(2),
            )?;
            if let Some(note) = &p.note {
                writeln!(f, "         {note}")?;
            }
        }
        if let Some(spread) = self.spread_pct {
            writeln!(f, "  spread best - worst: {} pp", spread.round_dp(2))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use rust_decimal_macros::dec;

    use super::*;

    fn perf(name: &str, ret: Decimal, daily: &[f64]) -> CohortPerformance {
        CohortPerformance {
            cohort: name.to_owned(),
            starting_capital: dec!(1000),
            final_equity: dec!(1000) * (Decimal::ONE + ret / dec!(100)),
            return_pct: ret,
            sharpe: None,
            max_drawdown_pct: None,
            trades: trade_stats(&[]),
            fees: Decimal::ZERO,
            daily_returns: daily
                .iter()
                .enumerate()
                .map(|(d, r)| (d as i64, *r))
                .collect(),
            note: None,
        }
    }

    #[test]
    fn the_interval_is_seeded_and_separates_a_clear_lead_from_noise() {
        let base: Vec<f64> = (0..60)
            .map(|d| if d % 2 == 0 { 0.01 } else { -0.01 })
            .collect();
        let clear: Vec<f64> = base.iter().map(|r| r + 0.005).collect();
        let noisy: Vec<f64> = base
            .iter()
            .enumerate()
            .map(|(d, r)| r + if d % 3 == 0 { 0.02 } else { -0.0095 })
            .collect();
        let worse: Vec<f64> = base.iter().map(|r| r - 0.002).collect();
        let cohorts = [
            perf("baseline", dec!(0), &base),
            perf("clear", dec!(30), &clear),
            perf("noisy", dec!(1), &noisy),
            perf("worse", dec!(-10), &worse),
        ];
        let ranking = rank(&cohorts, "baseline", 7, 2000);
        let names: Vec<&str> = ranking
            .entries
            .iter()
            .map(|e| e.performance.cohort.as_str())
            .collect();
        assert_eq!(names, ["clear", "noisy", "baseline", "worse"]);
        let verdicts: Vec<Verdict> = ranking.entries.iter().map(|e| e.verdict).collect();
        assert_eq!(
            verdicts,
            [
                Verdict::BetterThanBaseline,
                Verdict::NotYetDistinguishable,
                Verdict::NotEnoughData,
                Verdict::WorseThanBaseline
            ]
        );
        let ci = ranking.entries[0].vs_baseline.unwrap();
        assert!((ci.mean_pct - 0.5).abs() < 1e-9, "{ci:?}");
        assert!(
            ci.low_pct <= ci.mean_pct + 1e-9 && ci.high_pct >= ci.mean_pct - 1e-9,
            "{ci:?}"
        );
        assert_eq!(ranking.spread_pct, Some(dec!(40)));
        assert_eq!(
            ranking,
            rank(&cohorts, "baseline", 7, 2000),
            "same seed, same interval"
        );
        let other = rank(&cohorts, "baseline", 8, 2000);
        assert_ne!(ranking.entries[1].vs_baseline, other.entries[1].vs_baseline);
        assert!(ranking.to_string().contains("not yet distinguishable"));
    }

    #[test]
    fn daily_returns_take_each_days_last_equity() {
        let point = |h: i64, e: Decimal| EquityPoint {
            time: Timestamp::from_millis(h * Timestamp::HOUR_MS),
            equity: Notional::new(e),
        };
        let curve = [
            point(1, dec!(100)),
            point(24, dec!(110)),
            point(30, dec!(99)),
            point(48, dec!(121)),
        ];
        let returns = daily_returns(&curve);
        assert_eq!(returns.len(), 1);
        assert!((returns[&1] - 0.1).abs() < 1e-12);
    }

    /// Spec §6.5 from the store: P&L percent of the starting capital, win rate, sorted.
    #[test]
    fn the_store_ranking_uses_closed_pairs_per_cohort() {
        use hybrid_core::{Price, Quantity, Symbol};
        use hybrid_store::{ExitReason, PairEntry, PairExit};
        let store = Store::open("sqlite::memory:").unwrap();
        let now = Timestamp::from_millis(0);
        let cohorts = crate::default_cohorts();
        let rows = crate::seed(&store, &cohorts[..2], now).unwrap();
        let symbol = Symbol::new("BTCUSDT").unwrap();
        let trade = |cohort, day: i64, exit: Decimal| {
            let time = Timestamp::from_millis(day * Timestamp::DAY_MS);
            let entry = PairEntry {
                client_order_id: None,
                trade_id: None,
                time,
                price: Price::new(dec!(100)).unwrap(),
                quantity: Quantity::new(dec!(1)).unwrap(),
                fee: Notional::new(dec!(0.1)),
            };
            store
                .open_trade_pair(Some(cohort), &symbol, &entry)
                .unwrap();
            let exit = PairExit {
                client_order_id: None,
                time: time.plus_millis(3_600_000),
                price: Price::new(exit).unwrap(),
                quantity: Quantity::new(dec!(1)).unwrap(),
                fee: Notional::new(dec!(0.1)),
                reason: ExitReason::GridFill,
            };
            store
                .close_trade_pairs_fifo(Some(cohort), &symbol, &exit)
                .unwrap();
        };
        trade(rows[0].id, 1, dec!(110));
        trade(rows[0].id, 2, dec!(95));
        trade(rows[1].id, 1, dec!(102));
        let ranking = ranking_from_store(&store, "balanced", 1, 500).unwrap();
        let first = &ranking.entries[0].performance;
        assert_eq!(first.cohort, "conservative");
        // (9.8 − 5.2) / 1000 = 0.46 %
        assert_eq!(first.return_pct, dec!(0.46));
        assert_eq!(first.trades.n_trades, 2);
        assert_eq!(first.trades.win_rate_pct, Some(dec!(50)));
        assert_eq!(ranking.entries[1].performance.return_pct, dec!(0.18));
        assert_eq!(ranking.spread_pct, Some(dec!(0.28)));
    }
}
