//! Soak: 1,000 orders through `BinanceClient` while the fake injects seeded random faults
//! (timeouts after accept, dropped connections, 5xx before and after accept, malformed JSON,
//! orders not visible to queries at first, 429s, failing queries). Afterwards the fake's books
//! and the client's records must agree exactly: every order placed once, none lost, none twice.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use hybrid_core::{ClientOrderId, OrderStatus, Side};
use hybrid_exchange::{binance::BinanceClient, Account, ExchangeError, OrderRef, OrderRequest};
use hybrid_testkit::binance::{spawn, Fault, Route};
use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use rust_decimal_macros::dec;

use crate::support::{btc, client_config, client_with, fake_config, filters, limit, market};

const ORDERS: u64 = 1_000;
const WORKERS: u64 = 8;
const SEED: u64 = 20_261_124;

fn order(sequence: u64) -> OrderRequest {
    match sequence % 4 {
        0 => market(sequence, Side::Buy, dec!(0.1)),
        1 => market(sequence, Side::Sell, dec!(0.1)),
        2 => limit(sequence, Side::Buy, dec!(50), dec!(0.2)),
        _ => limit(sequence, Side::Sell, dec!(150), dec!(0.1)),
    }
}

fn random_fault(rng: &mut ChaCha8Rng, route: Route) -> Option<Fault> {
    let roll: f64 = rng.gen();
    match route {
        Route::PlaceOrder => match roll {
            r if r < 0.04 => Some(Fault::DelayAfterAccept(Duration::from_millis(200))),
            r if r < 0.07 => Some(Fault::DropAfterAccept),
            r if r < 0.10 => Some(Fault::ServerErrorAfterAccept {
                status: 503,
                code: Some(-1007),
            }),
            r if r < 0.12 => Some(Fault::ServerError {
                status: 502,
                code: None,
            }),
            r if r < 0.14 => Some(Fault::MalformedJson),
            r if r < 0.145 => Some(Fault::TooManyRequests {
                retry_after_secs: 1,
            }),
            r if r < 0.165 => Some(Fault::HiddenAfterAccept {
                visible_after: Duration::from_millis(150),
            }),
            _ => None,
        },
        Route::QueryOrder if roll < 0.05 => Some(Fault::ServerError {
            status: 500,
            code: Some(-1001),
        }),
        _ => None,
    }
}

/// What the client reported per order: the exchange id, and how many placement calls it took.
type Records = Arc<Mutex<HashMap<ClientOrderId, (i64, u32)>>>;

async fn worker(
    client: Arc<BinanceClient>,
    first: u64,
    records: Records,
    rate_limited: Arc<Mutex<u32>>,
) {
    let mut sequence = first;
    while sequence < ORDERS {
        let request = order(sequence);
        let mut calls = 0;
        let ack = loop {
            calls += 1;
            match client.place_order(&request).await {
                Ok(ack) => break ack,
                // Definitively not placed: the same id may be sent again.
                Err(ExchangeError::RateLimited { retry_after_ms, .. }) => {
                    *rate_limited.lock().unwrap() += 1;
                    tokio::time::sleep(Duration::from_millis(
                        u64::try_from(retry_after_ms).unwrap() + 5,
                    ))
                    .await;
                }
                Err(ExchangeError::Api { code: -1021, .. } | ExchangeError::Connectivity(_)) => {}
                Err(other) => panic!("order {sequence}: {other}"),
            }
        };
        let exchange_id = ack.order.exchange_order_id.unwrap();
        let previous = records
            .lock()
            .unwrap()
            .insert(request.client_order_id.clone(), (exchange_id, calls));
        assert!(previous.is_none());
        sequence += WORKERS;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_orders_under_random_faults_are_each_placed_exactly_once() {
    let mut config = fake_config();
    config.symbols = vec![hybrid_core::SymbolFilters {
        max_num_orders: 0,
        ..filters()
    }];
    let fake = spawn(config).await;
    let mut client_config = client_config(&fake);
    client_config.request_timeout = Duration::from_millis(120);
    client_config.recv_window_ms = 1_000;
    let client = Arc::new(client_with(client_config).await);
    let rng = Mutex::new(ChaCha8Rng::seed_from_u64(SEED));
    fake.set_fault_fn(move |route| random_fault(&mut rng.lock().unwrap(), route));

    let started = Instant::now();
    let records: Records = Arc::default();
    let rate_limited = Arc::new(Mutex::new(0));
    let workers: Vec<_> = (0..WORKERS)
        .map(|first| {
            tokio::spawn(worker(
                Arc::clone(&client),
                first,
                Arc::clone(&records),
                Arc::clone(&rate_limited),
            ))
        })
        .collect();
    for handle in workers {
        handle.await.unwrap();
    }
    let elapsed = started.elapsed();
    fake.clear_faults();

    let records = records.lock().unwrap().clone();
    let books = fake.orders();
    let mut by_client_id: HashMap<ClientOrderId, Vec<i64>> = HashMap::new();
    for order in &books {
        by_client_id
            .entry(order.client_order_id.clone())
            .or_default()
            .push(order.exchange_order_id.unwrap());
    }
    assert_eq!(records.len(), ORDERS as usize, "client records");
    assert_eq!(books.len(), ORDERS as usize, "orders on the fake's books");
    for (id, (exchange_id, _)) in &records {
        assert_eq!(by_client_id.get(id), Some(&vec![*exchange_id]), "{id}");
    }
    // The client's view of every order agrees with the books.
    for order in books.iter().filter(|o| o.status.is_open()).take(20) {
        let seen = client
            .query_order(&btc(), &OrderRef::Client(order.client_order_id.clone()))
            .await
            .unwrap();
        assert_eq!(&seen, order);
    }
    let filled = books
        .iter()
        .filter(|o| o.status == OrderStatus::Filled)
        .count();
    let posts = fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    let queries = fake
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path == "/api/v3/order")
        .count();
    eprintln!(
        "soak: {ORDERS} orders ({filled} filled, {} resting) in {elapsed:?}; {posts} POSTs, {queries} resolution queries, {} rate-limited retries",
        books.len() - filled,
        rate_limited.lock().unwrap()
    );
    assert_eq!(filled, (ORDERS / 2) as usize);
    // The faults really happened: unknown outcomes were resolved by query, and provably
    // absent orders were re-sent (with their own id, as counted above: still one order each).
    assert!(queries > 100, "resolution queries: {queries}");
    assert!(
        posts > ORDERS as usize,
        "re-sends of provably absent orders: {posts}"
    );
    assert!(elapsed < Duration::from_secs(30), "{elapsed:?}");
}
