//! The trading tier (spec §1.6): what the portfolio manager needs from the cohorts, and the
//! rule that scales the cohorts with the tier's budget.
//!
//! [`TradingTier`] is deliberately small so the manager can drive the cohorts' orchestrator,
//! a single [`hybrid_engine::HybridOrchestrator`] (the backtest) or a test double alike.

use hybrid_core::{CohortId, Timestamp};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::PortfolioError;

/// The trading tier as the portfolio manager sees it. The tier has its own budget (its own
/// sub-account in a backtest): the manager moves money in and out with
/// [`TradingTier::deposit`] and [`TradingTier::withdraw`] and values it with
/// [`TradingTier::value`].
pub trait TradingTier {
    /// The tier's equity: cash plus positions at the last prices, USDT.
    ///
    /// # Errors
    /// The tier's balances cannot be read.
    fn value(&self, now: Timestamp) -> Result<Decimal, PortfolioError>;

    /// Adds `amount` USDT to the tier's budget (money the manager moved in).
    ///
    /// # Errors
    /// The budget cannot be changed.
    fn deposit(&mut self, amount: Decimal, now: Timestamp) -> Result<(), PortfolioError>;

    /// Takes up to `amount` USDT of free cash out of the tier; returns what was taken (less
    /// when the tier's cash is in positions).
    ///
    /// # Errors
    /// The budget cannot be changed.
    fn withdraw(&mut self, amount: Decimal, now: Timestamp) -> Result<Decimal, PortfolioError>;
}

/// How the trading budget is split among cohorts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CohortScaling {
    /// The cohorts that trade, best ranked first, each with its capital (USDT).
    pub active: Vec<(CohortId, Decimal)>,
    /// Ranked cohorts left out (too little budget or over the phase's limit).
    pub paused: Vec<CohortId>,
}

/// Scales the cohorts to a new trading budget.
///
/// Rule (the spec's [RUST] proposal; the old system had none): active cohorts =
/// `min(max_cohorts, floor(budget / per_cohort_min_capital), ranked.len())`, taken from the
/// front of `ranked` (best first, by the cohort comparison ranking); each active cohort gets
/// `budget / active`, rounded down to the cent (the remainder stays in the tier's cash). With
/// a budget below one cohort's minimum, no cohort trades.
#[must_use]
pub fn scale_cohorts(
    budget: Decimal,
    per_cohort_min_capital: Decimal,
    max_cohorts: usize,
    ranked: &[CohortId],
) -> CohortScaling {
    let affordable = if per_cohort_min_capital > Decimal::ZERO {
        (budget / per_cohort_min_capital)
            .floor()
            .try_into()
            .unwrap_or(usize::MAX)
    } else {
        usize::MAX
    };
    let n = max_cohorts.min(affordable).min(ranked.len());
    if n == 0 || budget <= Decimal::ZERO {
        return CohortScaling {
            active: Vec::new(),
            paused: ranked.to_vec(),
        };
    }
    let each = (budget / Decimal::from(n))
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::ToZero);
    CohortScaling {
        active: ranked[..n].iter().map(|c| (*c, each)).collect(),
        paused: ranked[n..].to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn ids(n: u32) -> Vec<CohortId> {
        (1..=n).map(CohortId::new).collect()
    }

    #[test]
    fn cohorts_scale_with_the_budget_and_the_phase_limit() {
        let s = scale_cohorts(dec!(2500), dec!(500), 6, &ids(6));
        assert_eq!(s.active.len(), 5);
        assert!(s.active.iter().all(|(_, c)| *c == dec!(500)));
        assert_eq!(s.paused, [CohortId::new(6)]);
        let s = scale_cohorts(dec!(2500), dec!(500), 2, &ids(6));
        assert_eq!(
            s.active,
            [
                (CohortId::new(1), dec!(1250)),
                (CohortId::new(2), dec!(1250))
            ]
        );
        let s = scale_cohorts(dec!(1000), dec!(300), 6, &ids(6));
        assert_eq!(s.active.len(), 3);
        assert_eq!(s.active[0].1, dec!(333.33));
    }

    #[test]
    fn too_small_a_budget_pauses_every_cohort() {
        let s = scale_cohorts(dec!(400), dec!(500), 6, &ids(3));
        assert!(s.active.is_empty());
        assert_eq!(s.paused.len(), 3);
    }
}
