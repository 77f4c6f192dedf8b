//! The fake Binance as the real `BinanceClient` sees it (tiny ticks printed exactly), and the
//! `fake_binance` binary as a campaign starts it.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::{
    io::{BufRead as _, BufReader},
    process::{Command, Stdio},
};

use hybrid_core::{
    Asset, ClientOrderId, CohortId, OrderKind, Price, Quantity, Side, Symbol, SymbolFilters,
    TimeInForce,
};
use hybrid_exchange::{
    binance::{BinanceClient, BinanceConfig, Credentials},
    Account as _, Balance, MarketData as _, OrderRef, OrderRequest,
};
use hybrid_testkit::binance::{spawn, FakeBinanceConfig};
use rust_decimal::Decimal;

#[tokio::test]
async fn a_pepe_tick_of_one_trillionth_reaches_the_client_exactly() {
    let pepe = Symbol::new("PEPEUSDT").unwrap();
    let tick = Decimal::new(1, 12);
    let mut filters = SymbolFilters::with_steps(pepe.clone(), tick, Decimal::ONE);
    filters.min_notional = Decimal::from(5);
    let mut config = FakeBinanceConfig::new("k", "s");
    config.symbols = vec![filters];
    config.balances = vec![Balance {
        asset: Asset::new("USDT").unwrap(),
        free: Decimal::from(1000),
        locked: Decimal::ZERO,
    }];
    config.prices = vec![(
        pepe.clone(),
        Price::new(Decimal::new(12_345_678_912, 16)).unwrap(),
    )];
    let fake = spawn(config).await;
    let client = BinanceClient::new(
        BinanceConfig::with_base_url(fake.base_url()).with_credentials(Credentials::hmac("k", "s")),
    )
    .unwrap();
    client.sync_time().await.unwrap();

    let listed = client.symbol_filters(&pepe).await.unwrap();
    assert_eq!(listed.tick_size, tick, "8 decimals would print 0.00000000");

    // A price on the 10⁻¹² grid survives the round trip to the exchange and back.
    let price = Decimal::new(1_234_567, 12);
    let id = ClientOrderId::new(CohortId::new(1), &pepe, 1).unwrap();
    let ack = client
        .place_order(&OrderRequest {
            client_order_id: id.clone(),
            cohort: CohortId::new(1),
            symbol: pepe.clone(),
            side: Side::Buy,
            kind: OrderKind::Limit,
            time_in_force: Some(TimeInForce::GoodTillCancel),
            price: Some(Price::new(price).unwrap()),
            quantity: Quantity::new(Decimal::from(5_000_000)).unwrap(),
        })
        .await
        .unwrap();
    assert_eq!(ack.order.price.unwrap().value(), price);
    let queried = client
        .query_order(&pepe, &OrderRef::Client(id))
        .await
        .unwrap();
    assert_eq!(queried.price.unwrap().value(), price);
}

#[test]
fn the_binary_replays_candle_files_and_shows_its_books() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("open_time_ms,open,high,low,close,volume\n");
    for i in 0..10_i64 {
        csv.push_str(&format!(
            "{},0.0000123,0.0000124,0.0000122,0.0000123,1\n",
            i * 60_000
        ));
    }
    std::fs::write(dir.path().join("PEPEUSDT-1m.csv"), csv).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_fake_binance"))
        .args([
            "--candles",
            dir.path().to_str().unwrap(),
            "--symbols",
            "PEPEUSDT",
        ])
        .args(["--balance", "USDT=250"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (filters, state) = runtime.block_on(async {
        let client = BinanceClient::new(BinanceConfig::with_base_url(&url)).unwrap();
        let filters = client
            .symbol_filters(&Symbol::new("PEPEUSDT").unwrap())
            .await
            .unwrap();
        let state: serde_json::Value = reqwest::get(format!("{url}/fake/state"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (filters, state)
    });
    child.kill().unwrap();
    child.wait().unwrap();
    // The listing rule of a replay: a millionth of the price's magnitude.
    assert_eq!(
        filters,
        SymbolFilters::for_replay(Symbol::new("PEPEUSDT").unwrap(), Decimal::new(123, 7))
    );
    assert_eq!(filters.tick_size, Decimal::new(1, 11));
    assert_eq!(state["balances"][0]["asset"], "USDT");
    assert_eq!(state["balances"][0]["free"], "250");
    assert_eq!(state["orders"], serde_json::json!([]));
}

#[test]
fn the_binary_refuses_bad_arguments() {
    let out = Command::new(env!("CARGO_BIN_EXE_fake_binance"))
        .args(["--symbols", "PEPEUSDT", "--interval", "7q"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("7q") || err.contains("--candles"), "{err}");
}
