//! Balances of the simulated account: `free` for new orders, `locked` by open orders.
//!
//! Invariant: no amount ever goes negative. Every debit is checked first, so a failed check
//! leaves the ledger untouched.

use std::collections::BTreeMap;

use hybrid_core::Asset;
use rust_decimal::Decimal;

use crate::{error::ExchangeError, exchange::Balance};

/// Per-asset free and locked amounts, in units of each asset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Ledger {
    accounts: BTreeMap<Asset, Account>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Account {
    free: Decimal,
    locked: Decimal,
}

impl Ledger {
    /// A ledger from balances (e.g. the initial deposit or a saved state).
    pub(crate) fn from_balances(balances: &[Balance]) -> Self {
        let mut ledger = Self::default();
        for balance in balances {
            let account = ledger.accounts.entry(balance.asset.clone()).or_default();
            account.free += balance.free;
            account.locked += balance.locked;
        }
        ledger
    }

    /// Every asset with a non-zero total, sorted by asset.
    pub(crate) fn balances(&self) -> Vec<Balance> {
        self.accounts
            .iter()
            .filter(|(_, account)| !(account.free + account.locked).is_zero())
            .map(|(asset, account)| Balance {
                asset: asset.clone(),
                free: account.free.normalize(),
                locked: account.locked.normalize(),
            })
            .collect()
    }

    /// The free amount of `asset` (zero if never seen).
    pub(crate) fn free(&self, asset: &Asset) -> Decimal {
        self.accounts.get(asset).map_or(Decimal::ZERO, |a| a.free)
    }

    /// Moves `amount` from free to locked.
    ///
    /// # Errors
    /// `-2010` insufficient balance when less than `amount` is free; nothing changes then.
    pub(crate) fn lock(&mut self, asset: &Asset, amount: Decimal) -> Result<(), ExchangeError> {
        if self.free(asset) < amount {
            return Err(ExchangeError::insufficient_balance());
        }
        let account = self.accounts.entry(asset.clone()).or_default();
        account.free -= amount;
        account.locked += amount;
        Ok(())
    }

    /// Moves `amount` back from locked to free (a cancel, or the unused part of a reservation).
    pub(crate) fn unlock(&mut self, asset: &Asset, amount: Decimal) {
        let account = self.accounts.entry(asset.clone()).or_default();
        let amount = amount.min(account.locked);
        account.locked -= amount;
        account.free += amount;
    }

    /// Removes `amount` from the locked part (paid out by a fill).
    pub(crate) fn spend_locked(&mut self, asset: &Asset, amount: Decimal) {
        let account = self.accounts.entry(asset.clone()).or_default();
        debug_assert!(
            account.locked >= amount,
            "Invariant: a fill spends only what its order locked"
        );
        account.locked -= amount.min(account.locked);
    }

    /// Adds `amount` to the free part (received by a fill).
    pub(crate) fn credit(&mut self, asset: &Asset, amount: Decimal) {
        self.accounts.entry(asset.clone()).or_default().free += amount;
    }
}
