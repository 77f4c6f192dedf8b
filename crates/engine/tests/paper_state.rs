//! A paper account kept in the database survives a restart: same balances, same open orders,
//! same trades, on SQLite and on PostgreSQL.
#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on an unexpected error"
)]

use std::sync::Arc;

use hybrid_core::{
    Asset, ClientOrderId, Clock, CohortId, OrderKind, Price, Quantity, Side, SimClock, Symbol,
    SymbolFilters, TimeInForce, Timestamp,
};
use hybrid_engine::StorePaperState;
use hybrid_exchange::{Account, Balance, MatchingConfig, OrderRequest, PaperExchange, TradesFrom};
use hybrid_store::Store;
use rust_decimal_macros::dec;

fn btc() -> Symbol {
    Symbol::new("BTCUSDT").unwrap()
}

fn filters() -> SymbolFilters {
    SymbolFilters::with_steps(btc(), dec!(0.01), dec!(0.00001))
}

fn usdt(amount: rust_decimal::Decimal) -> Balance {
    Balance {
        asset: Asset::new("USDT").unwrap(),
        free: amount,
        locked: dec!(0),
    }
}

fn buy(sequence: u64, price: rust_decimal::Decimal) -> OrderRequest {
    OrderRequest {
        client_order_id: ClientOrderId::new(CohortId::new(1), &btc(), sequence).unwrap(),
        cohort: CohortId::new(1),
        symbol: btc(),
        side: Side::Buy,
        kind: OrderKind::Limit,
        time_in_force: Some(TimeInForce::GoodTillCancel),
        price: Some(Price::new(price).unwrap()),
        quantity: Quantity::new(dec!(0.01)).unwrap(),
    }
}

type Paper = PaperExchange<StorePaperState>;

fn open(store: &Arc<Store>, clock: &Arc<SimClock>) -> Paper {
    let clock: Arc<dyn Clock> = Arc::clone(clock) as Arc<dyn Clock>;
    let state = StorePaperState::new(Arc::clone(store), "default", Arc::clone(&clock));
    PaperExchange::open(
        state,
        clock,
        MatchingConfig::default(),
        vec![filters()],
        &[usdt(dec!(1000))],
    )
    .unwrap()
}

async fn restart_continues(store: Arc<Store>) {
    store.run_migrations().unwrap();
    let clock = Arc::new(SimClock::new(Timestamp::from_millis(1_000)));
    let first = open(&store, &clock);
    first
        .on_price(&btc(), Price::new(dec!(50000)).unwrap())
        .unwrap();
    first.place_order(&buy(1, dec!(49000))).await.unwrap();
    first.place_order(&buy(2, dec!(48000))).await.unwrap();
    assert_eq!(
        first
            .on_price(&btc(), Price::new(dec!(48500)).unwrap())
            .unwrap()
            .len(),
        1
    );
    let before = (
        first.balances().await.unwrap(),
        first.open_orders(None).await.unwrap(),
    );
    drop(first);

    let second = open(&store, &clock);
    let after = (
        second.balances().await.unwrap(),
        second.open_orders(None).await.unwrap(),
    );
    assert_eq!(after, before);
    assert_eq!(after.1.len(), 1, "the 48000 buy is still open");
    assert_eq!(
        second
            .my_trades(&btc(), TradesFrom::Recent)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_restart_continues_from_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/paper.db", dir.path().display());
    restart_continues(Arc::new(Store::open(&url).unwrap())).await;
}

#[tokio::test]
async fn a_restart_continues_from_postgres() {
    let Some(schema) = hybrid_testkit::pg::pg_test_schema("paper_state_restart") else {
        return;
    };
    let store = Arc::new(Store::open(schema.url()).unwrap());
    restart_continues(Arc::clone(&store)).await;
    drop(store);
}
