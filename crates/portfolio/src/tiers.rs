//! The three tiers, their target weights and guard rails (spec §1.2), and the value breakdown
//! of the whole portfolio (spec §1.3).
//!
//! All percentages are numbers 0–100; all values are USDT.

use std::{fmt, str::FromStr};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::PortfolioError;

/// One of the three tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TierKind {
    /// USDT kept aside (`cash_reserve`).
    CashReserve,
    /// Buy-and-hold of the top coins by market cap (`index_holdings`).
    IndexHoldings,
    /// The cohorts' active trading (`trading`).
    Trading,
}

impl TierKind {
    /// The three tiers in the priority order deficits are filled in (cash, index, trading).
    pub const ALL: [Self; 3] = [Self::CashReserve, Self::IndexHoldings, Self::Trading];

    /// The stored name (`tier_name` of `portfolio_tiers`).
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::CashReserve => "cash_reserve",
            Self::IndexHoldings => "index_holdings",
            Self::Trading => "trading",
        }
    }

    /// Rank when filling deficits: cash first, then index, then trading (spec §1.7).
    #[must_use]
    pub const fn priority(self) -> u8 {
        match self {
            Self::CashReserve => 0,
            Self::IndexHoldings => 1,
            Self::Trading => 2,
        }
    }
}

impl fmt::Display for TierKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for TierKind {
    type Err = PortfolioError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.code() == s)
            .ok_or_else(|| {
                PortfolioError::InvalidInput(format!(
                    "unknown tier {s:?}: expected cash_reserve, index_holdings or trading"
                ))
            })
    }
}

/// A tier's target weight and the guard rails the AI optimizer may move it within.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierTarget {
    /// Which tier.
    pub kind: TierKind,
    /// Target share of the total, percent.
    pub target_pct: Decimal,
    /// Lowest target allowed, percent.
    pub min_pct: Decimal,
    /// Highest target allowed, percent.
    pub max_pct: Decimal,
}

/// The targets of all three tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierTargets {
    /// Cash reserve: default 10 % (5–20).
    pub cash: TierTarget,
    /// Index holdings: default 65 % (40–80).
    pub index: TierTarget,
    /// Trading: default 25 % (10–40).
    pub trading: TierTarget,
}

impl Default for TierTargets {
    fn default() -> Self {
        let target = |kind, target: i64, min: i64, max: i64| TierTarget {
            kind,
            target_pct: Decimal::from(target),
            min_pct: Decimal::from(min),
            max_pct: Decimal::from(max),
        };
        Self {
            cash: target(TierKind::CashReserve, 10, 5, 20),
            index: target(TierKind::IndexHoldings, 65, 40, 80),
            trading: target(TierKind::Trading, 25, 10, 40),
        }
    }
}

impl TierTargets {
    /// The defaults with these target percentages (cash, index, trading), validated.
    ///
    /// # Errors
    /// [`PortfolioError::InvalidInput`] when a target is outside its guard rails or the three
    /// do not sum to 100.
    pub fn with_targets(
        cash: Decimal,
        index: Decimal,
        trading: Decimal,
    ) -> Result<Self, PortfolioError> {
        let mut targets = Self::default();
        targets.cash.target_pct = cash;
        targets.index.target_pct = index;
        targets.trading.target_pct = trading;
        targets.validate()?;
        Ok(targets)
    }

    /// The target of one tier.
    #[must_use]
    pub const fn get(&self, kind: TierKind) -> &TierTarget {
        match kind {
            TierKind::CashReserve => &self.cash,
            TierKind::IndexHoldings => &self.index,
            TierKind::Trading => &self.trading,
        }
    }

    /// Replaces one tier's target percentage (e.g. from an active `portfolio_tiers` row).
    pub fn set_target(&mut self, kind: TierKind, target_pct: Decimal) {
        match kind {
            TierKind::CashReserve => self.cash.target_pct = target_pct,
            TierKind::IndexHoldings => self.index.target_pct = target_pct,
            TierKind::Trading => self.trading.target_pct = target_pct,
        }
    }

    /// Checks each target against its guard rails and that they sum to 100.
    ///
    /// # Errors
    /// [`PortfolioError::InvalidInput`] naming the tier or the sum.
    pub fn validate(&self) -> Result<(), PortfolioError> {
        for kind in TierKind::ALL {
            let t = self.get(kind);
            if t.target_pct < t.min_pct || t.target_pct > t.max_pct {
                return Err(PortfolioError::InvalidInput(format!(
                    "tier {kind} target {} % is outside its range {}–{} %",
                    t.target_pct, t.min_pct, t.max_pct
                )));
            }
        }
        let sum = self.cash.target_pct + self.index.target_pct + self.trading.target_pct;
        if sum != Decimal::ONE_HUNDRED {
            return Err(PortfolioError::InvalidInput(format!(
                "tier targets sum to {sum} %, not 100 %"
            )));
        }
        Ok(())
    }
}

/// The value of each tier in USDT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TierValues {
    /// Free USDT of the cash reserve.
    pub cash: Decimal,
    /// Σ holding value of the index tier.
    pub index: Decimal,
    /// The trading tier's equity (its cohorts' cash and positions).
    pub trading: Decimal,
}

impl TierValues {
    /// `cash + index + trading`.
    #[must_use]
    pub fn total(&self) -> Decimal {
        self.cash + self.index + self.trading
    }

    /// The value of one tier.
    #[must_use]
    pub const fn get(&self, kind: TierKind) -> Decimal {
        match kind {
            TierKind::CashReserve => self.cash,
            TierKind::IndexHoldings => self.index,
            TierKind::Trading => self.trading,
        }
    }

    /// Each tier's value, share and drift from `targets`.
    #[must_use]
    pub fn breakdown(&self, targets: &TierTargets) -> TierBreakdown {
        let total = self.total();
        let tiers = TierKind::ALL.map(|kind| {
            let value = self.get(kind);
            let current_pct = pct_of(value, total);
            let target_pct = targets.get(kind).target_pct;
            TierShare {
                kind,
                value,
                current_pct,
                target_pct,
                drift_pp: current_pct - target_pct,
            }
        });
        TierBreakdown { total, tiers }
    }
}

/// `value / total × 100`, or 0 when the total is not positive.
#[must_use]
pub fn pct_of(value: Decimal, total: Decimal) -> Decimal {
    if total <= Decimal::ZERO {
        Decimal::ZERO
    } else {
        value * Decimal::ONE_HUNDRED / total
    }
}

/// One tier's part of a [`TierBreakdown`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierShare {
    /// Which tier.
    pub kind: TierKind,
    /// Value in USDT.
    pub value: Decimal,
    /// `value / total × 100` (0 when the total is 0).
    pub current_pct: Decimal,
    /// The target percentage.
    pub target_pct: Decimal,
    /// `current_pct − target_pct`, percentage points.
    pub drift_pp: Decimal,
}

/// The portfolio split into its tiers at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierBreakdown {
    /// `cash + index + trading` in USDT.
    pub total: Decimal,
    /// Cash, index, trading, in that order.
    pub tiers: [TierShare; 3],
}

impl TierBreakdown {
    /// The share of one tier.
    #[must_use]
    pub fn share(&self, kind: TierKind) -> &TierShare {
        &self.tiers[usize::from(kind.priority())]
    }
}

impl fmt::Display for TierBreakdown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<16} {:>14} {:>9} {:>9} {:>9}",
            "tier", "value USDT", "current", "target", "drift"
        )?;
        for share in &self.tiers {
            writeln!(
                f,
                "{:<16} {:>14} {:>8}% {:>8}% {:>+8}pp",
                share.kind.code(),
                share.value.round_dp(2),
                share.current_pct.round_dp(2),
                share.target_pct.round_dp(2),
                share.drift_pp.round_dp(2)
            )?;
        }
        write!(f, "{:<16} {:>14}", "total", self.total.round_dp(2))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn scenario_11_12_db_targets_replace_the_defaults() {
        let defaults = TierTargets::default();
        assert_eq!(defaults.cash.target_pct, dec!(10));
        let targets = TierTargets::with_targets(dec!(15), dec!(60), dec!(25)).unwrap();
        assert_eq!(targets.cash.target_pct, dec!(15));
        assert_eq!(targets.index.target_pct, dec!(60));
    }

    #[test]
    fn targets_outside_the_rails_or_not_summing_to_100_are_refused() {
        let error = TierTargets::with_targets(dec!(30), dec!(45), dec!(25)).unwrap_err();
        assert!(error.to_string().contains("cash_reserve"), "{error}");
        let error = TierTargets::with_targets(dec!(10), dec!(60), dec!(25)).unwrap_err();
        assert!(error.to_string().contains("sum to 95"), "{error}");
    }

    #[test]
    fn scenario_11_13_values_give_the_shares() {
        let values = TierValues {
            cash: dec!(1000),
            index: dec!(6500),
            trading: dec!(2500),
        };
        let b = values.breakdown(&TierTargets::default());
        assert_eq!(b.total, dec!(10000));
        assert_eq!(b.share(TierKind::CashReserve).current_pct, dec!(10));
        assert_eq!(b.share(TierKind::IndexHoldings).current_pct, dec!(65));
        assert_eq!(b.share(TierKind::Trading).current_pct, dec!(25));
        assert_eq!(b.share(TierKind::Trading).drift_pp, dec!(0));
    }

    #[test]
    fn an_empty_portfolio_has_zero_shares() {
        let b = TierValues::default().breakdown(&TierTargets::default());
        assert!(b.tiers.iter().all(|s| s.current_pct.is_zero()));
    }

    #[test]
    fn tier_names_round_trip() {
        for kind in TierKind::ALL {
            assert_eq!(kind.code().parse::<TierKind>().unwrap(), kind);
        }
        assert!("bonds".parse::<TierKind>().is_err());
    }
}
