//! Test doubles shared by the unit tests: an exchange that only reports balances, and a
//! one-poll executor for futures that never wait.

use std::{
    future::Future,
    sync::atomic::{AtomicUsize, Ordering},
};

use hybrid_core::{Asset, Order, Symbol};
use hybrid_exchange::{
    Account, Balance, ExchangeError, OrderAck, OrderRef, OrderRequest, TradesFrom,
};
use rust_decimal::Decimal;

/// Runs a future that never waits.
pub(crate) fn settle<F: Future>(future: F) -> F::Output {
    hybrid_engine::block_on(future).expect("the future waited")
}

/// Answers `balances` (counting the calls) and refuses everything else.
#[derive(Debug)]
pub(crate) struct BalanceOnly {
    balances: Option<Vec<Balance>>,
    calls: AtomicUsize,
}

impl BalanceOnly {
    pub(crate) fn new(balances: Vec<(&str, Decimal)>) -> Self {
        let balances = balances
            .into_iter()
            .map(|(asset, free)| Balance {
                asset: Asset::new(asset).expect("test asset"),
                free,
                locked: Decimal::ZERO,
            })
            .collect();
        Self {
            balances: Some(balances),
            calls: AtomicUsize::new(0),
        }
    }

    pub(crate) fn failing() -> Self {
        Self {
            balances: None,
            calls: AtomicUsize::new(0),
        }
    }

    pub(crate) fn balance_calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

fn refused<T>() -> Result<T, ExchangeError> {
    Err(ExchangeError::InvalidRequest("not in this test".to_owned()))
}

impl Account for BalanceOnly {
    async fn balances(&self) -> Result<Vec<Balance>, ExchangeError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match &self.balances {
            Some(balances) => Ok(balances.clone()),
            None => Err(ExchangeError::Connectivity("balances down".to_owned())),
        }
    }
    async fn place_order(&self, _: &OrderRequest) -> Result<OrderAck, ExchangeError> {
        refused()
    }
    async fn query_order(&self, _: &Symbol, _: &OrderRef) -> Result<Order, ExchangeError> {
        refused()
    }
    async fn cancel_order(&self, _: &Symbol, _: &OrderRef) -> Result<Order, ExchangeError> {
        refused()
    }
    async fn open_orders(&self, _: Option<&Symbol>) -> Result<Vec<Order>, ExchangeError> {
        refused()
    }
    async fn my_trades(
        &self,
        _: &Symbol,
        _: TradesFrom,
    ) -> Result<Vec<hybrid_core::Fill>, ExchangeError> {
        refused()
    }
}
