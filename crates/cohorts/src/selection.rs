//! Coin selection across cohorts (spec §6.4 `initial_allocation`, §7.3): each cohort gets
//! coins of its own categories and minimum confidence, every coin belongs to at most one
//! cohort (symbol exclusion), and a coin the cohort could not fund even at its largest
//! allowed position is dropped before sizing (the allocator's pre-feasibility filter). A
//! cohort that ends with no coin is reported with the reason, never silently skipped.
//!
//! Differs from the old system: the old `initial_allocation` let each cohort, in load order,
//! take all the coins it wanted before the next one chose, so the wide cohorts listed early
//! (aggressive takes every category) left the narrow ones (defi_explorer, meme_hunter) with
//! nothing. Here cohorts draft in rounds — one coin each per round, the cohorts with the fewest
//! categories choosing first — until each has its `max_symbols` or no coin is left. Each
//! cohort's allocation is computed on its own capital with its own constraints: nothing is
//! shared between cohorts (the old allocator singleton leaked its portfolio and regime preset
//! from one cohort to the next).

use std::collections::BTreeSet;

use hybrid_core::{Notional, Symbol};
use hybrid_engine::{
    allocate_with_policy, AllocationCandidate, AllocationPlan, AllocationPolicy, SkipReason,
};
use hybrid_modes::ConstraintPreset;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::definition::CohortDefinition;

/// Most coins per cohort (spec §6.3: `max_symbols = 3`).
pub const MAX_SYMBOLS_PER_COHORT: usize = 3;

/// What one cohort got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CohortSelection {
    /// The cohort's name.
    pub cohort: String,
    /// Its coins, in the order it chose them (best first).
    pub symbols: Vec<Symbol>,
    /// The allocator's plan over its coins and its own capital.
    pub plan: AllocationPlan,
    /// Why the cohort got no coin; `None` when it got at least one.
    pub unfunded: Option<String>,
}

/// Selects coins for every active cohort (see the module doc). `candidates` are the scanned
/// coins (category from the watchlist: a coin it does not know is [`hybrid_market::Category::Unknown`]
/// and no cohort's categories include it). Returns one entry per active cohort, in the
/// cohorts' order.
#[must_use]
pub fn select_coins(
    cohorts: &[CohortDefinition],
    candidates: &[AllocationCandidate],
) -> Vec<CohortSelection> {
    let active: Vec<&CohortDefinition> = cohorts.iter().filter(|c| c.is_active).collect();
    let mut order: Vec<usize> = (0..active.len()).collect();
    order.sort_by_key(|&i| active[i].effective_categories().len());
    let mut picked: Vec<Vec<Symbol>> = vec![Vec::new(); active.len()];
    let mut taken: BTreeSet<Symbol> = BTreeSet::new();
    loop {
        let mut progress = false;
        for &i in &order {
            if picked[i].len() >= MAX_SYMBOLS_PER_COHORT {
                continue;
            }
            let pool: Vec<AllocationCandidate> = candidates
                .iter()
                .filter(|c| !taken.contains(&c.symbol))
                .cloned()
                .collect();
            let plan = plan_for(active[i], &pool, MAX_SYMBOLS_PER_COHORT);
            if let Some(best) = plan.allocations.first() {
                taken.insert(best.symbol.clone());
                picked[i].push(best.symbol.clone());
                progress = true;
            }
        }
        if !progress {
            break;
        }
    }
    active
        .iter()
        .zip(picked)
        .map(|(cohort, symbols)| {
            let own: Vec<AllocationCandidate> = candidates
                .iter()
                .filter(|c| symbols.contains(&c.symbol))
                .cloned()
                .collect();
            let plan = plan_for(cohort, &own, MAX_SYMBOLS_PER_COHORT);
            let unfunded = symbols
                .is_empty()
                .then(|| unfunded_reason(cohort, candidates));
            CohortSelection {
                cohort: cohort.name.clone(),
                symbols,
                plan,
                unfunded,
            }
        })
        .collect()
}

/// The allocator on the cohort's capital with its policy and the SMALL preset (spec §6.3).
#[must_use]
pub fn plan_for(
    cohort: &CohortDefinition,
    candidates: &[AllocationCandidate],
    max_positions: usize,
) -> AllocationPlan {
    let policy = AllocationPolicy {
        min_confidence: cohort.config.min_confidence,
        allowed_categories: Some(cohort.market_categories()),
        max_positions,
        ..AllocationPolicy::default()
    };
    allocate_with_policy(
        candidates,
        Notional::new(cohort.current_capital),
        &ConstraintPreset::Small.constraints(),
        None,
        &policy,
    )
}

/// Why `cohort` got nothing: its eligible coins went to other cohorts, or no coin passes its
/// filters (with the most common reason).
fn unfunded_reason(cohort: &CohortDefinition, candidates: &[AllocationCandidate]) -> String {
    let alone = plan_for(cohort, candidates, 0);
    let eligible: Vec<&str> = alone
        .allocations
        .iter()
        .map(|a| a.symbol.as_str())
        .collect();
    if !eligible.is_empty() {
        return format!(
            "every eligible coin ({}) went to another cohort",
            eligible.join(", ")
        );
    }
    if candidates.is_empty() {
        return "no coin was scanned".to_owned();
    }
    let mut confidence = None;
    let mut categories = 0;
    let mut infeasible = 0;
    let mut other = 0;
    for (_, reason) in &alone.skipped {
        match reason {
            SkipReason::ConfidenceBelowMinimum {
                confidence: c,
                minimum,
            } => {
                let best: Decimal = confidence.map_or(*c, |(b, _): (Decimal, Decimal)| b.max(*c));
                confidence = Some((best, *minimum));
            }
            SkipReason::CategoryNotAllowed { .. } => categories += 1,
            SkipReason::CannotFundMinimum { .. } | SkipReason::PositionTooSmall { .. } => {
                infeasible += 1;
            }
            _ => other += 1,
        }
    }
    let mut parts = Vec::new();
    if let Some((best, minimum)) = confidence {
        parts.push(format!(
            "no coin reaches its minimum confidence {minimum} (best {best})"
        ));
    }
    if categories > 0 {
        parts.push(format!("{categories} coins outside its categories"));
    }
    if infeasible > 0 {
        parts.push(format!(
            "{infeasible} coins below the minimum position on {} USDT",
            cohort.current_capital
        ));
    }
    if other > 0 {
        parts.push(format!("{other} coins below the minimum score or invalid"));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use hybrid_core::Price;
    use hybrid_market::{Category, RiskLevel};
    use rust_decimal_macros::dec;

    use super::*;
    use crate::definition::default_cohorts;

    fn coin(
        symbol: &str,
        category: Category,
        score: Decimal,
        confidence: Decimal,
    ) -> AllocationCandidate {
        AllocationCandidate::scored(
            Symbol::new(symbol).unwrap(),
            category,
            score,
            confidence,
            RiskLevel::Medium,
            Price::new(dec!(1)).unwrap(),
        )
    }

    fn universe(confidence: Decimal) -> Vec<AllocationCandidate> {
        vec![
            coin("BTCUSDT", Category::LargeCap, dec!(0.8), confidence),
            coin("ETHUSDT", Category::LargeCap, dec!(0.7), confidence),
            coin("SOLUSDT", Category::MidCap, dec!(0.6), confidence),
            coin("XRPUSDT", Category::MidCap, dec!(0.55), confidence),
            coin("BNBUSDT", Category::MidCap, dec!(0.5), confidence),
            coin("LINKUSDT", Category::MidCap, dec!(0.45), confidence),
            coin("UNIUSDT", Category::Defi, dec!(0.6), confidence),
            coin("AAVEUSDT", Category::Defi, dec!(0.5), confidence),
            coin("DOGEUSDT", Category::Meme, dec!(0.6), confidence),
            coin("PEPEUSDT", Category::Meme, dec!(0.5), confidence),
            coin("SHIBUSDT", Category::Meme, dec!(0.4), confidence),
            coin("NEWUSDT", Category::Unknown, dec!(0.9), confidence),
        ]
    }

    #[test]
    fn every_coin_belongs_to_one_cohort_and_each_cohort_trades_its_categories() {
        let cohorts = default_cohorts();
        let selections = select_coins(&cohorts, &universe(dec!(0.8)));
        assert_eq!(selections.len(), 6);
        let mut seen = BTreeSet::new();
        for (selection, cohort) in selections.iter().zip(&cohorts) {
            assert!(selection.symbols.len() <= MAX_SYMBOLS_PER_COHORT);
            for symbol in &selection.symbols {
                assert!(seen.insert(symbol.clone()), "{symbol} chosen twice");
                let category = universe(dec!(0.8))
                    .into_iter()
                    .find(|c| &c.symbol == symbol)
                    .unwrap()
                    .category;
                assert!(
                    cohort.market_categories().contains(&category),
                    "{symbol} in {}",
                    cohort.name
                );
            }
        }
        assert!(
            !seen.contains(&Symbol::new("NEWUSDT").unwrap()),
            "an unknown coin is never guessed into a category"
        );
        let get = |name: &str| selections.iter().find(|s| s.cohort == name).unwrap();
        // The narrow cohorts choose first in each round.
        assert_eq!(get("meme_hunter").symbols[0].as_str(), "DOGEUSDT");
        assert_eq!(get("defi_explorer").symbols[0].as_str(), "UNIUSDT");
        assert_eq!(get("conservative").symbols[0].as_str(), "BTCUSDT");
        assert!(
            selections.iter().all(|s| !s.symbols.is_empty()),
            "{selections:?}"
        );
    }

    #[test]
    fn a_cohort_that_cannot_be_funded_is_reported_with_the_reason() {
        let selections = select_coins(&default_cohorts(), &universe(dec!(0.6)));
        let conservative = selections
            .iter()
            .find(|s| s.cohort == "conservative")
            .unwrap();
        assert!(conservative.symbols.is_empty());
        let reason = conservative.unfunded.as_deref().unwrap();
        assert!(reason.contains("minimum confidence 0.7"), "{reason}");
        assert!(reason.contains("best 0.6"), "{reason}");

        let mut poor = default_cohorts();
        poor[1].current_capital = dec!(20); // balanced: 40 % of 20 = 8 < 10 USDT minimum
        let selections = select_coins(&poor, &universe(dec!(0.8)));
        let balanced = selections.iter().find(|s| s.cohort == "balanced").unwrap();
        assert!(balanced.symbols.is_empty());
        assert!(
            balanced
                .unfunded
                .as_deref()
                .unwrap()
                .contains("minimum position"),
            "{balanced:?}"
        );
    }

    #[test]
    fn each_plan_spends_only_the_cohorts_own_capital() {
        let mut cohorts = default_cohorts();
        cohorts[2].current_capital = dec!(300);
        for selection in select_coins(&cohorts, &universe(dec!(0.8))) {
            let capital = cohorts
                .iter()
                .find(|c| c.name == selection.cohort)
                .unwrap()
                .current_capital;
            assert!(
                selection.plan.total_allocated.value() <= capital,
                "{selection:?}"
            );
            assert_eq!(
                selection.plan.total_allocated + selection.plan.cash_reserve,
                Notional::new(capital)
            );
        }
    }
}
