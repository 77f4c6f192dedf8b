//! The cash reserve tier (spec §1.4): free USDT kept aside, and whether it is under- or
//! over-funded against its target.

use hybrid_core::Asset;
use hybrid_exchange::{Account, ExchangeError};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::tiers::pct_of;

/// The reserve is underfunded when it sits more than this many percentage points below its
/// target (strictly).
pub const CASH_UNDERFUNDED_PP: Decimal = Decimal::TWO;
/// The reserve is overfunded when it sits more than this many percentage points above its
/// target (strictly).
pub const CASH_OVERFUNDED_PP: Decimal = Decimal::from_parts(5, 0, 0, false, 0);

/// The reserve measured against its target, for a total portfolio value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashStatus {
    /// The reserve's USDT.
    pub balance: Decimal,
    /// `total × target / 100`, USDT.
    pub target_usd: Decimal,
    /// `balance / total × 100` (0 when the total is 0).
    pub current_pct: Decimal,
    /// `max(0, target_usd − balance)`.
    pub deficit: Decimal,
    /// `max(0, balance − target_usd)`.
    pub surplus: Decimal,
    /// `target − current > 2` percentage points.
    pub underfunded: bool,
    /// `current − target > 5` percentage points.
    pub overfunded: bool,
}

/// The reserve's status for `balance` USDT in a portfolio worth `total` with a target of
/// `target_pct` percent.
#[must_use]
pub fn cash_status(balance: Decimal, total: Decimal, target_pct: Decimal) -> CashStatus {
    let target_usd = total * target_pct / Decimal::ONE_HUNDRED;
    let current_pct = pct_of(balance, total);
    CashStatus {
        balance,
        target_usd,
        current_pct,
        deficit: (target_usd - balance).max(Decimal::ZERO),
        surplus: (balance - target_usd).max(Decimal::ZERO),
        underfunded: target_pct - current_pct > CASH_UNDERFUNDED_PP,
        overfunded: current_pct - target_pct > CASH_OVERFUNDED_PP,
    }
}

/// The cash reserve: its asset and its last known balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashReserve {
    asset: Asset,
    balance: Decimal,
}

impl CashReserve {
    /// A reserve in `asset` (USDT) with an unknown (zero) balance.
    #[must_use]
    pub const fn new(asset: Asset) -> Self {
        Self {
            asset,
            balance: Decimal::ZERO,
        }
    }

    /// The reserve's asset.
    #[must_use]
    pub const fn asset(&self) -> &Asset {
        &self.asset
    }

    /// The last known balance.
    #[must_use]
    pub const fn balance(&self) -> Decimal {
        self.balance
    }

    /// Sets the balance (a backtest's ledger, or a restored value).
    pub fn set_balance(&mut self, balance: Decimal) {
        self.balance = balance;
    }

    /// Reads the free balance of the reserve's asset from the exchange (one `balances` call).
    /// On an error the previous balance is kept and the error returned, so a failed refresh
    /// never shows the reserve as empty.
    ///
    /// # Errors
    /// The exchange's error; the balance is unchanged.
    pub async fn refresh<E: Account>(&mut self, exchange: &E) -> Result<Decimal, ExchangeError> {
        let balances = exchange.balances().await?;
        self.balance = balances
            .iter()
            .filter(|b| b.asset == self.asset)
            .map(|b| b.free)
            .sum();
        Ok(self.balance)
    }

    /// The status against `target_pct` of a portfolio worth `total`.
    #[must_use]
    pub fn status(&self, total: Decimal, target_pct: Decimal) -> CashStatus {
        cash_status(self.balance, total, target_pct)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::test_support::{settle, BalanceOnly};
    use rust_decimal_macros::dec;

    #[test]
    fn scenario_11_1_underfunded_reserve() {
        let s = cash_status(dec!(200), dec!(10000), dec!(10));
        assert_eq!(s.target_usd, dec!(1000));
        assert_eq!(s.current_pct, dec!(2));
        assert!(s.underfunded);
        assert!(!s.overfunded);
        assert_eq!(s.deficit, dec!(800));
        assert_eq!(s.surplus, dec!(0));
    }

    #[test]
    fn scenario_11_2_overfunded_and_balanced_reserve() {
        let s = cash_status(dec!(2000), dec!(10000), dec!(10));
        assert_eq!(s.current_pct, dec!(20));
        assert!(s.overfunded && !s.underfunded);
        assert_eq!(s.surplus, dec!(1000));
        let s = cash_status(dec!(1000), dec!(10000), dec!(10));
        assert!(!s.overfunded && !s.underfunded);
        // The thresholds are strict: exactly 2 pp under or 5 pp over is neither.
        assert!(!cash_status(dec!(800), dec!(10000), dec!(10)).underfunded);
        assert!(!cash_status(dec!(1500), dec!(10000), dec!(10)).overfunded);
    }

    #[test]
    fn scenario_11_3_refresh_reads_usdt_once_and_keeps_the_balance_on_error() {
        let exchange = BalanceOnly::new(vec![("USDT", dec!(500)), ("BTC", dec!(1))]);
        let mut cash = CashReserve::new(Asset::new("USDT").unwrap());
        assert_eq!(settle(cash.refresh(&exchange)).unwrap(), dec!(500));
        assert_eq!(exchange.balance_calls(), 1);
        assert_eq!(cash.balance(), dec!(500));

        let failing = BalanceOnly::failing();
        let mut cash = CashReserve::new(Asset::new("USDT").unwrap());
        assert!(settle(cash.refresh(&failing)).is_err());
        assert_eq!(cash.balance(), dec!(0));
    }

    #[test]
    fn a_zero_total_gives_zero_percent() {
        let s = cash_status(dec!(0), dec!(0), dec!(10));
        assert_eq!(s.current_pct, dec!(0));
        assert!(s.underfunded);
    }
}
