//! The data writers against the fake data sources: funding rates and the economic calendar
//! with their offline defaults, and the technical-indicator history from real candles.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use hybrid_core::{CandleCsvReader, Symbol, Timestamp};
use hybrid_learning::{
    write_events, write_funding_signal, write_indicators, CalendarClient, FundingClient,
};
use hybrid_store::Store;
use hybrid_testkit::datasources::{spawn, FakeEvent};

fn store() -> Store {
    let store = Store::open("sqlite::memory:").unwrap();
    store.run_migrations().unwrap();
    store
}

#[test]
fn funding_rates_become_signals_and_an_outage_is_unavailable_not_neutral() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fake = runtime.block_on(spawn());
    let store = store();
    let client = FundingClient::new(fake.base_url(), Duration::from_secs(2)).unwrap();
    let btc = Symbol::new("BTCUSDT").unwrap();
    fake.set_funding("BTCUSDT", "0.0008");
    let fetched = runtime.block_on(client.latest_rate(&btc));
    let signal = write_funding_signal(&store, &btc, Timestamp::from_millis(1), fetched).unwrap();
    assert_eq!(
        (signal.value, signal.label.as_str()),
        (Some(-0.5), "BEARISH")
    );
    fake.set_failing(true);
    let fetched = runtime.block_on(client.latest_rate(&btc));
    assert!(fetched.is_err());
    let signal = write_funding_signal(&store, &btc, Timestamp::from_millis(2), fetched).unwrap();
    assert_eq!((signal.value, signal.label.as_str()), (None, "UNAVAILABLE"));
    let stored = store
        .latest_market_signal("funding_rate", &btc, Timestamp::from_millis(5))
        .unwrap()
        .unwrap();
    assert_eq!(stored.value, None);
    assert!(stored.detail["reason"].as_str().unwrap().contains("503"));
}

#[test]
fn calendar_events_are_stored_and_the_recurring_list_covers_an_outage() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fake = runtime.block_on(spawn());
    let store = store();
    let client = CalendarClient::new(fake.base_url(), Duration::from_secs(2)).unwrap();
    let day = Timestamp::DAY_MS;
    let from = Timestamp::from_millis(1_772_323_200_000); // 2026-03-01
    let to = from.plus_millis(45 * day);
    fake.add_event(FakeEvent {
        date_ms: from.plus_millis(2 * day).as_millis(),
        title: "Core CPI m/m".to_owned(),
        country: "US".to_owned(),
        importance: 3,
        actual: None,
    });
    fake.add_event(FakeEvent {
        date_ms: from.plus_millis(400 * day).as_millis(),
        title: "Too late".to_owned(),
        country: "US".to_owned(),
        importance: 1,
        actual: None,
    });
    let fetched = runtime.block_on(client.events(from, to));
    assert_eq!(write_events(&store, from, to, fetched).unwrap(), (1, false));
    let events = store.economic_events(from, to).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].category.as_str(), events[0].impact.as_str()),
        ("CPI", "HIGH")
    );

    fake.set_failing(true);
    let fetched = runtime.block_on(client.events(from, to));
    let (written, fallback) = write_events(&store, from, to, fetched).unwrap();
    assert!(fallback);
    assert!(
        written >= 2,
        "FOMC on 2026-03-18 and CPI releases: {written}"
    );
    assert!(store
        .economic_events(from, to)
        .unwrap()
        .iter()
        .any(|e| e.category == "FOMC"));
}

#[test]
fn indicators_are_written_once_per_run_from_real_candles() {
    let dir = std::env::var_os("HYBRID_KLINES_DIR").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/klines"),
        std::path::PathBuf::from,
    );
    let candles: Vec<_> = CandleCsvReader::open(&dir.join("BTCUSDT-1h.csv"))
        .unwrap()
        .take(300)
        .map(Result::unwrap)
        .collect();
    let store = store();
    let btc = Symbol::new("BTCUSDT").unwrap();
    let at = candles[299].open_time();
    assert!(write_indicators(&store, &btc, &candles, at).unwrap());
    assert!(!write_indicators(&store, &btc, &candles, at).unwrap());
    let snapshot = store.latest_indicators(&btc).unwrap().unwrap();
    assert_eq!(snapshot.price, candles[299].close());
    assert!(snapshot.values.iter().all(Option::is_some), "{snapshot:?}");
    let rsi = snapshot.values[5].unwrap();
    assert!((0.0..=100.0).contains(&rsi));
    let (lower, middle, upper) = (
        snapshot.values[11].unwrap(),
        snapshot.values[10].unwrap(),
        snapshot.values[9].unwrap(),
    );
    assert!(lower < middle && middle < upper);
}
