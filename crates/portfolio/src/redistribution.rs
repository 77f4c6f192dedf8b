//! Profit redistribution between the tiers (spec §1.7): a weekly drift check and the plan of
//! transfers that moves the tiers back to their targets.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::tiers::{TierBreakdown, TierKind, TierTargets, TierValues};

/// A tier drifting more than this many percentage points from its target triggers a
/// redistribution (strictly greater).
pub const DRIFT_THRESHOLD_PP: Decimal = Decimal::from_parts(3, 0, 0, false, 0);
/// Surpluses, deficits and transfers of this many USDT or less are ignored.
pub const MIN_TRANSFER_USD: Decimal = Decimal::TEN;
/// The redistribution check runs weekly.
pub const REDISTRIBUTION_INTERVAL_MS: i64 = 7 * hybrid_core::Timestamp::DAY_MS;

/// Whether any tier drifts more than [`DRIFT_THRESHOLD_PP`] from its target (and the
/// portfolio is worth anything).
#[must_use]
pub fn needs_redistribution(breakdown: &TierBreakdown) -> bool {
    breakdown.total > Decimal::ZERO
        && breakdown
            .tiers
            .iter()
            .any(|t| t.drift_pp.abs() > DRIFT_THRESHOLD_PP)
}

/// Money to move from one tier to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    /// The tier with a surplus.
    pub from: TierKind,
    /// The tier with a deficit.
    pub to: TierKind,
    /// USDT, rounded to the cent.
    pub amount: Decimal,
    /// Why, e.g. "index_holdings 72.00 % vs target 65 %; cash_reserve 3.00 % vs target 10 %".
    pub reason: String,
}

/// The transfers that bring the tiers back to their targets: `delta = value − total × target`
/// per tier; surplus tiers (delta > 10) give, largest surplus first; deficit tiers
/// (delta < −10) receive in priority order cash → index → trading; each transfer is
/// `min(need, surplus)` rounded to cents, and a need of 10 or less is left alone.
#[must_use]
pub fn transfer_plan(values: &TierValues, targets: &TierTargets) -> Vec<Transfer> {
    let breakdown = values.breakdown(targets);
    let total = breakdown.total;
    if total <= Decimal::ZERO {
        return Vec::new();
    }
    let delta = |kind: TierKind| {
        values.get(kind) - total * targets.get(kind).target_pct / Decimal::ONE_HUNDRED
    };
    let mut surplus: Vec<(TierKind, Decimal)> = TierKind::ALL
        .into_iter()
        .map(|k| (k, delta(k)))
        .filter(|(_, d)| *d > MIN_TRANSFER_USD)
        .collect();
    surplus.sort_by_key(|s| std::cmp::Reverse(s.1));
    let deficits: Vec<(TierKind, Decimal)> = TierKind::ALL
        .into_iter()
        .map(|k| (k, -delta(k)))
        .filter(|(_, need)| *need > MIN_TRANSFER_USD)
        .collect();
    let describe = |kind: TierKind| {
        let share = breakdown.share(kind);
        format!(
            "{kind} {:.2} % vs target {} %",
            share.current_pct,
            share.target_pct.normalize()
        )
    };
    let mut transfers = Vec::new();
    for (to, mut need) in deficits {
        for (from, available) in &mut surplus {
            if need <= MIN_TRANSFER_USD {
                break;
            }
            if *available <= MIN_TRANSFER_USD {
                continue;
            }
            let amount = need.min(*available).round_dp(2);
            need -= amount;
            *available -= amount;
            transfers.push(Transfer {
                from: *from,
                to,
                amount,
                reason: format!(
                    "drift over {DRIFT_THRESHOLD_PP} pp: {}; {}",
                    describe(*from),
                    describe(to)
                ),
            });
        }
    }
    transfers
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rust_decimal_macros::dec;

    fn values(cash: Decimal, index: Decimal, trading: Decimal) -> TierValues {
        TierValues {
            cash,
            index,
            trading,
        }
    }

    #[test]
    fn scenario_11_15_on_target_needs_nothing() {
        let v = values(dec!(1000), dec!(6500), dec!(2500));
        let targets = TierTargets::default();
        assert!(!needs_redistribution(&v.breakdown(&targets)));
        assert!(transfer_plan(&v, &targets).is_empty());
    }

    #[test]
    fn scenario_11_16_a_5pp_cash_drift_needs_a_redistribution() {
        let v = values(dec!(500), dec!(7000), dec!(2500));
        assert!(needs_redistribution(&v.breakdown(&TierTargets::default())));
        // Exactly 3 pp is not more than 3.
        let v = values(dec!(700), dec!(6800), dec!(2500));
        assert!(!needs_redistribution(&v.breakdown(&TierTargets::default())));
    }

    #[test]
    fn scenario_11_17_index_surplus_refills_cash() {
        let v = values(dec!(300), dec!(7200), dec!(2500));
        let plan = transfer_plan(&v, &TierTargets::default());
        assert_eq!(plan.len(), 1);
        let t = &plan[0];
        assert_eq!(
            (t.from, t.to, t.amount),
            (TierKind::IndexHoldings, TierKind::CashReserve, dec!(700.00))
        );
        assert!(
            t.reason.contains("cash_reserve 3.00 % vs target 10 %"),
            "{}",
            t.reason
        );
    }

    #[test]
    fn deficits_are_filled_in_priority_order_from_the_largest_surplus() {
        // Trading is 2 000 over, cash 500 under, index 1 500 under.
        let v = values(dec!(500), dec!(5000), dec!(4500));
        let plan = transfer_plan(&v, &TierTargets::default());
        let summary: Vec<(TierKind, TierKind, Decimal)> =
            plan.iter().map(|t| (t.from, t.to, t.amount)).collect();
        assert_eq!(
            summary,
            [
                (TierKind::Trading, TierKind::CashReserve, dec!(500)),
                (TierKind::Trading, TierKind::IndexHoldings, dec!(1500)),
            ]
        );
        let after = values(dec!(1000), dec!(6500), dec!(2500));
        assert!(transfer_plan(&after, &TierTargets::default()).is_empty());
    }

    #[test]
    fn an_empty_portfolio_plans_nothing() {
        let v = TierValues::default();
        assert!(!needs_redistribution(&v.breakdown(&TierTargets::default())));
        assert!(transfer_plan(&v, &TierTargets::default()).is_empty());
    }
}
