//! Test doubles shared by the unit tests: an exchange that only reports balances, and a
//! one-poll executor for futures that never wait.

use std::{
    future::Future,
    pin::pin,
    sync::atomic::{AtomicUsize, Ordering},
    task::{Context, Poll, Waker},
};

use hybrid_core::{Asset, Candle, Order, Price, Symbol, SymbolFilters, Timestamp};
use hybrid_exchange::{
    Balance, Exchange, ExchangeError, OrderAck, OrderRef, OrderRequest, Ticker24h, TickerPrice,
    TradesFrom,
};
use rust_decimal::Decimal;

/// Polls a future that never waits.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the future waited"),
    }
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

impl Exchange for BalanceOnly {
    async fn server_time(&self) -> Result<Timestamp, ExchangeError> {
        refused()
    }
    async fn exchange_info(&self) -> Result<Vec<SymbolFilters>, ExchangeError> {
        refused()
    }
    async fn symbol_filters(&self, _: &Symbol) -> Result<SymbolFilters, ExchangeError> {
        refused()
    }
    async fn ticker_price(&self, _: &Symbol) -> Result<Price, ExchangeError> {
        refused()
    }
    async fn ticker_prices(&self) -> Result<Vec<TickerPrice>, ExchangeError> {
        refused()
    }
    async fn ticker_24h(&self, _: &Symbol) -> Result<Ticker24h, ExchangeError> {
        refused()
    }
    async fn klines(
        &self,
        _: &Symbol,
        _: &str,
        _: Option<Timestamp>,
        _: Option<Timestamp>,
        _: Option<u32>,
    ) -> Result<Vec<Candle>, ExchangeError> {
        refused()
    }
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
